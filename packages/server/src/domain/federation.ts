// External identity providers of a user pool (OIDC, SAML and the social presets) and the users
// they sign in: settings checked and sealed at rest, attribute mapping, federated users
// (EXTERNAL_PROVIDER) and their links. The protocols themselves are src/hosted/federation.ts.
import crypto from 'node:crypto';
import { InvalidParameterException, ResourceNotFoundException, NotAuthorizedException } from '../errors.js';
import type { Ctx } from './context.js';
import { usernameKey, type LoadedPool } from './pools.js';
import { parseUser, standardAttributes, type Attributes, type User } from './users.js';
import type { IdentityProvider } from '../storage/repository.js';
import { inboundFederation, preSignUp, type ProviderAnswer } from './triggers/events.js';

export const PROVIDER_TYPES = ['SAML', 'Facebook', 'Google', 'LoginWithAmazon', 'SignInWithApple', 'OIDC'] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

export interface Provider {
  poolId: string; name: string; type: ProviderType;
  details: Record<string, string>; mapping: Record<string, string>; identifiers: string[];
  createdAt: number; updatedAt: number;
}

/**
 * The public endpoints of the social presets. Each can be overridden in ProviderDetails (so tests and
 * private deployments can point them at their own provider); Google and Apple are OpenID Connect.
 */
export const PRESETS: Record<string, Record<string, string>> = {
  Google: {
    oidc_issuer: 'https://accounts.google.com', authorize_url: 'https://accounts.google.com/o/oauth2/v2/auth',
    token_url: 'https://www.googleapis.com/oauth2/v4/token', attributes_url: 'https://openidconnect.googleapis.com/v1/userinfo',
    jwks_uri: 'https://www.googleapis.com/oauth2/v3/certs',
  },
  SignInWithApple: {
    oidc_issuer: 'https://appleid.apple.com', authorize_url: 'https://appleid.apple.com/auth/authorize',
    token_url: 'https://appleid.apple.com/auth/token', jwks_uri: 'https://appleid.apple.com/auth/keys',
  },
  Facebook: {
    authorize_url: 'https://www.facebook.com/v17.0/dialog/oauth', token_url: 'https://graph.facebook.com/v17.0/oauth/access_token',
    attributes_url: 'https://graph.facebook.com/v17.0/me?fields=id,email,name,first_name,last_name',
  },
  LoginWithAmazon: {
    authorize_url: 'https://www.amazon.com/ap/oa', token_url: 'https://api.amazon.com/auth/o2/token', attributes_url: 'https://api.amazon.com/user/profile',
  },
};

/** The provider attribute that names the user, by type: what `Cognito_Subject` means for it. */
export const SUBJECT_CLAIM: Record<string, string> = { OIDC: 'sub', Google: 'sub', SignInWithApple: 'sub', Facebook: 'id', LoginWithAmazon: 'user_id', SAML: 'NameID' };

const REQUIRED: Record<string, string[]> = {
  OIDC: ['client_id', 'authorize_scopes', 'oidc_issuer'],
  Google: ['client_id', 'client_secret', 'authorize_scopes'],
  Facebook: ['client_id', 'client_secret', 'authorize_scopes'],
  LoginWithAmazon: ['client_id', 'client_secret', 'authorize_scopes'],
  SignInWithApple: ['client_id', 'team_id', 'key_id', 'private_key', 'authorize_scopes'],
  SAML: [],
};

const URL_KEYS = ['oidc_issuer', 'authorize_url', 'token_url', 'attributes_url', 'jwks_uri', 'MetadataURL'];

/** ProviderDetails as Cognito checks them; presets gain their public endpoints where none is given. */
export function providerDetails(type: ProviderType, given: Record<string, string>): Record<string, string> {
  for (const k of REQUIRED[type]) if (!given[k]) throw new InvalidParameterException(`ProviderDetails.${k} is required for ${type} providers.`);
  if (type === 'SAML' && !given.MetadataURL === !given.MetadataFile) throw new InvalidParameterException('Exactly one of MetadataURL and MetadataFile is required for SAML providers.');
  for (const k of URL_KEYS) {
    if (given[k] === undefined) continue;
    let u: URL;
    try { u = new URL(given[k]); } catch { throw new InvalidParameterException(`ProviderDetails.${k} must be a URL.`); }
    // Plain HTTP only to this machine (a provider under test); anything else must be HTTPS.
    if (u.protocol !== 'https:' && !(u.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname))) {
      throw new InvalidParameterException(`ProviderDetails.${k} must use HTTPS.`);
    }
  }
  if (given.attributes_request_method !== undefined && !['GET', 'POST'].includes(given.attributes_request_method)) {
    throw new InvalidParameterException('ProviderDetails.attributes_request_method must be GET or POST.');
  }
  const out = { ...(PRESETS[type] ?? {}), ...given };
  if (type === 'OIDC' && !out.attributes_request_method) out.attributes_request_method = 'GET';
  return out;
}

/** The attribute mapping: pool attribute -> provider attribute; only attributes the pool has. */
export function attributeMapping(pool: LoadedPool, type: ProviderType, given: Record<string, string> | undefined): Record<string, string> {
  const mapping: Record<string, string> = { ...(given ?? {}) };
  for (const k of Object.keys(mapping)) {
    const custom = k.startsWith('custom:') && (pool.config.Schema ?? []).some((s) => s.Name === k.slice(7) || s.Name === k);
    if (k !== 'username' && !standardAttributes.has(k) && !custom) throw new InvalidParameterException(`Invalid attribute mapping: ${k} is not an attribute of the pool.`);
    if (k === 'sub') throw new InvalidParameterException('sub cannot be mapped.');
  }
  mapping.username ??= SUBJECT_CLAIM[type];
  return mapping;
}

export function sealDetails(ctx: Ctx, poolId: string, name: string, details: Record<string, string>) {
  return ctx.secrets.encrypt(JSON.stringify(details), `idp:${poolId}:${name}`);
}

export function parseProvider(ctx: Ctx, row: IdentityProvider): Provider {
  return {
    poolId: row.pool_id, name: row.name, type: row.type as ProviderType,
    details: JSON.parse(ctx.secrets.decrypt(row.details, `idp:${row.pool_id}:${row.name}`).toString('utf8')),
    mapping: JSON.parse(row.attribute_mapping), identifiers: JSON.parse(row.idp_identifiers), createdAt: row.created_at, updatedAt: row.updated_at,
  };
}

export async function loadProvider(ctx: Ctx, poolId: string, name: string): Promise<Provider> {
  const row = await ctx.repo.getIdentityProvider(poolId, name);
  if (!row) throw new ResourceNotFoundException(`Identity provider ${name} does not exist.`);
  return parseProvider(ctx, row);
}

/** The provider an idp_identifier names (IdpIdentifiers), if any. */
export async function providerByIdentifier(ctx: Ctx, poolId: string, identifier: string): Promise<Provider | undefined> {
  for (let after: string | undefined, first = true; first || after; first = false) {
    const page = await ctx.repo.listIdentityProviders(poolId, 60, after);
    for (const row of page.items) {
      const ids: string[] = JSON.parse(row.idp_identifiers);
      if (ids.includes(identifier)) return parseProvider(ctx, row);
    }
    after = page.next;
  }
  return undefined;
}

/** The pool attributes a provider's claims give, through the mapping. */
export function mappedAttributes(provider: Provider, claims: Record<string, unknown>): Attributes {
  const out: Attributes = {};
  for (const [poolAttr, providerAttr] of Object.entries(provider.mapping)) {
    if (poolAttr === 'username') continue;
    const v = claims[providerAttr];
    if (v === undefined || v === null) continue;
    const s = Array.isArray(v) ? String(v[0]) : typeof v === 'object' ? JSON.stringify(v) : String(v);
    if (s.length <= 2048) out[poolAttr] = /_verified$/.test(poolAttr) ? String(s.toLowerCase() === 'true') : s;
  }
  return out;
}

/** The `identities` attribute (and ID token claim) of a user with linked providers. */
export async function identitiesOf(ctx: Ctx, user: { id: string }) {
  const rows = await ctx.repo.listIdentitiesOfUser(user.id);
  const types: Record<string, string> = {};
  for (const r of rows) types[r.provider_name] ??= (await ctx.repo.getIdentityProvider(r.pool_id, r.provider_name))?.type ?? r.provider_name;
  return rows.map((r) => ({ userId: r.provider_user_id, providerName: r.provider_name, providerType: types[r.provider_name], issuer: null, primary: 'true', dateCreated: String(r.created_at) }));
}

async function writeIdentities(ctx: Ctx, pool: LoadedPool, user: User) {
  const identities = await identitiesOf(ctx, user);
  const attributes = { ...user.attributes };
  if (identities.length) attributes.identities = JSON.stringify(identities);
  else delete attributes.identities;
  await ctx.repo.updateUser(pool.id, user.id, { attributes: JSON.stringify(attributes), updated_at: ctx.now() });
}

/** What a provider's sign-in established: who (`subject`), the claims the mapping reads, and its raw answer. */
export interface ProviderSignIn { subject: string; claims: Record<string, unknown>; answer: ProviderAnswer }

/**
 * The user a provider's subject signs in as: the linked user (its mapped attributes refreshed, as
 * Cognito does at every federated sign-in), or a new EXTERNAL_PROVIDER user `<provider>_<subject>`.
 * A federated user's email or phone never becomes a sign-in alias: a provider asserting someone's
 * address cannot take their account. The InboundFederation trigger sees every such sign-in first
 * and may replace the provider's attributes (never the subject: it transforms attributes, not
 * identity). A new user then passes the PreSignUp trigger (PreSignUp_ExternalProvider), which may
 * refuse them or verify their email and phone. A failing trigger leaves no user created or changed.
 */
export async function federatedUser(ctx: Ctx, pool: LoadedPool, provider: Provider, signIn: ProviderSignIn, clientId?: string): Promise<User> {
  const { subject } = signIn;
  if (!subject || subject.length > 1024) throw new NotAuthorizedException('The identity provider named no user.');
  const link = await ctx.repo.findIdentity(pool.id, provider.name, subject);
  const row = link && (await ctx.repo.getUser(pool.id, link.user_id));
  if (link && !row) throw new NotAuthorizedException('User does not exist.');
  const linked = row ? parseUser(row) : undefined;
  if (linked && !linked.enabled) throw new NotAuthorizedException('User is disabled.');
  const username = linked?.username ?? `${provider.name}_${subject}`;
  const replaced = await inboundFederation(ctx, pool, { userName: username, clientId }, { providerName: provider.name, providerType: provider.type, answer: signIn.answer });
  const attrs = mappedAttributes(provider, replaced ?? signIn.claims);
  const now = ctx.now();
  if (linked) {
    // A linked native user keeps its own attributes; a federated one follows the provider.
    if (linked.status === 'EXTERNAL_PROVIDER' && Object.entries(attrs).some(([k, v]) => linked.attributes[k] !== v)) {
      const attributes = { ...linked.attributes, ...attrs };
      await ctx.repo.updateUser(pool.id, linked.id, { attributes: JSON.stringify(attributes), updated_at: now });
      return { ...linked, attributes };
    }
    return linked;
  }
  const sub = crypto.randomUUID();
  const pre = await preSignUp(ctx, pool, 'PreSignUp_ExternalProvider', { userName: username, clientId }, { userAttributes: { ...attrs } });
  if (pre.autoVerifyEmail && attrs.email) attrs.email_verified = 'true';
  if (pre.autoVerifyPhone && attrs.phone_number) attrs.phone_number_verified = 'true';
  const attributes: Attributes = { ...attrs, sub };
  await ctx.repo.createUser({
    id: sub, pool_id: pool.id, username, username_key: usernameKey(pool, username), email_key: null, phone_key: null, preferred_username_key: null,
    status: 'EXTERNAL_PROVIDER', enabled: 1, attributes: JSON.stringify(attributes), password: null, password_changed_at: null,
    temp_password_expires_at: null, mfa: '{}', failed_attempts: 0, locked_until: 0, created_at: now, updated_at: now,
  });
  try {
    await ctx.repo.linkIdentity({ pool_id: pool.id, provider_name: provider.name, provider_user_id: subject, user_id: sub, created_at: now });
  } catch (e) {
    // Another sign-in of the same subject won the race: use its user.
    await ctx.repo.deleteUser(pool.id, sub);
    const winner = await ctx.repo.findIdentity(pool.id, provider.name, subject);
    const row = winner && (await ctx.repo.getUser(pool.id, winner.user_id));
    if (!row) throw e;
    return parseUser(row);
  }
  const user = parseUser((await ctx.repo.getUser(pool.id, sub))!);
  await writeIdentities(ctx, pool, user);
  return parseUser((await ctx.repo.getUser(pool.id, sub))!);
}

/** AdminLinkProviderForUser: a provider's subject signs in as an existing user from now on. */
export async function linkProvider(ctx: Ctx, pool: LoadedPool, user: User, providerName: string, subject: string) {
  const provider = await loadProvider(ctx, pool.id, providerName);
  const existing = await ctx.repo.findIdentity(pool.id, provider.name, subject);
  if (existing) {
    const other = await ctx.repo.getUser(pool.id, existing.user_id);
    // A federated user already made for the subject gives way to the link, as in Cognito's merge.
    if (other && other.status === 'EXTERNAL_PROVIDER' && other.id !== user.id) {
      await ctx.repo.unlinkIdentity(pool.id, provider.name, subject);
      await ctx.repo.deleteUser(pool.id, other.id);
    } else if (existing.user_id !== user.id) throw new InvalidParameterException('The source user is already linked to another user.');
    else return;
  }
  await ctx.repo.linkIdentity({ pool_id: pool.id, provider_name: provider.name, provider_user_id: subject, user_id: user.id, created_at: ctx.now() });
  await writeIdentities(ctx, pool, user);
}

/** AdminDisableProviderForUser: the link ends; a federated-only user is disabled with it. */
export async function disableProvider(ctx: Ctx, pool: LoadedPool, providerName: string, subject: string) {
  const link = await ctx.repo.findIdentity(pool.id, providerName, subject);
  if (!link) throw new ResourceNotFoundException('No user is linked to that provider subject.');
  await ctx.repo.unlinkIdentity(pool.id, providerName, subject);
  const row = await ctx.repo.getUser(pool.id, link.user_id);
  if (!row) return;
  const user = parseUser(row);
  await writeIdentities(ctx, pool, user);
  if (user.status === 'EXTERNAL_PROVIDER') {
    await ctx.repo.updateUser(pool.id, user.id, { enabled: 0, updated_at: ctx.now() });
    await ctx.repo.revokeUserTokens(user.id, ctx.now());
  }
}
