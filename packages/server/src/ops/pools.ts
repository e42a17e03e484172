// User pools and app clients: CreateUserPool, DescribeUserPool, UpdateUserPool, DeleteUserPool,
// ListUserPools, AddCustomAttributes and the *UserPoolClient operations. All are admin (SigV4-signed).
import { op } from '../wire/operations.js';
import { ConcurrentModificationException, InvalidParameterException } from '../errors.js';
import type { Ctx } from '../domain/context.js';
import { parsePool, parseClient, type LoadedPool } from '../domain/pools.js';
import { generatePoolKey } from '../domain/tokens.js';
import {
  addCustomAttributes, clientConfig, createPoolConfig, describeClient, describePool, newClientId, newClientSecret, newPoolId, seconds, updatePoolConfig,
} from '../domain/pool-config.js';
import type { PoolConfig } from '../domain/pools.js';
import { pageCursor, pageToken, poolClientOf, poolOf } from './common.js';
import { checkOAuthSettings } from '../domain/oauth.js';
import { TargetError } from '../domain/triggers/runtime.js';

/**
 * Each trigger must be callable: a URL, a module in GATEHOUSE_TRIGGERS_DIR, or an ARN. An ARN that
 * GATEHOUSE_TRIGGERS does not map is taken (infrastructure code names real Lambda functions) and
 * logged; the trigger fails with UnexpectedLambdaException when it is due.
 */
function checkTriggers(ctx: Ctx, poolId: string | undefined, lambdaConfig: object | undefined) {
  try {
    const { unmapped } = ctx.triggers.check(lambdaConfig as Record<string, unknown> | undefined);
    for (const arn of unmapped) ctx.log.warn('trigger ARN not mapped by GATEHOUSE_TRIGGERS: the trigger will fail when it is due', { poolId, arn });
  } catch (e) {
    if (e instanceof TargetError) throw new InvalidParameterException(`Invalid LambdaConfig: ${e.message}`);
    throw e;
  }
}

/**
 * Rewrites a pool's settings from their current value, only if nobody changed them meanwhile:
 * UpdateUserPool and AddCustomAttributes racing each other must not lose either write.
 */
async function changePool(ctx: Ctx, poolId: string, change: (pool: LoadedPool) => { name?: string; config: PoolConfig }) {
  // Each round one writer wins, and a loser's next read is fresh (its failed write cleared its cache).
  for (let attempt = 0; attempt < 20; attempt++) {
    const pool = await poolOf(ctx, { UserPoolId: poolId });
    const next = change(pool);
    if (await ctx.repo.updatePool(pool.id, { name: next.name ?? pool.name, config: JSON.stringify(next.config), updated_at: ctx.now() }, pool.row.config)) return;
  }
  throw new ConcurrentModificationException('The user pool was changed by another request at the same time; try again.');
}

op('CreateUserPool', async (ctx, input) => {
  const config = createPoolConfig(input);
  const id = newPoolId(ctx.config.region);
  checkTriggers(ctx, id, config.LambdaConfig);
  const now = ctx.now();
  const row = { id, name: input.PoolName, config: JSON.stringify(config), created_at: now, updated_at: now };
  await ctx.repo.createPool(row, await generatePoolKey(ctx.secrets, id, now));
  ctx.log.info('user pool created', { poolId: id });
  return { UserPool: describePool(parsePool(row), ctx.config.region, 0) };
});

op('DescribeUserPool', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  return { UserPool: describePool(pool, ctx.config.region, await ctx.repo.countUsers(pool.id)) };
});

op('UpdateUserPool', async (ctx, input) => {
  await changePool(ctx, input.UserPoolId, (pool) => {
    const config = updatePoolConfig(input, pool.config);
    checkTriggers(ctx, pool.id, config.LambdaConfig);
    return { name: input.PoolName, config };
  });
  return {};
});

op('AddCustomAttributes', async (ctx, input) => {
  await changePool(ctx, input.UserPoolId, (pool) => ({ config: { ...pool.config, Schema: addCustomAttributes(pool.config.Schema, input.CustomAttributes) } }));
  return {};
});

op('DeleteUserPool', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  if (pool.config.DeletionProtection === 'ACTIVE') {
    throw new InvalidParameterException('The user pool cannot be deleted because deletion protection is activated. Deletion protection must be inactivated first.');
  }
  await ctx.repo.deletePool(pool.id);
  ctx.tokens.forget(pool.id);
  ctx.log.info('user pool deleted', { poolId: pool.id });
  return {};
});

op('ListUserPools', async (ctx, input) => {
  const page = await ctx.repo.listPools(input.MaxResults, pageCursor(input.NextToken));
  const UserPools = page.items.map((row) => {
    const pool = parsePool(row);
    return { Id: pool.id, Name: pool.name, LambdaConfig: pool.config.LambdaConfig ?? {}, LastModifiedDate: seconds(row.updated_at), CreationDate: seconds(row.created_at) };
  });
  return { UserPools, NextToken: pageToken(page.next) };
});

op('CreateUserPoolClient', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const name = input.ClientName;
  const generate = input.GenerateSecret ?? false;
  const given = input.ClientSecret;
  if (generate && given !== undefined) throw new InvalidParameterException('You cannot specify both GenerateSecret as true and provide a ClientSecret value.');
  const config = clientConfig(input, pool, name, 'creating');
  const id = newClientId();
  const secret = given ?? (generate ? newClientSecret() : undefined);
  await checkOAuthSettings(ctx, pool, config, secret !== undefined);
  const now = ctx.now();
  const row = {
    id, pool_id: pool.id, name, config: JSON.stringify(config), created_at: now, updated_at: now,
    secret: secret === undefined ? null : ctx.secrets.encrypt(secret, `client-secret:${id}`),
  };
  await ctx.repo.createClient(row);
  return { UserPoolClient: describeClient(parseClient(ctx, row)) };
});

op('DescribeUserPoolClient', async (ctx, input) => {
  const { client } = await poolClientOf(ctx, input);
  return { UserPoolClient: describeClient(client) };
});

op('UpdateUserPoolClient', async (ctx, input) => {
  const { pool, client } = await poolClientOf(ctx, input);
  const name = input.ClientName ?? client.name;
  // As in Cognito, settings the request leaves out go back to their defaults; the secret stays.
  const config = clientConfig(input, pool, name, 'updating');
  await checkOAuthSettings(ctx, pool, config, client.secret !== null);
  const now = ctx.now();
  const patch = { name, config: JSON.stringify(config), updated_at: now };
  await ctx.repo.updateClient(client.id, patch);
  return { UserPoolClient: describeClient(parseClient(ctx, { ...client.row, ...patch })) };
});

op('DeleteUserPoolClient', async (ctx, input) => {
  const { client } = await poolClientOf(ctx, input);
  await ctx.repo.deleteClient(client.id);
  return {};
});

op('ListUserPoolClients', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const page = await ctx.repo.listClients(pool.id, input.MaxResults ?? 60, pageCursor(input.NextToken));
  const UserPoolClients = page.items.map((c) => ({ ClientId: c.id, UserPoolId: c.pool_id, ClientName: c.name }));
  return { UserPoolClients, NextToken: pageToken(page.next) };
});
