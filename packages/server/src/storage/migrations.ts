import { Kysely, Migrator, sql, type Migration } from 'kysely';

// Migrations are plain objects so the server ships them inside its build; both dialects run
// the same definitions. Append new ones; never edit one that has shipped.
const migrations: Record<string, Migration> = {
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
};

export async function migrate(db: Kysely<any>): Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}
