// User pool groups and membership. Tokens read a user's groups when they are issued, so a change
// shows in `cognito:groups` from the user's next sign-in or refresh.
import { adminOp } from '../wire/operations.js';
import type { Input } from '../wire/input.js';
import { GroupExistsException, ResourceNotFoundException } from '../errors.js';
import type { Ctx } from '../domain/context.js';
import type { LoadedPool } from '../domain/pools.js';
import { adminFindUser, parseUser, userType } from '../domain/users.js';
import { UniqueViolation, type Group } from '../storage/repository.js';
import { arnRule, pageCursor, pageLimit, pageToken, seconds } from '../domain/pool-config.js';
import { poolOf, usernameRule } from './common.js';

const groupNameRule = { max: 128, pattern: /^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$/u };
const MAX_PRECEDENCE = 2 ** 31 - 1;

/** Cognito's GroupType; unset members are left out. */
function groupType(g: Group) {
  const out: Record<string, unknown> = { GroupName: g.name, UserPoolId: g.pool_id };
  if (g.description !== null) out.Description = g.description;
  if (g.role_arn !== null) out.RoleArn = g.role_arn;
  if (g.precedence !== null) out.Precedence = Number(g.precedence);
  out.LastModifiedDate = seconds(g.updated_at);
  out.CreationDate = seconds(g.created_at);
  return out;
}

async function loadGroup(ctx: Ctx, pool: LoadedPool, name: string): Promise<Group> {
  const g = await ctx.repo.getGroup(pool.id, name);
  if (!g) throw new ResourceNotFoundException('Group not found.');
  return g;
}

function groupSettings(input: Input) {
  return {
    description: input.optStr('Description', { max: 2048 }),
    role_arn: input.optStr('RoleArn', arnRule),
    precedence: input.optInt('Precedence', 0, MAX_PRECEDENCE),
  };
}

adminOp('CreateGroup', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const name = input.str('GroupName', groupNameRule);
  const s = groupSettings(input);
  const now = ctx.now();
  const row: Group = {
    pool_id: pool.id, name, description: s.description ?? null, role_arn: s.role_arn ?? null, precedence: s.precedence ?? null,
    created_at: now, updated_at: now,
  };
  try {
    await ctx.repo.createGroup(row);
  } catch (e) {
    if (e instanceof UniqueViolation) throw new GroupExistsException(`A group with the name ${name} already exists.`);
    throw e;
  }
  return { Group: groupType(row) };
});

adminOp('GetGroup', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  return { Group: groupType(await loadGroup(ctx, pool, input.str('GroupName', groupNameRule))) };
});

// Cognito's UpdateGroup changes the properties the request gives and keeps the others.
adminOp('UpdateGroup', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const group = await loadGroup(ctx, pool, input.str('GroupName', groupNameRule));
  const s = groupSettings(input);
  const patch: Partial<Group> = { updated_at: ctx.now() };
  if (s.description !== undefined) patch.description = s.description;
  if (s.role_arn !== undefined) patch.role_arn = s.role_arn;
  if (s.precedence !== undefined) patch.precedence = s.precedence;
  await ctx.repo.updateGroup(pool.id, group.name, patch);
  return { Group: groupType({ ...group, ...patch }) };
});

adminOp('DeleteGroup', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const name = input.str('GroupName', groupNameRule);
  if (!(await ctx.repo.deleteGroup(pool.id, name))) throw new ResourceNotFoundException('Group not found.');
  return {};
});

adminOp('ListGroups', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const page = await ctx.repo.listGroups(pool.id, pageLimit(input, 'Limit', { min: 0, def: 60 }), pageCursor(input));
  return { Groups: page.items.map(groupType), NextToken: pageToken(page.next) };
});

adminOp('AdminAddUserToGroup', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const username = input.str('Username', usernameRule);
  const group = await loadGroup(ctx, pool, input.str('GroupName', groupNameRule));
  const user = await adminFindUser(ctx, pool, username);
  await ctx.repo.addUserToGroup(pool.id, group.name, user.id);
  return {};
});

adminOp('AdminRemoveUserFromGroup', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const username = input.str('Username', usernameRule);
  const group = await loadGroup(ctx, pool, input.str('GroupName', groupNameRule));
  const user = await adminFindUser(ctx, pool, username);
  await ctx.repo.removeUserFromGroup(pool.id, group.name, user.id);
  return {};
});

adminOp('AdminListGroupsForUser', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const user = await adminFindUser(ctx, pool, input.str('Username', usernameRule));
  const page = await ctx.repo.listGroupsForUser(pool.id, user.id, pageLimit(input, 'Limit', { min: 0, def: 60 }), pageCursor(input));
  return { Groups: page.items.map(groupType), NextToken: pageToken(page.next) };
});

adminOp('ListUsersInGroup', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const group = await loadGroup(ctx, pool, input.str('GroupName', groupNameRule));
  const page = await ctx.repo.listUsersInGroup(pool.id, group.name, pageLimit(input, 'Limit', { min: 0, def: 60 }), pageCursor(input));
  return { Users: page.items.map((row) => userType(parseUser(row))), NextToken: pageToken(page.next) };
});
