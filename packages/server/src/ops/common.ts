import { InvalidParameterException, NotAuthorizedException } from '../errors.js';
import type { Ctx } from '../domain/context.js';
import { loadClient, loadPool, loadPoolClient } from '../domain/pools.js';
import { parseUser } from '../domain/users.js';
import { USER_ADMIN_SCOPE } from '../domain/tokens.js';

export function clientOf(ctx: Ctx, input: { ClientId: string }) {
  return loadClient(ctx, input.ClientId);
}

export function poolOf(ctx: Ctx, input: { UserPoolId: string }) {
  return loadPool(ctx, input.UserPoolId);
}

export function poolClientOf(ctx: Ctx, input: { UserPoolId: string; ClientId: string }) {
  return loadPoolClient(ctx, input.UserPoolId, input.ClientId);
}

/** The signed-in user behind an access token; revoked, expired or foreign tokens and disabled users are refused. */
export async function authenticated(ctx: Ctx, input: { AccessToken: string }) {
  const claims = await ctx.tokens.verifyAccess(input.AccessToken, ctx.now());
  // A token from the hosted sign-in reaches the user's own operations only with this scope, as in Cognito.
  if (!claims.scopes.includes(USER_ADMIN_SCOPE)) throw new NotAuthorizedException('Access Token does not have required scopes');
  const pool = await loadPool(ctx, claims.poolId);
  const row = await ctx.repo.getUser(pool.id, claims.sub);
  if (!row) throw new NotAuthorizedException('User does not exist.');
  const user = parseUser(row);
  if (!user.enabled) throw new NotAuthorizedException('User is disabled.');
  return { pool, user, claims };
}

/** An incoming NextToken (or PaginationToken): the base64url form of a repository cursor; anything else is refused. */
export function pageCursor(token: string | undefined, name = 'NextToken'): string | undefined {
  if (token === undefined) return undefined;
  const bad = () => new InvalidParameterException(`Invalid ${name}: the pagination token is not valid.`);
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw bad();
  const cursor = Buffer.from(token, 'base64url').toString('utf8');
  if (!cursor || cursor.includes('\u0000') || Buffer.from(cursor, 'utf8').toString('base64url') !== token) throw bad();
  return cursor;
}

export function pageToken(next: string | undefined): string | undefined {
  return next === undefined ? undefined : Buffer.from(next, 'utf8').toString('base64url');
}
