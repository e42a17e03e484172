// GetUserAuthFactors (access token) and AdminGetUserAuthFactors (signed).
import { op } from '../wire/operations.js';
import { adminFindUser } from '../domain/users.js';
import { userAuthFactors } from '../domain/auth-factors.js';
import { authenticated, poolOf } from './common.js';

op('GetUserAuthFactors', async (ctx, input) => {
  const { pool, user } = await authenticated(ctx, input);
  return userAuthFactors(ctx, pool, user);
});

op('AdminGetUserAuthFactors', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  return userAuthFactors(ctx, pool, await adminFindUser(ctx, pool, input.Username));
});
