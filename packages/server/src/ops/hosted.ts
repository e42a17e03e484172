// The hosted sign-in's admin operations: resource servers (client_credentials scopes), UI
// customization of the managed login, and the pool's domain prefix.
import { op } from '../wire/operations.js';
import { InvalidParameterException, ResourceNotFoundException } from '../errors.js';
import { UniqueViolation } from '../storage/repository.js';
import { loadClient } from '../domain/pools.js';
import { seconds } from '../domain/pool-config.js';
import type { ResourceServerScopeType, ResourceServerType, UICustomizationType } from '../shapes.js';
import { pageCursor, pageToken, poolOf } from './common.js';
import type { Ctx } from '../domain/context.js';

type Scope = ResourceServerScopeType;

function scopesOf(input: { Scopes?: Scope[] }): Scope[] {
  const raw = input.Scopes ?? [];
  const names = new Set<string>();
  for (const s of raw) {
    if (names.has(s.ScopeName)) throw new InvalidParameterException(`Duplicate scope name ${s.ScopeName}.`);
    names.add(s.ScopeName);
  }
  return raw.map((s) => ({ ScopeName: s.ScopeName, ScopeDescription: s.ScopeDescription }));
}

const describeServer = (r: { pool_id: string; identifier: string; name: string; scopes: string }): ResourceServerType => ({
  UserPoolId: r.pool_id, Identifier: r.identifier, Name: r.name, Scopes: JSON.parse(r.scopes) as Scope[],
});

op('CreateResourceServer', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const row = { pool_id: pool.id, identifier: input.Identifier, name: input.Name, scopes: JSON.stringify(scopesOf(input)) };
  try {
    await ctx.repo.createResourceServer(row);
  } catch (e) {
    if (e instanceof UniqueViolation) throw new InvalidParameterException(`${row.identifier} already exists in pool ${pool.id}.`);
    throw e;
  }
  return { ResourceServer: describeServer(row) };
});

async function serverOf(ctx: Ctx, input: { UserPoolId: string; Identifier: string }) {
  const pool = await poolOf(ctx, input);
  const row = await ctx.repo.getResourceServer(pool.id, input.Identifier);
  if (!row) throw new ResourceNotFoundException(`Resource server ${input.Identifier} does not exist.`);
  return { pool, row };
}

op('DescribeResourceServer', async (ctx, input) => ({ ResourceServer: describeServer((await serverOf(ctx, input)).row) }));

op('UpdateResourceServer', async (ctx, input) => {
  const { pool, row } = await serverOf(ctx, input);
  // As in Cognito, the request replaces the server: scopes left out are gone.
  const next = { ...row, name: input.Name, scopes: JSON.stringify(scopesOf(input)) };
  await ctx.repo.updateResourceServer(pool.id, row.identifier, { name: next.name, scopes: next.scopes });
  return { ResourceServer: describeServer(next) };
});

op('DeleteResourceServer', async (ctx, input) => {
  const { pool, row } = await serverOf(ctx, input);
  await ctx.repo.deleteResourceServer(pool.id, row.identifier);
  return {};
});

op('ListResourceServers', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const page = await ctx.repo.listResourceServers(pool.id, input.MaxResults || 50, pageCursor(input.NextToken));
  return { ResourceServers: page.items.map(describeServer), ...(page.next ? { NextToken: pageToken(page.next) } : {}) };
});

// ---------------------------------------------------------------- UI customization

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47]);
const JPEG = Buffer.from([0xff, 0xd8, 0xff]);

op('SetUICustomization', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const clientId = input.ClientId ?? 'ALL';
  if (clientId !== 'ALL') {
    const { client } = await loadClient(ctx, clientId);
    if (client.poolId !== pool.id) throw new ResourceNotFoundException(`User pool client ${clientId} does not exist.`);
  }
  const css = input.CSS ?? null;
  const image = input.ImageFile ?? null;
  if (image !== null) {
    const bytes = Buffer.from(image, 'base64');
    // The pages show it as a PNG or JPEG image and nothing else.
    if (!bytes.subarray(0, 4).equals(PNG) && !bytes.subarray(0, 3).equals(JPEG)) throw new InvalidParameterException('ImageFile must be a PNG or JPEG image.');
  }
  // Markup in the CSS could end the style element: refuse it rather than rewrite it.
  if (css && /<|>/.test(css)) throw new InvalidParameterException('CSS must not contain < or >.');
  const now = ctx.now();
  const old = await ctx.repo.getUiCustomization(pool.id, clientId);
  await ctx.repo.putUiCustomization({ pool_id: pool.id, client_id: clientId, css, image, created_at: old?.created_at ?? now, updated_at: now });
  return { UICustomization: describeUi(ctx, pool.id, clientId, { css, image, created_at: old?.created_at ?? now, updated_at: now }) };
});

op('GetUICustomization', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const clientId = input.ClientId ?? 'ALL';
  const row = (await ctx.repo.getUiCustomization(pool.id, clientId)) ?? (clientId !== 'ALL' ? await ctx.repo.getUiCustomization(pool.id, 'ALL') : undefined);
  return { UICustomization: row ? describeUi(ctx, pool.id, clientId, row) : { UserPoolId: pool.id, ClientId: clientId } };
});

function describeUi(ctx: Ctx, poolId: string, clientId: string, r: { css: string | null; image: string | null; created_at: number; updated_at: number }): UICustomizationType {
  return {
    UserPoolId: poolId, ClientId: clientId, CSSVersion: String(r.updated_at),
    ...(r.css !== null ? { CSS: r.css } : {}),
    ...(r.image !== null ? { ImageUrl: `${ctx.config.publicUrl}/${poolId}/ui/${clientId}/logo` } : {}),
    CreationDate: seconds(r.created_at), LastModifiedDate: seconds(r.updated_at),
  };
}

// ---------------------------------------------------------------- domain prefix

op('CreateUserPoolDomain', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const domain = input.Domain;
  if (input.CustomDomainConfig) throw new InvalidParameterException('Custom domains (with a certificate) are not supported; use a domain prefix and GATEHOUSE_TLS_CERT.');
  if (await ctx.repo.getDomainOfPool(pool.id)) throw new InvalidParameterException(`User pool ${pool.id} already has a domain configured.`);
  try {
    await ctx.repo.createPoolDomain({ domain, pool_id: pool.id, created_at: ctx.now() });
  } catch (e) {
    if (e instanceof UniqueViolation) throw new InvalidParameterException('Domain already associated with another user pool.');
    throw e;
  }
  return { ManagedLoginVersion: 1 };
});

op('DescribeUserPoolDomain', async (ctx, input) => {
  const row = await ctx.repo.getPoolDomain(input.Domain);
  if (!row) return { DomainDescription: {} };
  return {
    DomainDescription: {
      UserPoolId: row.pool_id, AWSAccountId: '000000000000', Domain: row.domain, Status: 'ACTIVE', Version: '1', ManagedLoginVersion: 1,
      CloudFrontDistribution: new URL(ctx.config.publicUrl).host,
    },
  };
});

op('DeleteUserPoolDomain', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  if (!(await ctx.repo.deletePoolDomain(input.Domain, pool.id))) throw new InvalidParameterException('No such domain or user pool exists.');
  return {};
});
