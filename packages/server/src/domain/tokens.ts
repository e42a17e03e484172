import crypto, { type KeyObject } from 'node:crypto';
import { jwtVerify, decodeJwt, type JWTPayload } from 'jose';
import { NotAuthorizedException } from '../errors.js';
import type { Repository } from '../storage/repository.js';
import type { Secrets } from './secrets.js';
import { randomToken, sha256 } from './secrets.js';
import { tokenLifetimes, type LoadedClient, type LoadedPool } from './pools.js';
import type { User } from './users.js';

interface PoolKeys { kid: string; privateKey: KeyObject; publicKey: KeyObject; jwk: object }

/** The scope of tokens from the API's sign-ins: the user's own operations. */
export const USER_ADMIN_SCOPE = 'aws.cognito.signin.user.admin';

export interface AuthenticationResult {
  AccessToken: string;
  IdToken?: string;
  RefreshToken?: string;
  ExpiresIn: number;
  TokenType: 'Bearer';
  NewDeviceMetadata?: { DeviceKey: string; DeviceGroupKey: string };
}

export async function generatePoolKey(secrets: Secrets, poolId: string, now: number) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = crypto.randomBytes(16).toString('base64url');
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  return { pool_id: poolId, kid, private_key: secrets.encrypt(pem, `pool-key:${poolId}:${kid}`), public_jwk: JSON.stringify(jwk), created_at: now };
}

const b64json = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');

const boolAttrs = new Set(['email_verified', 'phone_number_verified']);
const safeParse = (v: string) => { try { return JSON.parse(v); } catch { return v; } };

/** What a PreTokenGeneration trigger changes in the tokens (domain/triggers/events.ts reads it from its answer). */
export interface TokenCustomization {
  id?: { add?: Record<string, unknown>; suppress?: string[] };
  access?: { add?: Record<string, unknown>; suppress?: string[]; scopesToAdd?: string[]; scopesToSuppress?: string[] };
  /** Replaces cognito:groups in both tokens. */
  groups?: string[];
  /** cognito:roles and cognito:preferred_role in the ID token. */
  roles?: string[];
  preferredRole?: string;
}

/**
 * Claims no trigger may add, change or suppress: those that say who the token is for, who issued
 * it, when, and which sign-in it belongs to (revocation reads origin_jti), and those set through
 * their own fields (groups, roles, scopes). A trigger naming one is ignored for that claim.
 */
export const PROTECTED_CLAIMS = new Set([
  'acr', 'amr', 'at_hash', 'aud', 'auth_time', 'azp', 'c_hash', 'client_id', 'cognito:groups', 'cognito:preferred_role', 'cognito:roles',
  'cognito:username', 'event_id', 'exp', 'iat', 'identities', 'iss', 'jti', 'nbf', 'nonce', 'origin_jti', 'scope', 'sub', 'token_use', 'username',
]);

/** The scopes of an access token: those a hosted sign-in granted, else the API's one scope. */
export const scopesOf = (scopes: string | undefined) => (scopes ?? USER_ADMIN_SCOPE).split(' ').filter(Boolean);

/** Applies a trigger's additions and suppressions to one token's claims; protected claims stay as they are. */
function customizeClaims(claims: Record<string, unknown>, c: { add?: Record<string, unknown>; suppress?: string[] } | undefined) {
  for (const k of c?.suppress ?? []) if (!PROTECTED_CLAIMS.has(k)) delete claims[k];
  for (const [k, v] of Object.entries(c?.add ?? {})) if (!PROTECTED_CLAIMS.has(k) && v !== undefined && v !== null) claims[k] = v;
}

/** Issues and checks Cognito-shaped JWTs and opaque refresh tokens. Keys are cached per pool. */
export class TokenService {
  private keys = new Map<string, Promise<PoolKeys>>();
  constructor(private repo: Repository, private secrets: Secrets, private publicUrl: string) {}

  issuer(poolId: string) { return `${this.publicUrl}/${poolId}`; }


  forget(poolId: string) { this.keys.delete(poolId); }

  private poolKeys(poolId: string): Promise<PoolKeys> {
    let p = this.keys.get(poolId);
    if (!p) {
      p = (async () => {
        const [row] = await this.repo.getPoolKeys(poolId);
        if (!row) throw new NotAuthorizedException('Invalid token');
        const pem = this.secrets.decrypt(row.private_key, `pool-key:${poolId}:${row.kid}`).toString('utf8');
        const privateKey = crypto.createPrivateKey(pem);
        return { kid: row.kid, privateKey, publicKey: crypto.createPublicKey(privateKey), jwk: JSON.parse(row.public_jwk) };
      })();
      p.catch(() => this.keys.delete(poolId));
      this.keys.set(poolId, p);
    }
    return p;
  }

  async jwks(poolId: string) {
    const rows = await this.repo.getPoolKeys(poolId);
    return { keys: rows.map((r) => JSON.parse(r.public_jwk)) };
  }

  // Signing is a plain compact JWS with node:crypto: jose signs through WebCrypto jobs on the
  // thread pool, which doubled the CPU of a sign-in's two signatures. jose still verifies.
  private async sign(poolId: string, claims: JWTPayload, now: number, lifetimeMs: number): Promise<string> {
    const k = await this.poolKeys(poolId);
    const iat = Math.floor(now / 1000);
    const payload = { ...claims, iat, exp: iat + Math.floor(lifetimeMs / 1000), jti: crypto.randomUUID() };
    const input = `${b64json({ kid: k.kid, alg: 'RS256' })}.${b64json(payload)}`;
    return `${input}.${crypto.sign('sha256', Buffer.from(input), k.privateKey).toString('base64url')}`;
  }

  /** Signs access and ID tokens; a new sign-in (no originJti) also gets a refresh token. */
  /**
   * `scopes` are OAuth scopes granted by the hosted sign-in (else the API's one scope): the ID token
   * then needs `openid`, and carries `nonce` when the authorize request sent one. `customize` is what
   * a PreTokenGeneration trigger changes.
   */
  async issue(opts: { pool: LoadedPool; client: LoadedClient; user: User; groups: string[]; now: number; authTime?: number; originJti?: string; withRefresh?: boolean; scopes?: string; nonce?: string; customize?: TokenCustomization }): Promise<AuthenticationResult> {
    const { pool, client, user, now, customize } = opts;
    const groups = customize?.groups ?? opts.groups;
    const life = tokenLifetimes(client.config);
    const authTime = Math.floor((opts.authTime ?? now) / 1000);
    const originJti = opts.originJti ?? crypto.randomUUID();
    const eventId = crypto.randomUUID();
    const common = { sub: user.id, ...(groups.length ? { 'cognito:groups': groups } : {}), iss: this.issuer(pool.id), origin_jti: originJti, event_id: eventId, auth_time: authTime };
    const readable = client.config.ReadAttributes;
    const idAttrs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(user.attributes)) {
      if (k === 'sub' || (readable && !readable.includes(k))) continue;
      // identities (federated users) is JSON in the store and an array in the token, as Cognito's.
      idAttrs[k] = boolAttrs.has(k) ? v === 'true' : k === 'identities' ? safeParse(v) : v;
    }
    const scopes = new Set(scopesOf(opts.scopes));
    for (const s of customize?.access?.scopesToAdd ?? []) scopes.add(s);
    for (const s of customize?.access?.scopesToSuppress ?? []) scopes.delete(s);
    const withId = opts.scopes === undefined || opts.scopes.split(' ').includes('openid');
    const access: Record<string, unknown> = { ...common, token_use: 'access', ...(scopes.size ? { scope: [...scopes].join(' ') } : {}), client_id: client.id, username: user.username };
    const id: Record<string, unknown> = { ...idAttrs, ...common, aud: client.id, token_use: 'id', 'cognito:username': user.username, ...(opts.nonce ? { nonce: opts.nonce } : {}) };
    if (customize) {
      customizeClaims(access, customize.access);
      customizeClaims(id, customize.id);
      if (customize.roles?.length) id['cognito:roles'] = customize.roles;
      if (customize.preferredRole) id['cognito:preferred_role'] = customize.preferredRole;
    }
    const [AccessToken, IdToken] = await Promise.all([this.sign(pool.id, access, now, life.access), withId ? this.sign(pool.id, id, now, life.id) : undefined]);
    const result: AuthenticationResult = { AccessToken, ...(IdToken ? { IdToken } : {}), ExpiresIn: Math.floor(life.access / 1000), TokenType: 'Bearer' };
    if (opts.withRefresh ?? !opts.originJti) {
      const fresh = this.newRefreshToken(pool, client, user, originJti, authTime * 1000, now, now + life.refresh, opts.scopes);
      await this.repo.putRefreshToken(fresh.row);
      result.RefreshToken = fresh.token;
    }
    return result;
  }

  /** A new refresh token of the family `originJti` and the row that stores it (not yet stored). */
  newRefreshToken(pool: LoadedPool, client: LoadedClient, user: User, originJti: string, authTime: number, now: number, expiresAt: number, scopes?: string | null) {
    const token = randomToken(48);
    const row = { token_hash: sha256(token), origin_jti: originJti, pool_id: pool.id, client_id: client.id, user_id: user.id, auth_time: authTime, expires_at: expiresAt, revoked_at: null, rotated_at: null, created_at: now, scopes: scopes ?? null };
    return { token, row };
  }

  /**
   * client_credentials: an access token for the client itself (sub is the client id), with the
   * resource-server scopes granted; no ID or refresh token, nothing to revoke.
   */
  async issueForClient(pool: LoadedPool, client: LoadedClient, scopes: string, now: number): Promise<{ AccessToken: string; ExpiresIn: number }> {
    const life = tokenLifetimes(client.config).access;
    const AccessToken = await this.sign(pool.id, { sub: client.id, token_use: 'access', scope: scopes, auth_time: Math.floor(now / 1000), iss: this.issuer(pool.id), version: 2, client_id: client.id }, now, life);
    return { AccessToken, ExpiresIn: Math.floor(life / 1000) };
  }

  /** Verifies an access token, that its sign-in has not been revoked and that its app client still exists. Returns its claims. */
  async verifyAccess(token: string, now: number): Promise<{ poolId: string; sub: string; username: string; clientId: string; originJti: string; scopes: string[]; claims: JWTPayload }> {
    let poolId: string;
    try {
      const iss = decodeJwt(token).iss ?? '';
      poolId = iss.slice(this.publicUrl.length + 1);
      if (!iss.startsWith(this.publicUrl + '/') || !poolId || poolId.includes('/')) throw new Error('issuer');
    } catch {
      throw new NotAuthorizedException('Invalid Access Token');
    }
    let claims: JWTPayload;
    try {
      const k = await this.poolKeys(poolId);
      ({ payload: claims } = await jwtVerify(token, k.publicKey, { issuer: this.issuer(poolId), algorithms: ['RS256'], currentDate: new Date(now) }));
    } catch (e: any) {
      if (e?.code === 'ERR_JWT_EXPIRED') throw new NotAuthorizedException('Access Token has expired');
      throw new NotAuthorizedException('Invalid Access Token');
    }
    if (claims.token_use !== 'access' || typeof claims.origin_jti !== 'string') throw new NotAuthorizedException('Invalid Access Token');
    if (!(await this.repo.isTokenFamilyLive(claims.origin_jti, now))) throw new NotAuthorizedException('Access Token has been revoked');
    // Deleting a client deletes its refresh tokens (so the check above refuses); this also covers a
    // sign-in that was under way when the client was deleted.
    const client = await this.repo.getClient(String(claims.client_id));
    if (!client || client.pool_id !== poolId) throw new NotAuthorizedException('Access Token has been revoked');
    return { poolId, sub: String(claims.sub), username: String(claims.username), clientId: String(claims.client_id), originJti: claims.origin_jti, scopes: String(claims.scope ?? '').split(' '), claims };
  }
}
