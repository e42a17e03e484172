import { Kysely, sql, type Selectable, type Insertable, type Updateable } from 'kysely';
import type { Database, PoolTable, ClientTable, UserTable, GroupTable, CodeTable, AuthSessionTable, RefreshTokenTable, OutboxTable, PoolKeyTable } from './schema.js';

export type Pool = Selectable<PoolTable>;
export type Client = Selectable<ClientTable>;
export type UserRow = Selectable<UserTable>;
export type Group = Selectable<GroupTable>;
export type Code = Selectable<CodeTable>;
export type AuthSession = Selectable<AuthSessionTable>;
export type RefreshToken = Selectable<RefreshTokenTable>;
export type OutboxMessage = Selectable<OutboxTable>;
export type PoolKey = Selectable<PoolKeyTable>;

export type UserFilter = { attribute: string; op: 'eq' | 'prefix'; value: string };
export interface Page<T> { items: T[]; next?: string }

/** Raised when a unique index refuses a write; `index` names it (users_email, groups_pk, ...). */
export class UniqueViolation extends Error {
  constructor(readonly index: string) { super(`unique violation: ${index}`); }
}

// The storage contract. Every method is one atomic statement or transaction; the conditional
// ones (consume*, bump*) report whether they won so callers stay correct across processes.
export interface Repository {
  close(): Promise<void>;
  ping(): Promise<void>;

  createPool(pool: Insertable<PoolTable>, key: Insertable<PoolKeyTable>): Promise<void>;
  getPool(id: string): Promise<Pool | undefined>;
  updatePool(id: string, patch: Updateable<PoolTable>): Promise<void>;
  deletePool(id: string): Promise<boolean>;
  listPools(limit: number, after?: string): Promise<Page<Pool>>;
  getPoolKeys(poolId: string): Promise<PoolKey[]>;

  createClient(client: Insertable<ClientTable>): Promise<void>;
  getClient(id: string): Promise<Client | undefined>;
  updateClient(id: string, patch: Updateable<ClientTable>): Promise<void>;
  deleteClient(id: string): Promise<boolean>;
  listClients(poolId: string, limit: number, after?: string): Promise<Page<Client>>;

  createUser(user: Insertable<UserTable>): Promise<void>;
  getUser(poolId: string, id: string): Promise<UserRow | undefined>;
  /** Finds by username or any alias key (all already normalised by the caller). */
  findUserByLogin(poolId: string, key: string): Promise<UserRow | undefined>;
  updateUser(poolId: string, id: string, patch: Updateable<UserTable>): Promise<void>;
  deleteUser(poolId: string, id: string): Promise<boolean>;
  listUsers(poolId: string, filter: UserFilter | undefined, limit: number, after?: string): Promise<Page<UserRow>>;
  /** Counts a failed sign-in and returns the new count. */
  recordFailedSignIn(poolId: string, id: string, lockedUntil: (failures: number) => number): Promise<number>;

  createGroup(group: Insertable<GroupTable>): Promise<void>;
  getGroup(poolId: string, name: string): Promise<Group | undefined>;
  updateGroup(poolId: string, name: string, patch: Updateable<GroupTable>): Promise<void>;
  deleteGroup(poolId: string, name: string): Promise<boolean>;
  listGroups(poolId: string, limit: number, after?: string): Promise<Page<Group>>;
  addUserToGroup(poolId: string, groupName: string, userId: string): Promise<void>;
  removeUserFromGroup(poolId: string, groupName: string, userId: string): Promise<void>;
  listGroupsForUser(poolId: string, userId: string, limit: number, after?: string): Promise<Page<Group>>;
  listUsersInGroup(poolId: string, groupName: string, limit: number, after?: string): Promise<Page<UserRow>>;

  /** Stores a new code and retires any earlier live code of the same purpose for the user. */
  putCode(code: Insertable<CodeTable>): Promise<void>;
  getLiveCode(userId: string, purpose: string, now: number): Promise<Code | undefined>;
  /** Counts a wrong guess if the code is still under the cap; false when it was not. */
  bumpCodeAttempt(id: string, maxAttempts: number): Promise<boolean>;
  /** Marks the code used; false if another request used it first. */
  consumeCode(id: string, maxAttempts: number, now: number): Promise<boolean>;

  createSession(session: Insertable<AuthSessionTable>): Promise<void>;
  getSession(id: string): Promise<AuthSession | undefined>;
  bumpSessionAttempt(id: string, maxAttempts: number): Promise<boolean>;
  consumeSession(id: string, now: number): Promise<boolean>;

  putRefreshToken(token: Insertable<RefreshTokenTable>): Promise<void>;
  getRefreshToken(hash: string): Promise<RefreshToken | undefined>;
  /** Marks a refresh token as replaced by rotation; false if it already was. */
  rotateRefreshToken(hash: string, now: number): Promise<boolean>;
  revokeTokenFamily(originJti: string, now: number): Promise<void>;
  revokeUserTokens(userId: string, now: number): Promise<void>;
  isTokenFamilyLive(originJti: string, now: number): Promise<boolean>;

  addOutbox(message: Insertable<OutboxTable>): Promise<void>;
  listOutbox(limit: number): Promise<OutboxMessage[]>;

  /** Deletes expired sessions, codes and refresh tokens. */
  sweep(now: number): Promise<void>;
}

function page<T>(rows: T[], limit: number, key: (row: T) => string): Page<T> {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, next: key(items[items.length - 1]) };
}

export class KyselyRepository implements Repository {
  constructor(
    readonly db: Kysely<Database>,
    private readonly dialect: 'sqlite' | 'postgres',
  ) {}

  private async unique<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (e: any) {
      const msg = String(e?.message ?? '');
      if (e?.code === '23505') throw new UniqueViolation(String(e.constraint ?? ''));
      if (e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        // SQLite names columns, not the index: "UNIQUE constraint failed: users.pool_id, users.email_key"
        const cols = msg.split(':')[1] ?? '';
        const col = cols.split(',').map((s) => s.trim().split('.')[1]).filter((c) => c && c !== 'pool_id').join(',');
        throw new UniqueViolation(col);
      }
      throw e;
    }
  }

  async close() { await this.db.destroy(); }
  async ping() { await sql`select 1`.execute(this.db); }

  async createPool(pool: Insertable<PoolTable>, key: Insertable<PoolKeyTable>) {
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto('pools').values(pool).execute();
      await tx.insertInto('pool_keys').values(key).execute();
    });
  }
  getPool(id: string) { return this.db.selectFrom('pools').selectAll().where('id', '=', id).executeTakeFirst(); }
  async updatePool(id: string, patch: Updateable<PoolTable>) { await this.db.updateTable('pools').set(patch).where('id', '=', id).execute(); }
  async deletePool(id: string) {
    // Children without a foreign key to pools go explicitly; the rest cascade.
    return this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('codes').where('pool_id', '=', id).execute();
      await tx.deleteFrom('auth_sessions').where('pool_id', '=', id).execute();
      await tx.deleteFrom('refresh_tokens').where('pool_id', '=', id).execute();
      await tx.deleteFrom('user_groups').where('pool_id', '=', id).execute();
      const r = await tx.deleteFrom('pools').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
  }
  async listPools(limit: number, after?: string) {
    let q = this.db.selectFrom('pools').selectAll().orderBy('id').limit(limit + 1);
    if (after) q = q.where('id', '>', after);
    return page(await q.execute(), limit, (p) => p.id);
  }
  getPoolKeys(poolId: string) { return this.db.selectFrom('pool_keys').selectAll().where('pool_id', '=', poolId).orderBy('created_at', 'desc').execute(); }

  async createClient(client: Insertable<ClientTable>) { await this.db.insertInto('clients').values(client).execute(); }
  getClient(id: string) { return this.db.selectFrom('clients').selectAll().where('id', '=', id).executeTakeFirst(); }
  async updateClient(id: string, patch: Updateable<ClientTable>) { await this.db.updateTable('clients').set(patch).where('id', '=', id).execute(); }
  async deleteClient(id: string) {
    const r = await this.db.deleteFrom('clients').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
  async listClients(poolId: string, limit: number, after?: string) {
    let q = this.db.selectFrom('clients').selectAll().where('pool_id', '=', poolId).orderBy('id').limit(limit + 1);
    if (after) q = q.where('id', '>', after);
    return page(await q.execute(), limit, (c) => c.id);
  }

  async createUser(user: Insertable<UserTable>) { await this.unique(() => this.db.insertInto('users').values(user).execute()); }
  getUser(poolId: string, id: string) { return this.db.selectFrom('users').selectAll().where('pool_id', '=', poolId).where('id', '=', id).executeTakeFirst(); }
  findUserByLogin(poolId: string, key: string) {
    return this.db.selectFrom('users').selectAll().where('pool_id', '=', poolId)
      .where((eb) => eb.or([eb('username_key', '=', key), eb('email_key', '=', key), eb('phone_key', '=', key), eb('preferred_username_key', '=', key)]))
      .orderBy('username_key').executeTakeFirst();
  }
  async updateUser(poolId: string, id: string, patch: Updateable<UserTable>) {
    await this.unique(() => this.db.updateTable('users').set(patch).where('pool_id', '=', poolId).where('id', '=', id).execute());
  }
  async deleteUser(poolId: string, id: string) {
    return this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('codes').where('user_id', '=', id).execute();
      await tx.deleteFrom('refresh_tokens').where('user_id', '=', id).execute();
      await tx.deleteFrom('user_groups').where('user_id', '=', id).execute();
      const r = await tx.deleteFrom('users').where('pool_id', '=', poolId).where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
  }
  async listUsers(poolId: string, filter: UserFilter | undefined, limit: number, after?: string) {
    let q = this.db.selectFrom('users').selectAll().where('pool_id', '=', poolId).orderBy('username_key').limit(limit + 1);
    if (after) q = q.where('username_key', '>', after);
    if (filter) {
      const column = this.filterColumn(filter.attribute);
      if (filter.op === 'eq') q = q.where(column, '=', filter.value);
      else q = q.where(column, '>=', filter.value).where(column, '<', filter.value + '\u{10FFFF}');
    }
    return page(await q.execute(), limit, (u) => u.username_key);
  }
  private filterColumn(attribute: string) {
    switch (attribute) {
      case 'username': return sql<string>`username`;
      case 'sub': return sql<string>`id`;
      case 'cognito:user_status': return sql<string>`status`;
      case 'status': return sql<string>`(case when enabled = 1 then 'Enabled' else 'Disabled' end)`;
      default:
        return this.dialect === 'postgres'
          ? sql<string>`(attributes::json ->> ${attribute})`
          : sql<string>`json_extract(attributes, ${'$."' + attribute + '"'})`;
    }
  }
  async recordFailedSignIn(poolId: string, id: string, lockedUntil: (failures: number) => number) {
    const row = await this.db.updateTable('users').set((eb) => ({ failed_attempts: eb('failed_attempts', '+', 1) }))
      .where('pool_id', '=', poolId).where('id', '=', id).returning('failed_attempts').executeTakeFirst();
    const n = Number(row?.failed_attempts ?? 0);
    const until = lockedUntil(n);
    if (until > 0) await this.db.updateTable('users').set({ locked_until: until }).where('id', '=', id).execute();
    return n;
  }

  async createGroup(group: Insertable<GroupTable>) { await this.unique(() => this.db.insertInto('groups').values(group).execute()); }
  getGroup(poolId: string, name: string) { return this.db.selectFrom('groups').selectAll().where('pool_id', '=', poolId).where('name', '=', name).executeTakeFirst(); }
  async updateGroup(poolId: string, name: string, patch: Updateable<GroupTable>) {
    await this.db.updateTable('groups').set(patch).where('pool_id', '=', poolId).where('name', '=', name).execute();
  }
  async deleteGroup(poolId: string, name: string) {
    return this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('user_groups').where('pool_id', '=', poolId).where('group_name', '=', name).execute();
      const r = await tx.deleteFrom('groups').where('pool_id', '=', poolId).where('name', '=', name).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
  }
  async listGroups(poolId: string, limit: number, after?: string) {
    let q = this.db.selectFrom('groups').selectAll().where('pool_id', '=', poolId).orderBy('name').limit(limit + 1);
    if (after) q = q.where('name', '>', after);
    return page(await q.execute(), limit, (g) => g.name);
  }
  async addUserToGroup(poolId: string, groupName: string, userId: string) {
    await this.db.insertInto('user_groups').values({ pool_id: poolId, group_name: groupName, user_id: userId })
      .onConflict((oc) => oc.doNothing()).execute();
  }
  async removeUserFromGroup(poolId: string, groupName: string, userId: string) {
    await this.db.deleteFrom('user_groups').where('pool_id', '=', poolId).where('group_name', '=', groupName).where('user_id', '=', userId).execute();
  }
  async listGroupsForUser(poolId: string, userId: string, limit: number, after?: string) {
    let q = this.db.selectFrom('groups').innerJoin('user_groups', (j) => j.onRef('user_groups.pool_id', '=', 'groups.pool_id').onRef('user_groups.group_name', '=', 'groups.name'))
      .selectAll('groups').where('groups.pool_id', '=', poolId).where('user_groups.user_id', '=', userId).orderBy('groups.name').limit(limit + 1);
    if (after) q = q.where('groups.name', '>', after);
    return page(await q.execute(), limit, (g) => g.name);
  }
  async listUsersInGroup(poolId: string, groupName: string, limit: number, after?: string) {
    let q = this.db.selectFrom('users').innerJoin('user_groups', 'user_groups.user_id', 'users.id')
      .selectAll('users').where('user_groups.pool_id', '=', poolId).where('user_groups.group_name', '=', groupName)
      .orderBy('users.username_key').limit(limit + 1);
    if (after) q = q.where('users.username_key', '>', after);
    return page(await q.execute(), limit, (u) => u.username_key);
  }

  async putCode(code: Insertable<CodeTable>) {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('codes').where('user_id', '=', code.user_id).where('purpose', '=', code.purpose).execute();
      await tx.insertInto('codes').values(code).execute();
    });
  }
  getLiveCode(userId: string, purpose: string, now: number) {
    return this.db.selectFrom('codes').selectAll().where('user_id', '=', userId).where('purpose', '=', purpose)
      .where('consumed_at', 'is', null).where('expires_at', '>=', now - 86_400_000).orderBy('created_at', 'desc').executeTakeFirst();
  }
  async bumpCodeAttempt(id: string, maxAttempts: number) {
    const r = await this.db.updateTable('codes').set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id).where('attempts', '<', maxAttempts).where('consumed_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
  async consumeCode(id: string, maxAttempts: number, now: number) {
    const r = await this.db.updateTable('codes').set({ consumed_at: now })
      .where('id', '=', id).where('consumed_at', 'is', null).where('attempts', '<', maxAttempts).where('expires_at', '>=', now).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async createSession(session: Insertable<AuthSessionTable>) { await this.db.insertInto('auth_sessions').values(session).execute(); }
  getSession(id: string) { return this.db.selectFrom('auth_sessions').selectAll().where('id', '=', id).executeTakeFirst(); }
  async bumpSessionAttempt(id: string, maxAttempts: number) {
    const r = await this.db.updateTable('auth_sessions').set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id).where('attempts', '<', maxAttempts).where('consumed_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
  async consumeSession(id: string, now: number) {
    const r = await this.db.updateTable('auth_sessions').set({ consumed_at: now })
      .where('id', '=', id).where('consumed_at', 'is', null).where('expires_at', '>=', now).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async putRefreshToken(token: Insertable<RefreshTokenTable>) { await this.db.insertInto('refresh_tokens').values(token).execute(); }
  getRefreshToken(hash: string) { return this.db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst(); }
  async rotateRefreshToken(hash: string, now: number) {
    const r = await this.db.updateTable('refresh_tokens').set({ rotated_at: now })
      .where('token_hash', '=', hash).where('rotated_at', 'is', null).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
  async revokeTokenFamily(originJti: string, now: number) {
    await this.db.updateTable('refresh_tokens').set({ revoked_at: now }).where('origin_jti', '=', originJti).where('revoked_at', 'is', null).execute();
  }
  async revokeUserTokens(userId: string, now: number) {
    await this.db.updateTable('refresh_tokens').set({ revoked_at: now }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
  }
  async isTokenFamilyLive(originJti: string, now: number) {
    const row = await this.db.selectFrom('refresh_tokens').select('token_hash').where('origin_jti', '=', originJti)
      .where('revoked_at', 'is', null).where('expires_at', '>', now).limit(1).executeTakeFirst();
    return !!row;
  }

  async addOutbox(message: Insertable<OutboxTable>) { await this.db.insertInto('outbox').values(message).execute(); }
  listOutbox(limit: number) { return this.db.selectFrom('outbox').selectAll().orderBy('created_at', 'desc').limit(limit).execute(); }

  async sweep(now: number) {
    await this.db.deleteFrom('auth_sessions').where('expires_at', '<', now).execute();
    await this.db.deleteFrom('codes').where('expires_at', '<', now - 86_400_000).execute();
    await this.db.deleteFrom('refresh_tokens').where('expires_at', '<', now).execute();
  }
}
