// External identity providers of a pool, and linking their users to the pool's own.
import { op } from '../wire/operations.js';
import { DuplicateProviderException, InvalidParameterException, ResourceNotFoundException } from '../errors.js';
import { UniqueViolation } from '../storage/repository.js';
import { seconds } from '../domain/pool-config.js';
import { adminFindUser } from '../domain/users.js';
import {
  attributeMapping, disableProvider, linkProvider, loadProvider, parseProvider, providerByIdentifier, providerDetails, sealDetails,
  type Provider, type ProviderType,
} from '../domain/federation.js';
import { fetchSamlMetadata, parseSamlMetadata } from '../domain/saml-metadata.js';
import { pageCursor, pageToken, poolOf } from './common.js';
import type { Ctx } from '../domain/context.js';
import type { IdentityProviderType, ProviderUserIdentifierType } from '../shapes.js';

const describe = (p: Provider): IdentityProviderType => ({
  UserPoolId: p.poolId, ProviderName: p.name, ProviderType: p.type, ProviderDetails: p.details, AttributeMapping: p.mapping,
  IdpIdentifiers: p.identifiers, LastModifiedDate: seconds(p.updatedAt), CreationDate: seconds(p.createdAt),
});

/** Details as given, plus (SAML) the metadata document fetched from MetadataURL, kept with them. */
async function details(ctx: Ctx, type: ProviderType, given: Record<string, string>) {
  const d = providerDetails(type, given);
  if (type === 'SAML' && d.MetadataURL) d.MetadataFile = await fetchSamlMetadata(d.MetadataURL);
  if (type === 'SAML') parseSamlMetadata(d.MetadataFile);
  return d;
}

function identifiers(input: { IdpIdentifiers?: string[] }): string[] {
  const ids = input.IdpIdentifiers ?? [];
  if (new Set(ids).size !== ids.length) throw new InvalidParameterException('IdpIdentifiers must be unique.');
  return ids;
}

async function identifiersFree(ctx: Ctx, poolId: string, name: string, ids: string[]) {
  for (const id of ids) {
    const holder = await providerByIdentifier(ctx, poolId, id);
    if (holder && holder.name !== name) throw new InvalidParameterException(`The identifier ${id} is already used by ${holder.name}.`);
  }
}

op('CreateIdentityProvider', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const name = input.ProviderName;
  const type = input.ProviderType as ProviderType;
  if (name === 'COGNITO' || name === 'Cognito') throw new InvalidParameterException(`${name} is reserved.`);
  if (type !== 'SAML' && type !== 'OIDC' && name !== type) throw new InvalidParameterException(`A ${type} provider must be named ${type}.`);
  const d = await details(ctx, type, input.ProviderDetails ?? {});
  const ids = identifiers(input);
  await identifiersFree(ctx, pool.id, name, ids);
  const now = ctx.now();
  const row = {
    pool_id: pool.id, name, type, details: sealDetails(ctx, pool.id, name, d), attribute_mapping: JSON.stringify(attributeMapping(pool, type, input.AttributeMapping)),
    idp_identifiers: JSON.stringify(ids), created_at: now, updated_at: now,
  };
  try {
    await ctx.repo.createIdentityProvider(row);
  } catch (e) {
    if (e instanceof UniqueViolation) throw new DuplicateProviderException(`A provider with the name ${name} already exists in this user pool.`);
    throw e;
  }
  return { IdentityProvider: describe(parseProvider(ctx, row)) };
});

op('DescribeIdentityProvider', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  return { IdentityProvider: describe(await loadProvider(ctx, pool.id, input.ProviderName)) };
});

op('UpdateIdentityProvider', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const p = await loadProvider(ctx, pool.id, input.ProviderName);
  // What the request names changes; the rest stays (details are merged, as Cognito does).
  const given = input.ProviderDetails;
  const d = given ? await details(ctx, p.type, { ...p.details, ...given, ...(given.MetadataURL ? { MetadataFile: '' } : given.MetadataFile ? { MetadataURL: '' } : {}) }) : p.details;
  for (const k of Object.keys(d)) if (d[k] === '') delete d[k];
  const ids = input.IdpIdentifiers ? identifiers(input) : p.identifiers;
  await identifiersFree(ctx, pool.id, p.name, ids);
  const mapping = input.AttributeMapping ? attributeMapping(pool, p.type, { ...p.mapping, ...input.AttributeMapping }) : p.mapping;
  const now = ctx.now();
  await ctx.repo.updateIdentityProvider(pool.id, p.name, { details: sealDetails(ctx, pool.id, p.name, d), attribute_mapping: JSON.stringify(mapping), idp_identifiers: JSON.stringify(ids), updated_at: now });
  return { IdentityProvider: describe({ ...p, details: d, mapping, identifiers: ids, updatedAt: now }) };
});

op('DeleteIdentityProvider', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const name = input.ProviderName;
  if (!(await ctx.repo.deleteIdentityProvider(pool.id, name))) throw new ResourceNotFoundException(`Identity provider ${name} does not exist.`);
  return {};
});

op('ListIdentityProviders', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const page = await ctx.repo.listIdentityProviders(pool.id, input.MaxResults || 60, pageCursor(input.NextToken));
  return {
    Providers: page.items.map((r) => ({ ProviderName: r.name, ProviderType: r.type as ProviderType, LastModifiedDate: seconds(r.updated_at), CreationDate: seconds(r.created_at) })),
    ...(page.next ? { NextToken: pageToken(page.next) } : {}),
  };
});

op('GetIdentityProviderByIdentifier', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const p = await providerByIdentifier(ctx, pool.id, input.IdpIdentifier);
  if (!p) throw new ResourceNotFoundException('No identity provider has that identifier.');
  return { IdentityProvider: describe(p) };
});

/** Cognito's ProviderUserIdentifierType for a provider's user: the subject (Cognito_Subject) or a mapped attribute's value. */
function sourceSubject(o: ProviderUserIdentifierType, what: string): { provider: string; subject: string } {
  if (!o.ProviderName || !o.ProviderAttributeValue) throw new InvalidParameterException(`${what} needs ProviderName and ProviderAttributeValue.`);
  if ((o.ProviderAttributeName ?? 'Cognito_Subject') !== 'Cognito_Subject') throw new InvalidParameterException('Only ProviderAttributeName Cognito_Subject is supported.');
  return { provider: o.ProviderName, subject: o.ProviderAttributeValue };
}

op('AdminLinkProviderForUser', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const dest = input.DestinationUser;
  if (dest.ProviderName !== 'Cognito' || !dest.ProviderAttributeValue) throw new InvalidParameterException('DestinationUser must name a Cognito user (ProviderName Cognito).');
  const user = await adminFindUser(ctx, pool, dest.ProviderAttributeValue);
  if (user.status === 'EXTERNAL_PROVIDER') throw new InvalidParameterException('The destination user must be a user of the pool, not a federated one.');
  const source = sourceSubject(input.SourceUser, 'SourceUser');
  await linkProvider(ctx, pool, user, source.provider, source.subject);
  return {};
});

op('AdminDisableProviderForUser', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const who = sourceSubject(input.User, 'User');
  await disableProvider(ctx, pool, who.provider, who.subject);
  return {};
});
