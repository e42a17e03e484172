// CUSTOM_AUTH and its CUSTOM_CHALLENGE, driven by the pool's DefineAuthChallenge,
// CreateAuthChallenge and VerifyAuthChallengeResponse triggers. CUSTOM_WITHOUT_SRP starts with
// the trigger; CUSTOM_WITH_SRP (CHALLENGE_NAME=SRP_A) proves the password first, when the trigger
// asks for PASSWORD_VERIFIER. The history of challenges and the private parameters travel in the
// sealed, single-use session, never through the client.
import { InvalidParameterException, NotAuthorizedException, UserNotFoundException } from '../../errors.js';
import { hidesUsers, lookupKey } from '../pools.js';
import { findUser, type User } from '../users.js';
import { recordAuthEvent } from '../events.js';
import { recordDecoyEvent } from '../decoys.js';
import {
  createAuthChallenge, defineAuthChallenge, verifyAuthChallengeResponse, type ChallengeResult, type CustomAuthWho, type Strings,
} from '../triggers/events.js';
import { invalidResponse } from '../triggers/runtime.js';
import {
  answered, asked, carried, consumeSession, createSession, invalidSession, proved, required, userOf,
  type ChallengeModule, type Outcome, type Responses, type SessionState, type SignIn,
} from './base.js';
import { fakeSrpUserId } from './password.js';

export interface CustomChallengeState extends SessionState {
  challenge: 'CUSTOM_CHALLENGE';
  userId?: string;
  login: string;
  history: ChallengeResult[];
  privateParameters: Strings;
  metadata?: string;
}

/**
 * A sign-in ends after this many wrong answers, whatever DefineAuthChallenge says (stricter than
 * Cognito, which leaves it to the trigger): a trigger that forgets to give up must not let a
 * six-digit code be guessed. Rounds in all are bounded too, so no trigger can loop forever.
 */
export const MAX_WRONG_CUSTOM_ANSWERS = 3;
export const MAX_CUSTOM_ROUNDS = 20;

const TRIGGERS = ['DefineAuthChallenge', 'CreateAuthChallenge', 'VerifyAuthChallengeResponse'] as const;

/** Who is signing in, as the triggers see it: the user, or (for clients that hide users) nobody under the login. */
function who(sc: SignIn, login: string, user: User | undefined): CustomAuthWho {
  return { user, userName: user?.username ?? login, clientId: sc.client.id, notFound: !user };
}

/** The end of a sign-in the trigger (or the cap) failed. Recorded as a failed sign-in, answered as a wrong password. */
async function fail(sc: SignIn, w: CustomAuthWho, login: string): Promise<never> {
  if (w.user) await recordAuthEvent(sc.ctx, w.user, 'SignIn', 'Fail');
  else await recordDecoyEvent(sc.ctx, sc.pool, login, 'SignIn', 'Fail');
  throw new NotAuthorizedException('Incorrect username or password.');
}

/** InitiateAuth CUSTOM_AUTH. */
export async function startCustomAuth(sc: SignIn, params: Responses): Promise<Outcome> {
  const { ctx, pool, client } = sc;
  if (TRIGGERS.some((t) => !ctx.triggers.has(pool, t))) {
    throw new InvalidParameterException('CUSTOM_AUTH needs DefineAuthChallenge, CreateAuthChallenge and VerifyAuthChallengeResponse triggers, which this pool does not have.');
  }
  const login = params.USERNAME;
  const withSrp = params.CHALLENGE_NAME === 'SRP_A';
  if (params.CHALLENGE_NAME !== undefined && !withSrp) throw new InvalidParameterException(`Invalid CHALLENGE_NAME ${params.CHALLENGE_NAME}: only SRP_A may begin CUSTOM_AUTH.`);
  if (withSrp) required(params, 'SRP_A');
  const user = await findUser(ctx, pool, login);
  if (!user && !hidesUsers(client)) throw new UserNotFoundException('User does not exist.');
  const history: ChallengeResult[] = withSrp ? [{ challengeName: 'SRP_A', challengeResult: true }] : [];
  return decide(sc, login, user, history, withSrp ? params.SRP_A : undefined);
}

/** CUSTOM_WITH_SRP: the password is proved; the trigger says what follows it. */
export function afterPasswordVerifier(sc: SignIn, user: User): Promise<Outcome> {
  return decide(sc, user.username, user, [{ challengeName: 'SRP_A', challengeResult: true }, { challengeName: 'PASSWORD_VERIFIER', challengeResult: true }]);
}

/** Asks DefineAuthChallenge what follows `history`, and does it. */
async function decide(sc: SignIn, login: string, user: User | undefined, history: ChallengeResult[], srpA?: string): Promise<Outcome> {
  const { ctx, pool } = sc;
  const w = who(sc, login, user);
  const d = await defineAuthChallenge(ctx, pool, w, history, sc.clientMetadata);
  if (d.failAuthentication) return fail(sc, w, login);
  if (d.issueTokens) {
    // A trigger cannot sign in someone who does not exist.
    if (!user) return fail(sc, w, login);
    return proved(user, 'firstFactor');
  }
  switch (d.challengeName) {
    case 'CUSTOM_CHALLENGE': return answered(await createChallenge(sc, login, w, history));
    case 'PASSWORD_VERIFIER':
      // Only where CUSTOM_WITH_SRP began: the client sent SRP_A for it.
      if (srpA === undefined || history.length !== 1) throw invalidResponse('DefineAuthChallenge', 'PASSWORD_VERIFIER may only follow SRP_A');
      return asked('PASSWORD_VERIFIER', login, { SRP_A: srpA });
    default:
      throw invalidResponse('DefineAuthChallenge', d.challengeName === undefined
        ? 'it must set challengeName, issueTokens or failAuthentication'
        : `challengeName ${d.challengeName} is not supported (CUSTOM_CHALLENGE, or PASSWORD_VERIFIER after SRP_A)`);
  }
}

async function createChallenge(sc: SignIn, login: string, w: CustomAuthWho, history: ChallengeResult[]) {
  const { ctx, pool, client } = sc;
  const c = await createAuthChallenge(ctx, pool, w, 'CUSTOM_CHALLENGE', history, sc.clientMetadata);
  const state: CustomChallengeState = {
    challenge: 'CUSTOM_CHALLENGE', ...carried(sc), userId: w.user?.id, login, history,
    privateParameters: c.privateChallengeParameters, metadata: c.challengeMetadata,
  };
  // USERNAME is the username the answer names (a stand-in shaped like one for nobody), as Cognito adds it.
  const USERNAME = w.user?.username ?? fakeSrpUserId(ctx, pool, lookupKey(pool, login));
  return {
    ChallengeName: 'CUSTOM_CHALLENGE' as const,
    Session: await createSession(ctx, pool, client, state),
    ChallengeParameters: { ...c.publicChallengeParameters, USERNAME },
  };
}

export const customChallenge: ChallengeModule<CustomChallengeState> = {
  name: 'CUSTOM_CHALLENGE',

  async answer(sc, s, r) {
    const { ctx, pool } = sc;
    required(r, 'ANSWER');
    // Each answer spends its session; the next round gets a new one, so an answer counts once.
    await consumeSession(ctx, s);
    const st = s.state;
    const user = st.userId ? await userOf(sc, st.userId) : undefined;
    if (st.userId && !user) throw invalidSession();
    const w = who(sc, st.login, user);
    const correct = await verifyAuthChallengeResponse(ctx, pool, w, st.privateParameters, r.ANSWER, sc.clientMetadata);
    const history = [...st.history, { challengeName: 'CUSTOM_CHALLENGE', challengeResult: correct, ...(st.metadata !== undefined ? { challengeMetadata: st.metadata } : {}) }];
    const wrong = history.filter((h) => h.challengeName === 'CUSTOM_CHALLENGE' && !h.challengeResult).length;
    if (wrong >= MAX_WRONG_CUSTOM_ANSWERS || history.length >= MAX_CUSTOM_ROUNDS) return fail(sc, w, st.login);
    return decide(sc, st.login, user, history);
  },
};
