import crypto from 'node:crypto';
import { op } from '../wire/operations.js';
import { InvalidParameterException, NotAuthorizedException, UsernameExistsException, UnsupportedUserStateException } from '../errors.js';
import type { Ctx } from '../domain/context.js';
import type { DeliveryMediumType } from '../shapes.js';
import { passwordPolicy, type LoadedPool } from '../domain/pools.js';
import { adminFindUser, attributeList, loginKeys, newUsername, parseUser, uniqueError, userType, validateAttributes, type User } from '../domain/users.js';
import { sealPassword } from '../domain/passwords.js';
import { CODE_TTL, issueCode } from '../domain/codes.js';
import { parseUserFilter } from '../domain/filter.js';
import { checkAdminWrites, deleteAttributes, storeAttributes, updateAttributes } from '../domain/attribute-updates.js';
import { recoveryChannel } from './signup.js';
import { pageCursor, pageToken, poolOf } from './common.js';
import { mfaFields } from '../domain/mfa.js';
import { NO_CLIENT, composeMessage, customMessage, preSignUp, type MessageTemplate } from '../domain/triggers/events.js';
import { attributeMap, confirmed } from './signup.js';

/** A temporary password that satisfies the pool's policy. */
function temporaryPassword(pool: LoadedPool): string {
  const p = passwordPolicy(pool);
  const pick = (set: string) => set[crypto.randomInt(set.length)];
  const all = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  let s = pick('ABCDEFGHJKLMNPQRSTUVWXYZ') + pick('abcdefghijkmnopqrstuvwxyz') + pick('23456789') + pick('^$*.!@#%&');
  while (s.length < Math.max(p.MinimumLength, 12)) s += pick(all);
  return s;
}

function tempExpiry(ctx: Ctx, pool: LoadedPool) {
  return ctx.now() + passwordPolicy(pool).TemporaryPasswordValidityDays * 86400e3;
}

/**
 * The invitation with the temporary password, by each medium asked for: the pool's template, the
 * CustomMessage trigger's text, or (per medium) a sender trigger's call with the password as its code.
 * The triggers all run before anything is queued.
 */
async function sendInvite(ctx: Ctx, pool: LoadedPool, user: User, password: string, mediums: DeliveryMediumType[], clientMetadata?: Record<string, string>) {
  const t = pool.config.AdminCreateUserConfig?.InviteMessageTemplate ?? {};
  const fill = (s: string) => s.replaceAll('{username}', user.username).replaceAll('{####}', password);
  const fallback = 'Your username is {username} and temporary password is {####}.';
  const mc = { source: 'AdminCreateUser' as const, user, clientMetadata };
  const targets = ([['EMAIL', user.attributes.email], ['SMS', user.attributes.phone_number]] as const).filter(([m, to]) => mediums.includes(m) && to);
  const senders = { EMAIL: 'CustomEmailSender', SMS: 'CustomSMSSender' } as const;
  // One CustomMessage call serves both mediums.
  let text: MessageTemplate | undefined;
  if (targets.some(([m]) => !ctx.triggers.has(pool, senders[m]))) text = await customMessage(ctx, pool, 'AdminCreateUser', user, undefined, clientMetadata);
  const letters = [];
  for (const [medium, to] of targets) letters.push({ medium, to: to!, composed: await composeMessage(ctx, pool, medium, mc, password, text ?? {}) });
  for (const { medium, to, composed } of letters) {
    const own = composed.template;
    if (medium === 'EMAIL') await ctx.messages.send(pool.id, 'EMAIL', to, own?.subject ?? t.EmailSubject ?? 'Your temporary password', fill(own?.email ?? t.EmailMessage ?? fallback), composed.sender);
    else await ctx.messages.send(pool.id, 'SMS', to, '', fill(own?.sms ?? t.SMSMessage ?? fallback), composed.sender);
  }
}

op('AdminCreateUser', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const login = input.Username;
  const action = input.MessageAction;
  const mediums = input.DesiredDeliveryMediums ?? ['SMS'];
  const given = input.TemporaryPassword;
  if (action === 'RESEND') {
    const user = await adminFindUser(ctx, pool, login);
    if (user.status !== 'FORCE_CHANGE_PASSWORD') throw new UnsupportedUserStateException(`Resend not possible. ${user.username} status is not FORCE_CHANGE_PASSWORD.`);
    const password = given ?? temporaryPassword(pool);
    await ctx.repo.updateUser(pool.id, user.id, { password: sealPassword(ctx, pool, user, password, !!given), temp_password_expires_at: tempExpiry(ctx, pool), updated_at: ctx.now() });
    await sendInvite(ctx, pool, user, password, mediums, input.ClientMetadata);
    return { User: userType(user) };
  }
  const attrs = validateAttributes(pool, input.UserAttributes ?? [], { admin: true });
  const { username, sub } = newUsername(pool, login, attrs);
  const password = given ?? temporaryPassword(pool);
  // Before anything is stored: a refusal leaves no user behind. An invited user still sets a password (autoConfirmUser changes nothing).
  const pre = await preSignUp(ctx, pool, 'PreSignUp_AdminCreateUser', { userName: username, clientId: NO_CLIENT }, {
    userAttributes: { ...attrs }, validationData: attributeMap(input.ValidationData), clientMetadata: input.ClientMetadata,
  });
  if (pre.autoVerifyEmail && attrs.email) attrs.email_verified = 'true';
  if (pre.autoVerifyPhone && attrs.phone_number) attrs.phone_number_verified = 'true';
  const now = ctx.now();
  const row = {
    id: sub, pool_id: pool.id, username, ...loginKeys(pool, username, attrs), status: 'FORCE_CHANGE_PASSWORD', enabled: 1,
    attributes: JSON.stringify(attrs), password: sealPassword(ctx, pool, { id: sub, username }, password, !!given),
    password_changed_at: now, temp_password_expires_at: tempExpiry(ctx, pool), mfa: '{}', failed_attempts: 0, locked_until: 0, created_at: now, updated_at: now,
  };
  try {
    await ctx.repo.createUser(row);
  } catch (e) {
    const err = uniqueError(e, pool);
    throw err instanceof UsernameExistsException ? new UsernameExistsException('User account already exists') : err;
  }
  const user = { ...row, attributes: attrs, mfa: {} } as User;
  if (action !== 'SUPPRESS') {
    try {
      await sendInvite(ctx, pool, user, password, mediums, input.ClientMetadata);
    } catch (e) {
      await ctx.repo.deleteUser(pool.id, sub);
      throw e;
    }
  }
  return { User: userType(user) };
});

op('AdminGetUser', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const user = await adminFindUser(ctx, pool, input.Username);
  const { Attributes, ...rest } = userType(user);
  return { ...rest, UserAttributes: Attributes, ...mfaFields(user) };
});

op('AdminDeleteUser', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const user = await adminFindUser(ctx, pool, input.Username);
  await ctx.repo.deleteUser(pool.id, user.id);
  return {};
});

for (const [name, enabled] of [['AdminEnableUser', 1], ['AdminDisableUser', 0]] as const) {
  op(name, async (ctx, input) => {
    const pool = await poolOf(ctx, input);
    const user = await adminFindUser(ctx, pool, input.Username);
    await ctx.repo.updateUser(pool.id, user.id, { enabled, updated_at: ctx.now() });
    // A disabled user's sessions end now, not when their tokens expire.
    if (!enabled) await ctx.repo.revokeUserTokens(user.id, ctx.now());
    return {};
  });
}

op('AdminConfirmSignUp', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const user = await adminFindUser(ctx, pool, input.Username);
  if (user.status !== 'UNCONFIRMED') throw new NotAuthorizedException(`User cannot be confirmed. Current status is ${user.status}`);
  await ctx.repo.updateUser(pool.id, user.id, { status: 'CONFIRMED', updated_at: ctx.now() });
  await confirmed(ctx, pool, { ...user, status: 'CONFIRMED' }, undefined, input.ClientMetadata, () => ctx.repo.updateUser(pool.id, user.id, { status: user.status, updated_at: ctx.now() }));
  return {};
});

op('AdminSetUserPassword', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const user = await adminFindUser(ctx, pool, input.Username);
  const password = input.Password;
  const permanent = input.Permanent ?? false;
  const now = ctx.now();
  await ctx.repo.updateUser(pool.id, user.id, {
    password: sealPassword(ctx, pool, user, password), password_changed_at: now, failed_attempts: 0, locked_until: 0, updated_at: now,
    ...(permanent
      ? { status: user.status === 'UNCONFIRMED' ? 'UNCONFIRMED' : 'CONFIRMED', temp_password_expires_at: null }
      : { status: 'FORCE_CHANGE_PASSWORD', temp_password_expires_at: tempExpiry(ctx, pool) }),
  });
  // Stricter than Cognito: whoever held the old password is signed out.
  await ctx.repo.revokeUserTokens(user.id, now);
  return {};
});

op('AdminResetUserPassword', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const user = await adminFindUser(ctx, pool, input.Username);
  if (!user.enabled) throw new NotAuthorizedException('User is disabled.');
  const channel = recoveryChannel(pool, user);
  if (!channel) throw new InvalidParameterException('Cannot reset password for the user as there is no registered/verified email or phone_number');
  // The code is issued first: if the per-user cap refuses it, nothing about the user has changed.
  const issued = await issueCode(ctx, pool.id, user.id, 'forgotPassword', channel.to, CODE_TTL.forgotPassword);
  // The message triggers run before anything changes, so a failing one leaves the password as it was.
  const composed = await composeMessage(ctx, pool, channel.medium, { source: 'ForgotPassword', user, clientMetadata: input.ClientMetadata }, issued.code);
  const now = ctx.now();
  // The old password stops working at once; only the mailed code lets the user set a new one.
  await ctx.repo.updateUser(pool.id, user.id, { status: user.status === 'UNCONFIRMED' ? 'UNCONFIRMED' : 'RESET_REQUIRED', password: null, updated_at: now });
  await ctx.repo.revokeUserTokens(user.id, now);
  await ctx.messages.sendCode(pool, channel, issued, composed);
  return {};
});

op('AdminUpdateUserAttributes', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const user = await adminFindUser(ctx, pool, input.Username);
  const changes = validateAttributes(pool, input.UserAttributes, { admin: true });
  checkAdminWrites(pool, user, changes);
  await updateAttributes(ctx, pool, user, changes, true, undefined, { clientMetadata: input.ClientMetadata });
  return {};
});

op('AdminDeleteUserAttributes', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const user = await adminFindUser(ctx, pool, input.Username);
  await storeAttributes(ctx, pool, user, deleteAttributes(pool, user, input.UserAttributeNames, true));
  return {};
});

op('ListUsers', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const limit = input.Limit || 60;
  const wanted = input.AttributesToGet;
  const filter = parseUserFilter(input.Filter);
  let after: string | undefined;
  try {
    after = pageCursor(input.PaginationToken, 'PaginationToken');
  } catch {
    throw new InvalidParameterException('Invalid pagination token');
  }
  const page = await ctx.repo.listUsers(pool.id, filter, limit, after);
  const Users = page.items.map((row) => {
    const user = parseUser(row);
    const t = userType(user);
    if (wanted) t.Attributes = attributeList(user).filter((a) => wanted.includes(a.Name));
    return t;
  });
  return { Users, PaginationToken: pageToken(page.next) };
});
