import { op } from '../wire/operations.js';
import { InvalidParameterException } from '../errors.js';
import { loadClient } from '../domain/pools.js';
import { attributeList, validateAttributes } from '../domain/users.js';
import { attributeCode, checkClientMayWrite, checkUserWrites, deleteAttributes, pendingOf, storeAttributes, updateAttributes } from '../domain/attribute-updates.js';
import { burnPasswordCheck, passwordMatches, sealPassword } from '../domain/passwords.js';
import { settlePasswordCheck } from '../domain/signin/index.js';
import { useCode } from '../domain/codes.js';
import { authenticated } from './common.js';
import { throttle } from '../domain/limits.js';
import { recordAuthEvent } from '../domain/events.js';
import { mfaFields } from '../domain/mfa.js';

op('GetUser', async (ctx, input) => {
  const { user } = await authenticated(ctx, input);
  return { Username: user.username, UserAttributes: attributeList(user), ...mfaFields(user) };
});

op('UpdateUserAttributes', async (ctx, input) => {
  const { pool, user, claims } = await authenticated(ctx, input);
  const given = input.UserAttributes;
  const { client } = await loadClient(ctx, claims.clientId);
  checkUserWrites(pool, client, user, given);
  const changes = validateAttributes(pool, given);
  const deliveries = await updateAttributes(ctx, pool, user, changes, false, () => throttle(ctx, claims.clientId, ['codes']), { clientId: claims.clientId, clientMetadata: input.ClientMetadata });
  return { CodeDeliveryDetailsList: deliveries };
});

op('DeleteUserAttributes', async (ctx, input) => {
  const { pool, user, claims } = await authenticated(ctx, input);
  const names = input.UserAttributeNames;
  const { client } = await loadClient(ctx, claims.clientId);
  // Deleting is writing: the same client permissions as UpdateUserAttributes.
  checkClientMayWrite(client, names);
  await storeAttributes(ctx, pool, user, deleteAttributes(pool, user, names, false));
  return {};
});

op('GetUserAttributeVerificationCode', async (ctx, input) => {
  const { pool, user, claims } = await authenticated(ctx, input);
  const name = input.AttributeName;
  if (name !== 'email' && name !== 'phone_number') throw new InvalidParameterException(`Attribute ${name} cannot be verified.`);
  await throttle(ctx, claims.clientId, ['codes']);
  // A held change is what awaits verification: the code goes to the new value.
  const to = pendingOf(user)[name] ?? user.attributes[name];
  return { CodeDeliveryDetails: await (await attributeCode(ctx, pool, user, name, to, { source: 'VerifyUserAttribute', clientId: claims.clientId, clientMetadata: input.ClientMetadata }))() };
});

op('VerifyUserAttribute', async (ctx, input) => {
  const { pool, user } = await authenticated(ctx, input);
  const name = input.AttributeName;
  const code = input.Code;
  if (name !== 'email' && name !== 'phone_number') throw new InvalidParameterException(`Attribute ${name} cannot be verified.`);
  const pending = pendingOf(user);
  // The code is bound to the address it went to: what becomes verified is exactly that address.
  const target = pending[name] ?? user.attributes[name] ?? '';
  await useCode(ctx, user.id, `verify:${name}`, target, code);
  delete pending[name];
  await storeAttributes(ctx, pool, user, { attributes: { ...user.attributes, [name]: target, [`${name}_verified`]: 'true' }, pending });
  return {};
});

op('ChangePassword', async (ctx, input) => {
  const { pool, user, claims } = await authenticated(ctx, input);
  const previous = input.PreviousPassword;
  const proposed = input.ProposedPassword;
  const now = ctx.now();
  if (user.password) {
    await settlePasswordCheck(ctx, pool, user, () => !!previous && passwordMatches(ctx, pool, user, previous), () => burnPasswordCheck(ctx, pool, user.username, previous ?? ''), 'PasswordChange');
  }
  const sealed = sealPassword(ctx, pool, user, proposed, true);
  await ctx.repo.updateUser(pool.id, user.id, { password: sealed, password_changed_at: now, failed_attempts: 0, locked_until: 0, updated_at: now });
  // Stricter than Cognito: the user's other sessions end; the one that changed the password goes on.
  await ctx.repo.revokeUserTokens(user.id, now, claims.originJti);
  await recordAuthEvent(ctx, user, 'PasswordChange', 'Pass', user.password ? 'Success' : undefined);
  return {};
});

op('DeleteUser', async (ctx, input) => {
  const { pool, user } = await authenticated(ctx, input);
  await ctx.repo.deleteUser(pool.id, user.id);
  return {};
});
