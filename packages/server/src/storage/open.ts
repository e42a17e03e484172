import { Kysely, SqliteDialect, PostgresDialect, sql } from 'kysely';
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from './schema.js';
import { KyselyRepository } from './repository.js';
import { migrate } from './migrations.js';

/** Opens PostgreSQL when a URL is given, else the embedded SQLite file in dataDir, and migrates it. */
export async function openRepository(opts: { databaseUrl?: string; dataDir: string }): Promise<KyselyRepository> {
  if (opts.databaseUrl) {
    const pg = (await import('pg')).default;
    // int8 columns hold epoch milliseconds, well inside Number's exact range.
    pg.types.setTypeParser(20, (v: string) => Number(v));
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 10 });
    // An idle connection that breaks (server restart, network) must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    // Serialise concurrent starts: several processes may migrate one database at once.
    await db.connection().execute(async (conn) => {
      await sql`select pg_advisory_lock(7345901)`.execute(conn);
      try { await migrate(conn, 'postgres'); } finally { await sql`select pg_advisory_unlock(7345901)`.execute(conn); }
    });
    return new KyselyRepository(db, 'postgres');
  }
  const SQLite = (await import('better-sqlite3')).default;
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const file = new SQLite(path.join(opts.dataDir, 'gatehouse.db'));
  file.pragma('journal_mode = WAL');
  file.pragma('synchronous = NORMAL');
  file.pragma('foreign_keys = ON');
  file.pragma('busy_timeout = 5000');
  // Kysely prepares every query afresh; reusing statements by SQL text saves most of the query cost.
  const statements = new Map<string, ReturnType<typeof file.prepare>>();
  const database = {
    close: () => file.close(),
    prepare: (text: string) => {
      let st = statements.get(text);
      if (!st) {
        st = file.prepare(text);
        if (statements.size < 1000) statements.set(text, st);
      }
      return st;
    },
  };
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  await migrate(db, 'sqlite');
  return new KyselyRepository(db, 'sqlite');
}
