import crypto from 'node:crypto';
import {
  serverEphemeral, serverSessionKey, passwordClaimSignature, verifyClaim, poolNameOf, padHex, fromHex, checkPublic, SrpError,
} from '@gatehouse/srp';
import {
  InvalidParameterException, NotAuthorizedException, PasswordResetRequiredException, UserNotConfirmedException, UserNotFoundException,
} from '../errors.js';
import type { Ctx } from './context.js';
import type { LoadedClient, LoadedPool } from './pools.js';
import { requireFlow, isUsernameAttribute, tokenLifetimes, hidesUsers, lookupKey } from './pools.js';
import { findUser, parseUser, missingRequired, validateAttributes, type User } from './users.js';
import { checkUserWrites, planAttributeChange, storeAttributes } from './attribute-updates.js';
import { burnPasswordCheck, openPassword, passwordMatches, sealPassword } from './passwords.js';
import { createSession, openSession, consumeSession, type SessionState } from './sessions.js';
import { sha256, safeEqual } from './secrets.js';
import type { AuthenticationResult } from './tokens.js';
import { recordAuthEvent, recordUnknownLoginEvent, unknownLoginKey } from './events.js';

export interface ChallengeAnswer {
  ChallengeName?: string;
  Session?: string;
  ChallengeParameters: Record<string, string>;
  AuthenticationResult?: AuthenticationResult;
  AvailableChallenges?: string[];
}

const wrongPassword = () => new NotAuthorizedException('Incorrect username or password.');
const CLOCK_SKEW_MS = 15 * 60e3;

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
function resetRequired(client: LoadedClient, user: User | undefined) {
  if (user?.status === 'RESET_REQUIRED' && !hidesUsers(client)) throw new PasswordResetRequiredException('Password reset required for the user');
}

/** Checks a clear-text password: the same answer and work for unknown users, locked users and wrong passwords. */
async function verifyPasswordFactor(ctx: Ctx, pool: LoadedPool, client: LoadedClient, login: string, password: string): Promise<User> {
  const user = await findUser(ctx, pool, login);
  resetRequired(client, user);
  const burn = () => { burnPasswordCheck(ctx, pool, login, password); };
  if (!user || !user.password) return settleUnknownLogin(ctx, pool, client, login, burn);
  await settlePasswordCheck(ctx, pool, user, () => passwordMatches(ctx, pool, user, password), burn, 'SignIn');
  return user;
}

/**
 * How every password check of a user goes. The attempt is counted before anything is compared, by
 * one conditional statement that refuses while the user is locked, so guesses sent in parallel (to
 * any process) meet the limit serial ones do. A locked user fails whatever they sent, after `burn`
 * (the same work, nothing compared); a failure is recorded and answered as a wrong password; a
 * success clears the count.
 */
export async function settlePasswordCheck(ctx: Ctx, pool: LoadedPool, user: User, check: () => boolean, burn: () => void, event: 'SignIn' | 'PasswordChange') {
  const counted = await ctx.repo.claimSignInAttempt(pool.id, user.id, ctx.now(), LOCK_SECONDS);
  let ok = false;
  if (counted) ok = check();
  else burn();
  if (!ok) {
    await recordAuthEvent(ctx, user, event, 'Fail', 'Failure');
    throw wrongPassword();
  }
  await ctx.repo.updateUser(pool.id, user.id, { failed_attempts: 0, locked_until: 0 });
}

/**
 * A password check for a login that names no user: counted under the login as a user's would be
 * (so it locks out alike and writes alike), the same work, the same answer.
 */
async function settleUnknownLogin(ctx: Ctx, pool: LoadedPool, client: LoadedClient, login: string, burn: () => void): Promise<never> {
  if (!hidesUsers(client)) throw new UserNotFoundException('User does not exist.');
  const key = unknownLoginKey(ctx, pool.id, lookupKey(pool, login));
  await ctx.repo.claimLoginAttempt(key, ctx.now(), LOCK_SECONDS, UNKNOWN_LOGIN_TTL_MS);
  burn();
  // Where a user's failure goes to their auth events, an unknown login's goes to its own: the same writes.
  await recordUnknownLoginEvent(ctx, pool.id, key, 'SignIn', 'Failure');
  throw wrongPassword();
}

/** A stable stand-in for the sub of a user who does not exist, shaped like a real one. */
function fakeSub(ctx: Ctx, pool: LoadedPool, key: string) {
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
function fakeSrpUserId(ctx: Ctx, pool: LoadedPool, key: string) {
  return isUsernameAttribute(pool, 'email') || isUsernameAttribute(pool, 'phone_number') ? fakeSub(ctx, pool, key) : key;
}

const fakeVerifier = (ctx: Ctx, pool: LoadedPool, key: string) => ctx.secrets.macBytes('fake-verifier', pool.id, key);

/** Starts SRP: answers PASSWORD_VERIFIER, simulated for users who do not exist. */
async function startSrp(ctx: Ctx, pool: LoadedPool, client: LoadedClient, flow: string, login: string, srpA: string): Promise<ChallengeAnswer> {
  let A: Buffer;
  try {
    // A ≡ 0, 1 or -1 (mod N) would make the session key guessable without the password.
    A = fromHex(srpA);
    checkPublic(A, 'SRP_A');
  } catch {
    throw new InvalidParameterException('Invalid SRP_A');
  }
  const user = await findUser(ctx, pool, login);
  const stored = user ? openPassword(ctx, pool, user) : undefined;
  if (!user && !hidesUsers(client)) throw new UserNotFoundException('User does not exist.');
  resetRequired(client, user);
  // Stand-ins derive from the key a real lookup uses: two spellings that could name one user get one salt.
  const key = lookupKey(pool, login);
  const salt = stored?.salt ?? ctx.secrets.macBytes('fake-salt', pool.id, key).subarray(0, 16);
  const verifier = stored?.verifier ?? fakeVerifier(ctx, pool, key);
  const { b, B } = serverEphemeral(verifier);
  const secretBlock = crypto.randomBytes(64).toString('base64');
  const srpUserId = stored ? user!.username : fakeSrpUserId(ctx, pool, key);
  const state: SessionState = {
    // A stand-in id for nobody, so the answer looks the user up either way (and finds no one).
    challenge: 'PASSWORD_VERIFIER', flow, userId: stored ? user!.id : fakeSub(ctx, pool, `nobody:${key}`), login, srpUserId,
    A: A.toString('hex'), B: B.toString('hex'), b: b.toString('hex'), secretBlock: sha256(secretBlock),
  };
  return {
    ChallengeName: 'PASSWORD_VERIFIER',
    Session: await createSession(ctx, pool, client, state),
    ChallengeParameters: { SALT: padHex(salt), SECRET_BLOCK: secretBlock, SRP_B: padHex(B), USERNAME: srpUserId, USER_ID_FOR_SRP: srpUserId },
  };
}

/** Parses Cognito's claim timestamp ("Tue Mar 4 09:05:07 UTC 2025"). */
function parseTimestamp(ts: string): number {
  const m = /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) (\d{1,2}) (\d{2}):(\d{2}):(\d{2}) UTC (\d{4})$/.exec(ts);
  if (!m) return NaN;
  return Date.parse(`${m[1]} ${m[2]}, ${m[6]} ${m[3]}:${m[4]}:${m[5]} UTC`);
}

async function answerPasswordVerifier(ctx: Ctx, pool: LoadedPool, client: LoadedClient, state: Extract<SessionState, { challenge: 'PASSWORD_VERIFIER' }>, r: Record<string, string>) {
  const claim = r.PASSWORD_CLAIM_SIGNATURE, block = r.PASSWORD_CLAIM_SECRET_BLOCK, ts = r.TIMESTAMP;
  if (!claim || !block || !ts) throw new InvalidParameterException('Missing required parameter PASSWORD_CLAIM_SIGNATURE, PASSWORD_CLAIM_SECRET_BLOCK or TIMESTAMP');
  const when = parseTimestamp(ts);
  if (!Number.isFinite(when) || Math.abs(when - ctx.now()) > CLOCK_SKEW_MS) throw new NotAuthorizedException('Incorrect timestamp. Check your clock.');
  const row = await ctx.repo.getUser(pool.id, state.userId ?? '');
  const user = row && parseUser(row);
  const stored = user && openPassword(ctx, pool, user);
  const real = !!(user && stored && user.username === state.srpUserId);
  if (!real && !hidesUsers(client)) throw new UserNotFoundException('User does not exist.');
  const fake = fakeVerifier(ctx, pool, lookupKey(pool, state.login));
  // Every answer costs the same modular exponentiations: against the real verifier only once the
  // attempt is counted, else (simulated or locked) against the stand-in.
  const claimHolds = (verifier: Buffer) => {
    try {
      const key = serverSessionKey({ A: Buffer.from(state.A, 'hex'), B: Buffer.from(state.B, 'hex'), b: Buffer.from(state.b, 'hex'), verifier });
      const expected = passwordClaimSignature({ key, poolName: poolNameOf(pool.id), userId: state.srpUserId, secretBlock: Buffer.from(block, 'base64'), timestamp: ts });
      return safeEqual(sha256(block), state.secretBlock) && verifyClaim(expected, claim);
    } catch (e) {
      if (!(e instanceof SrpError)) throw e;
      return false;
    }
  };
  const burn = () => { claimHolds(fake); };
  if (!real || !user) return settleUnknownLogin(ctx, pool, client, state.login, burn);
  await settlePasswordCheck(ctx, pool, user, () => claimHolds(stored!.verifier), burn, 'SignIn');
  return afterFirstFactor(ctx, pool, client, user, state.flow);
}

/** What follows a proved first factor; the outcome goes to the user's auth events (InProgress while a challenge remains). */
export async function afterFirstFactor(ctx: Ctx, pool: LoadedPool, client: LoadedClient, user: User, flow: string): Promise<ChallengeAnswer> {
  let answer: ChallengeAnswer;
  try {
    answer = await nextAfterFirstFactor(ctx, pool, client, user, flow);
  } catch (e) {
    await recordAuthEvent(ctx, user, 'SignIn', 'Fail', 'Success');
    throw e;
  }
  await recordAuthEvent(ctx, user, 'SignIn', answer.AuthenticationResult ? 'Pass' : 'InProgress', 'Success');
  return answer;
}

/** The checks every sign-in passes once the user has proved the first factor. */
async function nextAfterFirstFactor(ctx: Ctx, pool: LoadedPool, client: LoadedClient, user: User, flow: string): Promise<ChallengeAnswer> {
  if (!user.enabled) throw new NotAuthorizedException('User is disabled.');
  if (user.status === 'UNCONFIRMED') throw new UserNotConfirmedException('User is not confirmed.');
  if (user.status === 'RESET_REQUIRED') throw new PasswordResetRequiredException('Password reset required for the user');
  if (user.status === 'FORCE_CHANGE_PASSWORD') {
    if (user.temp_password_expires_at && user.temp_password_expires_at < ctx.now()) {
      throw new NotAuthorizedException('Temporary password has expired and must be reset by an administrator.');
    }
    const shown = Object.fromEntries(Object.entries(user.attributes).filter(([k]) => k !== 'sub'));
    return {
      ChallengeName: 'NEW_PASSWORD_REQUIRED',
      Session: await createSession(ctx, pool, client, { challenge: 'NEW_PASSWORD_REQUIRED', flow, userId: user.id }),
      ChallengeParameters: {
        USER_ID_FOR_SRP: user.username,
        requiredAttributes: JSON.stringify(missingRequired(pool, user.attributes).map((n) => `userAttributes.${n}`)),
        userAttributes: JSON.stringify(shown),
      },
    };
  }
  return signedIn(ctx, pool, client, user);
}

export async function userGroups(ctx: Ctx, pool: LoadedPool, user: User): Promise<string[]> {
  const page = await ctx.repo.listGroupsForUser(pool.id, user.id, 100);
  return page.items.sort((a, b) => (a.precedence ?? Infinity) - (b.precedence ?? Infinity) || a.name.localeCompare(b.name)).map((g) => g.name);
}

export async function signedIn(ctx: Ctx, pool: LoadedPool, client: LoadedClient, user: User): Promise<ChallengeAnswer> {
  const AuthenticationResult = await ctx.tokens.issue({ pool, client, user, groups: await userGroups(ctx, pool, user), now: ctx.now() });
  return { ChallengeParameters: {}, AuthenticationResult };
}

/** Checks SECRET_HASH for clients that have a secret: base64(HMAC-SHA256(secret, username + clientId)). */
export function checkSecretHash(client: LoadedClient, username: string, provided: string | undefined) {
  if (!client.secret) return;
  if (!provided) throw new NotAuthorizedException(`Client ${client.id} is configured with secret but SECRET_HASH was not received`);
  const expected = crypto.createHmac('sha256', client.secret).update(username + client.id).digest('base64');
  if (!safeEqual(expected, provided)) throw new NotAuthorizedException(`Unable to verify secret hash for client ${client.id}`);
}

function required(params: Record<string, string>, ...names: string[]) {
  for (const n of names) if (!params[n]) throw new InvalidParameterException(`Missing required parameter ${n}`);
}

/** InitiateAuth and AdminInitiateAuth. `admin` is true for the signed variant, which allows the ADMIN_* flows. */
export async function initiateAuth(ctx: Ctx, pool: LoadedPool, client: LoadedClient, flow: string, params: Record<string, string>, opts: { admin: boolean; session?: string }): Promise<ChallengeAnswer> {
  switch (flow) {
    case 'USER_SRP_AUTH':
      requireFlow(client, 'ALLOW_USER_SRP_AUTH');
      required(params, 'USERNAME', 'SRP_A');
      checkSecretHash(client, params.USERNAME, params.SECRET_HASH);
      return startSrp(ctx, pool, client, flow, params.USERNAME, params.SRP_A);
    case 'USER_PASSWORD_AUTH':
    case 'ADMIN_USER_PASSWORD_AUTH':
    case 'ADMIN_NO_SRP_AUTH': {
      if (flow === 'USER_PASSWORD_AUTH') requireFlow(client, 'ALLOW_USER_PASSWORD_AUTH');
      else if (!opts.admin) throw new InvalidParameterException(`${flow} is only supported by AdminInitiateAuth`);
      else requireFlow(client, 'ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ADMIN_NO_SRP_AUTH');
      required(params, 'USERNAME', 'PASSWORD');
      checkSecretHash(client, params.USERNAME, params.SECRET_HASH);
      const user = await verifyPasswordFactor(ctx, pool, client, params.USERNAME, params.PASSWORD);
      return afterFirstFactor(ctx, pool, client, user, flow);
    }
    case 'REFRESH_TOKEN_AUTH':
    case 'REFRESH_TOKEN':
      requireFlow(client, 'ALLOW_REFRESH_TOKEN_AUTH');
      required(params, 'REFRESH_TOKEN');
      return { ChallengeParameters: {}, AuthenticationResult: await refreshTokens(ctx, pool, client, params.REFRESH_TOKEN) };
    case 'USER_AUTH':
      requireFlow(client, 'ALLOW_USER_AUTH');
      required(params, 'USERNAME');
      checkSecretHash(client, params.USERNAME, params.SECRET_HASH);
      return startUserAuth(ctx, pool, client, params, opts.session);
    case 'CUSTOM_AUTH':
      requireFlow(client, 'ALLOW_CUSTOM_AUTH');
      throw new InvalidParameterException('CUSTOM_AUTH needs DefineAuthChallenge, CreateAuthChallenge and VerifyAuthChallengeResponse triggers, which this pool does not have.');
    default:
      throw new InvalidParameterException(`1 validation error detected: Value '${flow}' at 'authFlow' failed to satisfy constraint: Member must satisfy enum value set: [USER_SRP_AUTH, REFRESH_TOKEN_AUTH, REFRESH_TOKEN, CUSTOM_AUTH, USER_PASSWORD_AUTH, USER_AUTH]`);
  }
}

/** The first factors a pool allows with USER_AUTH. Passwordless ones are added by their own modules. */
function firstFactors(pool: LoadedPool): string[] {
  return pool.config.Policies?.SignInPolicy?.AllowedFirstAuthFactors ?? ['PASSWORD'];
}

async function startUserAuth(ctx: Ctx, pool: LoadedPool, client: LoadedClient, params: Record<string, string>, sessionToken?: string): Promise<ChallengeAnswer> {
  const login = params.USERNAME;
  if (sessionToken) {
    // autoSignIn: ConfirmSignUp handed out this session for exactly this user.
    const s = await openSession(ctx, client, sessionToken);
    const row = s.state.challenge === 'SIGN_UP_CONFIRMED' ? await ctx.repo.getUser(pool.id, s.state.userId) : undefined;
    const user = row && parseUser(row);
    const same = user && (await findUser(ctx, pool, login))?.id === user.id;
    if (!user || !same) throw new NotAuthorizedException('Invalid session for the user.');
    await consumeSession(ctx, s);
    return afterFirstFactor(ctx, pool, client, user, 'USER_AUTH');
  }
  const allowed = firstFactors(pool);
  const choice = params.PREFERRED_CHALLENGE;
  if (choice) return chooseFirstFactor(ctx, pool, client, login, choice, params, allowed);
  const options = allowed.includes('PASSWORD') ? ['PASSWORD', 'PASSWORD_SRP', ...allowed.filter((f) => f !== 'PASSWORD')] : allowed;
  return {
    ChallengeName: 'SELECT_CHALLENGE',
    Session: await createSession(ctx, pool, client, { challenge: 'SELECT_CHALLENGE', flow: 'USER_AUTH', login, options }),
    ChallengeParameters: {},
    AvailableChallenges: options,
  };
}

async function chooseFirstFactor(ctx: Ctx, pool: LoadedPool, client: LoadedClient, login: string, choice: string, params: Record<string, string>, allowed: string[]): Promise<ChallengeAnswer> {
  if ((choice === 'PASSWORD' || choice === 'PASSWORD_SRP') && allowed.includes('PASSWORD')) {
    if (choice === 'PASSWORD') {
      required(params, 'PASSWORD');
      const user = await verifyPasswordFactor(ctx, pool, client, login, params.PASSWORD);
      return afterFirstFactor(ctx, pool, client, user, 'USER_AUTH');
    }
    required(params, 'SRP_A');
    return startSrp(ctx, pool, client, 'USER_AUTH', login, params.SRP_A);
  }
  throw new InvalidParameterException(`The challenge ${choice} is not available for this user.`);
}

/** RespondToAuthChallenge and AdminRespondToAuthChallenge. */
export async function respondToChallenge(ctx: Ctx, pool: LoadedPool, client: LoadedClient, challengeName: string, responses: Record<string, string>, sessionToken: string | undefined): Promise<ChallengeAnswer> {
  const s = await openSession(ctx, client, sessionToken);
  const state = s.state;
  if (state.challenge !== challengeName) throw new InvalidParameterException(`Invalid challenge name ${challengeName}: the session expects ${state.challenge}`);
  if (client.secret) checkSecretHash(client, responses.USERNAME ?? '', responses.SECRET_HASH);
  switch (state.challenge) {
    case 'PASSWORD_VERIFIER':
      await consumeSession(ctx, s);
      return answerPasswordVerifier(ctx, pool, client, state, responses);
    case 'NEW_PASSWORD_REQUIRED': {
      required(responses, 'NEW_PASSWORD');
      const row = await ctx.repo.getUser(pool.id, state.userId);
      if (!row) throw new NotAuthorizedException('Invalid session for the user.');
      const user = parseUser(row);
      const given = Object.entries(responses).filter(([k]) => k.startsWith('userAttributes.')).map(([k, v]) => ({ Name: k.slice('userAttributes.'.length), Value: v }));
      // The invited user writes as any user does: what the client may write, never `*_verified`,
      // and a changed email or phone is unverified (or held), so it cannot become a verified alias.
      checkUserWrites(pool, client, user, given, { firstValue: true });
      const change = planAttributeChange(pool, user, validateAttributes(pool, given), { admin: false, sendCodes: false });
      const { attributes } = change;
      const missing = missingRequired(pool, attributes);
      if (missing.length) throw new InvalidParameterException(`Missing required attributes: ${missing.join(', ')}`);
      const password = sealPassword(ctx, pool, user, responses.NEW_PASSWORD);
      await consumeSession(ctx, s);
      const now = ctx.now();
      await storeAttributes(ctx, pool, user, change, { password, password_changed_at: now, temp_password_expires_at: null, status: 'CONFIRMED', updated_at: now });
      return afterFirstFactor(ctx, pool, client, { ...user, attributes, status: 'CONFIRMED', temp_password_expires_at: null }, state.flow);
    }
    case 'SELECT_CHALLENGE': {
      required(responses, 'ANSWER');
      if (!state.options.includes(responses.ANSWER)) throw new InvalidParameterException(`The challenge ${responses.ANSWER} is not available for this user.`);
      await consumeSession(ctx, s);
      return chooseFirstFactor(ctx, pool, client, state.login, responses.ANSWER, responses, firstFactors(pool));
    }
    default:
      throw new InvalidParameterException(`Invalid challenge name ${challengeName}`);
  }
}

/** REFRESH_TOKEN_AUTH and GetTokensFromRefreshToken; rotates the refresh token when the client asks for it. */
export async function refreshTokens(ctx: Ctx, pool: LoadedPool, client: LoadedClient, token: string): Promise<AuthenticationResult> {
  const now = ctx.now();
  const hash = sha256(token);
  const row = token.length <= 4096 ? await ctx.repo.getRefreshToken(hash) : undefined;
  if (!row || row.client_id !== client.id || row.pool_id !== pool.id || row.expires_at < now) throw new NotAuthorizedException('Invalid Refresh Token');
  if (row.revoked_at !== null) throw new NotAuthorizedException('Refresh Token has been revoked');
  const userRow = await ctx.repo.getUser(pool.id, row.user_id);
  if (!userRow) throw new NotAuthorizedException('Invalid Refresh Token');
  const user = parseUser(userRow);
  if (!user.enabled) throw new NotAuthorizedException('User is disabled.');
  // Stored first, then signed: a revocation that comes after the decision revokes the family
  // these tokens belong to, and one that came before refuses the decision.
  const rotation = client.config.RefreshTokenRotation?.Feature === 'ENABLED';
  const next = rotation ? ctx.tokens.newRefreshToken(pool, client, user, row.origin_jti, row.auth_time, now, now + tokenLifetimes(client.config).refresh) : undefined;
  const outcome = await ctx.repo.useRefreshToken(hash, user.id, now, next && { graceMs: client.config.RefreshTokenRotation.RetryGracePeriodSeconds * 1000, next: next.row });
  if (outcome === 'revoked') throw new NotAuthorizedException('Refresh Token has been revoked');
  if (outcome !== 'ok') throw new NotAuthorizedException('Invalid Refresh Token');
  const groups = await userGroups(ctx, pool, user);
  const result = await ctx.tokens.issue({ pool, client, user, groups, now, authTime: row.auth_time, originJti: row.origin_jti, withRefresh: false });
  if (next) result.RefreshToken = next.token;
  return result;
}
