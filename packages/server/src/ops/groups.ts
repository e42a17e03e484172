// User pool groups and membership. Tokens read a user's groups when they are issued, so a change
// shows in `cognito:groups` from the user's next sign-in or refresh.
import { op } from '../wire/operations.js';
import { GroupExistsException, ResourceNotFoundException } from '../errors.js';
import type { Ctx } from '../domain/context.js';
import type { LoadedPool } from '../domain/pools.js';
import { adminFindUser, parseUser, userType } from '../domain/users.js';
import { UniqueViolation, type Group } from '../storage/repository.js';
import { seconds } from '../domain/pool-config.js';
import type { GroupType } from '../shapes.js';
import { pageCursor, pageToken, poolOf } from './common.js';

/** Cognito's GroupType; unset members are left out. */
function groupType(g: Group): GroupType {
  const out: GroupType = { GroupName: g.name, UserPoolId: g.pool_id };
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

op('CreateGroup', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const name = input.GroupName;
  const now = ctx.now();
  const row: Group = {
    pool_id: pool.id, name, description: input.Description ?? null, role_arn: input.RoleArn ?? null, precedence: input.Precedence ?? null,
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

op('GetGroup', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  return { Group: groupType(await loadGroup(ctx, pool, input.GroupName)) };
});

// Cognito's UpdateGroup changes the properties the request gives and keeps the others.
op('UpdateGroup', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const group = await loadGroup(ctx, pool, input.GroupName);
  const patch: Partial<Group> = { updated_at: ctx.now() };
  if (input.Description !== undefined) patch.description = input.Description;
  if (input.RoleArn !== undefined) patch.role_arn = input.RoleArn;
  if (input.Precedence !== undefined) patch.precedence = input.Precedence;
  await ctx.repo.updateGroup(pool.id, group.name, patch);
  return { Group: groupType({ ...group, ...patch }) };
});

op('DeleteGroup', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  if (!(await ctx.repo.deleteGroup(pool.id, input.GroupName))) throw new ResourceNotFoundException('Group not found.');
  return {};
});

op('ListGroups', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const page = await ctx.repo.listGroups(pool.id, input.Limit || 60, pageCursor(input.NextToken));
  return { Groups: page.items.map(groupType), NextToken: pageToken(page.next) };
});

op('AdminAddUserToGroup', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const group = await loadGroup(ctx, pool, input.GroupName);
  const user = await adminFindUser(ctx, pool, input.Username);
  await ctx.repo.addUserToGroup(pool.id, group.name, user.id);
  return {};
});

op('AdminRemoveUserFromGroup', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const group = await loadGroup(ctx, pool, input.GroupName);
  const user = await adminFindUser(ctx, pool, input.Username);
  await ctx.repo.removeUserFromGroup(pool.id, group.name, user.id);
  return {};
});

op('AdminListGroupsForUser', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const user = await adminFindUser(ctx, pool, input.Username);
  const page = await ctx.repo.listGroupsForUser(pool.id, user.id, input.Limit || 60, pageCursor(input.NextToken));
  return { Groups: page.items.map(groupType), NextToken: pageToken(page.next) };
});

op('ListUsersInGroup', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const group = await loadGroup(ctx, pool, input.GroupName);
  const page = await ctx.repo.listUsersInGroup(pool.id, group.name, input.Limit || 60, pageCursor(input.NextToken));
  return { Users: page.items.map((row) => userType(parseUser(row))), NextToken: pageToken(page.next) };
});
