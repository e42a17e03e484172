import { op } from '../wire/operations.js';
import { InvalidParameterException, NotAuthorizedException, UserNotFoundException } from '../errors.js';
import type { Ctx } from '../domain/context.js';
import type { LoadedClient, LoadedPool } from '../domain/pools.js';
import { findUser, loginKeys, missingRequired, newUsername, requiredAttributes, uniqueError, validateAttributes, type User } from '../domain/users.js';
import { sealPassword } from '../domain/passwords.js';
import { checkSecretHash } from '../domain/signin/index.js';
import { createSession } from '../domain/sessions.js';
import { CODE_TTL, issueCode, useCode, useCodeOfNobody, noCodeForUnknownUser } from '../domain/codes.js';
import { checkPassword } from '../domain/password-policy.js';
import { allowsPasswordlessSignUp, passwordPolicy, hidesUsers, lookupKey } from '../domain/pools.js';
import type { Channel, CodeDeliveryDetails } from '../domain/messages.js';
import { issueDecoyCode, recordDecoyEvent, simulatedDestination } from '../domain/decoys.js';
import { clientOf } from './common.js';
import { throttle } from '../domain/limits.js';
import { recordAuthEvent, type AuthEventKind } from '../domain/events.js';
import { composeMessage, postConfirmation, preSignUp, type MessageSource, type Strings } from '../domain/triggers/events.js';
import { migrateUser } from '../domain/user-migration.js';

/** Where a sign-up code goes: the first auto-verified attribute the user has. */
function signUpChannel(pool: LoadedPool, user: User) {
  const auto = pool.config.AutoVerifiedAttributes ?? [];
  if (auto.includes('email') && user.attributes.email) return { medium: 'EMAIL' as const, attribute: 'email', to: user.attributes.email };
  if (auto.includes('phone_number') && user.attributes.phone_number) return { medium: 'SMS' as const, attribute: 'phone_number', to: user.attributes.phone_number };
  return undefined;
}

/** Where a password-reset code goes: a verified email or phone, in the pool's recovery order. */
function recoveryOrder(pool: LoadedPool) {
  return (pool.config.AccountRecoverySetting?.RecoveryMechanisms ?? [{ Name: 'verified_email', Priority: 1 }, { Name: 'verified_phone_number', Priority: 2 }])
    .slice().sort((a, b) => a.Priority - b.Priority).map((m) => m.Name);
}

export function recoveryChannel(pool: LoadedPool, user: User) {
  for (const m of recoveryOrder(pool)) {
    if (m === 'verified_email' && user.attributes.email && user.attributes.email_verified === 'true') return { medium: 'EMAIL' as const, attribute: 'email', to: user.attributes.email };
    if (m === 'verified_phone_number' && user.attributes.phone_number && user.attributes.phone_number_verified === 'true') return { medium: 'SMS' as const, attribute: 'phone_number', to: user.attributes.phone_number };
  }
  return undefined;
}

/**
 * The channel a code for `login` would take, had it an account: the medium a real user's code takes
 * under the pool's settings (sign-up: its auto-verified attributes; reset: the first recovery
 * mechanism such users have verified), to the login or an address derived from it. Undefined where
 * a real user's request would fail for want of one.
 */
function simulatedChannel(ctx: Ctx, pool: LoadedPool, login: string, purpose: 'signUp' | 'forgotPassword'): Channel | undefined {
  const auto = pool.config.AutoVerifiedAttributes ?? [];
  let attribute: string | undefined;
  if (purpose === 'signUp') {
    // signUpChannel takes email first when the user has one: a phone login has one where the pool requires it.
    const emailFirst = auto.includes('email') && (login.includes('@') || requiredAttributes(pool).includes('email') || !auto.includes('phone_number'));
    attribute = emailFirst ? 'email' : auto.includes('phone_number') ? 'phone_number' : undefined;
  } else {
    const order = recoveryOrder(pool).map((m) => (m === 'verified_email' ? 'email' : m === 'verified_phone_number' ? 'phone_number' : undefined)).filter((a) => a !== undefined);
    attribute = order.find((a) => auto.includes(a)) ?? order[0];
  }
  if (!attribute) return undefined;
  const medium = attribute === 'email' ? 'EMAIL' as const : 'SMS' as const;
  return { medium, attribute, to: simulatedDestination(ctx, pool, login, medium) };
}

/**
 * The answer for a user who does not exist, after the same work as a real user's: the per-user cap,
 * a code, its sealed message and the auth event, all on decoy rows that are never sent.
 */
async function simulatedCodeDelivery(ctx: Ctx, pool: LoadedPool, login: string, purpose: 'signUp' | 'forgotPassword', event: AuthEventKind) {
  const channel = simulatedChannel(ctx, pool, login, purpose);
  if (!channel) throw purpose === 'signUp' ? noAutoVerification() : noRecoveryChannel();
  const decoy = await issueDecoyCode(ctx, pool, login, purpose === 'signUp' ? `signUp:${channel.attribute}` : purpose);
  const delivery = await ctx.messages.sendDecoyCode(pool, channel, decoy);
  await recordDecoyEvent(ctx, pool, login, event, event === 'ForgotPassword' ? 'InProgress' : 'Pass');
  return { CodeDeliveryDetails: delivery };
}

const noAutoVerification = () => new InvalidParameterException('Auto verification not turned on.');
const noRecoveryChannel = () => new InvalidParameterException('Cannot reset password for the user as there is no registered/verified email or phone_number');

async function sendSignUpCode(ctx: Ctx, pool: LoadedPool, user: User, why: { source: MessageSource; clientId: string; clientMetadata?: Strings }) {
  const channel = signUpChannel(pool, user);
  if (!channel) return undefined;
  const issued = await issueCode(ctx, pool.id, user.id, `signUp:${channel.attribute}`, channel.to, CODE_TTL.signUp);
  return ctx.messages.sendCode(pool, channel, issued, await composeMessage(ctx, pool, channel.medium, { ...why, user }, issued.code));
}

/** The client, the username and the user it names, for the unsigned per-user operations. */
async function namedUser(ctx: Ctx, input: { ClientId: string; Username: string; SecretHash?: string }) {
  const { pool, client } = await clientOf(ctx, input);
  const login = input.Username;
  checkSecretHash(client, login, input.SecretHash);
  return { pool, client, login, user: await findUser(ctx, pool, login) };
}

/** For a user who does not exist: a client hiding users gets `hidden` (a fake answer, or an error); others learn the truth. */
function noSuchUser<T>(client: LoadedClient, hidden: T | Error | (() => Promise<T>)): T | Promise<T> {
  if (!hidesUsers(client)) throw new UserNotFoundException('Username/client id combination not found.');
  if (hidden instanceof Error) throw hidden;
  return typeof hidden === 'function' ? (hidden as () => Promise<T>)() : hidden;
}

/** ValidationData (a list of {Name, Value}) as the map triggers receive. */
export function attributeMap(list: { Name: string; Value?: string }[] | undefined): Record<string, string> | undefined {
  return list && Object.fromEntries(list.map((a) => [a.Name, a.Value ?? '']));
}

/**
 * The PostConfirmation trigger, once a confirmation (or password reset) is stored. If it fails the
 * change is undone (stricter than Cognito, which keeps it): the operation answers an error, so
 * nothing it did remains, and the user can confirm again with a new code.
 */
export async function confirmed(ctx: Ctx, pool: LoadedPool, user: User, clientId: string | undefined, clientMetadata: Record<string, string> | undefined, undo: () => Promise<unknown>, source: 'PostConfirmation_ConfirmSignUp' | 'PostConfirmation_ConfirmForgotPassword' = 'PostConfirmation_ConfirmSignUp') {
  try {
    await postConfirmation(ctx, pool, source, user, clientId, clientMetadata);
  } catch (e) {
    await undo();
    throw e;
  }
}

op('SignUp', async (ctx, input) => {
  const { pool, client } = await clientOf(ctx, input);
  // A sign-up spends the caller's sign-up allowance, and its code allowance when the pool sends a code.
  await throttle(ctx, client.id, pool.config.AutoVerifiedAttributes?.length ? ['signUp', 'codes'] : ['signUp']);
  const login = input.Username;
  const password = input.Password;
  const given = input.UserAttributes ?? [];
  checkSecretHash(client, login, input.SecretHash);
  if (pool.config.AdminCreateUserConfig?.AllowAdminCreateUserOnly) throw new NotAuthorizedException('SignUp is not permitted for this user pool');
  if (!password && !allowsPasswordlessSignUp(pool)) throw new InvalidParameterException('A password is required to sign up: this pool has no passwordless sign-in (EMAIL_OTP or SMS_OTP).');
  // People cannot vouch for their own email or phone: verification comes from the code.
  const attrs = validateAttributes(pool, given.filter((a) => a.Name !== 'email_verified' && a.Name !== 'phone_number_verified'));
  const { username, sub } = newUsername(pool, login, attrs);
  const missing = missingRequired(pool, attrs);
  if (missing.length) throw new InvalidParameterException(`Attributes did not conform to the schema: ${missing.map((m) => `${m}: The attribute ${m} is required`).join(', ')}`);
  const now = ctx.now();
  // Passwordless: no password at all, so no password flow can sign this user in.
  const sealed = password ? sealPassword(ctx, pool, { id: sub, username }, password) : null;
  // Before anything is stored: a refusal leaves no user behind.
  const pre = await preSignUp(ctx, pool, 'PreSignUp_SignUp', { userName: username, clientId: client.id }, {
    userAttributes: { ...attrs }, validationData: attributeMap(input.ValidationData), clientMetadata: input.ClientMetadata,
  });
  if (pre.autoVerifyEmail && attrs.email) attrs.email_verified = 'true';
  if (pre.autoVerifyPhone && attrs.phone_number) attrs.phone_number_verified = 'true';
  const row = {
    id: sub, pool_id: pool.id, username, ...loginKeys(pool, username, attrs), status: pre.autoConfirmUser ? 'CONFIRMED' : 'UNCONFIRMED', enabled: 1,
    attributes: JSON.stringify(attrs), password: sealed, password_changed_at: sealed ? now : null, temp_password_expires_at: null,
    mfa: '{}', failed_attempts: 0, locked_until: 0, created_at: now, updated_at: now,
  };
  try {
    await ctx.repo.createUser(row);
  } catch (e) {
    throw uniqueError(e, pool);
  }
  const user = { ...row, attributes: attrs, mfa: {} } as User;
  let delivery: CodeDeliveryDetails | undefined;
  // A user the PreSignUp trigger confirmed needs no code (nor, as in Cognito, PostConfirmation).
  if (!pre.autoConfirmUser) {
    try {
      delivery = await sendSignUpCode(ctx, pool, user, { source: 'SignUp', clientId: client.id, clientMetadata: input.ClientMetadata });
    } catch (e) {
      // No half-made account: without its code nobody could confirm it. (The code is only stored with
      // its message; a message that fails to go out later is retried, not undone.)
      await ctx.repo.deleteUser(pool.id, sub);
      throw e;
    }
  }
  await recordAuthEvent(ctx, user, 'SignUp', 'Pass');
  return { UserConfirmed: pre.autoConfirmUser, UserSub: sub, ...(delivery ? { CodeDeliveryDetails: delivery } : {}) };
});

op('ConfirmSignUp', async (ctx, input) => {
  const { pool, client, login, user } = await namedUser(ctx, input);
  const code = input.ConfirmationCode;
  if (!user) return noSuchUser<never>(client, hidesUsers(client) ? await useCodeOfNobody(ctx, pool.id, lookupKey(pool, login), 'signUp') : noCodeForUnknownUser());
  if (user.status !== 'UNCONFIRMED') throw new NotAuthorizedException(`User cannot be confirmed. Current status is ${user.status}`);
  const channel = signUpChannel(pool, user);
  const attribute = channel?.attribute ?? 'email';
  await useCode(ctx, user.id, `signUp:${attribute}`, channel?.to ?? '', code, { hideState: hidesUsers(client) });
  const attributes = { ...user.attributes, [`${attribute}_verified`]: 'true' };
  try {
    await ctx.repo.updateUser(pool.id, user.id, { status: 'CONFIRMED', attributes: JSON.stringify(attributes), ...loginKeys(pool, user.username, attributes), updated_at: ctx.now() });
  } catch (e) {
    throw uniqueError(e, pool);
  }
  await confirmed(ctx, pool, { ...user, status: 'CONFIRMED', attributes }, client.id, input.ClientMetadata, () =>
    ctx.repo.updateUser(pool.id, user.id, { status: user.status, attributes: JSON.stringify(user.attributes), ...loginKeys(pool, user.username, user.attributes), updated_at: ctx.now() }));
  // This session lets autoSignIn (USER_AUTH with Session) sign the user in without the password.
  const Session = await createSession(ctx, pool, client, { challenge: 'SIGN_UP_CONFIRMED', flow: 'USER_AUTH', userId: user.id });
  return { Session };
});

op('ResendConfirmationCode', async (ctx, input) => {
  const { pool, client, login, user } = await namedUser(ctx, input);
  await throttle(ctx, client.id, ['codes']);
  if (!user) return noSuchUser(client, () => simulatedCodeDelivery(ctx, pool, login, 'signUp', 'ResendCode'));
  if (user.status !== 'UNCONFIRMED') throw new InvalidParameterException('User is already confirmed.');
  const delivery = await sendSignUpCode(ctx, pool, user, { source: 'ResendCode', clientId: client.id, clientMetadata: input.ClientMetadata });
  if (!delivery) throw noAutoVerification();
  await recordAuthEvent(ctx, user, 'ResendCode', 'Pass');
  return { CodeDeliveryDetails: delivery };
});

op('ForgotPassword', async (ctx, input) => {
  const found = await namedUser(ctx, input);
  const { pool, client, login } = found;
  await throttle(ctx, client.id, ['recovery', 'codes']);
  // Decided by the pool alone, before the user is looked at: every username hears the same.
  if (pool.config.AccountRecoverySetting?.RecoveryMechanisms?.some((m) => m.Name === 'admin_only')) {
    throw new NotAuthorizedException('Contact administrator to reset password.');
  }
  // A login that names nobody may name a user of the old store, whom the UserMigration trigger brings over.
  const user = found.user ?? await migrateUser(ctx, pool, client, login, 'UserMigration_ForgotPassword', { clientMetadata: input.ClientMetadata });
  if (!user) return noSuchUser(client, () => simulatedCodeDelivery(ctx, pool, login, 'forgotPassword', 'ForgotPassword'));
  if (!user.enabled) throw new NotAuthorizedException('User is disabled.');
  const channel = recoveryChannel(pool, user);
  if (!channel) throw noRecoveryChannel();
  const issued = await issueCode(ctx, pool.id, user.id, 'forgotPassword', channel.to, CODE_TTL.forgotPassword);
  const composed = await composeMessage(ctx, pool, channel.medium, { source: 'ForgotPassword', user, clientId: client.id, clientMetadata: input.ClientMetadata }, issued.code);
  const delivery = await ctx.messages.sendCode(pool, channel, issued, composed);
  await recordAuthEvent(ctx, user, 'ForgotPassword', 'InProgress');
  return { CodeDeliveryDetails: delivery };
});

op('ConfirmForgotPassword', async (ctx, input) => {
  const { pool, client, login, user } = await namedUser(ctx, input);
  const code = input.ConfirmationCode;
  const password = input.Password;
  await throttle(ctx, client.id, ['recovery']);
  // The policy is checked before the user is looked at, so a weak password tells nothing about who exists.
  checkPassword(password, passwordPolicy(pool));
  if (!user && hidesUsers(client)) {
    // Nobody by that name: the work a real user's wrong code costs (sealing the new password, the code
    // lookup and guess, the auth event), the same answer.
    sealPassword(ctx, pool, { id: '', username: login }, password, false);
    const e = await useCodeOfNobody(ctx, pool.id, lookupKey(pool, login), 'forgotPassword');
    await recordDecoyEvent(ctx, pool, login, 'ForgotPassword', 'Fail');
    throw e;
  }
  if (!user) return noSuchUser(client, noCodeForUnknownUser());
  const sealed = sealPassword(ctx, pool, user, password, false);
  await useCode(ctx, user.id, 'forgotPassword', recoveryChannel(pool, user)?.to ?? '', code, { hideState: hidesUsers(client) }).catch(async (e) => {
    await recordAuthEvent(ctx, user, 'ForgotPassword', 'Fail');
    throw e;
  });
  const now = ctx.now();
  const status = user.status === 'UNCONFIRMED' ? 'UNCONFIRMED' : 'CONFIRMED';
  await ctx.repo.updateUser(pool.id, user.id, { password: sealed, password_changed_at: now, temp_password_expires_at: null, status, failed_attempts: 0, locked_until: 0, updated_at: now });
  const { password: oldPassword, password_changed_at, temp_password_expires_at, status: oldStatus, failed_attempts, locked_until } = user;
  await confirmed(ctx, pool, { ...user, status }, client.id, input.ClientMetadata, () =>
    ctx.repo.updateUser(pool.id, user.id, { password: oldPassword, password_changed_at, temp_password_expires_at, status: oldStatus, failed_attempts, locked_until, updated_at: ctx.now() }),
  'PostConfirmation_ConfirmForgotPassword');
  await ctx.repo.revokeUserTokens(user.id, now); // stricter than Cognito: a reset signs out every session
  await recordAuthEvent(ctx, user, 'ForgotPassword', 'Pass');
  return {};
});
