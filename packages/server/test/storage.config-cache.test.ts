// The per-process cache of pool and client rows: a write through this process is seen by its next
// read at once, even when a read that began before the write finishes after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { KyselyRepository, type Repository } from '../src/storage/repository.js';
import { migrate } from '../src/storage/migrations.js';
import { withConfigCache } from '../src/storage/cache.js';

test('stale cache: a pool read overtaken by a write is answered but not kept, so the next read sees the write', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-cache-'));
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(path.join(dir, 'cache.db')) }) });
  try {
    await migrate(db, 'sqlite');
    const real = new KyselyRepository(db, 'sqlite');
    await real.createPool({ id: 'local_cache', name: 'p', config: '{"v":1}', created_at: 1, updated_at: 1 },
      { pool_id: 'local_cache', kid: 'k', private_key: 'x', public_jwk: '{}', created_at: 1 });
    // The store answers one read late: it reads the row, then waits until the write is done.
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let slow = true;
    const late: Repository = Object.assign(Object.create(real), {
      getPool: async (id: string) => {
        const row = await real.getPool(id);
        if (slow) { slow = false; await gate; }
        return row;
      },
    });
    const cached = withConfigCache(late, 60_000);
    const overtaken = cached.getPool('local_cache');
    assert.equal(await cached.updatePool('local_cache', { config: '{"v":2}', updated_at: 2 }, '{"v":1}'), true);
    release();
    assert.equal((await overtaken)!.config, '{"v":1}');
    assert.equal((await cached.getPool('local_cache'))!.config, '{"v":2}');
    // The compare-and-set refuses a writer holding the old config.
    assert.equal(await cached.updatePool('local_cache', { config: '{"v":3}', updated_at: 3 }, '{"v":1}'), false);
    assert.equal((await cached.getPool('local_cache'))!.config, '{"v":2}');
  } finally {
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
