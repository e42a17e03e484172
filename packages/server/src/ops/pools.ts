// User pools and app clients: CreateUserPool, DescribeUserPool, UpdateUserPool, DeleteUserPool,
// ListUserPools and the *UserPoolClient operations. All are admin (SigV4-signed) operations.
import { adminOp } from '../wire/operations.js';
import { InvalidParameterException } from '../errors.js';
import { parsePool, parseClient } from '../domain/pools.js';
import { generatePoolKey } from '../domain/tokens.js';
import {
  clientConfig, createPoolConfig, describeClient, describePool, nameRule, newClientId, newClientSecret, newPoolId,
  pageCursor, pageLimit, pageToken, seconds, updatePoolConfig,
} from '../domain/pool-config.js';
import { poolClientOf, poolOf } from './common.js';
import { TargetError } from '../domain/triggers/runtime.js';
import type { Ctx } from '../domain/context.js';

/**
 * Each trigger must be callable: a URL, a module in GATEHOUSE_TRIGGERS_DIR, or an ARN. An ARN that
 * GATEHOUSE_TRIGGERS does not map is taken (infrastructure code names real Lambda functions) and
 * logged; the trigger fails with UnexpectedLambdaException when it is due.
 */
function checkTriggers(ctx: Ctx, poolId: string | undefined, lambdaConfig: Record<string, unknown> | undefined) {
  try {
    const { unmapped } = ctx.triggers.check(lambdaConfig);
    for (const arn of unmapped) ctx.log.warn('trigger ARN not mapped by GATEHOUSE_TRIGGERS: the trigger will fail when it is due', { poolId, arn });
  } catch (e) {
    if (e instanceof TargetError) throw new InvalidParameterException(`Invalid LambdaConfig: ${e.message}`);
    throw e;
  }
}

adminOp('CreateUserPool', async (ctx, input) => {
  const name = input.str('PoolName', nameRule);
  const config = createPoolConfig(input);
  const id = newPoolId(ctx.config.region);
  checkTriggers(ctx, id, config.LambdaConfig);
  const now = ctx.now();
  const row = { id, name, config: JSON.stringify(config), created_at: now, updated_at: now };
  await ctx.repo.createPool(row, await generatePoolKey(ctx.secrets, id, now));
  ctx.log.info('user pool created', { poolId: id });
  return { UserPool: describePool(parsePool(row), ctx.config.region) };
});

adminOp('DescribeUserPool', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  return { UserPool: describePool(pool, ctx.config.region) };
});

adminOp('UpdateUserPool', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const name = input.optStr('PoolName', { min: 1, ...nameRule }) ?? pool.name;
  const config = updatePoolConfig(input, pool.config);
  checkTriggers(ctx, pool.id, config.LambdaConfig);
  await ctx.repo.updatePool(pool.id, { name, config: JSON.stringify(config), updated_at: ctx.now() });
  return {};
});

adminOp('DeleteUserPool', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  if (pool.config.DeletionProtection === 'ACTIVE') {
    throw new InvalidParameterException('The user pool cannot be deleted because deletion protection is activated. Deletion protection must be inactivated first.');
  }
  await ctx.repo.deletePool(pool.id);
  ctx.tokens.forget(pool.id);
  ctx.log.info('user pool deleted', { poolId: pool.id });
  return {};
});

adminOp('ListUserPools', async (ctx, input) => {
  const limit = pageLimit(input, 'MaxResults', { min: 1, def: 60, required: true });
  const page = await ctx.repo.listPools(limit, pageCursor(input));
  const UserPools = page.items.map((row) => {
    const pool = parsePool(row);
    return { Id: pool.id, Name: pool.name, LambdaConfig: pool.config.LambdaConfig ?? {}, LastModifiedDate: seconds(row.updated_at), CreationDate: seconds(row.created_at) };
  });
  return { UserPools, NextToken: pageToken(page.next) };
});

adminOp('CreateUserPoolClient', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const name = input.str('ClientName', nameRule);
  const generate = input.optBool('GenerateSecret') ?? false;
  const given = input.optStr('ClientSecret', { min: 24, max: 64, pattern: /^[\w+]+$/ });
  if (generate && given !== undefined) throw new InvalidParameterException('You cannot specify both GenerateSecret as true and provide a ClientSecret value.');
  const config = clientConfig(input, pool, name, 'creating');
  const id = newClientId();
  const secret = given ?? (generate ? newClientSecret() : undefined);
  const now = ctx.now();
  const row = {
    id, pool_id: pool.id, name, config: JSON.stringify(config), created_at: now, updated_at: now,
    secret: secret === undefined ? null : ctx.secrets.encrypt(secret, `client-secret:${id}`),
  };
  await ctx.repo.createClient(row);
  return { UserPoolClient: describeClient(parseClient(ctx, row)) };
});

adminOp('DescribeUserPoolClient', async (ctx, input) => {
  const { client } = await poolClientOf(ctx, input);
  return { UserPoolClient: describeClient(client) };
});

adminOp('UpdateUserPoolClient', async (ctx, input) => {
  const { pool, client } = await poolClientOf(ctx, input);
  const name = input.optStr('ClientName', { min: 1, ...nameRule }) ?? client.name;
  // As in Cognito, settings the request leaves out go back to their defaults; the secret stays.
  const config = clientConfig(input, pool, name, 'updating');
  const now = ctx.now();
  const patch = { name, config: JSON.stringify(config), updated_at: now };
  await ctx.repo.updateClient(client.id, patch);
  return { UserPoolClient: describeClient(parseClient(ctx, { ...client.row, ...patch })) };
});

adminOp('DeleteUserPoolClient', async (ctx, input) => {
  const { client } = await poolClientOf(ctx, input);
  await ctx.repo.deleteClient(client.id);
  return {};
});

adminOp('ListUserPoolClients', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const limit = pageLimit(input, 'MaxResults', { min: 1, def: 60 });
  const page = await ctx.repo.listClients(pool.id, limit, pageCursor(input));
  const UserPoolClients = page.items.map((c) => ({ ClientId: c.id, UserPoolId: c.pool_id, ClientName: c.name }));
  return { UserPoolClients, NextToken: pageToken(page.next) };
});
