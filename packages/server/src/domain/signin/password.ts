// The password checks every password-based factor shares: lockout, unknown logins, equal work.
import { PasswordResetRequiredException, UserNotFoundException } from '../../errors.js';
import type { Ctx } from '../context.js';
import type { LoadedClient, LoadedPool } from '../pools.js';
import { isUsernameAttribute, hidesUsers, lookupKey } from '../pools.js';
import { findUser, type User } from '../users.js';
import { burnPasswordCheck, passwordMatches } from '../passwords.js';
import { recordAuthEvent } from '../events.js';
import { recordDecoyEvent } from '../decoys.js';
import { answerOtp, codeMismatch, type OtpState } from '../otp.js';
import { migrateUser } from '../user-migration.js';
import { proved, required, wrongPassword, type FirstFactor, type SignIn } from './base.js';

/**
 * Cognito's lockout, in seconds locked after the n-th failure in a row (index n - 1): the 5th locks
 * for 1 s, each further one doubles it, up to 15 minutes (the last entry holds beyond).
 */
export const LOCK_SECONDS: readonly number[] = Array.from({ length: 16 }, (_, i) => (i < 4 ? 0 : Math.min(2 ** (i - 4), 900)));
/** How long failures of a login that names no user are remembered after its last attempt. */
export const UNKNOWN_LOGIN_TTL_MS = 24 * 3600e3;

/**
 * A user whose password is void (an admin reset it, or an import brought none) is told to reset it
 * before any check. Clients that hide users hear what a login naming nobody hears instead, as
 * Cognito answers them: the caller goes on as for an unknown login (the user has no password).
 */
export function resetRequired(client: LoadedClient, user: User | undefined) {
  if (user?.status === 'RESET_REQUIRED' && !hidesUsers(client)) throw new PasswordResetRequiredException('Password reset required for the user');
}

/** Checks a clear-text password: the same answer and work for unknown users, locked users and wrong passwords. */
export async function verifyPasswordFactor(sc: SignIn, login: string, password: string): Promise<User> {
  const { ctx, pool, client } = sc;
  // A login that names nobody may name a user of the old store, whom the UserMigration trigger brings over.
  const user = await findUser(ctx, pool, login) ?? await migrateUser(ctx, pool, client, login, 'UserMigration_Authentication', { password, clientMetadata: sc.clientMetadata });
  resetRequired(client, user);
  const burn = () => { burnPasswordCheck(ctx, pool, login, password); };
  if (!user || !user.password) return settleUnknownLogin(ctx, pool, client, login, burn);
  await settlePasswordCheck(ctx, pool, user, () => passwordMatches(ctx, pool, user, password), burn, 'SignIn');
  return user;
}

/** Whether a user has a password to sign in with; a stand-in for a login naming nobody has one. */
export const hasPassword = (user: User | undefined) => !user || !!user.password;

/** USER_AUTH's PASSWORD: the password in the same request. */
export const passwordFactor: FirstFactor = {
  name: 'PASSWORD',
  poolFactor: 'PASSWORD',
  availableTo: async (_sc, user) => hasPassword(user),
  async start(sc, login, params) {
    required(params, 'PASSWORD');
    return proved(await verifyPasswordFactor(sc, login, params.PASSWORD), 'firstFactor');
  },
};

/** Whether a failed attempt was refused while locked, or locks the account: a lockout, as the console's activity charts count them. */
const locksOut = (counted: number | false) => counted === false || LOCK_SECONDS[Math.min(counted, LOCK_SECONDS.length) - 1] > 0;

/**
 * How every password check of a user goes. The attempt is counted before anything is compared, by
 * one conditional statement that refuses while the user is locked, so guesses sent in parallel (to
 * any process) meet the limit serial ones do. A locked user fails whatever they sent, after `burn`
 * (the same work, nothing compared); a failure is recorded and answered as a wrong password; a
 * success takes its attempt back (the pipeline clears the count when the sign-in ends in tokens).
 */
export async function settlePasswordCheck(ctx: Ctx, pool: LoadedPool, user: User, check: () => boolean, burn: () => void, event: 'SignIn' | 'PasswordChange') {
  const counted = await ctx.repo.claimSignInAttempt(pool.id, user.id, ctx.now(), LOCK_SECONDS);
  let ok = false;
  if (counted !== false) ok = check();
  else burn();
  if (!ok) {
    await recordAuthEvent(ctx, user, event, 'Fail', 'Failure', locksOut(counted) ? 'lockout' : undefined);
    throw wrongPassword();
  }
  // A password change is done here. A sign-in goes on (MFA may follow, whose wrong codes count too):
  // only this attempt is taken back, and the count starts again once it ends in tokens.
  if (event === 'PasswordChange') await ctx.repo.updateUser(pool.id, user.id, { failed_attempts: 0, locked_until: 0 });
  else await ctx.repo.undoSignInAttempt(pool.id, user.id);
}

/**
 * How every code a signing-in user answers goes (SMS, email and TOTP codes): the attempt counts
 * towards the user's lockout first (a locked user's code is not compared), then the session counts
 * the answer (at most 3 wrong, then it is dead; a right one spends it). A wrong code is recorded
 * and answered CodeMismatchException; a right one clears the failure count.
 */
export async function settleCodeCheck(ctx: Ctx, pool: LoadedPool, user: User, sessionId: string, check: () => boolean | Promise<boolean>, otp?: OtpState) {
  const counted = await ctx.repo.claimSignInAttempt(pool.id, user.id, ctx.now(), LOCK_SECONDS);
  const matched = counted !== false && (await check());
  try {
    await answerOtp(ctx, sessionId, matched, otp);
  } catch (e) {
    await recordAuthEvent(ctx, user, 'SignIn', 'Fail', 'Success', locksOut(counted) ? 'lockout' : undefined);
    throw e;
  }
  await ctx.repo.undoSignInAttempt(pool.id, user.id);
}

/**
 * settleCodeCheck for a stand-in's code session (a login naming nobody, or a user who could not get
 * such a code): counted under the login as an unknown login's password is, never right, and
 * answered as a real session is (a wrong code, then a dead session).
 */
export async function settleStandInCode(ctx: Ctx, pool: LoadedPool, login: string, sessionId: string, otp: OtpState): Promise<never> {
  const key = ctx.secrets.mac('login-failures', pool.id, lookupKey(pool, login));
  await ctx.repo.claimLoginAttempt(key, ctx.now(), LOCK_SECONDS, UNKNOWN_LOGIN_TTL_MS);
  try {
    await answerOtp(ctx, sessionId, false, otp);
  } finally {
    await recordDecoyEvent(ctx, pool, login, 'SignIn', 'Fail');
  }
  throw codeMismatch(); // a wrong answer has thrown already
}

/**
 * A password check for a login that names no user: counted under the login as a user's would be
 * (so it locks out alike and writes alike), the same work, the same answer.
 */
export async function settleUnknownLogin(ctx: Ctx, pool: LoadedPool, client: LoadedClient, login: string, burn: () => void): Promise<never> {
  if (!hidesUsers(client)) throw new UserNotFoundException('User does not exist.');
  // Counted under an HMAC of the login as the pool matches it: the table holds no logins.
  const key = ctx.secrets.mac('login-failures', pool.id, lookupKey(pool, login));
  await ctx.repo.claimLoginAttempt(key, ctx.now(), LOCK_SECONDS, UNKNOWN_LOGIN_TTL_MS);
  burn();
  // Where a user's failure goes to their auth events, an unknown login's goes to a decoy: the same writes.
  await recordDecoyEvent(ctx, pool, login, 'SignIn', 'Fail');
  throw wrongPassword();
}

/** A stable stand-in for the sub of a user who does not exist, shaped like a real one. */
export function fakeSub(ctx: Ctx, pool: LoadedPool, key: string) {
  const h = ctx.secrets.macBytes('fake-sub', pool.id, key);
  h[6] = (h[6] & 0x0f) | 0x40;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/**
 * USER_ID_FOR_SRP of a user who does not exist, shaped as a real one would be: the sub where
 * emails or phones are usernames, else the username as the lookup normalises it. (A real user
 * found through an alias answers their username, which Cognito's protocol reveals too.)
 */
export function fakeSrpUserId(ctx: Ctx, pool: LoadedPool, key: string) {
  return isUsernameAttribute(pool, 'email') || isUsernameAttribute(pool, 'phone_number') ? fakeSub(ctx, pool, key) : key;
}

export const fakeSalt = (ctx: Ctx, pool: LoadedPool, key: string) => ctx.secrets.macBytes('fake-salt', pool.id, key).subarray(0, 16);
export const fakeVerifier = (ctx: Ctx, pool: LoadedPool, key: string) => ctx.secrets.macBytes('fake-verifier', pool.id, key);
