import { NotAuthorizedException } from '../errors.js';
import type { Ctx } from '../domain/context.js';
import type { Input } from '../wire/input.js';
import { loadClient, loadPool, loadPoolClient } from '../domain/pools.js';
import { parseUser } from '../domain/users.js';
import { USER_ADMIN_SCOPE } from '../domain/tokens.js';

export const clientIdRule = { max: 128, pattern: /^[\w+]+$/ };
export const poolIdRule = { max: 55, pattern: /^[\w-]+_[0-9a-zA-Z]+$/ };
export const usernameRule = { max: 128, pattern: /^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$/u };
export const codeRule = { max: 2048, pattern: /^[\S]+$/ };

export function clientOf(ctx: Ctx, input: Input) {
  return loadClient(ctx, input.str('ClientId', clientIdRule));
}

export function poolOf(ctx: Ctx, input: Input) {
  return loadPool(ctx, input.str('UserPoolId', poolIdRule));
}

export function poolClientOf(ctx: Ctx, input: Input) {
  return loadPoolClient(ctx, input.str('UserPoolId', poolIdRule), input.str('ClientId', clientIdRule));
}

/** The signed-in user behind an access token; revoked, expired or foreign tokens and disabled users are refused. */
export async function authenticated(ctx: Ctx, input: Input) {
  const token = input.str('AccessToken', { max: 16384 });
  const claims = await ctx.tokens.verifyAccess(token, ctx.now());
  // A token from the hosted sign-in reaches the user's own operations only with this scope, as in Cognito.
  if (!claims.scopes.includes(USER_ADMIN_SCOPE)) throw new NotAuthorizedException('Access Token does not have required scopes');
  const pool = await loadPool(ctx, claims.poolId);
  const row = await ctx.repo.getUser(pool.id, claims.sub);
  if (!row) throw new NotAuthorizedException('User does not exist.');
  const user = parseUser(row);
  if (!user.enabled) throw new NotAuthorizedException('User is disabled.');
  return { pool, user, claims };
}
