// The bottom of the sign-in state machine: what every challenge module and the pipeline share.
// Imports nothing from this folder.
import crypto from 'node:crypto';
import { InvalidParameterException, NotAuthorizedException } from '../../errors.js';
import type { Ctx } from '../context.js';
import { lookupKey, type LoadedClient, type LoadedPool } from '../pools.js';
import { parseUser, type User } from '../users.js';
import { safeEqual } from '../secrets.js';
import type { AuthenticationResult } from '../tokens.js';
import type { AuthFactorType, ChallengeNameType } from '../../shapes.js';
import type { OpenSession, SessionState } from '../sessions.js';
import { postAuthentication, preTokenGeneration, type Strings, type TokenGenerationSource } from '../triggers/events.js';
import { USER_ADMIN_SCOPE } from '../tokens.js';

export { createSession, openSession, consumeSession, invalidSession, sessionIdOf, type OpenSession, type SessionState } from '../sessions.js';

/** What InitiateAuth and RespondToAuthChallenge answer: a challenge with its session, or tokens. */
export interface ChallengeAnswer {
  ChallengeName?: ChallengeNameType;
  Session?: string;
  ChallengeParameters: Record<string, string>;
  AuthenticationResult?: AuthenticationResult;
  AvailableChallenges?: ChallengeNameType[];
}

/** Where a sign-in happens. */
export interface Place { ctx: Ctx; pool: LoadedPool; client: LoadedClient }
/**
 * A sign-in under way: the place, the InitiateAuth flow it began with, and the remembered device the
 * client names (DEVICE_KEY, in its latest request or carried by the session); sessions carry both on.
 * The request's ClientMetadata, which triggers receive, is the current request's alone.
 */
export interface SignIn extends Place { flow: string; device?: string; clientMetadata?: Strings }

/** What every session of a sign-in carries from one challenge to the next. */
export const carried = (sc: SignIn) => ({ flow: sc.flow, ...(sc.device ? { device: sc.device } : {}) });

export type Responses = Record<string, string>;

/**
 * What a challenge proves: the first factor, or a step of the pipeline after it (pipeline.ts keeps
 * their order). The pipeline goes on after the step proved.
 */
export type Step = 'firstFactor' | 'newPassword' | 'mfa' | 'device';

/** What answering a challenge (or starting a flow) comes to. */
export type Outcome =
  /** The user proved `after`; the pipeline decides what follows. */
  | { kind: 'proved'; user: User; after: Step }
  /** The user chose a first factor by name (SELECT_CHALLENGE); the registry starts it. */
  | { kind: 'chose'; factor: string; login: string; params: Responses }
  /** The module answers by itself (a challenge it started). */
  | { kind: 'answer'; answer: ChallengeAnswer }
  /** The user chose (or set up) a challenge to meet next, by name (SELECT_MFA_TYPE, MFA_SETUP); the pipeline starts it. */
  | { kind: 'next'; user: User; challenge: string; params?: Responses }
  /** The flow asks for another module's challenge by name (CUSTOM_AUTH's trigger asking for PASSWORD_VERIFIER); the registry starts it. */
  | { kind: 'ask'; challenge: string; login: string; params: Responses };

export const proved = (user: User, after: Step): Outcome => ({ kind: 'proved', user, after });
export const answered = (answer: ChallengeAnswer): Outcome => ({ kind: 'answer', answer });
export const asked = (challenge: string, login: string, params: Responses): Outcome => ({ kind: 'ask', challenge, login, params });

/**
 * One challenge: RespondToAuthChallenge finds it by name and hands it its open session. Its state
 * type (S) is its own; the store keeps it sealed and generic.
 */
export interface ChallengeModule<S extends SessionState = SessionState> {
  readonly name: string;
  /** Checks an answer; the session is open (not yet consumed: the module decides when). */
  answer(sc: SignIn, session: OpenSession<S>, responses: Responses): Promise<Outcome>;
  /**
   * For a challenge that may be answered without a Session: the session the answer itself names
   * (authenticated by the server). Unset: a Session is required.
   */
  sessionFromAnswer?(at: Place, responses: Responses): Promise<OpenSession<S>>;
}

/** A first factor of USER_AUTH, chosen by name (PREFERRED_CHALLENGE or SELECT_CHALLENGE's ANSWER). */
export interface FirstFactor {
  readonly name: string;
  /** The pool's AllowedFirstAuthFactors entry that enables it. */
  readonly poolFactor: AuthFactorType;
  /**
   * Whether the user can sign in with it now (has a password, a verified email, a passkey...). For
   * a login that names no user (`user` undefined), whether a stand-in for it would: stable per
   * login, so asking again answers alike.
   */
  availableTo(sc: SignIn, user: User | undefined, login: string): Promise<boolean>;
  /**
   * Starts it. A user who cannot use it (or does not exist, where the client hides users) gets the
   * same challenge, which nothing can answer.
   */
  start(sc: SignIn, login: string, params: Responses): Promise<Outcome>;
}

/**
 * A stand-in's coin for `what`, stable per pool and login: whether a user who does not exist "has"
 * a factor, so that the answers about them vary as real users' do and repeat as a real user's would.
 */
export function standInHas(at: Place, login: string, what: string, percent: number): boolean {
  return at.ctx.secrets.macBytes('user-auth-stand-in', at.pool.id, lookupKey(at.pool, login), what)[0] < (256 * percent) / 100;
}

export const wrongPassword = () => new NotAuthorizedException('Incorrect username or password.');
export const unavailableChallenge = (name: string) => new InvalidParameterException(`The challenge ${name} is not available for this user.`);

export function required(params: Responses, ...names: string[]) {
  for (const n of names) if (!params[n]) throw new InvalidParameterException(`Missing required parameter ${n}`);
}

/** SECRET_HASH: base64(HMAC-SHA256(secret, username + clientId)). The hosted pages compute it for their own answers. */
export const secretHash = (client: LoadedClient, username: string) => crypto.createHmac('sha256', client.secret ?? '').update(username + client.id).digest('base64');

/** Checks SECRET_HASH for clients that have a secret. */
export function checkSecretHash(client: LoadedClient, username: string, provided: string | undefined) {
  if (!client.secret) return;
  if (!provided) throw new NotAuthorizedException(`Client ${client.id} is configured with secret but SECRET_HASH was not received`);
  const expected = secretHash(client, username);
  if (!safeEqual(expected, provided)) throw new NotAuthorizedException(`Unable to verify secret hash for client ${client.id}`);
}

/** The user a session names, as stored now. */
export async function userOf(at: Place, userId: string | undefined): Promise<User | undefined> {
  const row = userId ? await at.ctx.repo.getUser(at.pool.id, userId) : undefined;
  return row && parseUser(row);
}

export async function userGroups(ctx: Ctx, pool: LoadedPool, user: User): Promise<string[]> {
  const page = await ctx.repo.listGroupsForUser(pool.id, user.id, 100);
  return page.items.sort((a, b) => (a.precedence ?? Infinity) - (b.precedence ?? Infinity) || a.name.localeCompare(b.name)).map((g) => g.name);
}

/** The flow of sign-ins on the managed login pages: they end in an authorization code, not tokens. */
export const HOSTED_FLOW = 'HOSTED_UI';

// A hosted sign-in's last answer carries no tokens; the pages read who signed in from here (never sent).
const hostedUsers = new WeakMap<ChallengeAnswer, User>();
export const hostedUserOf = (answer: ChallengeAnswer) => hostedUsers.get(answer);

/**
 * The last step: the PostAuthentication trigger, then PreTokenGeneration and tokens, with the
 * metadata of a new device when the pool tracks devices. On the hosted pages the answer names the
 * user they make a code for; the token endpoint calls PreTokenGeneration (TokenGeneration_HostedAuth).
 */
export async function signedIn(sc: Place & { flow?: string; clientMetadata?: Strings }, user: User, opts: { source?: TokenGenerationSource; newDevice?: { DeviceKey: string; DeviceGroupKey: string } } = {}): Promise<ChallengeAnswer> {
  const { ctx, pool, client } = sc;
  await postAuthentication(ctx, pool, user, client.id, sc.clientMetadata);
  if (sc.flow === HOSTED_FLOW) {
    const answer: ChallengeAnswer = { ChallengeParameters: {} };
    hostedUsers.set(answer, user);
    return answer;
  }
  const groups = await userGroups(ctx, pool, user);
  const customize = await preTokenGeneration(ctx, pool, opts.source ?? 'TokenGeneration_Authentication', user, client.id, { groups, scopes: [USER_ADMIN_SCOPE], clientMetadata: sc.clientMetadata });
  const AuthenticationResult = await ctx.tokens.issue({ pool, client, user, groups, now: ctx.now(), customize });
  if (opts.newDevice) AuthenticationResult.NewDeviceMetadata = opts.newDevice;
  return { ChallengeParameters: {}, AuthenticationResult };
}

/** How far a client's clock may be off in an SRP claim's TIMESTAMP. */
export const CLOCK_SKEW_MS = 15 * 60e3;

/** Parses Cognito's claim timestamp ("Tue Mar 4 09:05:07 UTC 2025"). */
export function parseTimestamp(ts: string): number {
  const m = /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) (\d{1,2}) (\d{2}):(\d{2}):(\d{2}) UTC (\d{4})$/.exec(ts);
  if (!m) return NaN;
  return Date.parse(`${m[1]} ${m[2]}, ${m[6]} ${m[3]}:${m[4]}:${m[5]} UTC`);
}
