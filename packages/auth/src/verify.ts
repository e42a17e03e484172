/**
 * Token verification for backends (Node, Deno, Bun, workers: fetch and WebCrypto only): RS256
 * signature against the pool's JWKS (cached; refetched for an unknown kid at most every 30 s),
 * issuer, app client (client_id or aud), token_use, expiry, and on request revocation (GetUser with
 * the access token, which Gatehouse refuses once its sign-in is signed out or revoked).
 */
import { AuthError } from './errors.js';
import type { JwtPayload } from './core.js';

export interface VerifyOptions {
  userPoolId: string;
  /** The app client(s) whose tokens are accepted: client_id of access tokens, aud of ID tokens. */
  clientId: string | string[];
  /** Which token is expected (default 'access'); null accepts either. */
  tokenUse?: 'access' | 'id' | null;
  /** Gatehouse's URL (as the clients' userPoolEndpoint): keys and the issuer are read from there. Unset: Amazon Cognito. */
  endpoint?: string;
  /** The expected `iss`; default: discovered from the endpoint's openid-configuration, or Cognito's. */
  issuer?: string;
  jwksUri?: string;
  /** Ask the server whether the access token is still live (one GetUser per call). Access tokens only. */
  checkRevocation?: boolean;
  /** Seconds of clock difference tolerated on exp and iat (default 5). */
  clockToleranceSeconds?: number;
  fetch?: typeof fetch;
  /** Milliseconds since the epoch; for tests of expiry. */
  now?: () => number;
}

export interface VerifiedToken { payload: JwtPayload; header: { alg: string; kid: string }; token: string }

/** A refusal: `status` is 401 for the token's fault, 503 when the keys or the server cannot be reached. */
class TokenError extends AuthError {
  constructor(name: string, message: string, readonly status = 401) {
    super({ name, message });
  }
}

const b64urlBytes = (s: string) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(s.length / 4) * 4, '=')), (c) => c.charCodeAt(0));
const b64urlJson = (s: string) => JSON.parse(new TextDecoder().decode(b64urlBytes(s)));

export function createVerifier(options: VerifyOptions) {
  const clients = ([] as string[]).concat(options.clientId ?? []);
  if (!options.userPoolId || !clients.length) throw new TokenError('VerifierConfigException', 'userPoolId and clientId are required', 500);
  const doFetch = options.fetch ?? ((i: RequestInfo | URL, init?: RequestInit) => fetch(i, init));
  const endpoint = options.endpoint?.replace(/\/+$/, '');
  const region = options.userPoolId.split('_')[0];
  const tokenUse = options.tokenUse === undefined ? 'access' : options.tokenUse;
  const tolerance = (options.clockToleranceSeconds ?? 5) * 1000;
  const now = options.now ?? Date.now;
  let issuer: Promise<string> | undefined;
  let keys = new Map<string, CryptoKey>();
  let fetched = 0;
  let loading: Promise<void> | undefined;

  async function getJson(url: string) {
    let res: Response;
    try { res = await doFetch(url); } catch { throw new TokenError('JwksUnavailable', `cannot reach ${url}`, 503); }
    if (!res.ok) throw new TokenError('JwksUnavailable', `${url} answered HTTP ${res.status}`, 503);
    return res.json();
  }

  const expectedIssuer = () => (issuer ??= (async () => {
    if (options.issuer) return options.issuer;
    if (!endpoint) return `https://cognito-idp.${region}.amazonaws.com/${options.userPoolId}`;
    return (await getJson(`${endpoint}/${options.userPoolId}/.well-known/openid-configuration`)).issuer as string;
  })().catch((e) => { issuer = undefined; throw e; }));

  async function loadKeys() {
    const url = options.jwksUri ?? (endpoint ? `${endpoint}/${options.userPoolId}/.well-known/jwks.json` : `${await expectedIssuer()}/.well-known/jwks.json`);
    const jwks = await getJson(url);
    const next = new Map<string, CryptoKey>();
    for (const jwk of jwks.keys ?? []) {
      if (jwk.kty !== 'RSA' || !jwk.kid || (jwk.use && jwk.use !== 'sig') || (jwk.alg && jwk.alg !== 'RS256')) continue;
      next.set(jwk.kid, await crypto.subtle.importKey('jwk', { kty: 'RSA', n: jwk.n, e: jwk.e }, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']));
    }
    keys = next;
    fetched = now();
  }

  async function keyFor(kid: string): Promise<CryptoKey> {
    if (!keys.has(kid) && now() - fetched > 30_000) await (loading ??= loadKeys().finally(() => (loading = undefined)));
    const key = keys.get(kid);
    if (!key) throw new TokenError('JwtInvalidSignature', 'the token is not signed by a key of this user pool');
    return key;
  }

  async function verify(token: string): Promise<VerifiedToken> {
    const parts = typeof token === 'string' ? token.split('.') : [];
    if (parts.length !== 3) throw new TokenError('JwtMalformed', 'not a JWT');
    let header: any, payload: JwtPayload;
    try { (header = b64urlJson(parts[0]!)), (payload = b64urlJson(parts[1]!)); } catch { throw new TokenError('JwtMalformed', 'not a JWT'); }
    if (header?.alg !== 'RS256' || typeof header.kid !== 'string') throw new TokenError('JwtInvalidSignature', 'only RS256 tokens with a kid are accepted');
    const key = await keyFor(header.kid);
    let ok = false;
    try { ok = await crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, b64urlBytes(parts[2]!), new TextEncoder().encode(`${parts[0]}.${parts[1]}`)); } catch { /* malformed signature */ }
    if (!ok) throw new TokenError('JwtInvalidSignature', 'invalid signature');
    if (typeof payload !== 'object' || payload === null) throw new TokenError('JwtMalformed', 'the payload is not an object');
    if (payload.iss !== (await expectedIssuer())) throw new TokenError('JwtInvalidIssuer', 'the token was issued by another user pool');
    if (tokenUse ? payload.token_use !== tokenUse : !['access', 'id'].includes(payload.token_use)) throw new TokenError('JwtInvalidTokenUse', `expected an ${tokenUse ?? 'access or id'} token`);
    const client = payload.token_use === 'id' ? payload.aud : payload.client_id;
    if (!clients.includes(client)) throw new TokenError('JwtInvalidClient', 'the token belongs to another app client');
    if (typeof payload.exp !== 'number' || now() >= payload.exp * 1000 + tolerance) throw new TokenError('JwtExpired', 'the token has expired');
    if (typeof payload.iat === 'number' && payload.iat * 1000 > now() + tolerance) throw new TokenError('JwtNotYetValid', 'the token was issued in the future');
    if (options.checkRevocation) {
      if (payload.token_use !== 'access') throw new TokenError('JwtRevocationUnchecked', 'revocation can be checked for access tokens only');
      await checkLive(token);
    }
    return { payload, header, token };
  }

  async function checkLive(token: string) {
    const url = endpoint ?? `https://cognito-idp.${region}.amazonaws.com`;
    let res: Response;
    try {
      res = await doFetch(url, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.GetUser' }, body: JSON.stringify({ AccessToken: token }) });
      await res.arrayBuffer();
    } catch { throw new TokenError('RevocationUnavailable', 'the user pool cannot be reached to check revocation', 503); }
    if (res.ok) return;
    if (/NotAuthorizedException|UserNotFoundException/.test(res.headers.get('x-amzn-errortype') ?? '')) throw new TokenError('JwtRevoked', 'the token has been revoked');
    if (!res.ok) throw new TokenError('RevocationUnavailable', `the user pool answered HTTP ${res.status}`, 503);
  }

  /** Verifies an `Authorization: Bearer <token>` header value. */
  async function verifyAuthorization(header: string | null | undefined): Promise<VerifiedToken> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!m) throw new TokenError('MissingBearerToken', 'an Authorization: Bearer token is required');
    return verify(m[1]!);
  }
  return { verify, verifyAuthorization };
}

const verifiers = new Map<string, ReturnType<typeof createVerifier>>();
/** Verifies one token; verifiers (and their key caches) are kept per distinct options. */
export function verifyToken(token: string, options: VerifyOptions): Promise<VerifiedToken> {
  const key = JSON.stringify(options);
  let v = verifiers.get(key);
  if (!v || options.fetch || options.now) {
    v = createVerifier(options);
    if (!options.fetch && !options.now) verifiers.set(key, v);
  }
  return v.verify(token);
}

const refusal = (e: unknown) => {
  const status = e instanceof TokenError ? e.status : 401;
  const name = e instanceof AuthError ? e.name : 'JwtInvalid';
  return { status, name, headers: { 'content-type': 'application/json', ...(status === 401 ? { 'www-authenticate': `Bearer error="invalid_token"` } : {}) }, body: JSON.stringify({ error: name, message: e instanceof Error ? e.message : 'invalid token' }) };
};

interface NodeRequest { headers: Record<string, string | string[] | undefined>; auth?: VerifiedToken }
interface NodeResponse { statusCode: number; setHeader(name: string, value: string): unknown; end(body?: string): unknown }

/**
 * For Node's http server, Express or Connect: sets `req.auth` and calls `next()`, or answers 401
 * (503 when the keys cannot be had). Without `next`, await it: it resolves to the token, or to
 * undefined once it has answered.
 */
export function nodeMiddleware(options: VerifyOptions) {
  const v = createVerifier(options);
  return async (req: NodeRequest, res: NodeResponse, next?: (err?: unknown) => void): Promise<VerifiedToken | undefined> => {
    try {
      const h = req.headers.authorization;
      req.auth = await v.verifyAuthorization(Array.isArray(h) ? h[0] : h);
    } catch (e) {
      const r = refusal(e);
      res.statusCode = r.status;
      for (const [k, val] of Object.entries(r.headers)) res.setHeader(k, val);
      res.end(r.body);
      return undefined;
    }
    next?.();
    return req.auth;
  };
}

/** For fetch-style handlers (Deno.serve, Bun.serve, workers, Hono): wraps one, handing it the verified token. */
export function fetchMiddleware(options: VerifyOptions) {
  const v = createVerifier(options);
  return <R extends unknown[]>(handler: (request: Request, auth: VerifiedToken, ...rest: R) => Response | Promise<Response>) =>
    async (request: Request, ...rest: R): Promise<Response> => {
      let auth: VerifiedToken;
      try {
        auth = await v.verifyAuthorization(request.headers.get('authorization'));
      } catch (e) {
        const r = refusal(e);
        return new Response(r.body, { status: r.status, headers: r.headers });
      }
      return handler(request, auth, ...rest);
    };
}
