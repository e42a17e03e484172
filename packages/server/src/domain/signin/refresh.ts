// REFRESH_TOKEN_AUTH / REFRESH_TOKEN and GetTokensFromRefreshToken.
import { NotAuthorizedException } from '../../errors.js';
import { tokenLifetimes } from '../pools.js';
import { parseUser } from '../users.js';
import { sha256 } from '../secrets.js';
import type { AuthenticationResult } from '../tokens.js';
import { preTokenGeneration, type Strings } from '../triggers/events.js';
import { scopesOf } from '../tokens.js';
import { userGroups, type Place } from './base.js';

/** Rotates the refresh token when the client asks for it. */
export async function refreshTokens({ ctx, pool, client }: Place, token: string, clientMetadata?: Strings): Promise<AuthenticationResult> {
  const now = ctx.now();
  const hash = sha256(token);
  const row = token.length <= 4096 ? await ctx.repo.getRefreshToken(hash) : undefined;
  if (!row || row.client_id !== client.id || row.pool_id !== pool.id || row.expires_at < now) throw new NotAuthorizedException('Invalid Refresh Token');
  if (row.revoked_at !== null) throw new NotAuthorizedException('Refresh Token has been revoked');
  const userRow = await ctx.repo.getUser(pool.id, row.user_id);
  if (!userRow) throw new NotAuthorizedException('Invalid Refresh Token');
  const user = parseUser(userRow);
  if (!user.enabled) throw new NotAuthorizedException('User is disabled.');
  // The trigger runs before the token is spent: if it fails, the caller still holds a usable one.
  const groups = await userGroups(ctx, pool, user);
  const customize = await preTokenGeneration(ctx, pool, 'TokenGeneration_RefreshTokens', user, client.id, { groups, scopes: scopesOf(row.scopes ?? undefined), clientMetadata });
  // Stored first, then signed: a revocation that comes after the decision revokes the family
  // these tokens belong to, and one that came before refuses the decision.
  const rotation = client.config.RefreshTokenRotation?.Feature === 'ENABLED';
  const next = rotation ? ctx.tokens.newRefreshToken(pool, client, user, row.origin_jti, row.auth_time, now, now + tokenLifetimes(client.config).refresh, row.scopes) : undefined;
  const outcome = await ctx.repo.useRefreshToken(hash, user.id, now, next && { graceMs: client.config.RefreshTokenRotation.RetryGracePeriodSeconds * 1000, next: next.row });
  if (outcome === 'revoked') throw new NotAuthorizedException('Refresh Token has been revoked');
  if (outcome !== 'ok') throw new NotAuthorizedException('Invalid Refresh Token');
  const result = await ctx.tokens.issue({ pool, client, user, groups, now, authTime: row.auth_time, originJti: row.origin_jti, withRefresh: false, scopes: row.scopes ?? undefined, customize });
  if (next) result.RefreshToken = next.token;
  return result;
}
