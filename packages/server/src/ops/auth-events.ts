import { adminOp } from '../wire/operations.js';
import { InvalidParameterException } from '../errors.js';
import { adminFindUser } from '../domain/users.js';
import { authEventType, AUTH_EVENTS_KEPT } from '../domain/events.js';
import { poolOf, usernameRule } from './common.js';
import { pageCursor, pageToken } from '../domain/pool-config.js';

adminOp('AdminListUserAuthEvents', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const user = await adminFindUser(ctx, pool, input.str('Username', usernameRule));
  const limit = input.optInt('MaxResults', 0, 60) || 60;
  const after = pageCursor(input, 'NextToken', 1024);
  if (after !== undefined && !/^\d{1,15}:[\w-]+$/.test(after)) throw new InvalidParameterException('Invalid NextToken');
  const page = await ctx.repo.listAuthEvents(user.id, limit, AUTH_EVENTS_KEPT, after);
  return { AuthEvents: page.items.map(authEventType), NextToken: pageToken(page.next) };
});
