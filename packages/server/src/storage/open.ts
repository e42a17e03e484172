import { Kysely, SqliteDialect, PostgresDialect, sql } from 'kysely';
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from './schema.js';
import { KyselyRepository } from './repository.js';
import { migrate } from './migrations.js';

/** Makes the data directory if needed and closes it to everyone but this account (0700), also if it existed. */
export function privateDataDir(dir: string) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
}

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
  // The file holds every user's verifier and every signing key, sealed with the master key next to it:
  // only this account may read either, also where an older install or a loose umask made them readable.
  // SQLite gives the -wal and -shm files the database file's mode.
  privateDataDir(opts.dataDir);
  const name = path.join(opts.dataDir, 'gatehouse.db');
  fs.closeSync(fs.openSync(name, 'a', 0o600));
  for (const f of [name, `${name}-wal`, `${name}-shm`]) {
    try { fs.chmodSync(f, 0o600); } catch (e: any) { if (e?.code !== 'ENOENT') throw e; }
  }
  const file = new SQLite(name);
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
