import { adminOp } from '../wire/operations.js';
import { InvalidParameterException } from '../errors.js';
import { adminFindUser } from '../domain/users.js';
import { authEventType } from '../domain/events.js';
import { decodeToken, encodeToken, poolOf, usernameRule } from './common.js';

adminOp('AdminListUserAuthEvents', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const user = await adminFindUser(ctx, pool, input.str('Username', usernameRule));
  const limit = input.optInt('MaxResults', 0, 60) || 60;
  const after = decodeToken(input.optStr('NextToken', { max: 1024 }));
  if (after !== undefined && !/^\d{1,15}:[\w-]+$/.test(after)) throw new InvalidParameterException('Invalid NextToken');
  const page = await ctx.repo.listAuthEvents(user.id, limit, after);
  return { AuthEvents: page.items.map(authEventType), ...(page.next ? { NextToken: encodeToken(page.next) } : {}) };
});
