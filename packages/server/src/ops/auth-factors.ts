// GetUserAuthFactors (access token) and AdminGetUserAuthFactors (signed).
import { adminOp, publicOp } from '../wire/operations.js';
import { adminFindUser } from '../domain/users.js';
import { userAuthFactors } from '../domain/auth-factors.js';
import { authenticated, poolOf, usernameRule } from './common.js';

publicOp('GetUserAuthFactors', async (ctx, input) => {
  const { pool, user } = await authenticated(ctx, input);
  return userAuthFactors(ctx, pool, user);
});

adminOp('AdminGetUserAuthFactors', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  return userAuthFactors(ctx, pool, await adminFindUser(ctx, pool, input.str('Username', usernameRule)));
});
