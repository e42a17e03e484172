/**
 * One client's state: configuration, token storage, listeners, and the in-flight work that must
 * happen once (a refresh, a redirect completion). createAuth makes one per call; the module-level
 * functions share a default one.
 */
import type { Resolved } from './config.js';
import { AuthError, fail, isAuthFailure } from './errors.js';
import type { KeyValueStorage } from './storage.js';
import { call } from './wire.js';

export type AuthHubEvent = 'signedIn' | 'signedOut' | 'tokenRefresh' | 'tokenRefresh_failure' | 'signInWithRedirect' | 'signInWithRedirect_failure' | 'customOAuthState';
export interface HubCapsule { channel: 'auth'; payload: { event: AuthHubEvent; data?: unknown }; source: 'Auth'; patternInfo: string[] }
export type Listener = (capsule: HubCapsule) => void;

export interface SignInDetails { loginId?: string; authFlowType?: string }
export interface SignInState {
  username: string;
  session?: string;
  challenge: string;
  params: Record<string, string>;
  available?: string[];
  details: SignInDetails;
  at: number;
}

export interface Ctx {
  cfg: Resolved;
  storage: KeyValueStorage;
  fetch: typeof fetch;
  listeners: Set<Listener>;
  navigate: (url: string) => unknown;
  signIn?: SignInState;
  autoSignIn?: { username: string; password?: string; flow?: 'USER_SRP_AUTH' | 'USER_PASSWORD_AUTH' | 'CUSTOM_WITH_SRP' | 'CUSTOM_WITHOUT_SRP' | 'USER_AUTH'; clientMetadata?: Record<string, string>; session?: string; at: number };
  refreshing?: Promise<Stored | undefined>;
  redirect?: Promise<unknown>;
}

export function emit(ctx: Ctx, event: AuthHubEvent, data?: unknown) {
  for (const l of [...ctx.listeners]) {
    try { l({ channel: 'auth', payload: { event, data }, source: 'Auth', patternInfo: [] }); } catch { /* one listener must not break the others */ }
  }
}

export interface JwtPayload { [claim: string]: any; sub?: string; exp?: number; iat?: number; iss?: string }
export interface JWT { payload: JwtPayload; toString(): string }
export interface AuthTokens { accessToken: JWT; idToken?: JWT; signInDetails?: SignInDetails }

function b64urlDecode(s: string): string {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(s.length / 4) * 4, '='));
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

/** Reads a JWT's claims without checking it (a client has no reason to distrust its own server; backends use verifyToken). */
export function decodeJWT(token: string): JWT {
  const part = token.split('.')[1];
  let payload: JwtPayload;
  try { payload = JSON.parse(b64urlDecode(part ?? '')); } catch { fail('InvalidJWTTokenException', 'The token is not a JWT.'); }
  return { payload, toString: () => token };
}

// Amplify's storage keys, so an app that switches libraries keeps its users signed in.
const PREFIX = 'CognitoIdentityServiceProvider';
const base = (ctx: Ctx) => `${PREFIX}.${ctx.cfg.clientId}`;
const lastUser = (ctx: Ctx) => `${base(ctx)}.LastAuthUser`;
export const stateKey = (ctx: Ctx, name: string) => `${base(ctx)}.${name}`;
const userKey = (ctx: Ctx, username: string, name: string) => `${base(ctx)}.${username}.${name}`;
const TOKEN_KEYS = ['accessToken', 'idToken', 'refreshToken', 'clockDrift', 'signInDetails', 'oauthMetadata'];

export interface Stored { username: string; access: string; id?: string; refresh?: string; drift: number; details?: SignInDetails; oauth?: boolean }

export async function loadTokens(ctx: Ctx): Promise<Stored | undefined> {
  const s = ctx.storage;
  const username = await s.getItem(lastUser(ctx));
  if (!username) return undefined;
  const get = (n: string) => s.getItem(userKey(ctx, username, n));
  const access = await get('accessToken');
  if (!access) return undefined;
  const details = await get('signInDetails');
  return {
    username, access, id: (await get('idToken')) ?? undefined, refresh: (await get('refreshToken')) ?? undefined,
    drift: Number(await get('clockDrift')) || 0, details: details ? JSON.parse(details) : undefined, oauth: !!(await get('oauthMetadata')),
  };
}

export interface CognitoResult { AccessToken: string; IdToken?: string; RefreshToken?: string; NewDeviceMetadata?: { DeviceKey: string; DeviceGroupKey: string } }

/** Stores a sign-in's or refresh's tokens; a refresh that rotates nothing keeps the refresh token it used. */
export async function saveTokens(ctx: Ctx, r: CognitoResult, details?: SignInDetails, previous?: Stored, oauth?: boolean): Promise<Stored> {
  const access = decodeJWT(r.AccessToken).payload;
  const username: string = access.username ?? access['cognito:username'] ?? access.sub ?? 'user';
  const stored: Stored = {
    username, access: r.AccessToken, id: r.IdToken ?? previous?.id, refresh: r.RefreshToken ?? previous?.refresh,
    drift: access.iat ? Date.now() - access.iat * 1000 : 0, details: details ?? previous?.details, oauth: oauth ?? previous?.oauth,
  };
  if (previous && previous.username !== username) await clearTokens(ctx, previous.username);
  const s = ctx.storage;
  const put = (n: string, v: string | undefined) => (v === undefined ? s.removeItem(userKey(ctx, username, n)) : s.setItem(userKey(ctx, username, n), v));
  await put('accessToken', stored.access);
  await put('idToken', stored.id);
  await put('refreshToken', stored.refresh);
  await put('clockDrift', String(stored.drift));
  await put('signInDetails', stored.details && JSON.stringify(stored.details));
  await put('oauthMetadata', stored.oauth ? '{"oauthSignIn":true}' : undefined);
  await s.setItem(lastUser(ctx), username);
  return stored;
}

export async function clearTokens(ctx: Ctx, username?: string) {
  username ??= (await ctx.storage.getItem(lastUser(ctx))) ?? undefined;
  if (username) for (const n of TOKEN_KEYS) await ctx.storage.removeItem(userKey(ctx, username, n));
  await ctx.storage.removeItem(lastUser(ctx));
}

export interface DeviceMetadata { deviceKey: string; deviceGroupKey: string; randomPassword: string }
export async function getDevice(ctx: Ctx, username: string): Promise<DeviceMetadata | undefined> {
  const get = (n: string) => ctx.storage.getItem(userKey(ctx, username, n));
  const [deviceKey, deviceGroupKey, randomPassword] = [await get('deviceKey'), await get('deviceGroupKey'), await get('randomPasswordKey')];
  return deviceKey && deviceGroupKey && randomPassword ? { deviceKey, deviceGroupKey, randomPassword } : undefined;
}
export async function setDevice(ctx: Ctx, username: string, d: DeviceMetadata | undefined) {
  const entries: Array<[string, string | undefined]> = [['deviceKey', d?.deviceKey], ['deviceGroupKey', d?.deviceGroupKey], ['randomPasswordKey', d?.randomPassword]];
  for (const [n, v] of entries) await (v ? ctx.storage.setItem(userKey(ctx, username, n), v) : ctx.storage.removeItem(userKey(ctx, username, n)));
}

/** Expired, or within a minute of it, on the server's clock (the drift measured when the tokens arrived). */
export function expiring(s: Stored): boolean {
  const exp = decodeJWT(s.access).payload.exp;
  return !exp || Date.now() - s.drift + 60_000 >= exp * 1000;
}

export const toTokens = (s: Stored): AuthTokens => ({ accessToken: decodeJWT(s.access), idToken: s.id ? decodeJWT(s.id) : undefined, signInDetails: s.details });

/**
 * Refreshes once however many callers ask at the same time. Only an answer that refuses the
 * session (revoked or expired refresh token, deleted user) clears the tokens; an outage, a 5xx or
 * throttling leaves them for the next try.
 */
export function refresh(ctx: Ctx, s: Stored): Promise<Stored | undefined> {
  return (ctx.refreshing ??= (async () => {
    try {
      if (!s.refresh) {
        await clearTokens(ctx);
        return undefined;
      }
      const device = await getDevice(ctx, s.username);
      const r = await call(ctx, 'GetTokensFromRefreshToken', { ClientId: ctx.cfg.clientId, RefreshToken: s.refresh, DeviceKey: device?.deviceKey });
      const stored = await saveTokens(ctx, r.AuthenticationResult, undefined, s);
      emit(ctx, 'tokenRefresh');
      return stored;
    } catch (error) {
      emit(ctx, 'tokenRefresh_failure', { error });
      if (!isAuthFailure(error)) throw error;
      await clearTokens(ctx);
      return undefined;
    }
  })().finally(() => (ctx.refreshing = undefined)));
}

/** The current tokens, refreshed when (nearly) expired or when asked. */
export async function currentTokens(ctx: Ctx, forceRefresh = false): Promise<Stored | undefined> {
  await ctx.redirect?.catch(() => {});
  const s = await loadTokens(ctx);
  if (!s) return undefined;
  return forceRefresh || expiring(s) ? refresh(ctx, s) : s;
}

export async function accessToken(ctx: Ctx): Promise<string> {
  const s = await currentTokens(ctx);
  if (!s) throw new AuthError({ name: 'UserUnAuthenticatedException', message: 'User needs to be authenticated to call this API.', recoverySuggestion: 'Sign in before calling this API again.' });
  return s.access;
}

export interface AuthUser { username: string; userId: string; signInDetails?: SignInDetails }
export const userOf = (s: Stored): AuthUser => {
  const p = decodeJWT(s.access).payload;
  return { username: p.username ?? s.username, userId: p.sub ?? '', signInDetails: s.details };
};
