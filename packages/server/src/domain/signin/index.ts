// The sign-in state machine's entry points (ops/auth.ts calls them) and its registries: the
// InitiateAuth flows, the challenges RespondToAuthChallenge answers, and USER_AUTH's first factors.
// A new challenge is a new module plus one line below.
import { InvalidParameterException, UserNotFoundException } from '../../errors.js';
import type { Ctx } from '../context.js';
import { allowedFirstFactors, hidesUsers, requireFlow, type LoadedClient, type LoadedPool } from '../pools.js';
import { findUser, type User } from '../users.js';
import type { AuthenticationResult } from '../tokens.js';
import { preAuthentication, type Strings } from '../triggers/events.js';
import {
  answered, checkSecretHash, consumeSession, secretHash, hostedUserOf, openSession, proved, required, unavailableChallenge, HOSTED_FLOW, invalidSession,
  type ChallengeAnswer, type ChallengeModule, type FirstFactor, type OpenSession, type Outcome, type Place, type Responses, type SignIn,
} from './base.js';
import { continueSignIn, startChosen } from './pipeline.js';
import { passwordFactor, verifyPasswordFactor } from './password.js';
import { passwordVerifier, srpFactor, startPasswordVerifier } from './password-verifier.js';
import { newPasswordRequired } from './new-password-required.js';
import { selectChallenge, startSelectChallenge } from './select-challenge.js';
import type { ChallengeNameType } from '../../shapes.js';
import { proveBySignUpSession } from './sign-up-session.js';
import { webAuthnChallenge, webAuthnFactor, type WebAuthnState } from './web-authn.js';
import { refreshTokens as refresh } from './refresh.js';
import { emailOtp, emailOtpFactor, smsMfa, smsOtp, smsOtpFactor } from './message-code.js';
import { softwareTokenMfa } from './software-token-mfa.js';
import { selectMfaType } from './select-mfa-type.js';
import { mfaSetup } from './mfa-setup.js';
import { devicePasswordVerifier, deviceSrpAuth } from './device-srp.js';
import { afterPasswordVerifier, customChallenge, startCustomAuth } from './custom-challenge.js';

export type { ChallengeAnswer } from './base.js';
export { checkSecretHash, secretHash, userGroups, HOSTED_FLOW } from './base.js';
export { settlePasswordCheck } from './password.js';
export { associateInSession, verifyInSession } from './mfa-setup.js';

/** RespondToAuthChallenge's challenges, by name. */
const challenges = new Map<string, ChallengeModule>([
  passwordVerifier,
  newPasswordRequired,
  selectChallenge,
  smsMfa,
  softwareTokenMfa,
  emailOtp,
  selectMfaType,
  mfaSetup,
  deviceSrpAuth,
  devicePasswordVerifier,
  customChallenge,
  smsOtp,
  webAuthnChallenge,
].map((m) => [m.name, m]));

/** Challenges a flow may ask for by name (Outcome 'ask'), and how each starts. */
const starters = new Map<string, (sc: SignIn, login: string, params: Responses) => Promise<ChallengeAnswer>>([
  ['PASSWORD_VERIFIER', (sc, login, params) => startPasswordVerifier(sc, login, params.SRP_A)],
]);

/** USER_AUTH's first factors, by the name the client chooses. */
const firstFactors = new Map<string, FirstFactor>([
  passwordFactor,
  srpFactor,
  emailOtpFactor,
  smsOtpFactor,
  webAuthnFactor,
].map((f) => [f.name, f]));

interface FlowOptions { admin: boolean; session?: string; clientMetadata?: Strings }
type Flow = (sc: SignIn, params: Responses, opts: FlowOptions) => Promise<Outcome>;

const passwordFlow: Flow = async (sc, params, opts) => {
  if (sc.flow === 'USER_PASSWORD_AUTH') requireFlow(sc.client, 'ALLOW_USER_PASSWORD_AUTH');
  else if (!opts.admin) throw new InvalidParameterException(`${sc.flow} is only supported by AdminInitiateAuth`);
  else requireFlow(sc.client, 'ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ADMIN_NO_SRP_AUTH');
  required(params, 'USERNAME', 'PASSWORD');
  checkSecretHash(sc.client, params.USERNAME, params.SECRET_HASH);
  await preAuthenticate(sc, params.USERNAME);
  return proved(await verifyPasswordFactor(sc, params.USERNAME, params.PASSWORD), 'firstFactor');
};

const refreshFlow: Flow = async (sc, params) => {
  requireFlow(sc.client, 'ALLOW_REFRESH_TOKEN_AUTH');
  required(params, 'REFRESH_TOKEN');
  return answered({ ChallengeParameters: {}, AuthenticationResult: await refresh(sc, params.REFRESH_TOKEN, sc.clientMetadata) });
};

/** A first factor by name, if the pool allows it. */
function allowedFactor(sc: SignIn, factor: string): FirstFactor {
  const f = firstFactors.get(factor);
  if (!f || !allowedFirstFactors(sc.pool).includes(f.poolFactor)) throw unavailableChallenge(factor);
  return f;
}

/** A first factor chosen by name, if the pool allows it. */
function startFirstFactor(sc: SignIn, factor: string, login: string, params: Responses): Promise<Outcome> {
  return allowedFactor(sc, factor).start(sc, login, params);
}

/** The first factors the pool allows, in the order SELECT_CHALLENGE offers them (PASSWORD stands for both password forms). */
function offeredFactors(pool: LoadedPool): ChallengeNameType[] {
  const allowed = allowedFirstFactors(pool);
  // The pool's first factors are challenge names too (CreateUserPool keeps SOFTWARE_TOKEN out of them).
  return (allowed.includes('PASSWORD') ? ['PASSWORD', 'PASSWORD_SRP', ...allowed.filter((f) => f !== 'PASSWORD')] : allowed) as ChallengeNameType[];
}

/**
 * What SELECT_CHALLENGE offers: the factors the pool allows that this user can use now. A login that
 * names no user gets a stand-in's, stable per login; so does a user who can use none (an
 * unconfirmed account without a password), as an empty list would tell them apart.
 */
async function availableFactors(sc: SignIn, user: User | undefined, login: string): Promise<ChallengeNameType[]> {
  const pick = async (who: User | undefined) => {
    const out: ChallengeNameType[] = [];
    for (const name of offeredFactors(sc.pool)) if (await firstFactors.get(name)?.availableTo(sc, who, login)) out.push(name);
    return out;
  };
  const mine = await pick(user);
  if (mine.length) return mine;
  const standIn = user ? await pick(undefined) : mine;
  return standIn.length ? standIn : offeredFactors(sc.pool).slice(0, 1);
}

/** InitiateAuth's flows. */
const flows = new Map<string, Flow>([
  ['USER_SRP_AUTH', async (sc, params) => {
    requireFlow(sc.client, 'ALLOW_USER_SRP_AUTH');
    required(params, 'USERNAME', 'SRP_A');
    checkSecretHash(sc.client, params.USERNAME, params.SECRET_HASH);
    await preAuthenticate(sc, params.USERNAME);
    return answered(await startPasswordVerifier(sc, params.USERNAME, params.SRP_A));
  }],
  ['USER_PASSWORD_AUTH', passwordFlow],
  ['ADMIN_USER_PASSWORD_AUTH', passwordFlow],
  ['ADMIN_NO_SRP_AUTH', passwordFlow],
  ['REFRESH_TOKEN_AUTH', refreshFlow],
  ['REFRESH_TOKEN', refreshFlow],
  ['USER_AUTH', async (sc, params, opts) => {
    requireFlow(sc.client, 'ALLOW_USER_AUTH');
    required(params, 'USERNAME');
    checkSecretHash(sc.client, params.USERNAME, params.SECRET_HASH);
    const login = params.USERNAME;
    await preAuthenticate(sc, login);
    if (opts.session) return proveBySignUpSession(sc, login, opts.session);
    const preferred = params.PREFERRED_CHALLENGE;
    // The password factors carry their proof in this request and answer alike for any login.
    if (preferred === 'PASSWORD' || preferred === 'PASSWORD_SRP') return startFirstFactor(sc, preferred, login, params);
    if (preferred) allowedFactor(sc, preferred);
    const user = await findUser(sc.ctx, sc.pool, login);
    if (!user && !hidesUsers(sc.client)) throw new UserNotFoundException('User does not exist.');
    const options = await availableFactors(sc, user, login);
    // A preferred factor this user cannot use falls back to the choice of those they can.
    if (preferred && (options as string[]).includes(preferred)) return startFirstFactor(sc, preferred, login, params);
    return answered(await startSelectChallenge(sc, login, options));
  }],
  ['CUSTOM_AUTH', async (sc, params) => {
    requireFlow(sc.client, 'ALLOW_CUSTOM_AUTH');
    required(params, 'USERNAME');
    checkSecretHash(sc.client, params.USERNAME, params.SECRET_HASH);
    await preAuthenticate(sc, params.USERNAME);
    return startCustomAuth(sc, params);
  }],
]);

/**
 * The PreAuthentication trigger, as a sign-in starts. For a login that names nobody it runs only
 * where the client hides users (the flow answers UserNotFoundException otherwise, or migrates the user).
 * Its validationData is InitiateAuth's ClientMetadata, as in Cognito.
 */
async function preAuthenticate(sc: SignIn, login: string) {
  const { ctx, pool, client } = sc;
  if (!ctx.triggers.has(pool, 'PreAuthentication')) return;
  const user = await findUser(ctx, pool, login);
  if (!user && !hidesUsers(client)) return;
  await preAuthentication(ctx, pool, { userName: user?.username ?? login, clientId: client.id }, user, sc.clientMetadata);
}

/** Turns an outcome into the answer: a proved step goes on through the pipeline, a chosen factor starts. */
async function settle(sc: SignIn, outcome: Outcome): Promise<ChallengeAnswer> {
  switch (outcome.kind) {
    case 'answer': return outcome.answer;
    case 'proved': return continueSignIn(sc, outcome.user, outcome.after);
    case 'chose': return settle(sc, await startFirstFactor(sc, outcome.factor, outcome.login, outcome.params));
    case 'next': return startChosen(sc, outcome.user, outcome.challenge, outcome.params);
    case 'ask': {
      const start = starters.get(outcome.challenge);
      if (!start) throw new InvalidParameterException(`The challenge ${outcome.challenge} cannot be asked for here.`);
      return start(sc, outcome.login, outcome.params);
    }
  }
}

/** InitiateAuth and AdminInitiateAuth. `admin` is true for the signed variant, which allows the ADMIN_* flows. */
export async function initiateAuth(ctx: Ctx, pool: LoadedPool, client: LoadedClient, flow: string, params: Responses, opts: FlowOptions): Promise<ChallengeAnswer> {
  const run = flows.get(flow);
  if (!run) throw new InvalidParameterException(`1 validation error detected: Value '${flow}' at 'authFlow' failed to satisfy constraint: Member must satisfy enum value set: [USER_SRP_AUTH, REFRESH_TOKEN_AUTH, REFRESH_TOKEN, CUSTOM_AUTH, USER_PASSWORD_AUTH, USER_AUTH]`);
  const sc: SignIn = { ctx, pool, client, flow, ...(params.DEVICE_KEY ? { device: params.DEVICE_KEY } : {}), clientMetadata: opts.clientMetadata };
  return settle(sc, await run(sc, params, opts));
}

/** RespondToAuthChallenge and AdminRespondToAuthChallenge. */
export async function respondToChallenge(ctx: Ctx, pool: LoadedPool, client: LoadedClient, challengeName: string, responses: Responses, sessionToken: string | undefined, opts: { hosted?: boolean; clientMetadata?: Strings } = {}): Promise<ChallengeAnswer> {
  const at: Place = { ctx, pool, client };
  const named = challenges.get(challengeName);
  // A challenge that carries its state in the answer (PASSWORD_VERIFIER's SECRET_BLOCK) may come without a Session.
  const s = !sessionToken && named?.sessionFromAnswer ? await named.sessionFromAnswer(at, responses) : await openSession(ctx, client, sessionToken);
  // A session of the hosted pages ends in a code there, and one of the API in tokens here: neither crosses over.
  if ((s.state.flow === HOSTED_FLOW) !== !!opts.hosted) throw invalidSession();
  const instead = challengeName === 'SELECT_CHALLENGE' && s.state.challenge === 'WEB_AUTHN';
  if (s.state.challenge !== challengeName && !instead) throw new InvalidParameterException(`Invalid challenge name ${challengeName}: the session expects ${s.state.challenge}`);
  if (client.secret) checkSecretHash(client, responses.USERNAME ?? '', responses.SECRET_HASH);
  if (!named) throw new InvalidParameterException(`Invalid challenge name ${challengeName}`);
  // The device the client names now, or the one it named earlier in this sign-in.
  const device = responses.DEVICE_KEY || s.state.device;
  const sc: SignIn = { ...at, flow: s.state.flow, ...(device ? { device } : {}), clientMetadata: opts.clientMetadata };
  if (instead) return settle(sc, await chooseInstead(sc, s as OpenSession<WebAuthnState>, responses));
  const outcome = await named.answer(sc, s, responses);
  // CUSTOM_WITH_SRP: the password is one step of the custom sequence; DefineAuthChallenge says what follows.
  if (sc.flow === 'CUSTOM_AUTH' && named === passwordVerifier && outcome.kind === 'proved') return settle(sc, await afterPasswordVerifier(sc, outcome.user));
  return settle(sc, outcome);
}

/**
 * A user whose passkey prompt failed may choose another first factor with the WEB_AUTHN session, as
 * Amplify's confirmSignIn does: any factor they could choose now. The passkey challenge is spent.
 */
async function chooseInstead(sc: SignIn, s: OpenSession<WebAuthnState>, r: Responses): Promise<Outcome> {
  required(r, 'ANSWER');
  const { login } = s.state;
  const options = await availableFactors(sc, await findUser(sc.ctx, sc.pool, login), login);
  if (!(options as string[]).includes(r.ANSWER)) throw unavailableChallenge(r.ANSWER);
  await consumeSession(sc.ctx, s);
  return { kind: 'chose', factor: r.ANSWER, login, params: r };
}

/** REFRESH_TOKEN_AUTH and GetTokensFromRefreshToken. */
export function refreshTokens(ctx: Ctx, pool: LoadedPool, client: LoadedClient, token: string, clientMetadata?: Strings): Promise<AuthenticationResult> {
  return refresh({ ctx, pool, client }, token, clientMetadata);
}

/** What a step of the hosted pages comes to: the next challenge, or the user who signed in. */
export interface HostedStep { answer: ChallengeAnswer; user?: User }

const hostedStep = (answer: ChallengeAnswer): HostedStep => ({ answer, user: hostedUserOf(answer) });

/**
 * The managed login's sign-in with username and password. It runs whatever the client's
 * ExplicitAuthFlows say (those govern the API, as in Cognito) and goes through the same pipeline.
 */
export async function hostedSignIn(ctx: Ctx, pool: LoadedPool, client: LoadedClient, login: string, password: string): Promise<HostedStep> {
  const sc: SignIn = { ctx, pool, client, flow: HOSTED_FLOW };
  return hostedStep(await settle(sc, proved(await verifyPasswordFactor(sc, login, password), 'firstFactor')));
}

/** A challenge answered on the hosted pages (only sessions those pages started). */
export async function hostedRespond(ctx: Ctx, pool: LoadedPool, client: LoadedClient, challengeName: string, responses: Responses, sessionToken: string): Promise<HostedStep> {
  if (client.secret && responses.USERNAME) responses = { ...responses, SECRET_HASH: secretHash(client, responses.USERNAME) };
  return hostedStep(await respondToChallenge(ctx, pool, client, challengeName, responses, sessionToken, { hosted: true }));
}

/** The hosted pages sign a just-confirmed user in with ConfirmSignUp's session, as autoSignIn does. */
export async function hostedSignInAfterSignUp(ctx: Ctx, pool: LoadedPool, client: LoadedClient, login: string, session: string): Promise<HostedStep> {
  const sc: SignIn = { ctx, pool, client, flow: HOSTED_FLOW };
  return hostedStep(await settle(sc, await proveBySignUpSession(sc, login, session)));
}

/**
 * A first factor other than the password, chosen on the hosted pages (a passkey, a code by email or
 * SMS), where the pool allows it for USER_AUTH.
 */
export async function hostedFirstFactor(ctx: Ctx, pool: LoadedPool, client: LoadedClient, login: string, factor: string): Promise<HostedStep> {
  const sc: SignIn = { ctx, pool, client, flow: HOSTED_FLOW };
  return hostedStep(await settle(sc, await startFirstFactor(sc, factor, login, {})));
}

/** The first factors besides the password a pool lets users choose (for the pages' buttons). */
export function otherFirstFactors(pool: LoadedPool): string[] {
  return allowedFirstFactors(pool).filter((f) => f !== 'PASSWORD' && firstFactors.has(f));
}
