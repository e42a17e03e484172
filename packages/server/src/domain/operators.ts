// The admin console's operators: a system user pool (created at first start by whichever process
// gets there first), its app client for the console, and the `operators` group whose members may
// call the admin operations with their access token. Also what the audit log records of each call.
import crypto from 'node:crypto';
import type { Insertable } from 'kysely';
import { AccessDeniedException, InvalidParameterException, NotAuthorizedException } from '../errors.js';
import { UniqueViolation } from '../storage/repository.js';
import type { AuditLogTable } from '../storage/schema.js';
import type { CreateUserPoolClientRequest, CreateUserPoolRequest } from '../shapes.js';
import type { Ctx } from './context.js';
import { parsePool } from './pools.js';
import { parseUser } from './users.js';
import { generatePoolKey } from './tokens.js';
import { clientConfig, createPoolConfig, newClientId, newPoolId } from './pool-config.js';

export const CONSOLE_SETTING = 'console';
export const OPERATORS_GROUP = 'operators';

/** What the console setting names: the system pool and the console's app client in it. */
export interface ConsoleIds { poolId: string; clientId: string }

/** An operator signed in to the console, as the audit log names them. */
export interface Operator { sub: string; login: string }

/** The system pool: email logins, invitation only, a stronger password policy, and not deletable by accident. */
export function operatorPoolInput(publicUrl: string): CreateUserPoolRequest {
  return {
    PoolName: 'gatehouse-operators',
    UsernameAttributes: ['email'],
    AutoVerifiedAttributes: ['email'],
    Schema: [{ Name: 'email', AttributeDataType: 'String', Required: true, Mutable: true }],
    Policies: { PasswordPolicy: { MinimumLength: 12, RequireUppercase: true, RequireLowercase: true, RequireNumbers: true, RequireSymbols: false, TemporaryPasswordValidityDays: 7 } },
    AdminCreateUserConfig: {
      AllowAdminCreateUserOnly: true,
      InviteMessageTemplate: {
        EmailSubject: 'Your Gatehouse console account',
        // Cognito's {username} of an email-login pool is the user's sub: they sign in with the address this went to.
        EmailMessage: `You are invited to the Gatehouse console at ${publicUrl}/console/ . Sign in with this email address and the temporary password {####} within 7 days; you will then choose your own password. (Your user name is {username}.)`,
      },
    },
    // Operators do not reset their own password: another operator does (or the CLI invites them again).
    AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'admin_only', Priority: 1 }] },
    DeletionProtection: 'ACTIVE',
  };
}

/**
 * The console's app client: SRP, choice-based sign-in (passkeys, once the pool allows them) and
 * refresh; short-lived access tokens, revocable sessions.
 */
export const CONSOLE_CLIENT_INPUT: Omit<CreateUserPoolClientRequest, 'UserPoolId'> = {
  ClientName: 'gatehouse-console',
  ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_USER_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
  AccessTokenValidity: 10, IdTokenValidity: 10, RefreshTokenValidity: 8,
  TokenValidityUnits: { AccessToken: 'minutes', IdToken: 'minutes', RefreshToken: 'hours' },
  PreventUserExistenceErrors: 'ENABLED',
  EnableTokenRevocation: true,
};

function clientRow(ctx: Ctx, pool: ReturnType<typeof parsePool>, now: number) {
  const config = clientConfig({ ...CONSOLE_CLIENT_INPUT, UserPoolId: pool.id }, pool, CONSOLE_CLIENT_INPUT.ClientName, 'creating');
  return { id: newClientId(), pool_id: pool.id, name: config.ClientName, secret: null, config: JSON.stringify(config), created_at: now, updated_at: now };
}

const groupRow = (poolId: string, now: number) => ({
  pool_id: poolId, name: OPERATORS_GROUP, description: 'May use the Gatehouse admin console', precedence: 0, role_arn: null, created_at: now, updated_at: now,
});

/** A new system pool with its key, console client and operators group, not yet stored. */
async function newSystemPool(ctx: Ctx) {
  const now = ctx.now();
  const id = newPoolId(ctx.config.region);
  const poolRow = { id, name: 'gatehouse-operators', config: JSON.stringify(createPoolConfig(operatorPoolInput(ctx.config.publicUrl))), created_at: now, updated_at: now };
  const client = clientRow(ctx, parsePool(poolRow), now);
  return { rows: { pool: poolRow, key: await generatePoolKey(ctx.secrets, id, now), client, group: groupRow(id, now) }, ids: { poolId: id, clientId: client.id } };
}

/**
 * The system pool and console client, created if missing. Safe when several processes start at
 * once (one setting decides whose pool it is) and idempotent: a console client or operators group
 * that was deleted is made again; a pool deleted (after its deletion protection was turned off) too.
 */
export async function ensureConsolePool(ctx: Ctx): Promise<ConsoleIds> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const stored = await ctx.repo.getSetting(CONSOLE_SETTING);
    if (stored === undefined || !(await ctx.repo.getPool((JSON.parse(stored) as ConsoleIds).poolId))) {
      const made = await newSystemPool(ctx);
      if (await ctx.repo.writeSetting(CONSOLE_SETTING, JSON.stringify(made.ids), stored, made.rows)) {
        ctx.log.info(stored === undefined ? 'console system pool created' : 'console system pool was deleted; created again', made.ids);
        return made.ids;
      }
      continue;
    }
    const ids = JSON.parse(stored) as ConsoleIds;
    const client = await ctx.repo.getClient(ids.clientId);
    if (!client || client.pool_id !== ids.poolId) {
      const pool = parsePool((await ctx.repo.getPool(ids.poolId))!);
      const row = clientRow(ctx, pool, ctx.now());
      const next = { poolId: ids.poolId, clientId: row.id };
      if (!(await ctx.repo.writeSetting(CONSOLE_SETTING, JSON.stringify(next), stored, { client: row }))) continue;
      ctx.log.info('console app client was deleted; created again', next);
      return next;
    }
    if (!(await ctx.repo.getGroup(ids.poolId, OPERATORS_GROUP))) {
      try {
        await ctx.repo.createGroup(groupRow(ids.poolId, ctx.now()));
      } catch (e) {
        if (!(e instanceof UniqueViolation)) throw e;
      }
    }
    return ids;
  }
  throw new Error('could not settle the console system pool: its setting kept changing');
}

/**
 * The operator behind a console request's access token. The token must be live (not signed out or
 * revoked), issued to the console's app client of the system pool, and its user enabled and a
 * member of the operators group now (read from the store, not from the token's claims).
 */
export async function operatorOf(ctx: Ctx, ids: ConsoleIds, accessToken: string): Promise<Operator> {
  const claims = await ctx.tokens.verifyAccess(accessToken, ctx.now());
  if (claims.poolId !== ids.poolId || claims.clientId !== ids.clientId) throw new AccessDeniedException('Only operators signed in to the Gatehouse console may call this.');
  const row = await ctx.repo.getUser(ids.poolId, claims.sub);
  if (!row) throw new NotAuthorizedException('User does not exist.');
  const user = parseUser(row);
  if (!user.enabled) throw new NotAuthorizedException('User is disabled.');
  const groups = await ctx.repo.listGroupsForUser(ids.poolId, user.id, 1000);
  if (!groups.items.some((g) => g.name === OPERATORS_GROUP)) throw new AccessDeniedException(`${user.attributes.email ?? user.username} is not a member of the ${OPERATORS_GROUP} group of the console's user pool.`);
  return { sub: user.id, login: user.attributes.email ?? user.username };
}

/**
 * What the console may not do to itself: delete or change its own app client, or delete the
 * operators group (either would lock every operator out). The API, signed with the admin keys, still can.
 */
export function refuseSelfHarm(ids: ConsoleIds, operation: string, input: { UserPoolId?: string; ClientId?: string; GroupName?: string }) {
  if (input.UserPoolId !== ids.poolId) return;
  if ((operation === 'DeleteUserPoolClient' || operation === 'UpdateUserPoolClient') && input.ClientId === ids.clientId) {
    throw new InvalidParameterException('The console cannot change or delete its own app client; use the API with the admin credentials.');
  }
  if (operation === 'DeleteGroup' && input.GroupName === OPERATORS_GROUP) {
    throw new InvalidParameterException(`The console cannot delete the ${OPERATORS_GROUP} group; use the API with the admin credentials.`);
  }
}

const READS = /^(Describe|List|Get|AdminGet|AdminList)/;

/** What an operation acted on, from its request (or, for a creation, its answer): never a secret. */
function target(input: Record<string, unknown>, output: Record<string, any> | undefined): string | null {
  for (const k of ['Username', 'GroupName', 'ClientId', 'JobId']) if (typeof input[k] === 'string') return `${k}=${input[k]}`;
  const made = output?.UserPoolClient?.ClientId ?? output?.UserImportJob?.JobId;
  if (typeof made === 'string') return output?.UserPoolClient ? `ClientId=${made}` : `JobId=${made}`;
  if (typeof input.PoolName === 'string') return `PoolName=${input.PoolName}`;
  return null;
}

/** The audit log's entry for one console call; outcome is `ok` or the error's name. */
export function auditEntry(operator: Operator, operation: string, input: object, output: object | undefined, outcome: string, ip: string | undefined, at: number): Insertable<AuditLogTable> {
  const i = input as Record<string, unknown>;
  const o = output as Record<string, any> | undefined;
  const pool = typeof i.UserPoolId === 'string' ? i.UserPoolId : typeof o?.UserPool?.Id === 'string' ? o.UserPool.Id : null;
  return {
    id: crypto.randomUUID(), at, operator_sub: operator.sub, operator: operator.login, operation, kind: READS.test(operation) ? 'read' : 'write',
    pool_id: pool, target: target(i, o), outcome, ip: ip ?? null,
  };
}
