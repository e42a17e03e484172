import { Kysely, sql, type RawBuilder, type Selectable, type Insertable, type Updateable } from 'kysely';
import type { Database, PoolTable, ClientTable, UserTable, GroupTable, CodeTable, AuthSessionTable, RefreshTokenTable, OutboxTable, PoolKeyTable } from './schema.js';
import type { ImportJobTable, ImportChunkTable } from './schema.js';
import type { AuthEventTable, DecoyTable, DeviceTable, WebAuthnCredentialTable, AuditLogTable, ActivityRollupTable } from './schema.js';
import type { OAuthCodeTable, SsoSessionTable, ResourceServerTable, UiCustomizationTable, PoolDomainTable, IdentityProviderTable, UserIdentityTable } from './schema.js';
export type OAuthCode = Selectable<OAuthCodeTable>;
export type SsoSession = Selectable<SsoSessionTable>;
export type ResourceServer = Selectable<ResourceServerTable>;
export type UiCustomization = Selectable<UiCustomizationTable>;
export type PoolDomain = Selectable<PoolDomainTable>;
export type IdentityProvider = Selectable<IdentityProviderTable>;
export type UserIdentity = Selectable<UserIdentityTable>;
export type AuthEvent = Selectable<AuthEventTable>;
export type Device = Selectable<DeviceTable>;
export type AuditEntry = Selectable<AuditLogTable>;
/** Rows created with a setting (the console's system pool, its key, app client and operators group). */
export interface SettingRows { pool?: Insertable<PoolTable>; key?: Insertable<PoolKeyTable>; client?: Insertable<ClientTable>; group?: Insertable<GroupTable> }
/** Auth events of a pool counted per time bucket (epoch ms / bucketMs) and kind, for the activity charts. */
export interface ActivityCount { bucket: number; event_type: string; response: string; detail: string | null; n: number }

export type Pool = Selectable<PoolTable>;
export type Client = Selectable<ClientTable>;
export type UserRow = Selectable<UserTable>;
export type Group = Selectable<GroupTable>;
export type Code = Selectable<CodeTable>;
export type AuthSession = Selectable<AuthSessionTable>;
export type RefreshToken = Selectable<RefreshTokenTable>;
export type OutboxMessage = Selectable<OutboxTable>;
export type PoolKey = Selectable<PoolKeyTable>;
export type WebAuthnCredential = Selectable<WebAuthnCredentialTable>;

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
  /** With `ifConfig`, only while the stored config is exactly that text (false when another write came first). */
  updatePool(id: string, patch: Updateable<PoolTable>, ifConfig?: string): Promise<boolean>;
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
  /** How many users a pool has, counted on an index alone (no table rows are read). */
  countUsers(poolId: string): Promise<number>;
  /**
   * Counts a sign-in attempt before its password is compared, unless the user is locked, in one
   * conditional statement: the count with this attempt, or false when locked (nothing counted).
   * The count that reaches lockSeconds[n - 1] > 0 locks at once (the last entry holds beyond); a success clears it.
   */
  claimSignInAttempt(poolId: string, id: string, now: number, lockSeconds: readonly number[]): Promise<number | false>;
  /** Takes back a counted attempt that succeeded (and lifts a lock it set); the sign-in goes on to its next step. */
  undoSignInAttempt(poolId: string, id: string): Promise<void>;
  /** A sign-in completed: the failure count starts again (no write when there is nothing to clear). */
  clearSignInFailures(poolId: string, id: string): Promise<void>;
  /** The same for a login that names no user, counted under `key`; kept until `ttlMs` after its last attempt. */
  claimLoginAttempt(key: string, now: number, lockSeconds: readonly number[], ttlMs: number): Promise<boolean>;
  /** Records that a login naming no user failed (the write a real user's auth event or code guess costs): one small upsert. */
  noteLoginFailure(key: string, expiresAt: number): Promise<void>;
  /** Spends a TOTP time step: true only if `step` is later than every step the user spent before. */
  claimTotpStep(poolId: string, id: string, step: number): Promise<boolean>;

  createGroup(group: Insertable<GroupTable>): Promise<void>;
  getGroup(poolId: string, name: string): Promise<Group | undefined>;
  updateGroup(poolId: string, name: string, patch: Updateable<GroupTable>): Promise<void>;
  deleteGroup(poolId: string, name: string): Promise<boolean>;
  listGroups(poolId: string, limit: number, after?: string): Promise<Page<Group>>;
  addUserToGroup(poolId: string, groupName: string, userId: string): Promise<void>;
  removeUserFromGroup(poolId: string, groupName: string, userId: string): Promise<void>;
  listGroupsForUser(poolId: string, userId: string, limit: number, after?: string): Promise<Page<Group>>;
  listUsersInGroup(poolId: string, groupName: string, limit: number, after?: string): Promise<Page<UserRow>>;

  /**
   * Stores a new code and retires any earlier live code of the same purpose for the user; with
   * `message`, queues it in the same transaction, so a code is never stored without its message.
   */
  putCode(code: Insertable<CodeTable>, message?: Insertable<OutboxTable>): Promise<void>;
  /** For a user who does not exist: the same statements as putCode, on decoy rows. */
  putDecoyCode(decoy: Insertable<DecoyTable>, message: Insertable<OutboxTable>): Promise<void>;
  /** For a user who does not exist: the same statements as addAuthEvent, on decoy rows. */
  addDecoyEvent(decoy: Insertable<DecoyTable>, keep: number, slack: number): Promise<void>;
  getLiveCode(userId: string, purpose: string, now: number): Promise<Code | undefined>;
  /**
   * One guess at a code, counted and compared in one conditional statement: 'used' when `codeHmac`
   * matched (the code is spent), 'wrong' when it did not, 'refused' when the code was used, expired
   * or already had `maxAttempts` guesses (nothing compared).
   */
  attemptCode(id: string, codeHmac: string, maxAttempts: number, now: number): Promise<'used' | 'wrong' | 'refused'>;
  /** One guess counted on a code row whose answer is checked elsewhere (a TOTP); false, and nothing counted, past maxAttempts. */
  countAttempt(id: string, maxAttempts: number, now: number): Promise<boolean>;

  createSession(session: Insertable<AuthSessionTable>): Promise<void>;
  getSession(id: string): Promise<AuthSession | undefined>;
  consumeSession(id: string, now: number): Promise<boolean>;
  /**
   * One answer to a code held in a live session, counted in one conditional statement: 'used' when
   * `matched` (the session is spent), 'wrong' when not (the session dies at its `maxAttempts`-th
   * wrong answer), 'refused' when the session was spent, expired or dead (nothing counted).
   */
  answerSession(id: string, matched: boolean, maxAttempts: number, now: number): Promise<'used' | 'wrong' | 'refused'>;

  putRefreshToken(token: Insertable<RefreshTokenTable>): Promise<void>;
  getRefreshToken(hash: string): Promise<RefreshToken | undefined>;
  /**
   * Decides whether `userId`'s refresh token may issue tokens now: 'revoked' once it (its family, or
   * all the user's tokens) was revoked, 'invalid' if it is gone or expired. With `rotation` it must be
   * unrotated (then it is marked rotated) or rotated less than graceMs ago, and `rotation.next` is
   * stored in the same transaction; a revocation of the user waits for such a decision under way and
   * revokes what it stored.
   */
  useRefreshToken(hash: string, userId: string, now: number, rotation?: { graceMs: number; next: Insertable<RefreshTokenTable> }): Promise<'ok' | 'revoked' | 'invalid'>;
  revokeTokenFamily(userId: string, originJti: string, now: number): Promise<void>;
  /** Revokes every refresh token of the user, but those of `keepFamily` when given. */
  revokeUserTokens(userId: string, now: number, keepFamily?: string): Promise<void>;
  isTokenFamilyLive(originJti: string, now: number): Promise<boolean>;

  addOutbox(message: Insertable<OutboxTable>): Promise<void>;
  /** The newest messages still in the outbox (kept or waiting to be sent), newest first. */
  listOutbox(limit: number): Promise<OutboxMessage[]>;
  /**
   * Takes up to `limit` pending messages that are due, each by a conditional update that counts the
   * attempt and moves due_at to `leaseUntil`: of several processes, exactly one gets each message.
   */
  claimOutbox(now: number, leaseUntil: number, limit: number): Promise<OutboxMessage[]>;
  /** Deletes a message (sent, or given up). */
  deleteOutbox(id: string): Promise<void>;
  /** Makes a claimed message due again at `dueAt`, if the claim that counted attempt `attempts` still holds it. */
  retryOutbox(id: string, attempts: number, dueAt: number): Promise<boolean>;

  // ---- Devices (remembered devices; see domain/devices.ts) ----
  createDevice(device: Insertable<DeviceTable>): Promise<void>;
  getDevice(deviceKey: string): Promise<Device | undefined>;
  /** Applies `patch` to the user's device; false if the user has no such device. */
  updateDevice(userId: string, deviceKey: string, patch: Updateable<DeviceTable>): Promise<boolean>;
  deleteDevice(userId: string, deviceKey: string): Promise<boolean>;
  /** A user's confirmed devices, oldest first; `after` is the `next` of the page before. */
  listDevices(userId: string, limit: number, after?: string): Promise<Page<Device>>;

  /** Deletes expired sessions, codes, refresh tokens and decoys, and devices never confirmed. */
  sweep(now: number): Promise<void>;

  // ---- User import jobs (bulk CSV import; see domain/user-import.ts) ----
  createImportJob(job: Insertable<ImportJobTable>): Promise<void>;
  getImportJob(id: string): Promise<ImportJob | undefined>;
  /** A pool's jobs, oldest first; `after` is the `next` of the page before. */
  listImportJobs(poolId: string, limit: number, after?: string): Promise<Page<ImportJob>>;
  /** Applies `patch` only while the job's status is one of `statuses` (and `owner`, if given, holds it); true if it did. */
  updateImportJob(id: string, patch: Updateable<ImportJobTable>, where: { statuses: string[]; owner?: string }): Promise<boolean>;
  /**
   * Takes a job for `owner`: a Pending one, or an InProgress/Stopping one whose holder's lease ended
   * before `staleBefore`. A conditional update decides, so of several processes exactly one wins.
   */
  claimImportJob(owner: string, now: number, staleBefore: number): Promise<ImportJob | undefined>;
  putImportChunk(chunk: Insertable<ImportChunkTable>): Promise<void>;
  getImportChunk(jobId: string, uploadId: string, seq: number): Promise<Buffer | undefined>;
  /** Makes `uploadId` the job's file if the job is still Created, dropping the file it replaces; else drops this upload and answers false. */
  commitImportUpload(jobId: string, uploadId: string, patch: Updateable<ImportJobTable>): Promise<boolean>;
  /** Deletes a job's file: one upload's chunks, or all. */
  deleteImportChunks(jobId: string, uploadId?: string): Promise<void>;
  /** Which of the given login keys the pool's users hold, and as what kind (username, email, phone, preferred_username). */
  findLoginKeys(poolId: string, keys: string[]): Promise<{ key: string; kind: string }[]>;
  /**
   * One batch of an import, in one transaction: inserts the users (a row colliding with an existing
   * one on any unique key or login key is left out) and applies `progress(inserted)` to the job while `owner`
   * holds it and it is InProgress or Stopping. Undefined, with nothing written, when it does not.
   */
  importUserBatch(jobId: string, owner: string, users: Insertable<UserTable>[], progress: (inserted: Set<string>) => Updateable<ImportJobTable>): Promise<{ inserted: Set<string>; status: string } | undefined>;
  /** Marks Created jobs made before `createdBefore` Expired and deletes their files; returns their ids. */
  expireImportJobs(createdBefore: number, now: number): Promise<string[]>;

  // ---- Rate limits and auth events (domain/limits.ts, domain/events.ts) ----
  /**
   * Adds one to each counter, creating it at 1, in one atomic upsert, so processes sharing the store
   * count together; answers the new counts in the order given. Keys must be distinct. A counter
   * whose window has ended starts again at 1, with a new window of `windowMs` from `now`.
   */
  hitCounters(counters: { key: string; windowMs: number }[], now: number): Promise<number[]>;
  /** Takes back one hit from each counter (a request refused by another limit). */
  releaseCounters(keys: string[]): Promise<void>;
  /** Deletes counters whose window has ended. */
  sweepCounters(now: number): Promise<void>;
  /** Stores an auth event; once the user has more than keep + slack, drops all but the newest `keep`. */
  addAuthEvent(event: Insertable<AuthEventTable>, keep: number, slack: number): Promise<void>;
  /** A user's auth events, newest first; `after` is the `next` of the page before (`<created_at>:<id>`). */
  listAuthEvents(userId: string, limit: number, keep: number, after?: string): Promise<Page<AuthEvent>>;

  // ---- The admin console (domain/operators.ts, domain/activity.ts) ----
  getSetting(key: string): Promise<string | undefined>;
  /**
   * Writes a setting and creates `rows` (a pool with its key, an app client, a group) in one
   * transaction: a new setting only if none exists (`ifValue` undefined), else only while it still
   * holds `ifValue`. False, with nothing written, when another process got there first.
   */
  writeSetting(key: string, value: string, ifValue: string | undefined, rows: SettingRows): Promise<boolean>;
  addAudit(entry: Insertable<AuditLogTable>): Promise<void>;
  /** Audit entries, newest first, of one pool or all, writes only or all; `before` is the `next` of the page before. */
  listAudit(opts: { poolId?: string; writesOnly?: boolean }, limit: number, before?: string): Promise<Page<AuditEntry>>;
  /**
   * A pool's auth events from `from` (inclusive) to `to` (exclusive), counted per bucket of
   * `bucketMs` (a whole number of milliseconds; buckets are created_at / bucketMs) and per kind.
   */
  countActivity(poolId: string, from: number, to: number, bucketMs: number): Promise<ActivityCount[]>;
  /** Stored counts of a pool's closed buckets of `widthMs`, from bucket `from` up to (not including) `to`. */
  listActivityRollups(poolId: string, widthMs: number, from: number, to: number): Promise<{ bucket: number; counts: string }[]>;
  /** Stores counts of closed buckets; a bucket already stored (by another process) is left as it is. */
  putActivityRollups(rows: Insertable<ActivityRollupTable>[]): Promise<void>;

  // ---- Passkeys (domain/webauthn.ts) ----
  /**
   * Stores a credential, unless the pool already has its id ('exists') or the user would have more
   * than `maxPerUser` ('full'); racing registrations of one user are counted together.
   */
  addWebAuthnCredential(row: Insertable<WebAuthnCredentialTable>, maxPerUser: number): Promise<'ok' | 'exists' | 'full'>;
  getWebAuthnCredential(poolId: string, credentialId: string): Promise<WebAuthnCredential | undefined>;
  /** A user's credentials in the order they were registered; `after` is the `next` of the page before. */
  listWebAuthnCredentials(userId: string, limit: number, after?: string): Promise<Page<WebAuthnCredential>>;
  deleteWebAuthnCredential(poolId: string, userId: string, credentialId: string): Promise<boolean>;
  /**
   * Records a sign-in with a credential: its signature counter moves from `from` to `to` only if it
   * still reads `from`, so of two uses racing with one counter value only one wins.
   */
  useWebAuthnCredential(poolId: string, credentialId: string, from: number, to: number, now: number): Promise<boolean>;

  // ---- Hosted sign-in (OAuth 2.0 / OpenID Connect; see domain/oauth.ts) ----
  putOAuthCode(code: Insertable<OAuthCodeTable>): Promise<void>;
  /**
   * Spends an authorization code by conditional update: 'ok' with its row for the one caller that
   * wins, 'reused' (with the row) when it was already spent, 'invalid' when unknown or expired.
   */
  useOAuthCode(hash: string, now: number): Promise<{ outcome: 'ok' | 'reused' | 'invalid'; row?: OAuthCode }>;
  createSsoSession(session: Insertable<SsoSessionTable>): Promise<void>;
  getSsoSession(id: string): Promise<SsoSession | undefined>;
  deleteSsoSession(id: string): Promise<void>;
  /** Records `key` as used until `expiresAt`; false when it already was (replay). */
  useOnce(key: string, expiresAt: number): Promise<boolean>;

  createResourceServer(server: Insertable<ResourceServerTable>): Promise<void>;
  getResourceServer(poolId: string, identifier: string): Promise<ResourceServer | undefined>;
  updateResourceServer(poolId: string, identifier: string, patch: Updateable<ResourceServerTable>): Promise<boolean>;
  deleteResourceServer(poolId: string, identifier: string): Promise<boolean>;
  listResourceServers(poolId: string, limit: number, after?: string): Promise<Page<ResourceServer>>;

  /** Replaces the customization of (pool, client); clientId 'ALL' is the pool's. */
  putUiCustomization(row: Insertable<UiCustomizationTable>): Promise<void>;
  getUiCustomization(poolId: string, clientId: string): Promise<UiCustomization | undefined>;

  createPoolDomain(row: Insertable<PoolDomainTable>): Promise<void>;
  getPoolDomain(domain: string): Promise<PoolDomain | undefined>;
  getDomainOfPool(poolId: string): Promise<PoolDomain | undefined>;
  deletePoolDomain(domain: string, poolId: string): Promise<boolean>;

  createIdentityProvider(row: Insertable<IdentityProviderTable>): Promise<void>;
  getIdentityProvider(poolId: string, name: string): Promise<IdentityProvider | undefined>;
  updateIdentityProvider(poolId: string, name: string, patch: Updateable<IdentityProviderTable>): Promise<boolean>;
  deleteIdentityProvider(poolId: string, name: string): Promise<boolean>;
  listIdentityProviders(poolId: string, limit: number, after?: string): Promise<Page<IdentityProvider>>;

  linkIdentity(row: Insertable<UserIdentityTable>): Promise<void>;
  findIdentity(poolId: string, providerName: string, providerUserId: string): Promise<UserIdentity | undefined>;
  listIdentitiesOfUser(userId: string): Promise<UserIdentity[]>;
  unlinkIdentity(poolId: string, providerName: string, providerUserId: string): Promise<boolean>;
}

// The unique indexes of the schema by their columns as SQLite names them, and by their name.
const uniqueIndexNames: Record<string, string> = {
  'users.pool_id,users.username_key': 'users_username',
  'users.pool_id,users.email_key': 'users_email',
  'users.pool_id,users.phone_key': 'users_phone',
  'users.pool_id,users.preferred_username_key': 'users_preferred',
  'groups.pool_id,groups.name': 'groups_pk',
  'webauthn_credentials.pool_id,webauthn_credentials.credential_id': 'webauthn_credentials_pk',
};

/**
 * A pagination cursor as both stores can compare it. No key holds U+0000 (PostgreSQL text cannot),
 * and for such keys `key > c` equals `key > c cut at its first U+0000`: a forged cursor then pages
 * alike on SQLite and PostgreSQL instead of failing on the latter.
 */
export function cursor(after: string): string {
  const nul = after.indexOf('\u0000');
  return nul < 0 ? after : after.slice(0, nul);
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
        // SQLite names columns, not the index: "UNIQUE constraint failed: users.pool_id, users.email_key".
        // Report the index name PostgreSQL would, so both dialects raise the same violation.
        const cols = (msg.split(':')[1] ?? '').split(',').map((s) => s.trim());
        const table = cols[0]?.split('.')[0] ?? '';
        throw new UniqueViolation(uniqueIndexNames[cols.join(',')] ?? `${table}_${cols.map((c) => c.split('.')[1]).join('_')}`);
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
  async updatePool(id: string, patch: Updateable<PoolTable>, ifConfig?: string) {
    let q = this.db.updateTable('pools').set(patch).where('id', '=', id);
    if (ifConfig !== undefined) q = q.where('config', '=', ifConfig);
    return Number((await q.executeTakeFirst()).numUpdatedRows) > 0;
  }
  async deletePool(id: string) {
    // Challenge sessions have no foreign key; everything else cascades from the pool and its users.
    return this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('auth_sessions').where('pool_id', '=', id).execute();
      const r = await tx.deleteFrom('pools').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
  }
  async listPools(limit: number, after?: string) {
    let q = this.db.selectFrom('pools').selectAll().orderBy('id').limit(limit + 1);
    if (after) q = q.where('id', '>', cursor(after));
    return page(await q.execute(), limit, (p) => p.id);
  }
  getPoolKeys(poolId: string) { return this.db.selectFrom('pool_keys').selectAll().where('pool_id', '=', poolId).orderBy('created_at', 'desc').execute(); }

  async createClient(client: Insertable<ClientTable>) { await this.db.insertInto('clients').values(client).execute(); }
  getClient(id: string) { return this.db.selectFrom('clients').selectAll().where('id', '=', id).executeTakeFirst(); }
  async updateClient(id: string, patch: Updateable<ClientTable>) { await this.db.updateTable('clients').set(patch).where('id', '=', id).execute(); }
  async deleteClient(id: string) {
    // Its refresh tokens go with it, so its sign-ins' access tokens die at once on every process.
    return this.db.transaction().execute(async (tx) => {
      const r = await tx.deleteFrom('clients').where('id', '=', id).executeTakeFirst();
      await tx.deleteFrom('refresh_tokens').where('client_id', '=', id).execute();
      return Number(r.numDeletedRows) > 0;
    });
  }
  async listClients(poolId: string, limit: number, after?: string) {
    let q = this.db.selectFrom('clients').selectAll().where('pool_id', '=', poolId).orderBy('id').limit(limit + 1);
    if (after) q = q.where('id', '>', cursor(after));
    return page(await q.execute(), limit, (c) => c.id);
  }

  async createUser(user: Insertable<UserTable>) {
    await this.unique(() => this.db.transaction().execute(async (tx) => {
      await tx.insertInto('users').values(user).execute();
      await this.writeLoginKeys(tx, user);
    }));
  }
  /**
   * Replaces a user's login keys with those of its key columns, in the caller's transaction. The
   * unique (pool_id, key) index decides between racing writers; a key another user holds is a
   * UniqueViolation named after the kind of key being written (users_username, users_email, ...).
   */
  private async writeLoginKeys(tx: Kysely<Database>, user: KeyColumns) {
    const keys = loginKeyRows(user);
    await tx.deleteFrom('login_keys').where('user_id', '=', user.id).execute();
    if (!keys.length) return;
    const taken = await tx.insertInto('login_keys').values(keys).onConflict((oc) => oc.doNothing()).returning('key').execute();
    if (taken.length === keys.length) return;
    const got = new Set(taken.map((r) => r.key));
    throw new UniqueViolation(loginKeyIndex[keys.find((k) => !got.has(k.key))!.kind]);
  }
  getUser(poolId: string, id: string) { return this.db.selectFrom('users').selectAll().where('pool_id', '=', poolId).where('id', '=', id).executeTakeFirst(); }
  async findUserByLogin(poolId: string, key: string) {
    // One probe of the login_keys primary key, then the user by its id: no key can name two users.
    // No users.pool_id condition in the SQL: offered one, PostgreSQL without statistics walked the
    // pool's users on an index led by pool_id instead of probing the id, so a login naming someone
    // cost more than one naming nobody, growing with the pool. The pool is checked on the row.
    const row = await this.db.selectFrom('login_keys').innerJoin('users', 'users.id', 'login_keys.user_id').selectAll('users')
      .where('login_keys.pool_id', '=', poolId).where('login_keys.key', '=', key).executeTakeFirst();
    return row?.pool_id === poolId ? row : undefined;
  }
  async updateUser(poolId: string, id: string, patch: Updateable<UserTable>) {
    if (!KEY_COLUMNS.some((c) => c in patch)) {
      await this.db.updateTable('users').set(patch).where('pool_id', '=', poolId).where('id', '=', id).execute();
      return;
    }
    // The keys change with the row, in one transaction, or not at all.
    await this.unique(() => this.db.transaction().execute(async (tx) => {
      const row = await tx.updateTable('users').set(patch).where('pool_id', '=', poolId).where('id', '=', id)
        .returning(['id', 'pool_id', ...KEY_COLUMNS]).executeTakeFirst();
      if (row) await this.writeLoginKeys(tx, row);
    }));
  }
  async deleteUser(poolId: string, id: string) {
    // Codes, refresh tokens, memberships and events cascade from the user.
    const r = await this.db.deleteFrom('users').where('pool_id', '=', poolId).where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
  async listUsers(poolId: string, filter: UserFilter | undefined, limit: number, after?: string) {
    let q = this.db.selectFrom('users').selectAll().where('pool_id', '=', poolId).orderBy('username_key').limit(limit + 1);
    if (after) q = q.where('username_key', '>', cursor(after));
    if (filter) {
      const column = this.filterColumn(filter.attribute);
      if (filter.op === 'eq') q = q.where(column, '=', filter.value);
      else q = q.where(column, '>=', filter.value).where(column, '<', filter.value + '\u{10FFFF}');
    }
    return page(await q.execute(), limit, (u) => u.username_key);
  }
  async countUsers(poolId: string) {
    // (pool_id, username_key) covers the condition: SQLite and PostgreSQL count from the index.
    const row = await this.db.selectFrom('users').select((eb) => eb.fn.countAll<number | string>().as('n')).where('pool_id', '=', poolId).executeTakeFirstOrThrow();
    return Number(row.n);
  }
  private filterColumn(attribute: string) {
    const pg = this.dialect === 'postgres';
    // Prefix filters are ranges; PostgreSQL compares bytewise ("C") as SQLite does, whatever the database collation.
    const binary = (e: RawBuilder<string>) => (pg ? sql<string>`(${e} collate "C")` : e);
    switch (attribute) {
      case 'username': return binary(sql<string>`username`);
      case 'sub': return binary(sql<string>`id`);
      case 'cognito:user_status': return binary(sql<string>`status`);
      case 'status': return binary(sql<string>`(case when enabled = 1 then 'Enabled' else 'Disabled' end)`);
      default:
        return pg
          ? binary(sql<string>`(attributes::json ->> ${attribute}::text)`)
          : sql<string>`json_extract(attributes, ${'$."' + attribute + '"'})`;
    }
  }
  async claimSignInAttempt(poolId: string, id: string, now: number, lockSeconds: readonly number[]) {
    // The row's write lock orders racing attempts (other requests, other processes): each sees the
    // count and lock the one before it left, so a burst meets the limit a serial run does.
    const row = await this.db.updateTable('users')
      .set({ failed_attempts: sql`failed_attempts + 1`, locked_until: lockAfter(sql.ref('failed_attempts'), now, lockSeconds) })
      .where('pool_id', '=', poolId).where('id', '=', id).where('locked_until', '<=', now).returning('failed_attempts').executeTakeFirst();
    return row ? Number(row.failed_attempts) : false;
  }
  async undoSignInAttempt(poolId: string, id: string) {
    await this.db.updateTable('users').set({ failed_attempts: sql`case when failed_attempts > 0 then failed_attempts - 1 else 0 end`, locked_until: 0 })
      .where('pool_id', '=', poolId).where('id', '=', id).execute();
  }
  async clearSignInFailures(poolId: string, id: string) {
    await this.db.updateTable('users').set({ failed_attempts: 0, locked_until: 0 }).where('pool_id', '=', poolId).where('id', '=', id)
      .where((eb) => eb.or([eb('failed_attempts', '>', 0), eb('locked_until', '>', 0)])).execute();
  }
  async claimLoginAttempt(key: string, now: number, lockSeconds: readonly number[], ttlMs: number) {
    const row = await this.db.insertInto('login_failures').values({ key, failed_attempts: 1, locked_until: lockSeconds[0] ? now + 1000 * lockSeconds[0] : 0, expires_at: now + ttlMs })
      .onConflict((oc) => oc.column('key').doUpdateSet({
        failed_attempts: sql`login_failures.failed_attempts + 1`,
        locked_until: lockAfter(sql.ref('login_failures.failed_attempts'), now, lockSeconds),
        expires_at: now + ttlMs,
      }).where('login_failures.locked_until', '<=', now))
      .returning('failed_attempts').executeTakeFirst();
    return !!row;
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
    if (after) q = q.where('name', '>', cursor(after));
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
    // Driven by the user's memberships, so the cost does not grow with the pool's groups or users.
    let q = this.db.selectFrom('groups').selectAll().where('pool_id', '=', poolId)
      .where('name', 'in', (eb) => eb.selectFrom('user_groups').select('group_name').where('user_id', '=', userId).where('pool_id', '=', poolId))
      .orderBy('name').limit(limit + 1);
    if (after) q = q.where('name', '>', cursor(after));
    return page(await q.execute(), limit, (g) => g.name);
  }
  async listUsersInGroup(poolId: string, groupName: string, limit: number, after?: string) {
    let q = this.db.selectFrom('users').innerJoin('user_groups', 'user_groups.user_id', 'users.id')
      .selectAll('users').where('user_groups.pool_id', '=', poolId).where('user_groups.group_name', '=', groupName)
      .orderBy('users.username_key').limit(limit + 1);
    if (after) q = q.where('users.username_key', '>', cursor(after));
    return page(await q.execute(), limit, (u) => u.username_key);
  }

  async putCode(code: Insertable<CodeTable>, message?: Insertable<OutboxTable>) {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('codes').where('user_id', '=', code.user_id).where('purpose', '=', code.purpose).execute();
      await tx.insertInto('codes').values(code).execute();
      if (message) await tx.insertInto('outbox').values(message).execute();
    });
  }
  async putDecoyCode(decoy: Insertable<DecoyTable>, message: Insertable<OutboxTable>) {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('decoys').where('subject', '=', decoy.subject).where('kind', '=', decoy.kind).execute();
      await tx.insertInto('decoys').values(decoy).execute();
      await tx.insertInto('outbox').values(message).execute();
    });
  }
  async addDecoyEvent(decoy: Insertable<DecoyTable>, keep: number, slack: number) {
    // addAuthEvent's statements, on the decoy's subject and kind.
    await this.db.insertInto('decoys').values(decoy).execute();
    await this.trimNewest('decoys', { subject: decoy.subject, kind: decoy.kind }, keep, slack);
  }
  getLiveCode(userId: string, purpose: string, now: number) {
    return this.db.selectFrom('codes').selectAll().where('user_id', '=', userId).where('purpose', '=', purpose)
      .where('consumed_at', 'is', null).where('expires_at', '>=', now - 86_400_000).orderBy('created_at', 'desc').executeTakeFirst();
  }
  async noteLoginFailure(key: string, expiresAt: number) {
    await this.db.insertInto('login_failures').values({ key, failed_attempts: 0, locked_until: 0, expires_at: expiresAt })
      .onConflict((oc) => oc.column('key').doUpdateSet({ expires_at: expiresAt })).execute();
  }
  async claimTotpStep(poolId: string, id: string, step: number) {
    const r = await this.db.updateTable('users').set({ totp_step: step }).where('pool_id', '=', poolId).where('id', '=', id)
      .where((eb) => eb.or([eb('totp_step', 'is', null), eb('totp_step', '<', step)])).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
  async attemptCode(id: string, codeHmac: string, maxAttempts: number, now: number) {
    // Counted whether or not it matches, in the statement that decides it: racing guesses queue on
    // the row, so no more than maxAttempts are ever compared.
    const row = await this.db.updateTable('codes')
      .set({ attempts: sql`attempts + 1`, consumed_at: sql`case when code_hmac = ${codeHmac} then cast(${now} as bigint) else null end` })
      .where('id', '=', id).where('consumed_at', 'is', null).where('attempts', '<', maxAttempts).where('expires_at', '>=', now)
      .returning('consumed_at').executeTakeFirst();
    return !row ? 'refused' : row.consumed_at === null ? 'wrong' : 'used';
  }
  async countAttempt(id: string, maxAttempts: number, now: number) {
    const r = await this.db.updateTable('codes').set({ attempts: sql`attempts + 1` })
      .where('id', '=', id).where('consumed_at', 'is', null).where('attempts', '<', maxAttempts).where('expires_at', '>=', now).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async createSession(session: Insertable<AuthSessionTable>) { await this.db.insertInto('auth_sessions').values(session).execute(); }
  getSession(id: string) { return this.db.selectFrom('auth_sessions').selectAll().where('id', '=', id).executeTakeFirst(); }
  async consumeSession(id: string, now: number) {
    const r = await this.db.updateTable('auth_sessions').set({ consumed_at: now })
      .where('id', '=', id).where('consumed_at', 'is', null).where('expires_at', '>=', now).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async answerSession(id: string, matched: boolean, maxAttempts: number, now: number) {
    // Racing answers queue on the row: at most maxAttempts are ever counted, and one right answer spends it.
    const spent = matched ? sql<number>`cast(${now} as bigint)` : sql<number | null>`case when attempts + 1 >= ${maxAttempts} then cast(${now} as bigint) else null end`;
    const row = await this.db.updateTable('auth_sessions').set({ attempts: sql`attempts + 1`, consumed_at: spent })
      .where('id', '=', id).where('consumed_at', 'is', null).where('attempts', '<', maxAttempts).where('expires_at', '>=', now)
      .returning('attempts').executeTakeFirst();
    return !row ? 'refused' : matched ? 'used' : 'wrong';
  }

  async putRefreshToken(token: Insertable<RefreshTokenTable>) { await this.db.insertInto('refresh_tokens').values(token).execute(); }
  getRefreshToken(hash: string) { return this.db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst(); }
  async useRefreshToken(hash: string, userId: string, now: number, rotation?: { graceMs: number; next: Insertable<RefreshTokenTable> }) {
    const verdict = (row: { revoked_at: number | null; expires_at: number } | undefined) =>
      !row || row.expires_at < now ? 'invalid' as const : row.revoked_at !== null ? 'revoked' as const : 'ok' as const;
    const read = (db: Kysely<Database>) => db.selectFrom('refresh_tokens').select(['revoked_at', 'rotated_at', 'expires_at']).where('token_hash', '=', hash).executeTakeFirst();
    // Without rotation nothing is stored: tokens signed after a revocation belong to a revoked family
    // and are refused wherever they are shown, so one read decides.
    if (!rotation) return verdict(await read(this.db));
    return this.db.transaction().execute(async (tx) => {
      // PostgreSQL: issuers share the user's row lock and revocations take it alone (revocationLock),
      // so a revocation waits for this transaction and then sees the token it stores, and a decision
      // after a revocation sees its revoked_at. SQLite runs one writer at a time.
      if (this.dialect === 'postgres') await tx.selectFrom('users').select('id').where('id', '=', userId).forShare().execute();
      // A write first, so on SQLite this transaction holds the write lock from its start. Of requests
      // racing with the same fresh token, only the one whose update wins is its first use.
      const r = await tx.updateTable('refresh_tokens').set({ rotated_at: now }).where('token_hash', '=', hash)
        .where('rotated_at', 'is', null).where('revoked_at', 'is', null).where('expires_at', '>=', now).executeTakeFirst();
      const first = Number(r.numUpdatedRows) === 1;
      const row = await read(tx);
      const v = verdict(row);
      if (v !== 'ok') return v;
      // A rotation stamped after our `now` (another process) happened just now too.
      if (!first && Math.max(0, now - (row!.rotated_at ?? now)) >= rotation.graceMs) return 'invalid' as const;
      await tx.insertInto('refresh_tokens').values(rotation.next).execute();
      return 'ok' as const;
    });
  }
  /** PostgreSQL: the user's row, locked against every issuing from the user's tokens (see useRefreshToken). */
  private async revocationLock(tx: Kysely<Database>, userId: string) {
    if (this.dialect === 'postgres') await tx.selectFrom('users').select('id').where('id', '=', userId).forNoKeyUpdate().execute();
  }
  async revokeTokenFamily(userId: string, originJti: string, now: number) {
    await this.db.transaction().execute(async (tx) => {
      await this.revocationLock(tx, userId);
      await tx.updateTable('refresh_tokens').set({ revoked_at: now }).where('origin_jti', '=', originJti).where('revoked_at', 'is', null).execute();
    });
  }
  async revokeUserTokens(userId: string, now: number, keepFamily?: string) {
    await this.db.transaction().execute(async (tx) => {
      await this.revocationLock(tx, userId);
      let q = tx.updateTable('refresh_tokens').set({ revoked_at: now }).where('user_id', '=', userId).where('revoked_at', 'is', null);
      if (keepFamily !== undefined) q = q.where('origin_jti', '<>', keepFamily);
      await q.execute();
    });
  }
  async isTokenFamilyLive(originJti: string, now: number) {
    const row = await this.db.selectFrom('refresh_tokens').select('token_hash').where('origin_jti', '=', originJti)
      .where('revoked_at', 'is', null).where('expires_at', '>', now).limit(1).executeTakeFirst();
    return !!row;
  }

  async addOutbox(message: Insertable<OutboxTable>) { await this.db.insertInto('outbox').values(message).execute(); }
  listOutbox(limit: number) {
    return this.db.selectFrom('outbox').selectAll().where('state', 'in', ['kept', 'pending']).orderBy('created_at', 'desc').orderBy('id').limit(limit).execute();
  }
  async claimOutbox(now: number, leaseUntil: number, limit: number) {
    const due = await this.db.selectFrom('outbox').selectAll().where('state', '=', 'pending').where('due_at', '<=', now)
      .orderBy('due_at').limit(limit).execute();
    const claimed: OutboxMessage[] = [];
    for (const m of due) {
      // Compare-and-set on the attempt count read: every claim raises it, so two claimers never both match.
      const r = await this.db.updateTable('outbox').set({ attempts: m.attempts + 1, due_at: leaseUntil })
        .where('id', '=', m.id).where('state', '=', 'pending').where('attempts', '=', m.attempts).where('due_at', '<=', now).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 1) claimed.push({ ...m, attempts: m.attempts + 1, due_at: leaseUntil });
    }
    return claimed;
  }
  async deleteOutbox(id: string) { await this.db.deleteFrom('outbox').where('id', '=', id).execute(); }
  async retryOutbox(id: string, attempts: number, dueAt: number) {
    const r = await this.db.updateTable('outbox').set({ due_at: dueAt }).where('id', '=', id).where('state', '=', 'pending').where('attempts', '=', attempts).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async createDevice(device: Insertable<DeviceTable>) { await this.db.insertInto('devices').values(device).execute(); }
  getDevice(deviceKey: string) { return this.db.selectFrom('devices').selectAll().where('device_key', '=', deviceKey).executeTakeFirst(); }
  async updateDevice(userId: string, deviceKey: string, patch: Updateable<DeviceTable>) {
    const r = await this.db.updateTable('devices').set(patch).where('device_key', '=', deviceKey).where('user_id', '=', userId).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
  async deleteDevice(userId: string, deviceKey: string) {
    const r = await this.db.deleteFrom('devices').where('device_key', '=', deviceKey).where('user_id', '=', userId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
  async listDevices(userId: string, limit: number, after?: string) {
    let q = this.db.selectFrom('devices').selectAll().where('user_id', '=', userId).where('confirmed_at', 'is not', null)
      .orderBy('created_at').orderBy('device_key').limit(limit + 1);
    if (after) {
      const at = Number(after.slice(0, after.indexOf(':')));
      const key = cursor(after.slice(after.indexOf(':') + 1));
      q = q.where((eb) => eb.or([eb('created_at', '>', at), eb.and([eb('created_at', '=', at), eb('device_key', '>', key)])]));
    }
    return page(await q.execute(), limit, (d) => `${d.created_at}:${d.device_key}`);
  }

  async sweep(now: number) {
    await this.db.deleteFrom('decoys').where('expires_at', '<', now).execute();
    await this.db.deleteFrom('outbox').where('state', '=', 'decoy').where('due_at', '<', now).execute();
    await this.db.deleteFrom('auth_sessions').where('expires_at', '<', now).execute();
    // Devices handed out with tokens but never confirmed by their client.
    await this.db.deleteFrom('devices').where('confirmed_at', 'is', null).where('created_at', '<', now - 86_400_000).execute();
    await this.db.deleteFrom('codes').where('expires_at', '<', now - 86_400_000).execute();
    await this.db.deleteFrom('refresh_tokens').where('expires_at', '<', now).execute();
    await this.db.deleteFrom('login_failures').where('expires_at', '<', now).execute();
    await this.db.deleteFrom('oauth_codes').where('expires_at', '<', now - 3600_000).execute();
    await this.db.deleteFrom('sso_sessions').where('expires_at', '<', now).execute();
    await this.db.deleteFrom('used_once').where('expires_at', '<', now).execute();
  }

  // ---- User import jobs (bulk CSV import; see domain/user-import.ts) ----
  async createImportJob(job: Insertable<ImportJobTable>) { await this.db.insertInto('import_jobs').values(job).execute(); }
  getImportJob(id: string) { return this.db.selectFrom('import_jobs').selectAll().where('id', '=', id).executeTakeFirst(); }
  async listImportJobs(poolId: string, limit: number, after?: string) {
    let q = this.db.selectFrom('import_jobs').selectAll().where('pool_id', '=', poolId).orderBy('created_at').orderBy('id').limit(limit + 1);
    if (after) {
      const at = Number(after.slice(0, after.indexOf(':')));
      const id = after.slice(after.indexOf(':') + 1);
      q = q.where((eb) => eb.or([eb('created_at', '>', at), eb.and([eb('created_at', '=', at), eb('id', '>', id)])]));
    }
    return page(await q.execute(), limit, (j) => `${j.created_at}:${j.id}`);
  }
  async updateImportJob(id: string, patch: Updateable<ImportJobTable>, where: { statuses: string[]; owner?: string }) {
    let q = this.db.updateTable('import_jobs').set(patch).where('id', '=', id).where('status', 'in', where.statuses);
    if (where.owner !== undefined) q = q.where('owner', '=', where.owner);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
  async claimImportJob(owner: string, now: number, staleBefore: number) {
    const candidates = await this.db.selectFrom('import_jobs').selectAll()
      .where((eb) => eb.or([eb('status', '=', 'Pending'), eb.and([eb('status', 'in', ['InProgress', 'Stopping']), eb('heartbeat_at', '<', staleBefore)])]))
      .orderBy('created_at').limit(5).execute();
    for (const job of candidates) {
      const status = job.status === 'Pending' ? 'InProgress' : job.status;
      const patch = { status, owner, heartbeat_at: now, attempts: job.attempts + 1, updated_at: now };
      // Compare-and-set on what was read: attempts grows with every claim, so two claimers never both match.
      const r = await this.db.updateTable('import_jobs').set(patch).where('id', '=', job.id).where('status', '=', job.status)
        .where('attempts', '=', job.attempts).where('heartbeat_at', '=', job.heartbeat_at).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 1) return { ...job, ...patch };
    }
    return undefined;
  }
  async putImportChunk(chunk: Insertable<ImportChunkTable>) { await this.db.insertInto('import_chunks').values(chunk).execute(); }
  async getImportChunk(jobId: string, uploadId: string, seq: number) {
    const row = await this.db.selectFrom('import_chunks').select('data').where('job_id', '=', jobId).where('upload_id', '=', uploadId).where('seq', '=', seq).executeTakeFirst();
    return row && Buffer.from(row.data);
  }
  async commitImportUpload(jobId: string, uploadId: string, patch: Updateable<ImportJobTable>) {
    const refused = new Error('import job not Created');
    try {
      await this.db.transaction().execute(async (tx) => {
        // First the file this one replaces (a write, so the transaction holds the write lock from
        // its start); uploads still under way are left alone. Undone below if the job was started.
        await tx.deleteFrom('import_chunks').where('job_id', '=', jobId).where('upload_id', '<>', uploadId)
          .where('upload_id', '=', (eb) => eb.selectFrom('import_jobs').select('upload_id').where('id', '=', jobId).where('status', '=', 'Created'))
          .execute();
        const r = await tx.updateTable('import_jobs').set({ ...patch, upload_id: uploadId }).where('id', '=', jobId).where('status', '=', 'Created').executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) throw refused;
      });
      return true;
    } catch (e) {
      if (e !== refused) throw e;
      await this.deleteImportChunks(jobId, uploadId);
      return false;
    }
  }
  async deleteImportChunks(jobId: string, uploadId?: string) {
    let q = this.db.deleteFrom('import_chunks').where('job_id', '=', jobId);
    if (uploadId !== undefined) q = q.where('upload_id', '=', uploadId);
    await q.execute();
  }
  async findLoginKeys(poolId: string, keys: string[]) {
    // Lists padded with '' (no key is empty) to one of a few fixed lengths, so the SQL texts, and
    // SQLite's cached statements for them, are the same from batch to batch.
    const out: { key: string; kind: string }[] = [];
    for (let i = 0; i < keys.length; i += 1024) {
      const values = keys.slice(i, i + 1024);
      const padded = values.concat(Array<string>(importListSize(values.length) - values.length).fill(''));
      out.push(...await this.db.selectFrom('login_keys').select(['key', 'kind']).where('pool_id', '=', poolId).where('key', 'in', padded).execute());
    }
    return out;
  }
  async importUserBatch(jobId: string, owner: string, users: Insertable<UserTable>[], progress: (inserted: Set<string>) => Updateable<ImportJobTable>) {
    const lost = new Error('import job not held');
    try {
      return await this.db.transaction().execute(async (tx) => {
        const inserted = new Set<string>();
        // Multi-row inserts of a few fixed sizes (the SQL texts stay few); ON CONFLICT DO NOTHING
        // leaves out a row that a concurrent write made a duplicate since the caller looked.
        for (let i = 0; i < users.length;) {
          const size = IMPORT_INSERT_SIZES.find((s) => s <= users.length - i)!;
          const rows = await tx.insertInto('users').values(users.slice(i, i + size)).onConflict((oc) => oc.doNothing()).returning('id').execute();
          for (const r of rows) inserted.add(r.id);
          i += size;
        }
        // Their login keys; a user whose key another user holds (a concurrent write) is taken out again.
        const keys = users.filter((u) => inserted.has(u.id as string)).flatMap(loginKeyRows);
        const wanted = new Map<string, number>();
        for (const k of keys) wanted.set(k.user_id, (wanted.get(k.user_id) ?? 0) + 1);
        for (let i = 0; i < keys.length;) {
          const size = IMPORT_INSERT_SIZES.find((s) => s <= keys.length - i)!;
          const rows = await tx.insertInto('login_keys').values(keys.slice(i, i + size)).onConflict((oc) => oc.doNothing()).returning('user_id').execute();
          for (const r of rows) wanted.set(r.user_id, wanted.get(r.user_id)! - 1);
          i += size;
        }
        const clashed = [...wanted].filter(([, left]) => left > 0).map(([id]) => id);
        if (clashed.length) {
          await tx.deleteFrom('users').where('id', 'in', clashed).execute();
          for (const id of clashed) inserted.delete(id);
        }
        const job = await tx.updateTable('import_jobs').set(progress(inserted)).where('id', '=', jobId).where('owner', '=', owner)
          .where('status', 'in', ['InProgress', 'Stopping']).returning('status').executeTakeFirst();
        if (!job) throw lost;
        return { inserted, status: job.status };
      });
    } catch (e) {
      if (e === lost) return undefined;
      throw e;
    }
  }
  async expireImportJobs(createdBefore: number, now: number) {
    return this.db.transaction().execute(async (tx) => {
      const rows = await tx.updateTable('import_jobs').set({ status: 'Expired', upload_id: null, updated_at: now })
        .where('status', '=', 'Created').where('created_at', '<', createdBefore).returning('id').execute();
      const ids = rows.map((r) => r.id);
      if (ids.length) await tx.deleteFrom('import_chunks').where('job_id', 'in', ids).execute();
      return ids;
    });
  }

  // ---- Rate limits and auth events (domain/limits.ts, domain/events.ts) ----
  async hitCounters(counters: { key: string; windowMs: number }[], now: number) {
    // Both databases evaluate every SET expression against the old row.
    const rows = await this.db.insertInto('rate_counters').values(counters.map((c) => ({ key: c.key, hits: 1, expires_at: now + c.windowMs })))
      .onConflict((oc) => oc.column('key').doUpdateSet((eb) => {
        const ended = eb('rate_counters.expires_at', '<=', now);
        return {
          hits: eb.case().when(ended).then(1).else(eb('rate_counters.hits', '+', 1)).end(),
          expires_at: eb.case().when(ended).then(eb.ref('excluded.expires_at')).else(eb.ref('rate_counters.expires_at')).end(),
        };
      }))
      .returning(['key', 'hits']).execute();
    const hits = new Map(rows.map((r) => [r.key, Number(r.hits)]));
    return counters.map((c) => hits.get(c.key) ?? 0);
  }
  async releaseCounters(keys: string[]) {
    await this.db.updateTable('rate_counters').set((eb) => ({ hits: eb('hits', '-', 1) })).where('key', 'in', keys).execute();
  }
  async sweepCounters(now: number) { await this.db.deleteFrom('rate_counters').where('expires_at', '<', now).execute(); }
  async addAuthEvent(event: Insertable<AuthEventTable>, keep: number, slack: number) {
    await this.db.insertInto('auth_events').values(event).execute();
    await this.trimNewest('auth_events', { user_id: event.user_id }, keep, slack);
  }
  /**
   * Once the rows matching `where` number more than keep + slack, one statement drops all but the newest
   * `keep`: deleting in batches writes far less than one row per insert (SQLite needs a LIMIT before OFFSET; -1 is none).
   */
  private async trimNewest(table: 'auth_events' | 'decoys', where: Record<string, string>, keep: number, slack: number) {
    // Kysely cannot type a table chosen at run time; both have id and created_at.
    const db = this.db as unknown as Kysely<Record<string, Record<string, string | number>>>;
    const matching = <Q extends { where: (c: string, op: '=', v: string) => Q }>(q: Q) => Object.entries(where).reduce((acc, [c, v]) => acc.where(c, '=', v), q);
    const newest = () => matching(db.selectFrom(table)).orderBy('created_at', 'desc').orderBy('id', 'desc');
    let older = newest().select('id');
    if (this.dialect === 'sqlite') older = older.limit(-1);
    await matching(db.deleteFrom(table)).where('id', 'in', older.offset(keep))
      .where((eb) => eb.exists(newest().select('id').limit(1).offset(keep + slack))).execute();
  }
  private newestEvents(userId: string) {
    return this.db.selectFrom('auth_events').where('user_id', '=', userId).orderBy('created_at', 'desc').orderBy('id', 'desc');
  }
  async listAuthEvents(userId: string, limit: number, keep: number, after?: string) {
    let q = this.newestEvents(userId).selectAll().limit(limit + 1);
    // Only the newest `keep` are shown; up to `slack` older ones may still wait for their batch delete.
    const last = await this.newestEvents(userId).select(['created_at', 'id']).limit(1).offset(keep - 1).executeTakeFirst();
    if (last) q = q.where((eb) => eb.or([eb('created_at', '>', last.created_at), eb.and([eb('created_at', '=', last.created_at), eb('id', '>=', last.id)])]));
    if (after) {
      const at = Number(after.slice(0, after.indexOf(':'))), id = after.slice(after.indexOf(':') + 1);
      q = q.where((eb) => eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', id)])]));
    }
    return page(await q.execute(), limit, (e) => `${e.created_at}:${e.id}`);
  }

  // ---- The admin console ----
  async getSetting(key: string) {
    return (await this.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst())?.value;
  }
  async writeSetting(key: string, value: string, ifValue: string | undefined, rows: SettingRows) {
    const lost = new Error('setting taken');
    const now = Date.now();
    try {
      await this.db.transaction().execute(async (tx) => {
        // The setting first: of processes starting together, the one whose write lands writes the rest.
        const won = ifValue === undefined
          ? await tx.insertInto('settings').values({ key, value, updated_at: now }).onConflict((oc) => oc.doNothing()).returning('key').executeTakeFirst()
          : await tx.updateTable('settings').set({ value, updated_at: now }).where('key', '=', key).where('value', '=', ifValue).returning('key').executeTakeFirst();
        if (!won) throw lost;
        if (rows.pool) await tx.insertInto('pools').values(rows.pool).execute();
        if (rows.key) await tx.insertInto('pool_keys').values(rows.key).execute();
        if (rows.client) await tx.insertInto('clients').values(rows.client).execute();
        if (rows.group) await tx.insertInto('groups').values(rows.group).execute();
      });
      return true;
    } catch (e) {
      if (e === lost) return false;
      throw e;
    }
  }
  async addAudit(entry: Insertable<AuditLogTable>) { await this.db.insertInto('audit_log').values(entry).execute(); }
  async listAudit(opts: { poolId?: string; writesOnly?: boolean }, limit: number, before?: string) {
    let q = this.db.selectFrom('audit_log').selectAll().orderBy('at', 'desc').orderBy('id', 'desc').limit(limit + 1);
    if (opts.poolId !== undefined) q = q.where('pool_id', '=', opts.poolId);
    if (opts.writesOnly) q = q.where('kind', '=', 'write');
    if (before) {
      const at = Number(before.slice(0, before.indexOf(':'))), id = before.slice(before.indexOf(':') + 1);
      q = q.where((eb) => eb.or([eb('at', '<', at), eb.and([eb('at', '=', at), eb('id', '<', id)])]));
    }
    return page(await q.execute(), limit, (e) => `${e.at}:${e.id}`);
  }
  async countActivity(poolId: string, from: number, to: number, bucketMs: number) {
    if (!Number.isSafeInteger(bucketMs) || bucketMs <= 0) throw new Error('bucketMs must be a positive whole number');
    // The bucket width is a literal (a handful of fixed widths), so both stores divide integers and
    // the statement text stays the same from call to call. Read from the covering index alone.
    const bucket = sql<number>`created_at / ${sql.lit(bucketMs)}`;
    const rows = await this.db.selectFrom('auth_events')
      .select([bucket.as('bucket'), 'event_type', 'response', 'detail', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('pool_id', '=', poolId).where('created_at', '>=', from).where('created_at', '<', to)
      .groupBy([bucket, 'event_type', 'response', 'detail']).execute();
    return rows.map((r) => ({ bucket: Number(r.bucket), event_type: r.event_type, response: r.response, detail: r.detail, n: Number(r.n) }));
  }
  async listActivityRollups(poolId: string, widthMs: number, from: number, to: number) {
    const rows = await this.db.selectFrom('activity_rollups').select(['bucket', 'counts']).where('pool_id', '=', poolId).where('width_ms', '=', widthMs)
      .where('bucket', '>=', from).where('bucket', '<', to).execute();
    return rows.map((r) => ({ bucket: Number(r.bucket), counts: r.counts }));
  }
  async putActivityRollups(rows: Insertable<ActivityRollupTable>[]) {
    for (let i = 0; i < rows.length; i += 200) {
      await this.db.insertInto('activity_rollups').values(rows.slice(i, i + 200)).onConflict((oc) => oc.doNothing()).execute();
    }
  }

  // ---- Passkeys ----
  async addWebAuthnCredential(row: Insertable<WebAuthnCredentialTable>, maxPerUser: number) {
    const full = new Error('full');
    try {
      return await this.unique(() => this.db.transaction().execute(async (tx) => {
        // PostgreSQL: registrations of one user queue on the user's row, so their count is exact.
        // SQLite: the insert comes first and takes the write lock for the whole transaction.
        if (this.dialect === 'postgres') await tx.selectFrom('users').select('id').where('id', '=', row.user_id).forUpdate().execute();
        await tx.insertInto('webauthn_credentials').values(row).execute();
        const { n } = await tx.selectFrom('webauthn_credentials').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', row.user_id).executeTakeFirstOrThrow();
        if (Number(n) > maxPerUser) throw full;
        return 'ok' as const;
      }));
    } catch (e) {
      if (e === full) return 'full' as const;
      if (e instanceof UniqueViolation) return 'exists' as const;
      throw e;
    }
  }
  getWebAuthnCredential(poolId: string, credentialId: string) {
    return this.db.selectFrom('webauthn_credentials').selectAll().where('pool_id', '=', poolId).where('credential_id', '=', cursor(credentialId)).executeTakeFirst();
  }
  async listWebAuthnCredentials(userId: string, limit: number, after?: string) {
    let q = this.db.selectFrom('webauthn_credentials').selectAll().where('user_id', '=', userId)
      .orderBy('created_at').orderBy('credential_id').limit(limit + 1);
    if (after) {
      const at = Number(after.slice(0, after.indexOf(':'))) || 0, id = cursor(after.slice(after.indexOf(':') + 1));
      q = q.where((eb) => eb.or([eb('created_at', '>', at), eb.and([eb('created_at', '=', at), eb('credential_id', '>', id)])]));
    }
    return page(await q.execute(), limit, (c) => `${c.created_at}:${c.credential_id}`);
  }
  async deleteWebAuthnCredential(poolId: string, userId: string, credentialId: string) {
    const r = await this.db.deleteFrom('webauthn_credentials').where('pool_id', '=', poolId).where('credential_id', '=', cursor(credentialId))
      .where('user_id', '=', userId).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }
  async useWebAuthnCredential(poolId: string, credentialId: string, from: number, to: number, now: number) {
    const r = await this.db.updateTable('webauthn_credentials').set({ counter: to, last_used_at: now })
      .where('pool_id', '=', poolId).where('credential_id', '=', credentialId).where('counter', '=', from).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  // ---- Hosted sign-in ----
  async putOAuthCode(code: Insertable<OAuthCodeTable>) { await this.db.insertInto('oauth_codes').values(code).execute(); }
  async useOAuthCode(hash: string, now: number) {
    const won = await this.db.updateTable('oauth_codes').set({ consumed_at: now }).where('code_hash', '=', hash)
      .where('consumed_at', 'is', null).where('expires_at', '>=', now).returningAll().executeTakeFirst();
    if (won) return { outcome: 'ok' as const, row: won };
    const row = await this.db.selectFrom('oauth_codes').selectAll().where('code_hash', '=', hash).executeTakeFirst();
    return row?.consumed_at != null ? { outcome: 'reused' as const, row } : { outcome: 'invalid' as const };
  }
  async createSsoSession(session: Insertable<SsoSessionTable>) { await this.db.insertInto('sso_sessions').values(session).execute(); }
  getSsoSession(id: string) { return this.db.selectFrom('sso_sessions').selectAll().where('id', '=', id).executeTakeFirst(); }
  async deleteSsoSession(id: string) { await this.db.deleteFrom('sso_sessions').where('id', '=', id).execute(); }
  async useOnce(key: string, expiresAt: number) {
    const rows = await this.db.insertInto('used_once').values({ key, expires_at: expiresAt }).onConflict((oc) => oc.doNothing()).returning('key').execute();
    return rows.length === 1;
  }

  async createResourceServer(server: Insertable<ResourceServerTable>) { await this.unique(() => this.db.insertInto('resource_servers').values(server).execute()); }
  getResourceServer(poolId: string, identifier: string) {
    return this.db.selectFrom('resource_servers').selectAll().where('pool_id', '=', poolId).where('identifier', '=', identifier).executeTakeFirst();
  }
  async updateResourceServer(poolId: string, identifier: string, patch: Updateable<ResourceServerTable>) {
    const r = await this.db.updateTable('resource_servers').set(patch).where('pool_id', '=', poolId).where('identifier', '=', identifier).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }
  async deleteResourceServer(poolId: string, identifier: string) {
    const r = await this.db.deleteFrom('resource_servers').where('pool_id', '=', poolId).where('identifier', '=', identifier).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
  async listResourceServers(poolId: string, limit: number, after?: string) {
    let q = this.db.selectFrom('resource_servers').selectAll().where('pool_id', '=', poolId).orderBy('identifier').limit(limit + 1);
    if (after) q = q.where('identifier', '>', cursor(after));
    return page(await q.execute(), limit, (r) => r.identifier);
  }

  async putUiCustomization(row: Insertable<UiCustomizationTable>) {
    await this.db.insertInto('ui_customizations').values(row)
      .onConflict((oc) => oc.columns(['pool_id', 'client_id']).doUpdateSet({ css: row.css ?? null, image: row.image ?? null, updated_at: row.updated_at })).execute();
  }
  getUiCustomization(poolId: string, clientId: string) {
    return this.db.selectFrom('ui_customizations').selectAll().where('pool_id', '=', poolId).where('client_id', '=', clientId).executeTakeFirst();
  }

  async createPoolDomain(row: Insertable<PoolDomainTable>) { await this.unique(() => this.db.insertInto('pool_domains').values(row).execute()); }
  getPoolDomain(domain: string) { return this.db.selectFrom('pool_domains').selectAll().where('domain', '=', domain).executeTakeFirst(); }
  getDomainOfPool(poolId: string) { return this.db.selectFrom('pool_domains').selectAll().where('pool_id', '=', poolId).executeTakeFirst(); }
  async deletePoolDomain(domain: string, poolId: string) {
    const r = await this.db.deleteFrom('pool_domains').where('domain', '=', domain).where('pool_id', '=', poolId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async createIdentityProvider(row: Insertable<IdentityProviderTable>) { await this.unique(() => this.db.insertInto('identity_providers').values(row).execute()); }
  getIdentityProvider(poolId: string, name: string) {
    return this.db.selectFrom('identity_providers').selectAll().where('pool_id', '=', poolId).where('name', '=', name).executeTakeFirst();
  }
  async updateIdentityProvider(poolId: string, name: string, patch: Updateable<IdentityProviderTable>) {
    const r = await this.db.updateTable('identity_providers').set(patch).where('pool_id', '=', poolId).where('name', '=', name).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }
  async deleteIdentityProvider(poolId: string, name: string) {
    const r = await this.db.deleteFrom('identity_providers').where('pool_id', '=', poolId).where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
  async listIdentityProviders(poolId: string, limit: number, after?: string) {
    let q = this.db.selectFrom('identity_providers').selectAll().where('pool_id', '=', poolId).orderBy('name').limit(limit + 1);
    if (after) q = q.where('name', '>', cursor(after));
    return page(await q.execute(), limit, (r) => r.name);
  }

  async linkIdentity(row: Insertable<UserIdentityTable>) { await this.unique(() => this.db.insertInto('user_identities').values(row).execute()); }
  findIdentity(poolId: string, providerName: string, providerUserId: string) {
    return this.db.selectFrom('user_identities').selectAll().where('pool_id', '=', poolId).where('provider_name', '=', providerName)
      .where('provider_user_id', '=', providerUserId).executeTakeFirst();
  }
  listIdentitiesOfUser(userId: string) { return this.db.selectFrom('user_identities').selectAll().where('user_id', '=', userId).orderBy('created_at').execute(); }
  async unlinkIdentity(poolId: string, providerName: string, providerUserId: string) {
    const r = await this.db.deleteFrom('user_identities').where('pool_id', '=', poolId).where('provider_name', '=', providerName)
      .where('provider_user_id', '=', providerUserId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}

/**
 * locked_until after one more failure, from the count before it: now + lockSeconds[count] seconds
 * (the last entry beyond), or 0 for no lock. The seconds are literals, so the statement's text
 * does not change from call to call.
 */
function lockAfter(count: RawBuilder<unknown>, now: number, lockSeconds: readonly number[]) {
  const cases = lockSeconds.slice(0, -1).map((s, i) => sql`when ${sql.lit(i)} then ${sql.lit(s)}`);
  const seconds = sql`(case ${count} ${sql.join(cases, sql` `)} else ${sql.lit(lockSeconds[lockSeconds.length - 1])} end)`;
  return sql<number>`(case when ${seconds} = 0 then 0 else cast(${now} as bigint) + 1000 * ${seconds} end)`;
}

// ---- User import jobs: types and helpers of the section above ----
export type ImportJob = Selectable<ImportJobTable>;
/** The key columns of a user row, from which its login_keys rows are derived. */
type KeyColumns = Pick<Insertable<UserTable>, 'id' | 'pool_id' | 'username_key' | 'email_key' | 'phone_key' | 'preferred_username_key'>;
const KEY_COLUMNS = ['username_key', 'email_key', 'phone_key', 'preferred_username_key'] as const;
const KEY_KINDS = { username_key: 'username', email_key: 'email', phone_key: 'phone', preferred_username_key: 'preferred_username' } as const;
/** The unique index each kind of key answered to before login_keys, so callers map a clash as before. */
const loginKeyIndex: Record<string, string> = { username: 'users_username', email: 'users_email', phone: 'users_phone', preferred_username: 'users_preferred' };
/** A user's login keys; a key the user holds twice (say, preferred_username equal to its username) is one row. */
function loginKeyRows(user: KeyColumns) {
  const out: { pool_id: string; key: string; kind: string; user_id: string }[] = [];
  for (const column of KEY_COLUMNS) {
    const key = user[column];
    if (key && !out.some((k) => k.key === key)) out.push({ pool_id: user.pool_id, key, kind: KEY_KINDS[column], user_id: user.id });
  }
  return out;
}
/** Row counts of the multi-row inserts of an import batch (largest first). */
const IMPORT_INSERT_SIZES = [256, 64, 16, 4, 1];
function importListSize(n: number) {
  return [16, 64, 256, 512, 1024].find((s) => s >= n) ?? n;
}
