// External identity providers of a pool, and linking their users to the pool's own.
import { adminOp } from '../wire/operations.js';
import { DuplicateProviderException, InvalidParameterException, ResourceNotFoundException } from '../errors.js';
import { UniqueViolation } from '../storage/repository.js';
import { pageCursor, pageLimit, pageToken, seconds } from '../domain/pool-config.js';
import { adminFindUser } from '../domain/users.js';
import {
  attributeMapping, disableProvider, linkProvider, loadProvider, parseProvider, providerByIdentifier, providerDetails, sealDetails,
  PROVIDER_TYPES, type Provider, type ProviderType,
} from '../domain/federation.js';
import { fetchSamlMetadata, parseSamlMetadata } from '../domain/saml-metadata.js';
import { poolOf } from './common.js';
import type { Input } from '../wire/input.js';
import type { Ctx } from '../domain/context.js';

const describe = (p: Provider) => ({
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

function identifiers(input: Input): string[] {
  const ids = input.optStrList('IdpIdentifiers') ?? [];
  if (new Set(ids).size !== ids.length) throw new InvalidParameterException('IdpIdentifiers must be unique.');
  return ids;
}

async function identifiersFree(ctx: Ctx, poolId: string, name: string, ids: string[]) {
  for (const id of ids) {
    const holder = await providerByIdentifier(ctx, poolId, id);
    if (holder && holder.name !== name) throw new InvalidParameterException(`The identifier ${id} is already used by ${holder.name}.`);
  }
}

adminOp('CreateIdentityProvider', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const name = input.str('ProviderName');
  const type = input.str('ProviderType', { oneOf: PROVIDER_TYPES }) as ProviderType;
  if (name === 'COGNITO' || name === 'Cognito') throw new InvalidParameterException(`${name} is reserved.`);
  if (type !== 'SAML' && type !== 'OIDC' && name !== type) throw new InvalidParameterException(`A ${type} provider must be named ${type}.`);
  const d = await details(ctx, type, input.optMap('ProviderDetails') ?? {});
  const ids = identifiers(input);
  await identifiersFree(ctx, pool.id, name, ids);
  const now = ctx.now();
  const row = {
    pool_id: pool.id, name, type, details: sealDetails(ctx, pool.id, name, d), attribute_mapping: JSON.stringify(attributeMapping(pool, type, input.optMap('AttributeMapping'))),
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

adminOp('DescribeIdentityProvider', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  return { IdentityProvider: describe(await loadProvider(ctx, pool.id, input.str('ProviderName'))) };
});

adminOp('UpdateIdentityProvider', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const p = await loadProvider(ctx, pool.id, input.str('ProviderName'));
  // What the request names changes; the rest stays (details are merged, as Cognito does).
  const given = input.optMap('ProviderDetails');
  const d = given ? await details(ctx, p.type, { ...p.details, ...given, ...(given.MetadataURL ? { MetadataFile: '' } : given.MetadataFile ? { MetadataURL: '' } : {}) }) : p.details;
  for (const k of Object.keys(d)) if (d[k] === '') delete d[k];
  const ids = input.has('IdpIdentifiers') ? identifiers(input) : p.identifiers;
  await identifiersFree(ctx, pool.id, p.name, ids);
  const mapping = input.has('AttributeMapping') ? attributeMapping(pool, p.type, { ...p.mapping, ...input.optMap('AttributeMapping') }) : p.mapping;
  const now = ctx.now();
  await ctx.repo.updateIdentityProvider(pool.id, p.name, { details: sealDetails(ctx, pool.id, p.name, d), attribute_mapping: JSON.stringify(mapping), idp_identifiers: JSON.stringify(ids), updated_at: now });
  return { IdentityProvider: describe({ ...p, details: d, mapping, identifiers: ids, updatedAt: now }) };
});

adminOp('DeleteIdentityProvider', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const name = input.str('ProviderName');
  if (!(await ctx.repo.deleteIdentityProvider(pool.id, name))) throw new ResourceNotFoundException(`Identity provider ${name} does not exist.`);
  return {};
});

adminOp('ListIdentityProviders', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const page = await ctx.repo.listIdentityProviders(pool.id, pageLimit(input, 'MaxResults', { min: 1, def: 60 }), pageCursor(input));
  return {
    Providers: page.items.map((r) => ({ ProviderName: r.name, ProviderType: r.type, LastModifiedDate: seconds(r.updated_at), CreationDate: seconds(r.created_at) })),
    ...(page.next ? { NextToken: pageToken(page.next) } : {}),
  };
});

adminOp('GetIdentityProviderByIdentifier', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const p = await providerByIdentifier(ctx, pool.id, input.str('IdpIdentifier'));
  if (!p) throw new ResourceNotFoundException('No identity provider has that identifier.');
  return { IdentityProvider: describe(p) };
});

/** Cognito's ProviderUserIdentifierType for a provider's user: the subject (Cognito_Subject) or a mapped attribute's value. */
function sourceSubject(o: Input | undefined, what: string): { provider: string; subject: string } {
  if (!o) throw new InvalidParameterException(`${what} is required.`);
  const provider = o.str('ProviderName');
  const attr = o.optStr('ProviderAttributeName') ?? 'Cognito_Subject';
  if (attr !== 'Cognito_Subject') throw new InvalidParameterException('Only ProviderAttributeName Cognito_Subject is supported.');
  return { provider, subject: o.str('ProviderAttributeValue') };
}

adminOp('AdminLinkProviderForUser', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const dest = input.optObj('DestinationUser');
  if (!dest || dest.optStr('ProviderName') !== 'Cognito') throw new InvalidParameterException('DestinationUser must name a Cognito user (ProviderName Cognito).');
  const user = await adminFindUser(ctx, pool, dest.str('ProviderAttributeValue'));
  if (user.status === 'EXTERNAL_PROVIDER') throw new InvalidParameterException('The destination user must be a user of the pool, not a federated one.');
  const source = sourceSubject(input.optObj('SourceUser'), 'SourceUser');
  await linkProvider(ctx, pool, user, source.provider, source.subject);
  return {};
});

adminOp('AdminDisableProviderForUser', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const who = sourceSubject(input.optObj('User'), 'User');
  await disableProvider(ctx, pool, who.provider, who.subject);
  return {};
});
