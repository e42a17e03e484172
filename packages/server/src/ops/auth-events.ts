import { op } from '../wire/operations.js';
import { InvalidParameterException } from '../errors.js';
import { adminFindUser } from '../domain/users.js';
import { authEventType, AUTH_EVENTS_KEPT } from '../domain/events.js';
import { pageCursor, pageToken, poolOf } from './common.js';

op('AdminListUserAuthEvents', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const user = await adminFindUser(ctx, pool, input.Username);
  const limit = input.MaxResults || 60;
  const after = pageCursor(input.NextToken);
  if (after !== undefined && !/^\d{1,15}:[\w-]+$/.test(after)) throw new InvalidParameterException('Invalid NextToken');
  const page = await ctx.repo.listAuthEvents(user.id, limit, AUTH_EVENTS_KEPT, after);
  return { AuthEvents: page.items.map(authEventType), NextToken: pageToken(page.next) };
});
