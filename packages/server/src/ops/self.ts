import { publicOp } from '../wire/operations.js';
import { InvalidParameterException, NotAuthorizedException } from '../errors.js';
import type { Ctx } from '../domain/context.js';
import { loadClient, type LoadedPool } from '../domain/pools.js';
import { attributeList, loginKeys, requiredAttributes, uniqueError, validateAttributes, type Attributes, type User } from '../domain/users.js';
import { passwordMatches, sealPassword } from '../domain/passwords.js';
import { settlePasswordCheck } from '../domain/signin.js';
import { CODE_TTL, issueCode, useCode } from '../domain/codes.js';
import { authenticated, codeRule } from './common.js';
import { throttle } from '../domain/limits.js';
import { recordAuthEvent } from '../domain/events.js';

const verifiable = ['email', 'phone_number'] as const;

async function saveAttributes(ctx: Ctx, pool: LoadedPool, user: User, attributes: Attributes) {
  try {
    await ctx.repo.updateUser(pool.id, user.id, { attributes: JSON.stringify(attributes), ...loginKeys(pool, user.username, attributes), updated_at: ctx.now() });
  } catch (e) {
    throw uniqueError(e, pool);
  }
}

/** Issues a code for `to`, the attribute's value; it is stored when sent, so a refused code changes nothing. */
async function attributeCode(ctx: Ctx, pool: LoadedPool, user: User, attribute: 'email' | 'phone_number', to: string | undefined) {
  if (!to) throw new InvalidParameterException(`The user has no ${attribute} to verify.`);
  const issued = await issueCode(ctx, pool.id, user.id, `verify:${attribute}`, to, CODE_TTL.attribute);
  return () => ctx.messages.sendCode(pool, { medium: attribute === 'email' ? 'EMAIL' : 'SMS', attribute, to }, issued);
}

/**
 * Applies a user's attribute changes: a changed email or phone becomes unverified, and gets a code if
 * the pool auto-verifies it. `beforeSending` runs first when codes will go out (the rate limit).
 */
export async function updateAttributes(ctx: Ctx, pool: LoadedPool, user: User, changes: Attributes, admin: boolean, beforeSending?: () => Promise<void>) {
  const attributes = { ...user.attributes, ...changes };
  const toVerify: ('email' | 'phone_number')[] = [];
  for (const a of verifiable) {
    if (changes[a] === undefined || changes[a] === user.attributes[a]) continue;
    if (!(admin && changes[`${a}_verified`] !== undefined)) attributes[`${a}_verified`] = 'false';
    if (!admin && (pool.config.AutoVerifiedAttributes ?? []).includes(a)) toVerify.push(a);
  }
  if (toVerify.length && beforeSending) await beforeSending();
  // Codes first (the per-user cap may refuse them), then the change, then the codes with their messages.
  const sends = [];
  for (const a of toVerify) sends.push(await attributeCode(ctx, pool, user, a, attributes[a]));
  await saveAttributes(ctx, pool, user, attributes);
  const deliveries = [];
  for (const send of sends) deliveries.push(await send());
  return deliveries;
}

export function deleteAttributes(pool: LoadedPool, user: User, names: string[]): Attributes {
  const required = new Set(requiredAttributes(pool));
  const attributes = { ...user.attributes };
  for (const n of names) {
    if (n === 'sub' || required.has(n)) throw new InvalidParameterException(`Cannot delete required or immutable attribute: ${n}`);
    delete attributes[n];
    if (n === 'email' || n === 'phone_number') delete attributes[`${n}_verified`];
  }
  return attributes;
}

publicOp('GetUser', async (ctx, input) => {
  const { user } = await authenticated(ctx, input);
  return { Username: user.username, UserAttributes: attributeList(user) };
});

publicOp('UpdateUserAttributes', async (ctx, input) => {
  const { pool, user, claims } = await authenticated(ctx, input);
  const given = input.optAttributes('UserAttributes');
  if (!given) throw new InvalidParameterException("1 validation error detected: Value null at 'userAttributes' failed to satisfy constraint: Member must not be null");
  const changes = validateAttributes(pool, given.filter((a) => a.Name !== 'email_verified' && a.Name !== 'phone_number_verified'));
  const { client } = await loadClient(ctx, claims.clientId);
  const writable = client.config.WriteAttributes;
  if (writable?.length) for (const n of Object.keys(changes)) if (!writable.includes(n)) throw new NotAuthorizedException('A client attempted to write unauthorized attribute');
  const deliveries = await updateAttributes(ctx, pool, user, changes, false, () => throttle(ctx, claims.clientId, ['codes']));
  return { CodeDeliveryDetailsList: deliveries };
});

publicOp('DeleteUserAttributes', async (ctx, input) => {
  const { pool, user } = await authenticated(ctx, input);
  const names = input.optStrList('UserAttributeNames', { max: 32 });
  if (!names) throw new InvalidParameterException("1 validation error detected: Value null at 'userAttributeNames' failed to satisfy constraint: Member must not be null");
  await saveAttributes(ctx, pool, user, deleteAttributes(pool, user, names));
  return {};
});

publicOp('GetUserAttributeVerificationCode', async (ctx, input) => {
  const { pool, user, claims } = await authenticated(ctx, input);
  const name = input.str('AttributeName', { max: 32 });
  if (name !== 'email' && name !== 'phone_number') throw new InvalidParameterException(`Attribute ${name} cannot be verified.`);
  await throttle(ctx, claims.clientId, ['codes']);
  return { CodeDeliveryDetails: await (await attributeCode(ctx, pool, user, name, user.attributes[name]))() };
});

publicOp('VerifyUserAttribute', async (ctx, input) => {
  const { pool, user } = await authenticated(ctx, input);
  const name = input.str('AttributeName', { max: 32 });
  const code = input.str('Code', codeRule);
  if (name !== 'email' && name !== 'phone_number') throw new InvalidParameterException(`Attribute ${name} cannot be verified.`);
  await useCode(ctx, user.id, `verify:${name}`, user.attributes[name] ?? '', code);
  await saveAttributes(ctx, pool, user, { ...user.attributes, [`${name}_verified`]: 'true' });
  return {};
});

publicOp('ChangePassword', async (ctx, input) => {
  const { pool, user } = await authenticated(ctx, input);
  const previous = input.optStr('PreviousPassword', { max: 256 });
  const proposed = input.str('ProposedPassword', { max: 256 });
  const now = ctx.now();
  if (user.password) await settlePasswordCheck(ctx, pool, user, !!previous && passwordMatches(ctx, pool, user, previous), 'PasswordChange');
  const sealed = sealPassword(ctx, pool, user, proposed, true);
  await ctx.repo.updateUser(pool.id, user.id, { password: sealed, password_changed_at: now, failed_attempts: 0, locked_until: 0, updated_at: now });
  await recordAuthEvent(ctx, user, 'PasswordChange', 'Pass', user.password ? 'Success' : undefined);
  return {};
});

publicOp('DeleteUser', async (ctx, input) => {
  const { pool, user } = await authenticated(ctx, input);
  await ctx.repo.deleteUser(pool.id, user.id);
  return {};
});
