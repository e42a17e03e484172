// PASSWORD_VERIFIER: the server side of SRP (USER_SRP_AUTH, and USER_AUTH's PASSWORD_SRP).
import {
  serverEphemeral, serverSessionKey, passwordClaimSignature, verifyClaim, poolNameOf, padHex, fromHex, checkPublic, SrpError,
} from '@gatehouse/srp';
import { InvalidParameterException, NotAuthorizedException, UserNotFoundException } from '../../errors.js';
import { hidesUsers, lookupKey } from '../pools.js';
import { findUser } from '../users.js';
import { openPassword } from '../passwords.js';
import {
  CLOCK_SKEW_MS, answered, consumeSession, createSession, invalidSession, parseTimestamp, proved, required, sessionIdOf, userOf,
  type ChallengeAnswer, type ChallengeModule, type FirstFactor, type Place, type SessionState, type SignIn,
} from './base.js';
import { fakeSalt, fakeSrpUserId, fakeSub, fakeVerifier, hasPassword, resetRequired, settlePasswordCheck, settleUnknownLogin } from './password.js';

/** The session row only marks the attempt spent; the SRP state travels in the SECRET_BLOCK. */
export interface PasswordVerifierState extends SessionState { challenge: 'PASSWORD_VERIFIER'; userId: string }

/**
 * What the SECRET_BLOCK seals (Cognito carries the SRP state the same way, so clients such as
 * pycognito answer without the Session): the attempt's SRP values, who it is for, the session row
 * whose consumption makes it single use, and its expiry. Pool and client are bound as the
 * encryption's context, so a block opens only for the client it was handed to.
 */
interface SrpState { sid: string; flow: string; userId: string; login: string; srpUserId: string; A: string; B: string; b: string; exp: number }

const blockContext = (at: Place) => `srp-secret-block:${at.pool.id}:${at.client.id}`;

/** Clients decode SECRET_BLOCK as standard base64 and sign its bytes: the sealed bytes, so encoded. */
function sealBlock(at: Place, state: SrpState): string {
  const sealed = at.ctx.secrets.encrypt(JSON.stringify(state), blockContext(at));
  return Buffer.from(sealed.slice('v1.'.length), 'base64url').toString('base64');
}

/** Opens a SECRET_BLOCK this server sealed for this client and that has not expired; anything else is an invalid session. */
function openBlock(at: Place, block: string | undefined): SrpState {
  let state: SrpState;
  try {
    if (!block || block.length > 8192) throw invalidSession();
    const sealed = 'v1.' + Buffer.from(block, 'base64').toString('base64url');
    state = JSON.parse(at.ctx.secrets.decrypt(sealed, blockContext(at)).toString('utf8')) as SrpState;
  } catch {
    throw invalidSession();
  }
  if (!(state.exp >= at.ctx.now())) throw invalidSession();
  return state;
}

/** Starts SRP: answers PASSWORD_VERIFIER, simulated for users who do not exist. */
export async function startPasswordVerifier(sc: SignIn, login: string, srpA: string): Promise<ChallengeAnswer> {
  const { ctx, pool, client } = sc;
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
  const salt = stored?.salt ?? fakeSalt(ctx, pool, key);
  const verifier = stored?.verifier ?? fakeVerifier(ctx, pool, key);
  const { b, B } = serverEphemeral(verifier);
  const srpUserId = stored ? user!.username : fakeSrpUserId(ctx, pool, key);
  // A stand-in id for nobody, so the answer looks the user up either way (and finds no one).
  const userId = stored ? user!.id : fakeSub(ctx, pool, `nobody:${key}`);
  const ttl = client.config.AuthSessionValidity * 60e3;
  const state: PasswordVerifierState = { challenge: 'PASSWORD_VERIFIER', flow: sc.flow, userId };
  const Session = await createSession(ctx, pool, client, state, ttl);
  const secretBlock = sealBlock(sc, {
    sid: sessionIdOf(Session), flow: sc.flow, userId, login, srpUserId,
    A: A.toString('base64'), B: B.toString('base64'), b: b.toString('base64'), exp: ctx.now() + ttl,
  });
  return {
    ChallengeName: 'PASSWORD_VERIFIER',
    Session,
    ChallengeParameters: { SALT: padHex(salt), SECRET_BLOCK: secretBlock, SRP_B: padHex(B), USERNAME: srpUserId, USER_ID_FOR_SRP: srpUserId },
  };
}

/** USER_AUTH's PASSWORD_SRP: SRP_A in the same request. */
export const srpFactor: FirstFactor = {
  name: 'PASSWORD_SRP',
  poolFactor: 'PASSWORD',
  availableTo: async (_sc, user) => hasPassword(user),
  async start(sc, login, params) {
    required(params, 'SRP_A');
    return answered(await startPasswordVerifier(sc, login, params.SRP_A));
  },
};

export const passwordVerifier: ChallengeModule<PasswordVerifierState> = {
  name: 'PASSWORD_VERIFIER',

  async sessionFromAnswer(at, r) {
    const st = openBlock(at, r.PASSWORD_CLAIM_SECRET_BLOCK);
    return { id: st.sid, state: { challenge: 'PASSWORD_VERIFIER', flow: st.flow, userId: st.userId } };
  },

  async answer(sc, s, r) {
    const { ctx, pool, client } = sc;
    // One answer per attempt, with the Session or without: both spend the row the block names.
    await consumeSession(ctx, s);
    const claim = r.PASSWORD_CLAIM_SIGNATURE, block = r.PASSWORD_CLAIM_SECRET_BLOCK, ts = r.TIMESTAMP;
    if (!claim || !block || !ts) throw new InvalidParameterException('Missing required parameter PASSWORD_CLAIM_SIGNATURE, PASSWORD_CLAIM_SECRET_BLOCK or TIMESTAMP');
    const st = openBlock(sc, block);
    if (st.sid !== s.id) throw invalidSession();
    const when = parseTimestamp(ts);
    if (!Number.isFinite(when) || Math.abs(when - ctx.now()) > CLOCK_SKEW_MS) throw new NotAuthorizedException('Incorrect timestamp. Check your clock.');
    const user = await userOf(sc, st.userId);
    const stored = user && openPassword(ctx, pool, user);
    const real = !!(user && stored && user.username === st.srpUserId);
    if (!real && !hidesUsers(client)) throw new UserNotFoundException('User does not exist.');
    const fake = fakeVerifier(ctx, pool, lookupKey(pool, st.login));
    // Every answer costs the same modular exponentiations: against the real verifier only once the
    // attempt is counted, else (simulated or locked) against the stand-in.
    const claimHolds = (verifier: Buffer) => {
      try {
        const key = serverSessionKey({ A: Buffer.from(st.A, 'base64'), B: Buffer.from(st.B, 'base64'), b: Buffer.from(st.b, 'base64'), verifier });
        const expected = passwordClaimSignature({ key, poolName: poolNameOf(pool.id), userId: st.srpUserId, secretBlock: Buffer.from(block, 'base64'), timestamp: ts });
        return verifyClaim(expected, claim);
      } catch (e) {
        if (!(e instanceof SrpError)) throw e;
        return false;
      }
    };
    const burn = () => { claimHolds(fake); };
    if (!real || !user) return settleUnknownLogin(ctx, pool, client, st.login, burn);
    await settlePasswordCheck(ctx, pool, user, () => claimHolds(stored!.verifier), burn, 'SignIn');
    return proved(user, 'firstFactor');
  },
};
