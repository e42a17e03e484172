// OAuth 2.0 / OpenID Connect on a user pool (the hosted sign-in): which clients may use which flows,
// scopes and redirect URIs, single-use authorization codes with PKCE, single sign-on sessions, and
// the token endpoint's grants. The HTTP side is src/hosted/.
import crypto from 'node:crypto';
import { CognitoError, InvalidParameterException } from '../errors.js';
import type { Ctx } from './context.js';
import type { ClientConfig, LoadedClient, LoadedPool } from './pools.js';
import { randomToken, safeEqual, sha256 } from './secrets.js';
import { parseUser, type User } from './users.js';
import { refreshTokens, userGroups } from './signin/index.js';
import { USER_ADMIN_SCOPE, scopesOf } from './tokens.js';
import { preTokenGeneration } from './triggers/events.js';

/**
 * The OAuth settings of an app client, checked as Cognito checks them when the client is created or
 * updated: flows that go together, scopes that exist, providers that exist.
 */
export async function checkOAuthSettings(ctx: Ctx, pool: LoadedPool, c: ClientConfig, hasSecret: boolean) {
  const flows = c.AllowedOAuthFlows ?? [];
  if (c.AllowedOAuthFlowsUserPoolClient && (!flows.length || !c.AllowedOAuthScopes?.length)) {
    throw new InvalidParameterException('AllowedOAuthFlows and AllowedOAuthScopes are required when AllowedOAuthFlowsUserPoolClient is true.');
  }
  if (flows.includes('client_credentials') && flows.length > 1) throw new InvalidParameterException('client_credentials flow can not be selected along with code flow or implicit flow.');
  if (flows.includes('client_credentials') && !hasSecret) throw new InvalidParameterException('client_credentials flow can not be selected if client does not have a client secret.');
  if (c.AllowedOAuthFlowsUserPoolClient && (flows.includes('code') || flows.includes('implicit')) && !c.CallbackURLs?.length) {
    throw new InvalidParameterException('CallbackURLs are required for the code and implicit flows.');
  }
  for (const s of c.AllowedOAuthScopes ?? []) {
    if (!(STANDARD_SCOPES as readonly string[]).includes(s) && !(await resourceScopeExists(ctx, pool, s))) throw new InvalidParameterException(`Invalid scope requested: ${s}`);
  }
  for (const p of c.SupportedIdentityProviders ?? []) {
    if (p !== 'COGNITO' && !(await ctx.repo.getIdentityProvider(pool.id, p))) throw new InvalidParameterException(`The provider ${p} does not exist for User Pool ${pool.id}`);
  }
}

/** An OAuth protocol error (RFC 6749 section 5.2): `error` is the code clients branch on. */
export class OAuthError extends Error {
  constructor(readonly error: string, readonly description: string, readonly status = 400) {
    super(description);
  }
}

/** The scopes of the user pool itself; any other allowed scope is `<resource server>/<scope>`. */
export const STANDARD_SCOPES = ['openid', 'email', 'phone', 'profile', USER_ADMIN_SCOPE] as const;

/** Authorization codes live 5 minutes, as Cognito's. */
export const CODE_TTL_MS = 5 * 60e3;
/** The managed login remembers a sign-in for an hour (Cognito's session cookie). */
export const SSO_TTL_MS = 3600e3;

export interface AuthorizeRequest {
  responseType: 'code' | 'token';
  redirectUri: string;
  scopes: string[];
  state?: string;
  codeChallenge?: string;
  nonce?: string;
  prompt?: string;
  identityProvider?: string;
  idpIdentifier?: string;
  loginHint?: string;
}

/**
 * The redirect URI a request names, if the client registered exactly that one (no prefix, pattern
 * or normalisation: anything else would be an open redirect). Without one, the client's default.
 */
export function registeredRedirect(client: LoadedClient, given: string | undefined | null): string | undefined {
  const uri = given ?? client.config.DefaultRedirectURI;
  return uri !== undefined && client.config.CallbackURLs?.includes(uri) ? uri : undefined;
}

export function registeredLogout(client: LoadedClient, given: string | undefined | null): string | undefined {
  return given && client.config.LogoutURLs?.includes(given) ? given : undefined;
}

/**
 * Checks an authorize request once its redirect URI is known to be the client's: the client's OAuth
 * settings, response type, scopes and PKCE. Every failure here is answered at the redirect URI.
 */
export function checkAuthorize(client: LoadedClient, q: Record<string, string | undefined>, redirectUri: string): AuthorizeRequest {
  const c = client.config;
  if (!c.AllowedOAuthFlowsUserPoolClient) throw new OAuthError('unauthorized_client', 'The client is not allowed to use OAuth flows.');
  const responseType = q.response_type;
  if (responseType !== 'code' && responseType !== 'token') throw new OAuthError('unsupported_response_type', 'response_type must be code or token.');
  if (!c.AllowedOAuthFlows?.includes(responseType === 'code' ? 'code' : 'implicit')) throw new OAuthError('unauthorized_client', `The client may not use response_type ${responseType}.`);
  const scopes = grantedScopes(client, q.scope);
  if (q.code_challenge_method !== undefined && q.code_challenge_method !== 'S256') throw new OAuthError('invalid_request', 'code_challenge_method must be S256.');
  if (q.code_challenge !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(q.code_challenge)) throw new OAuthError('invalid_request', 'code_challenge must be a base64url SHA-256 digest.');
  // Stricter than Cognito: a public client's code flow must use PKCE (its code is otherwise a bearer token in the URL).
  if (responseType === 'code' && !client.secret && !q.code_challenge) throw new OAuthError('invalid_request', 'A client without a secret must send code_challenge (PKCE, S256).');
  if (q.prompt !== undefined && !q.prompt.split(' ').every((p) => ['none', 'login', 'consent', 'select_account'].includes(p))) throw new OAuthError('invalid_request', 'Unsupported prompt.');
  const nonce = q.nonce !== undefined && q.nonce.length > 512 ? undefined : q.nonce;
  return {
    responseType, redirectUri, scopes, state: q.state, codeChallenge: q.code_challenge, nonce, prompt: q.prompt,
    identityProvider: q.identity_provider, idpIdentifier: q.idp_identifier, loginHint: q.login_hint,
  };
}

/** The scopes asked for, each of which the client must be allowed; none asked means all it is allowed. */
export function grantedScopes(client: LoadedClient, requested: string | undefined): string[] {
  const allowed = client.config.AllowedOAuthScopes ?? [];
  const asked = requested?.split(' ').filter(Boolean);
  if (!asked?.length) return [...allowed];
  const refused = asked.filter((s) => !allowed.includes(s));
  if (refused.length) throw new OAuthError('invalid_scope', `The client is not allowed the scope ${refused[0]}.`);
  return [...new Set(asked)];
}

/** Issues a single-use code for a user signed in on the pages (or by their SSO session). */
export async function issueCode(ctx: Ctx, pool: LoadedPool, client: LoadedClient, user: User, req: AuthorizeRequest, authTime: number): Promise<string> {
  const code = randomToken(32);
  const now = ctx.now();
  await ctx.repo.putOAuthCode({
    code_hash: sha256(code), pool_id: pool.id, client_id: client.id, user_id: user.id, redirect_uri: req.redirectUri,
    scopes: req.scopes.join(' '), code_challenge: req.codeChallenge ?? null, nonce: req.nonce ?? null, auth_time: authTime,
    origin_jti: crypto.randomUUID(), expires_at: now + CODE_TTL_MS, consumed_at: null, created_at: now,
  });
  return code;
}

/** The implicit flow's tokens: no refresh token (it would sit in a URL fragment). */
export async function implicitTokens(ctx: Ctx, pool: LoadedPool, client: LoadedClient, user: User, req: AuthorizeRequest, authTime: number) {
  const groups = await userGroups(ctx, pool, user);
  const customize = await preTokenGeneration(ctx, pool, 'TokenGeneration_HostedAuth', user, client.id, { groups, scopes: req.scopes });
  return ctx.tokens.issue({ pool, client, user, groups, now: ctx.now(), authTime, originJti: crypto.randomUUID(), withRefresh: false, scopes: req.scopes.join(' '), nonce: req.nonce, customize });
}

export interface TokenResponse { access_token: string; id_token?: string; refresh_token?: string; expires_in: number; token_type: 'Bearer' }

const grantError = (why: string) => new OAuthError('invalid_grant', why);

/** PKCE S256: BASE64URL(SHA256(verifier)) must equal the challenge the authorize request sent. */
function pkceHolds(challenge: string, verifier: string): boolean {
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return false;
  return safeEqual(crypto.createHash('sha256').update(verifier).digest('base64url'), challenge);
}

/**
 * grant_type=authorization_code. The code is spent by one conditional update before anything else
 * is decided, so it works once; a second use is refused and revokes what the first one issued
 * (RFC 6749 section 4.1.2: the code was stolen, by one of the two).
 */
export async function redeemCode(ctx: Ctx, pool: LoadedPool, client: LoadedClient, p: { code?: string; redirectUri?: string; verifier?: string }): Promise<TokenResponse> {
  if (!p.code) throw new OAuthError('invalid_request', 'code is required.');
  if (!client.config.AllowedOAuthFlows?.includes('code') || !client.config.AllowedOAuthFlowsUserPoolClient) throw new OAuthError('unauthorized_client', 'The client may not use the code grant.');
  const now = ctx.now();
  const { outcome, row } = p.code.length <= 256 ? await ctx.repo.useOAuthCode(sha256(p.code), now) : { outcome: 'invalid' as const, row: undefined };
  if (outcome === 'reused' && row && row.client_id === client.id) {
    await ctx.repo.revokeTokenFamily(row.user_id, row.origin_jti, now);
    ctx.log.warn('authorization code reused; its tokens are revoked', { poolId: pool.id, clientId: client.id });
  }
  if (outcome !== 'ok' || !row) throw grantError('The code is invalid, expired or already used.');
  if (row.client_id !== client.id || row.pool_id !== pool.id) throw grantError('The code was issued to another client.');
  if (p.redirectUri !== row.redirect_uri) throw grantError('redirect_uri does not match the authorize request.');
  if (row.code_challenge !== null) {
    if (!p.verifier || !pkceHolds(row.code_challenge, p.verifier)) throw grantError('code_verifier is missing or does not match code_challenge.');
  } else if (p.verifier) throw grantError('code_verifier sent for a code issued without code_challenge.');
  const userRow = await ctx.repo.getUser(pool.id, row.user_id);
  const user = userRow && parseUser(userRow);
  if (!user || !user.enabled) throw grantError('The user is disabled or no longer exists.');
  const groups = await userGroups(ctx, pool, user);
  const customize = await preTokenGeneration(ctx, pool, 'TokenGeneration_HostedAuth', user, client.id, { groups, scopes: scopesOf(row.scopes) });
  const result = await ctx.tokens.issue({
    pool, client, user, groups, now, authTime: row.auth_time, originJti: row.origin_jti,
    withRefresh: true, scopes: row.scopes, nonce: row.nonce ?? undefined, customize,
  });
  return toTokenResponse(result);
}

export async function refreshGrant(ctx: Ctx, pool: LoadedPool, client: LoadedClient, token: string | undefined): Promise<TokenResponse> {
  if (!token) throw new OAuthError('invalid_request', 'refresh_token is required.');
  try {
    return toTokenResponse(await refreshTokens(ctx, pool, client, token));
  } catch (e) {
    if (e instanceof CognitoError) throw grantError(e.message);
    throw e;
  }
}

/**
 * grant_type=client_credentials: machine-to-machine, for a client with a secret, with scopes of the
 * pool's resource servers only (the standard scopes name a user, and there is none).
 */
export async function clientCredentialsGrant(ctx: Ctx, pool: LoadedPool, client: LoadedClient, scope: string | undefined): Promise<TokenResponse> {
  if (!client.secret || !client.config.AllowedOAuthFlows?.includes('client_credentials') || !client.config.AllowedOAuthFlowsUserPoolClient) {
    throw new OAuthError('unauthorized_client', 'The client may not use the client_credentials grant.');
  }
  const allowed = (client.config.AllowedOAuthScopes ?? []).filter((s) => s.includes('/'));
  const asked = scope?.split(' ').filter(Boolean) ?? allowed;
  if (!asked.length) throw new OAuthError('invalid_scope', 'The client has no resource-server scope.');
  for (const s of asked) {
    if (!allowed.includes(s) || !(await resourceScopeExists(ctx, pool, s))) throw new OAuthError('invalid_scope', `The client is not allowed the scope ${s}.`);
  }
  const t = await ctx.tokens.issueForClient(pool, client, [...new Set(asked)].join(' '), ctx.now());
  return { access_token: t.AccessToken, expires_in: t.ExpiresIn, token_type: 'Bearer' };
}

/** Whether `<identifier>/<name>` is a scope of one of the pool's resource servers now. */
export async function resourceScopeExists(ctx: Ctx, pool: LoadedPool, scope: string): Promise<boolean> {
  const cut = scope.lastIndexOf('/');
  if (cut <= 0) return false;
  const server = await ctx.repo.getResourceServer(pool.id, scope.slice(0, cut));
  const scopes: { ScopeName: string }[] = server ? JSON.parse(server.scopes) : [];
  return scopes.some((s) => s.ScopeName === scope.slice(cut + 1));
}

function toTokenResponse(r: { AccessToken: string; IdToken?: string; RefreshToken?: string; ExpiresIn: number }): TokenResponse {
  return { ...(r.IdToken ? { id_token: r.IdToken } : {}), access_token: r.AccessToken, ...(r.RefreshToken ? { refresh_token: r.RefreshToken } : {}), expires_in: r.ExpiresIn, token_type: 'Bearer' };
}

// ---------------------------------------------------------------- single sign-on

/** Starts the managed login's session for a user: the cookie's value (only its hash is stored). */
export async function startSsoSession(ctx: Ctx, pool: LoadedPool, user: User): Promise<{ token: string; authTime: number }> {
  const token = randomToken(32);
  const now = ctx.now();
  await ctx.repo.createSsoSession({ id: sha256(token), pool_id: pool.id, user_id: user.id, auth_time: now, expires_at: now + SSO_TTL_MS, created_at: now });
  return { token, authTime: now };
}

/** The user a session cookie signs in, if it is live and the user may still sign in. */
export async function ssoUser(ctx: Ctx, pool: LoadedPool, token: string | undefined): Promise<{ user: User; authTime: number } | undefined> {
  if (!token || token.length > 128) return undefined;
  const row = await ctx.repo.getSsoSession(sha256(token));
  if (!row || row.pool_id !== pool.id || row.expires_at < ctx.now()) return undefined;
  const userRow = await ctx.repo.getUser(pool.id, row.user_id);
  const user = userRow && parseUser(userRow);
  if (!user || !user.enabled || !['CONFIRMED', 'EXTERNAL_PROVIDER'].includes(user.status)) return undefined;
  return { user, authTime: row.auth_time };
}

export async function endSsoSession(ctx: Ctx, token: string | undefined) {
  if (token && token.length <= 128) await ctx.repo.deleteSsoSession(sha256(token));
}

// ---------------------------------------------------------------- userInfo and revocation

/** OpenID Connect userInfo: the user's attributes the token's scopes and the client's ReadAttributes let it read. */
export async function userInfo(ctx: Ctx, accessToken: string): Promise<Record<string, unknown>> {
  const claims = await ctx.tokens.verifyAccess(accessToken, ctx.now());
  if (!claims.scopes.includes('openid') && !claims.scopes.includes(USER_ADMIN_SCOPE)) throw new OAuthError('insufficient_scope', 'The access token lacks the openid scope.', 403);
  const userRow = await ctx.repo.getUser(claims.poolId, claims.sub);
  const user = userRow && parseUser(userRow);
  if (!user || !user.enabled) throw new OAuthError('invalid_token', 'The user is disabled or no longer exists.', 401);
  const clientRow = await ctx.repo.getClient(claims.clientId);
  const readable: string[] | undefined = clientRow ? JSON.parse(clientRow.config).ReadAttributes : undefined;
  const all = claims.scopes.includes(USER_ADMIN_SCOPE) || claims.scopes.includes('profile');
  const byScope = new Set([
    ...(claims.scopes.includes('email') ? ['email', 'email_verified'] : []),
    ...(claims.scopes.includes('phone') ? ['phone_number', 'phone_number_verified'] : []),
  ]);
  const out: Record<string, unknown> = { sub: user.id };
  for (const [k, v] of Object.entries(user.attributes)) {
    if (k === 'sub' || (readable && !readable.includes(k))) continue;
    if (all || byScope.has(k)) out[k] = v;
  }
  const identities = await ctx.repo.listIdentitiesOfUser(user.id);
  if (identities.length && (all || byScope.size)) out.identities = JSON.stringify(identitiesClaim(identities));
  out.username = user.username;
  return out;
}

/** The `identities` claim of a federated user, as Cognito writes it. */
export function identitiesClaim(rows: { provider_name: string; provider_user_id: string; created_at: number; user_id: string }[], providerTypes: Record<string, string> = {}) {
  return rows.map((r) => ({
    userId: r.provider_user_id, providerName: r.provider_name, providerType: providerTypes[r.provider_name] ?? r.provider_name,
    issuer: null, primary: 'true', dateCreated: String(r.created_at),
  }));
}

/** /oauth2/revoke: a refresh token's sign-in ends (RFC 7009); unknown tokens succeed quietly. */
export async function revoke(ctx: Ctx, client: LoadedClient, token: string | undefined) {
  if (!token) throw new OAuthError('invalid_request', 'token is required.');
  if (!client.config.EnableTokenRevocation) throw new OAuthError('unauthorized_client', 'Token revocation is not enabled for this client.');
  const row = token.length <= 4096 ? await ctx.repo.getRefreshToken(sha256(token)) : undefined;
  if (row && row.client_id !== client.id) throw new OAuthError('unauthorized_client', 'The token was issued to another client.');
  if (row) await ctx.repo.revokeTokenFamily(row.user_id, row.origin_jti, ctx.now());
}
