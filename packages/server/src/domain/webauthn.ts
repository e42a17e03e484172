// Passkeys (WebAuthn): the pool's relying party, the registration of a user's credentials, and the
// check of an assertion at sign-in. The ceremonies themselves (signatures, attestation, flags,
// counters) are verified by @simplewebauthn/server; this module decides what it is checked against:
// the challenge the server issued (single use), the pool's RP ID, an origin that RP ID accepts, and
// the user the credential was registered to.
import crypto from 'node:crypto';
import {
  generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse,
  type AuthenticationResponseJSON, type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { decodeAttestationObject, decodeClientDataJSON, parseAuthenticatorData } from '@simplewebauthn/server/helpers';
import {
  FeatureUnavailableInTierException, InvalidParameterException, LimitExceededException, WebAuthnChallengeNotFoundException, WebAuthnClientMismatchException,
  WebAuthnConfigurationMissingException, WebAuthnCredentialNotSupportedException, WebAuthnNotEnabledException,
  WebAuthnOriginNotAllowedException, WebAuthnRelyingPartyMismatchException,
} from '../errors.js';
import type { WebAuthnCredential } from '../storage/repository.js';
import type { UserVerificationType, WebAuthnConfigurationType, WebAuthnCredentialDescription } from '../shapes.js';
import type { Ctx } from './context.js';
import { allowedFirstFactors, isUsernameAttribute, type LoadedClient, type LoadedPool } from './pools.js';
import type { User } from './users.js';
import { sessionIdOf, type SessionState } from './sessions.js';

/** Cognito's limit of passkeys per user. */
export const MAX_CREDENTIALS_PER_USER = 20;
/** How long a registration may take between StartWebAuthnRegistration and CompleteWebAuthnRegistration. */
const REGISTRATION_TIMEOUT_MS = 5 * 60e3;
/** ES256, EdDSA and RS256: what platform authenticators and security keys sign with. */
const ALGORITHMS = [-7, -8, -257];

export type UserVerification = UserVerificationType;
/** The pool's passkey settings, as SetUserPoolMfaConfig stores them. */
export interface WebAuthnConfiguration { RelyingPartyId?: string; UserVerification: UserVerification }
/** What every ceremony of the pool is checked against. */
export interface RelyingParty { rpId: string; userVerification: UserVerification }

/** The pool's stored settings, Cognito's default (preferred) filled in. */
export function webAuthnConfiguration(pool: LoadedPool): WebAuthnConfiguration {
  const stored = pool.config.WebAuthnConfiguration;
  const uv = stored?.UserVerification ?? 'preferred';
  return stored?.RelyingPartyId ? { RelyingPartyId: stored.RelyingPartyId, UserVerification: uv } : { UserVerification: uv };
}

/**
 * A relying party ID is a bare host name: lower case labels, no scheme, port or path (browsers refuse
 * IP addresses as RP IDs).
 */
export function validRelyingPartyId(id: string): boolean {
  return /^(?=.{1,127}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/.test(id) && !/^[0-9.]+$/.test(id);
}

/**
 * The RP ID ceremonies use: the configured one, else the host of the server's public URL (Cognito's
 * default is the user pool's domain, which is this server).
 */
export function relyingParty(ctx: Ctx, pool: LoadedPool): RelyingParty {
  const c = webAuthnConfiguration(pool);
  let rpId = c.RelyingPartyId;
  if (!rpId) {
    const host = new URL(ctx.config.publicUrl).hostname;
    if (!validRelyingPartyId(host)) throw new WebAuthnConfigurationMissingException('The user pool has no relying party ID for passkeys: set WebAuthnConfiguration.RelyingPartyId with SetUserPoolMfaConfig.');
    rpId = host;
  }
  return { rpId, userVerification: c.UserVerification };
}

export function passkeysAllowed(pool: LoadedPool) {
  return allowedFirstFactors(pool).includes('WEB_AUTHN');
}

function requirePasskeys(pool: LoadedPool) {
  if (!passkeysAllowed(pool)) throw new WebAuthnNotEnabledException('Passkey sign-in is not enabled for this user pool: add WEB_AUTHN to Policies.SignInPolicy.AllowedFirstAuthFactors.');
}

/**
 * Whether a page at `origin` may use the RP ID: its host is the RP ID or a subdomain of it, over
 * HTTPS; plain HTTP only on localhost, as browsers allow WebAuthn there.
 */
export function originAllowed(origin: string, rpId: string): boolean {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return false;
  }
  if (u.origin !== origin) return false;
  const host = u.hostname;
  if (host !== rpId && !host.endsWith(`.${rpId}`)) return false;
  return u.protocol === 'https:' || (u.protocol === 'http:' && (host === 'localhost' || host.endsWith('.localhost')));
}

const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const rpIdHash = (rpId: string) => crypto.createHash('sha256').update(rpId).digest();

/** The name the user's authenticator shows for this account: the email or phone they sign in with, else the username. */
function accountName(pool: LoadedPool, user: User) {
  if (isUsernameAttribute(pool, 'email') && user.attributes.email) return user.attributes.email;
  if (isUsernameAttribute(pool, 'phone_number') && user.attributes.phone_number) return user.attributes.phone_number;
  return user.username;
}

/** The registration under way: a session row keyed by the hash of its challenge, which the credential carries back. */
interface RegistrationState extends SessionState { challenge: 'WEB_AUTHN_REGISTRATION'; userId: string; rpId: string; userVerification: UserVerification }

/** StartWebAuthnRegistration: the options for navigator.credentials.create(), remembered for CompleteWebAuthnRegistration. */
export async function startRegistration(ctx: Ctx, pool: LoadedPool, client: LoadedClient, user: User): Promise<object> {
  requirePasskeys(pool);
  const rp = relyingParty(ctx, pool);
  const existing = (await ctx.repo.listWebAuthnCredentials(user.id, MAX_CREDENTIALS_PER_USER)).items;
  if (existing.length >= MAX_CREDENTIALS_PER_USER) throw new LimitExceededException(`A user can have at most ${MAX_CREDENTIALS_PER_USER} passkeys.`);
  const name = accountName(pool, user);
  const options = await generateRegistrationOptions({
    rpName: pool.name, rpID: rp.rpId, userName: name, userDisplayName: user.attributes.name ?? name,
    userID: Buffer.from(user.id, 'utf8'), timeout: REGISTRATION_TIMEOUT_MS, attestationType: 'none',
    // Credentials registered for another RP ID no longer sign in; only this RP's are excluded.
    excludeCredentials: existing.filter((c) => c.rp_id === rp.rpId).map((c) => ({ id: c.credential_id, transports: JSON.parse(c.transports) })),
    authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: rp.userVerification },
    supportedAlgorithmIDs: ALGORITHMS,
  });
  const now = ctx.now();
  const id = sessionIdOf(options.challenge);
  const state: RegistrationState = { challenge: 'WEB_AUTHN_REGISTRATION', flow: 'WebAuthnRegistration', userId: user.id, rpId: rp.rpId, userVerification: rp.userVerification };
  await ctx.repo.createSession({
    id, pool_id: pool.id, client_id: client.id, user_id: user.id, state: ctx.secrets.encrypt(JSON.stringify(state), `session:${id}`),
    attempts: 0, expires_at: now + REGISTRATION_TIMEOUT_MS, consumed_at: null, created_at: now,
  });
  return options;
}

const str = (v: unknown, max = 65536): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;

function registrationResponse(credential: unknown): RegistrationResponseJSON {
  const c = credential as Partial<RegistrationResponseJSON> | null;
  const r = c?.response;
  if (!c || typeof c !== 'object' || !str(c.id, 1024) || !str(c.rawId, 1024) || c.type !== 'public-key' || !r || !str(r.clientDataJSON) || !str(r.attestationObject)) {
    throw new InvalidParameterException('Credential must be a RegistrationResponseJSON: id, rawId, type "public-key", response.clientDataJSON and response.attestationObject.');
  }
  return { ...c, clientExtensionResults: c.clientExtensionResults ?? {} } as RegistrationResponseJSON;
}

function clientData(encoded: string): { type?: unknown; challenge?: unknown; origin?: unknown } {
  try {
    const d = decodeClientDataJSON(encoded);
    return d && typeof d === 'object' ? d : {};
  } catch {
    throw new InvalidParameterException('The credential\'s clientDataJSON cannot be read.');
  }
}

/** A friendly name for the list, since authenticators name themselves nowhere in the ceremony. */
function friendlyName(attachment: string | undefined, now: number) {
  return `${attachment === 'cross-platform' ? 'Security key' : 'Passkey'} added ${new Date(now).toISOString().slice(0, 10)}`;
}

/**
 * CompleteWebAuthnRegistration: the credential must answer a registration this user started with
 * this app client (once), from an origin the RP ID accepts, for that RP ID; then it is stored.
 */
export async function completeRegistration(ctx: Ctx, pool: LoadedPool, client: LoadedClient, user: User, credential: unknown): Promise<void> {
  requirePasskeys(pool);
  const response = registrationResponse(credential);
  const data = clientData(response.response.clientDataJSON);
  const notFound = () => new WebAuthnChallengeNotFoundException('The passkey registration was not started, has expired or was completed already: start it again.');
  if (data.type !== 'webauthn.create' || !str(data.challenge, 512)) throw notFound();
  const id = sessionIdOf(data.challenge);
  const row = await ctx.repo.getSession(id);
  const now = ctx.now();
  if (!row || row.consumed_at !== null || row.expires_at < now || row.user_id !== user.id || row.pool_id !== pool.id) throw notFound();
  const state = JSON.parse(ctx.secrets.decrypt(row.state, `session:${id}`).toString('utf8')) as RegistrationState;
  if (state.challenge !== 'WEB_AUTHN_REGISTRATION' || state.userId !== user.id) throw notFound();
  if (row.client_id !== client.id) throw new WebAuthnClientMismatchException('The passkey registration was started by another app client.');
  if (!str(data.origin, 2048) || !originAllowed(data.origin, state.rpId)) throw new WebAuthnOriginNotAllowedException(`The origin of the registration is not allowed for the relying party ${state.rpId}.`);
  let authData: Uint8Array;
  try {
    authData = decodeAttestationObject(Buffer.from(response.response.attestationObject, 'base64url')).get('authData');
  } catch {
    throw new WebAuthnCredentialNotSupportedException('The credential\'s attestation object cannot be read.');
  }
  if (!authData || authData.length < 37 || !rpIdHash(state.rpId).equals(Buffer.from(authData.subarray(0, 32)))) {
    throw new WebAuthnRelyingPartyMismatchException(`The credential was not made for the relying party ${state.rpId}.`);
  }
  // One answer per registration, won by a conditional update: a replayed credential finds it spent.
  if (!(await ctx.repo.consumeSession(id, now))) throw notFound();
  let info;
  try {
    const v = await verifyRegistrationResponse({
      response, expectedChallenge: data.challenge, expectedOrigin: data.origin, expectedRPID: state.rpId,
      requireUserVerification: state.userVerification === 'required', supportedAlgorithmIDs: ALGORITHMS,
    });
    if (!v.verified) throw new Error('not verified');
    info = v.registrationInfo;
  } catch (e) {
    throw new WebAuthnCredentialNotSupportedException(`The credential cannot be registered: ${(e as Error).message}`);
  }
  const transports = info.credential.transports ?? response.response.transports ?? [];
  const attachment = ['platform', 'cross-platform'].includes(response.authenticatorAttachment as string) ? response.authenticatorAttachment : undefined;
  const outcome = await ctx.repo.addWebAuthnCredential({
    pool_id: pool.id, credential_id: info.credential.id, user_id: user.id, public_key: b64url(info.credential.publicKey),
    counter: info.credential.counter, transports: JSON.stringify(transports.filter((t) => typeof t === 'string' && /^[a-z-]{1,32}$/.test(t)).slice(0, 10)),
    attachment: attachment ?? null, name: friendlyName(attachment, now), rp_id: state.rpId, aaguid: info.aaguid,
    backed_up: info.credentialBackedUp ? 1 : 0, created_at: now, last_used_at: null,
  }, MAX_CREDENTIALS_PER_USER);
  if (outcome === 'exists') throw new InvalidParameterException('This passkey is registered already.');
  if (outcome === 'full') throw new LimitExceededException(`A user can have at most ${MAX_CREDENTIALS_PER_USER} passkeys.`);
}

/** ListWebAuthnCredentials' WebAuthnCredentialDescription. */
export function credentialDescription(c: WebAuthnCredential): WebAuthnCredentialDescription {
  return {
    CredentialId: c.credential_id,
    FriendlyCredentialName: c.name,
    RelyingPartyId: c.rp_id,
    ...(c.attachment ? { AuthenticatorAttachment: c.attachment } : {}),
    AuthenticatorTransports: JSON.parse(c.transports) as string[],
    CreatedAt: c.created_at / 1000,
  };
}

/** The user's credentials that can sign in with the RP ID the pool has now. */
export async function usableCredentials(ctx: Ctx, userId: string, rpId: string): Promise<WebAuthnCredential[]> {
  return (await ctx.repo.listWebAuthnCredentials(userId, MAX_CREDENTIALS_PER_USER)).items.filter((c) => c.rp_id === rpId);
}

/** A sign-in challenge: the options for navigator.credentials.get(), with the challenge the answer must sign. */
export async function requestOptions(rp: RelyingParty, credentials: { id: string; transports?: string[] }[], timeoutMs: number) {
  return generateAuthenticationOptions({ rpID: rp.rpId, allowCredentials: credentials, userVerification: rp.userVerification, timeout: timeoutMs });
}

/** For a login that names no user: one made-up credential, stable per login, shaped as a real passkey's. */
export function standInCredentials(ctx: Ctx, pool: LoadedPool, key: string) {
  return [{ id: b64url(ctx.secrets.macBytes('stand-in-passkey', pool.id, key)), transports: ['hybrid', 'internal'] }];
}

/** What a sign-in challenge remembers to check its answer against. */
export interface AssertionCheck { userId?: string; challenge: string; rpId: string; userVerification: UserVerification }

function assertionResponse(text: string): AuthenticationResponseJSON | undefined {
  let c: Partial<AuthenticationResponseJSON>;
  try {
    c = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = c?.response;
  if (!c || typeof c !== 'object' || !str(c.id, 1024) || !str(c.rawId, 1024) || c.type !== 'public-key' || !r
    || !str(r.clientDataJSON) || !str(r.authenticatorData) || !str(r.signature)) return undefined;
  return { ...c, clientExtensionResults: c.clientExtensionResults ?? {} } as AuthenticationResponseJSON;
}

/**
 * Whether an assertion (the CREDENTIAL answer, JSON) proves the challenge's user: a credential
 * registered to that user for the challenge's RP ID, signed over this challenge from an origin the
 * RP ID accepts, with user verification where the pool requires it, and a signature counter that
 * moved on (or stays 0, for authenticators that keep none). The use is recorded by a conditional
 * update, so of two racing uses of one counter value only one counts.
 */
export async function assertionProves(ctx: Ctx, pool: LoadedPool, check: AssertionCheck, answer: string): Promise<boolean> {
  const response = assertionResponse(answer);
  if (!response || !check.userId) return false;
  const row = await ctx.repo.getWebAuthnCredential(pool.id, response.id);
  if (!row || row.user_id !== check.userId || row.rp_id !== check.rpId) return false;
  let origin: unknown;
  try {
    origin = decodeClientDataJSON(response.response.clientDataJSON).origin;
    if (!rpIdHash(check.rpId).equals(Buffer.from(parseAuthenticatorData(Buffer.from(response.response.authenticatorData, 'base64url')).rpIdHash))) return false;
  } catch {
    return false;
  }
  if (!str(origin, 2048) || !originAllowed(origin, check.rpId)) return false;
  let newCounter: number;
  try {
    const v = await verifyAuthenticationResponse({
      response, expectedChallenge: check.challenge, expectedOrigin: origin, expectedRPID: check.rpId,
      credential: { id: row.credential_id, publicKey: Buffer.from(row.public_key, 'base64url'), counter: row.counter, transports: JSON.parse(row.transports) },
      requireUserVerification: check.userVerification === 'required',
    });
    if (!v.verified) return false;
    newCounter = v.authenticationInfo.newCounter;
  } catch {
    return false;
  }
  return ctx.repo.useWebAuthnCredential(pool.id, row.credential_id, row.counter, newCounter, ctx.now());
}

/**
 * SetUserPoolMfaConfig's WebAuthnConfiguration, checked: passkeys need the Essentials tier or
 * above, an RP ID must be a bare host name, and passkeys as MFA (MULTI_FACTOR_WITH_USER_VERIFICATION)
 * are not implemented, so not accepted.
 */
export function webAuthnConfigurationFrom(pool: LoadedPool, given: WebAuthnConfigurationType): WebAuthnConfiguration {
  if (pool.config.UserPoolTier === 'LITE') throw new FeatureUnavailableInTierException('Passkeys need the Essentials tier or above: set UserPoolTier with UpdateUserPool.');
  const rpId = given.RelyingPartyId;
  if (rpId !== undefined && !validRelyingPartyId(rpId)) {
    throw new InvalidParameterException(`RelyingPartyId must be a domain name such as example.com or localhost, without scheme, port or path: ${rpId}`);
  }
  if (given.FactorConfiguration === 'MULTI_FACTOR_WITH_USER_VERIFICATION') {
    throw new InvalidParameterException('FactorConfiguration MULTI_FACTOR_WITH_USER_VERIFICATION is not supported: passkeys are a first factor here.');
  }
  const uv = given.UserVerification ?? 'preferred';
  return rpId ? { RelyingPartyId: rpId, UserVerification: uv } : { UserVerification: uv };
}
