import { Kysely, Migrator, sql, type Migration } from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

// Migrations are plain objects so the server ships them inside its build; both dialects run
// the same definitions unless a step says otherwise. Append new ones; never edit one that has shipped.
const migrations = (dialect: Dialect): Record<string, Migration> => ({
  '0001_core': {
    async up(db: Kysely<any>) {
      const ms = 'bigint' as const;
      await db.schema.createTable('pools').addColumn('id', 'text', (c) => c.primaryKey()).addColumn('name', 'text', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull()).addColumn('created_at', ms, (c) => c.notNull()).addColumn('updated_at', ms, (c) => c.notNull()).execute();
      await db.schema.createTable('pool_keys').addColumn('pool_id', 'text', (c) => c.notNull().references('pools.id').onDelete('cascade'))
        .addColumn('kid', 'text', (c) => c.notNull()).addColumn('private_key', 'text', (c) => c.notNull()).addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('created_at', ms, (c) => c.notNull()).addPrimaryKeyConstraint('pool_keys_pk', ['pool_id', 'kid']).execute();
      await db.schema.createTable('clients').addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('pool_id', 'text', (c) => c.notNull().references('pools.id').onDelete('cascade')).addColumn('name', 'text', (c) => c.notNull())
        .addColumn('secret', 'text').addColumn('config', 'text', (c) => c.notNull())
        .addColumn('created_at', ms, (c) => c.notNull()).addColumn('updated_at', ms, (c) => c.notNull()).execute();
      await db.schema.createIndex('clients_pool').on('clients').columns(['pool_id', 'id']).execute();
      await db.schema.createTable('users').addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('pool_id', 'text', (c) => c.notNull().references('pools.id').onDelete('cascade'))
        .addColumn('username', 'text', (c) => c.notNull()).addColumn('username_key', 'text', (c) => c.notNull())
        .addColumn('email_key', 'text').addColumn('phone_key', 'text').addColumn('preferred_username_key', 'text')
        .addColumn('status', 'text', (c) => c.notNull()).addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('attributes', 'text', (c) => c.notNull()).addColumn('password', 'text')
        .addColumn('password_changed_at', ms).addColumn('temp_password_expires_at', ms)
        .addColumn('mfa', 'text', (c) => c.notNull()).addColumn('failed_attempts', 'integer', (c) => c.notNull())
        .addColumn('locked_until', ms, (c) => c.notNull())
        .addColumn('created_at', ms, (c) => c.notNull()).addColumn('updated_at', ms, (c) => c.notNull()).execute();
      await db.schema.createIndex('users_username').unique().on('users').columns(['pool_id', 'username_key']).execute();
      await db.schema.createIndex('users_email').unique().on('users').columns(['pool_id', 'email_key']).execute();
      await db.schema.createIndex('users_phone').unique().on('users').columns(['pool_id', 'phone_key']).execute();
      await db.schema.createIndex('users_preferred').unique().on('users').columns(['pool_id', 'preferred_username_key']).execute();
      await db.schema.createTable('groups').addColumn('pool_id', 'text', (c) => c.notNull().references('pools.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull()).addColumn('description', 'text').addColumn('precedence', 'integer').addColumn('role_arn', 'text')
        .addColumn('created_at', ms, (c) => c.notNull()).addColumn('updated_at', ms, (c) => c.notNull())
        .addPrimaryKeyConstraint('groups_pk', ['pool_id', 'name']).execute();
      await db.schema.createTable('user_groups').addColumn('pool_id', 'text', (c) => c.notNull()).addColumn('group_name', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('user_groups_pk', ['pool_id', 'group_name', 'user_id'])
        .addForeignKeyConstraint('user_groups_group', ['pool_id', 'group_name'], 'groups', ['pool_id', 'name'], (c) => c.onDelete('cascade')).execute();
      await db.schema.createIndex('user_groups_user').on('user_groups').column('user_id').execute();
      await db.schema.createTable('codes').addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('pool_id', 'text', (c) => c.notNull()).addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('purpose', 'text', (c) => c.notNull()).addColumn('code_hmac', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull()).addColumn('expires_at', ms, (c) => c.notNull()).addColumn('consumed_at', ms)
        .addColumn('created_at', ms, (c) => c.notNull()).execute();
      await db.schema.createIndex('codes_user').on('codes').columns(['user_id', 'purpose']).execute();
      await db.schema.createTable('auth_sessions').addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('pool_id', 'text', (c) => c.notNull()).addColumn('client_id', 'text', (c) => c.notNull()).addColumn('user_id', 'text')
        .addColumn('state', 'text', (c) => c.notNull()).addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('expires_at', ms, (c) => c.notNull()).addColumn('consumed_at', ms).addColumn('created_at', ms, (c) => c.notNull()).execute();
      await db.schema.createIndex('auth_sessions_expiry').on('auth_sessions').column('expires_at').execute();
      await db.schema.createTable('refresh_tokens').addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('origin_jti', 'text', (c) => c.notNull()).addColumn('pool_id', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull()).addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('auth_time', ms, (c) => c.notNull()).addColumn('expires_at', ms, (c) => c.notNull())
        .addColumn('revoked_at', ms).addColumn('rotated_at', ms).addColumn('created_at', ms, (c) => c.notNull()).execute();
      await db.schema.createIndex('refresh_tokens_origin').on('refresh_tokens').column('origin_jti').execute();
      await db.schema.createIndex('refresh_tokens_user').on('refresh_tokens').column('user_id').execute();
      await db.schema.createTable('outbox').addColumn('id', 'text', (c) => c.primaryKey()).addColumn('pool_id', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull()).addColumn('destination', 'text', (c) => c.notNull())
        .addColumn('subject', 'text').addColumn('body', 'text', (c) => c.notNull()).addColumn('created_at', ms, (c) => c.notNull()).execute();
      void sql;
    },
  },
  '0002_binary_collation': {
    // Keys are compared and paged with `>`; SQLite compares text bytewise, and PostgreSQL must
    // too, whatever the database's default collation, so listings and pagination match.
    async up(db: Kysely<any>) {
      if (dialect !== 'postgres') return;
      const columns: [string, string][] = [
        ['pools', 'id'], ['clients', 'id'], ['users', 'username_key'], ['groups', 'name'], ['user_groups', 'group_name'],
      ];
      for (const [table, column] of columns) {
        await sql`alter table ${sql.table(table)} alter column ${sql.ref(column)} type text collate "C"`.execute(db);
      }
    },
  },
  '0003_user_import': {
    // Bulk user import: the jobs, and each uploaded CSV file in chunks, so that any process
    // sharing the database can run a job (and take over one whose process died).
    async up(db: Kysely<any>) {
      const ms = 'bigint' as const;
      const req = (c: any) => c.notNull();
      await db.schema.createTable('import_jobs').addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('pool_id', 'text', (c) => c.notNull().references('pools.id').onDelete('cascade'))
        .addColumn('name', 'text', req).addColumn('role_arn', 'text', req).addColumn('status', 'text', req)
        .addColumn('upload_id', 'text').addColumn('csv_bytes', ms, req).addColumn('csv_records', 'integer', req).addColumn('csv_error', 'text')
        .addColumn('rows_done', 'integer', req).addColumn('imported', 'integer', req).addColumn('skipped', 'integer', req).addColumn('failed', 'integer', req)
        .addColumn('failures', 'text', req).addColumn('message', 'text')
        .addColumn('owner', 'text').addColumn('heartbeat_at', ms, req).addColumn('attempts', 'integer', req)
        .addColumn('created_at', ms, req).addColumn('started_at', ms).addColumn('completed_at', ms).addColumn('updated_at', ms, req).execute();
      await db.schema.createIndex('import_jobs_pool').on('import_jobs').columns(['pool_id', 'created_at', 'id']).execute();
      await db.schema.createIndex('import_jobs_status').on('import_jobs').columns(['status', 'heartbeat_at']).execute();
      await db.schema.createTable('import_chunks')
        .addColumn('job_id', 'text', (c) => c.notNull().references('import_jobs.id').onDelete('cascade'))
        .addColumn('upload_id', 'text', req).addColumn('seq', 'integer', req)
        .addColumn('data', dialect === 'postgres' ? 'bytea' : 'blob', req)
        .addPrimaryKeyConstraint('import_chunks_pk', ['job_id', 'upload_id', 'seq']).execute();
    },
  },
  '0004_rate_limits_and_auth_events': {
    // Abuse protection and per-user auth history, shared by every process on the store.
    async up(db: Kysely<any>) {
      const ms = 'bigint' as const;
      await db.schema.createTable('rate_counters').addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('hits', 'integer', (c) => c.notNull()).addColumn('expires_at', ms, (c) => c.notNull()).execute();
      await db.schema.createIndex('rate_counters_expiry').on('rate_counters').column('expires_at').execute();
      await db.schema.createTable('auth_events').addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('pool_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('event_type', 'text', (c) => c.notNull()).addColumn('response', 'text', (c) => c.notNull())
        .addColumn('challenges', 'text', (c) => c.notNull()).addColumn('ip', 'text')
        .addColumn('created_at', ms, (c) => c.notNull()).execute();
      await db.schema.createIndex('auth_events_user').on('auth_events').columns(['user_id', 'created_at', 'id']).execute();
    },
  },
  '0005_membership_by_user': {
    // A user's groups are read at every sign-in: find them from the user, not by scanning the pool.
    async up(db: Kysely<any>) {
      await db.schema.dropIndex('user_groups_user').execute();
      await db.schema.createIndex('user_groups_user').on('user_groups').columns(['user_id', 'pool_id', 'group_name']).execute();
    },
  },
  '0006_signin_hardening': {
    // Failed sign-ins of logins that name no user, counted as a user's are, so that unknown names
    // lock out alike and cost the same writes. Swept a day after their last attempt.
    async up(db: Kysely<any>) {
      const ms = 'bigint' as const;
      await db.schema.createTable('login_failures').addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('failed_attempts', 'integer', (c) => c.notNull()).addColumn('locked_until', ms, (c) => c.notNull())
        .addColumn('expires_at', ms, (c) => c.notNull()).execute();
      await db.schema.createIndex('login_failures_expiry').on('login_failures').column('expires_at').execute();
    },
  },
  '0007_token_revocation': {
    // Deleting an app client deletes its refresh tokens: find them without scanning every token.
    async up(db: Kysely<any>) {
      await db.schema.createIndex('refresh_tokens_client').on('refresh_tokens').column('client_id').execute();
    },
  },
  '0008_login_keys': {
    // Every login (username, email, phone, preferred_username) is unique across all of a pool's
    // users and kinds: one table with one unique index, written in the user's transaction, so two
    // racing writers cannot both take a key and the sign-in lookup is one indexed query.
    async up(db: Kysely<any>) {
      await db.schema.createTable('login_keys')
        .addColumn('pool_id', 'text', (c) => c.notNull()).addColumn('key', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('login_keys_pk', ['pool_id', 'key']).execute();
      await db.schema.createIndex('login_keys_user').on('login_keys').column('user_id').execute();
      // Existing clashes across kinds are resolved for the older claim: usernames first, then
      // email, phone, preferred_username, so an alias can no longer shadow someone's username.
      for (const [kind, column] of [['username', 'username_key'], ['email', 'email_key'], ['phone', 'phone_key'], ['preferred_username', 'preferred_username_key']]) {
        await sql`insert into login_keys (pool_id, key, kind, user_id)
          select pool_id, ${sql.ref(column)}, ${kind}, id from users where ${sql.ref(column)} is not null
          on conflict do nothing`.execute(db);
      }
    },
  },
  '0009_pending_attributes': {
    // An email or phone change held until the new value is verified; the old value stays the login.
    async up(db: Kysely<any>) {
      await db.schema.alterTable('users').addColumn('pending_attributes', 'text').execute();
    },
  },
  '0010_durable_outbox': {
    // Messages leave the request: each is sealed under the master key and delivered after the answer
    // by whichever process claims it. The old table held plaintext codes, so its rows go with it.
    // Decoys are the writes an unknown user's code request makes in place of a real user's code and
    // auth event (which need a user); nobody reads them and the sweep deletes them.
    async up(db: Kysely<any>) {
      const ms = 'bigint' as const;
      const req = (c: any) => c.notNull();
      await db.schema.dropTable('outbox').execute();
      await db.schema.createTable('outbox').addColumn('id', 'text', (c) => c.primaryKey()).addColumn('pool_id', 'text', req)
        .addColumn('channel', 'text', req).addColumn('state', 'text', req).addColumn('sealed', 'text', req)
        .addColumn('attempts', 'integer', req).addColumn('due_at', ms, req).addColumn('created_at', ms, req).execute();
      await db.schema.createIndex('outbox_due').on('outbox').columns(['state', 'due_at']).execute();
      // Shaped as codes and auth_events are, so writing one costs what writing those does: a key to
      // check on insert (the pool, where theirs is the user), and one index besides the primary key.
      await db.schema.createTable('decoys').addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('pool_id', 'text', (c) => c.notNull().references('pools.id').onDelete('cascade'))
        .addColumn('subject', 'text', req).addColumn('kind', 'text', req).addColumn('data', 'text', req)
        .addColumn('expires_at', ms, req).addColumn('created_at', ms, req).execute();
      await db.schema.createIndex('decoys_subject').on('decoys').columns(['subject', 'kind', 'created_at', 'id']).execute();
    },
  },
  '0012_mfa_devices': {
    // MFA and remembered devices (issue 8). users.totp_step is the last TOTP time step a user spent:
    // one conditional update moves it forward, so a code is never accepted twice, on any process.
    // devices holds each device handed out with tokens; ConfirmDevice stores its SRP verifier.
    async up(db: Kysely<any>) {
      const ms = 'bigint' as const;
      await db.schema.alterTable('users').addColumn('totp_step', ms).execute();
      await db.schema.createTable('devices').addColumn('device_key', 'text', (c) => c.primaryKey())
        .addColumn('pool_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('group_key', 'text', (c) => c.notNull()).addColumn('verifier', 'text').addColumn('name', 'text')
        .addColumn('remembered', 'integer', (c) => c.notNull()).addColumn('confirmed_at', ms)
        .addColumn('last_ip', 'text').addColumn('last_auth_at', ms)
        .addColumn('created_at', ms, (c) => c.notNull()).addColumn('updated_at', ms, (c) => c.notNull()).execute();
      await db.schema.createIndex('devices_user').on('devices').columns(['user_id', 'created_at', 'device_key']).execute();
      await db.schema.createIndex('devices_unconfirmed').on('devices').columns(['confirmed_at', 'created_at']).execute();
    },
  },
  '0013_webauthn_credentials': {
    // Passkeys: one row per registered credential, unique per pool (an assertion names the
    // credential, and the row names its user). Listed per user in order of registration.
    async up(db: Kysely<any>) {
      const ms = 'bigint' as const;
      await db.schema.createTable('webauthn_credentials')
        .addColumn('pool_id', 'text', (c) => c.notNull()).addColumn('credential_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('public_key', 'text', (c) => c.notNull()).addColumn('counter', ms, (c) => c.notNull())
        .addColumn('transports', 'text', (c) => c.notNull()).addColumn('attachment', 'text')
        .addColumn('name', 'text', (c) => c.notNull()).addColumn('rp_id', 'text', (c) => c.notNull())
        .addColumn('aaguid', 'text', (c) => c.notNull()).addColumn('backed_up', 'integer', (c) => c.notNull())
        .addColumn('created_at', ms, (c) => c.notNull()).addColumn('last_used_at', ms)
        .addPrimaryKeyConstraint('webauthn_credentials_pk', ['pool_id', 'credential_id']).execute();
      await db.schema.createIndex('webauthn_credentials_user').on('webauthn_credentials').columns(['user_id', 'created_at', 'credential_id']).execute();
      if (dialect === 'postgres') {
        await sql`alter table webauthn_credentials alter column credential_id type text collate "C"`.execute(db);
      }
    },
  },
  '0016_hosted_signin': {
    // Hosted sign-in over OAuth 2.0 / OpenID Connect (issue 11): single-use authorization codes,
    // the managed login's single sign-on sessions, the scopes a refresh token carries on, resource
    // servers, UI customization, domains, external identity providers and the users linked to them.
    async up(db: Kysely<any>) {
      const ms = 'bigint' as const;
      const req = (c: any) => c.notNull();
      const pool = (c: any) => c.notNull().references('pools.id').onDelete('cascade');
      const user = (c: any) => c.notNull().references('users.id').onDelete('cascade');
      await db.schema.createTable('oauth_codes').addColumn('code_hash', 'text', (c) => c.primaryKey())
        .addColumn('pool_id', 'text', pool).addColumn('client_id', 'text', req).addColumn('user_id', 'text', user)
        .addColumn('redirect_uri', 'text', req).addColumn('scopes', 'text', req).addColumn('code_challenge', 'text').addColumn('nonce', 'text')
        .addColumn('auth_time', ms, req).addColumn('origin_jti', 'text', req)
        .addColumn('expires_at', ms, req).addColumn('consumed_at', ms).addColumn('created_at', ms, req).execute();
      await db.schema.createIndex('oauth_codes_expiry').on('oauth_codes').column('expires_at').execute();
      await db.schema.createTable('sso_sessions').addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('pool_id', 'text', pool).addColumn('user_id', 'text', user)
        .addColumn('auth_time', ms, req).addColumn('expires_at', ms, req).addColumn('created_at', ms, req).execute();
      await db.schema.createIndex('sso_sessions_expiry').on('sso_sessions').column('expires_at').execute();
      await db.schema.alterTable('refresh_tokens').addColumn('scopes', 'text').execute();
      await db.schema.createTable('resource_servers').addColumn('pool_id', 'text', pool)
        .addColumn('identifier', 'text', req).addColumn('name', 'text', req).addColumn('scopes', 'text', req)
        .addPrimaryKeyConstraint('resource_servers_pk', ['pool_id', 'identifier']).execute();
      await db.schema.createTable('ui_customizations').addColumn('pool_id', 'text', pool)
        .addColumn('client_id', 'text', req).addColumn('css', 'text').addColumn('image', 'text')
        .addColumn('created_at', ms, req).addColumn('updated_at', ms, req)
        .addPrimaryKeyConstraint('ui_customizations_pk', ['pool_id', 'client_id']).execute();
      await db.schema.createTable('pool_domains').addColumn('domain', 'text', (c) => c.primaryKey())
        .addColumn('pool_id', 'text', pool).addColumn('created_at', ms, req).execute();
      await db.schema.createIndex('pool_domains_pool').unique().on('pool_domains').column('pool_id').execute();
      await db.schema.createTable('identity_providers').addColumn('pool_id', 'text', pool)
        .addColumn('name', 'text', req).addColumn('type', 'text', req).addColumn('details', 'text', req)
        .addColumn('attribute_mapping', 'text', req).addColumn('idp_identifiers', 'text', req)
        .addColumn('created_at', ms, req).addColumn('updated_at', ms, req)
        .addPrimaryKeyConstraint('identity_providers_pk', ['pool_id', 'name']).execute();
      await db.schema.createTable('user_identities').addColumn('pool_id', 'text', req)
        .addColumn('provider_name', 'text', req).addColumn('provider_user_id', 'text', req)
        .addColumn('user_id', 'text', user).addColumn('created_at', ms, req)
        .addPrimaryKeyConstraint('user_identities_pk', ['pool_id', 'provider_name', 'provider_user_id']).execute();
      await db.schema.createIndex('user_identities_user').on('user_identities').column('user_id').execute();
      // Things that may be used once: federation round trips (state) and SAML assertion ids.
      await db.schema.createTable('used_once').addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('expires_at', ms, req).execute();
      await db.schema.createIndex('used_once_expiry').on('used_once').column('expires_at').execute();
      if (dialect === 'postgres') {
        for (const [table, column] of [['resource_servers', 'identifier'], ['identity_providers', 'name']] as const) {
          await sql`alter table ${sql.table(table)} alter column ${sql.ref(column)} type text collate "C"`.execute(db);
        }
      }
    },
  },
  '0017_console': {
    // The admin console: server-wide settings (its system pool), the operators' audit log, and the
    // per-pool activity charts, which count a pool's auth events by time from one covering index
    // and keep the counts of closed quarter-hours.
    async up(db: Kysely<any>) {
      const ms = 'bigint' as const;
      const req = (c: any) => c.notNull();
      await db.schema.createTable('settings').addColumn('key', 'text', (c) => c.primaryKey()).addColumn('value', 'text', req)
        .addColumn('updated_at', ms, req).execute();
      await db.schema.createTable('audit_log').addColumn('id', 'text', (c) => c.primaryKey()).addColumn('at', ms, req)
        .addColumn('operator_sub', 'text', req).addColumn('operator', 'text', req).addColumn('operation', 'text', req).addColumn('kind', 'text', req)
        .addColumn('pool_id', 'text').addColumn('target', 'text').addColumn('outcome', 'text', req).addColumn('ip', 'text').execute();
      await db.schema.createIndex('audit_log_at').on('audit_log').columns(['at', 'id']).execute();
      await db.schema.createIndex('audit_log_pool').on('audit_log').columns(['pool_id', 'at', 'id']).execute();
      await db.schema.alterTable('auth_events').addColumn('detail', 'text').execute();
      await db.schema.createIndex('auth_events_activity').on('auth_events').columns(['pool_id', 'created_at', 'event_type', 'response', 'detail']).execute();
      // Counts of closed quarter-hours, written once by whichever process counts them first.
      await db.schema.createTable('activity_rollups')
        .addColumn('pool_id', 'text', (c) => c.notNull().references('pools.id').onDelete('cascade'))
        .addColumn('width_ms', 'integer', req).addColumn('bucket', ms, req).addColumn('counts', 'text', req)
        .addPrimaryKeyConstraint('activity_rollups_pk', ['pool_id', 'width_ms', 'bucket']).execute();
    },
  },
  '0018_users_by_pool_and_id': {
    // Every read and write of one user names its pool and id. Before PostgreSQL has statistics (a
    // new store, a fresh import) it rated users_username's pool_id prefix as good as the primary
    // key and walked the pool's users for each of them; an index on the full pair leaves no choice.
    async up(db: Kysely<any>) {
      await db.schema.createIndex('users_pool_id').unique().on('users').columns(['pool_id', 'id']).execute();
    },
  },
});

/** The names of all migrations, in order: what a fully migrated store has recorded. */
export function migrationNames(): string[] {
  return Object.keys(migrations('sqlite')).sort();
}

export async function migrate(db: Kysely<any>, dialect: Dialect): Promise<void> {
  // On PostgreSQL the bookkeeping tables live in the first schema of search_path, like ours;
  // without naming it, Kysely would take such a table in any other schema for its own.
  let migrationTableSchema: string | undefined;
  if (dialect === 'postgres') {
    const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
    migrationTableSchema = rows[0]?.schema ?? undefined;
    if (!migrationTableSchema) throw new Error('PostgreSQL: no schema of search_path exists; create it or fix search_path');
  }
  const migrator = new Migrator({ db, migrationTableSchema, provider: { getMigrations: async () => migrations(dialect) } });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}
