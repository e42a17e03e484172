// Sign-in lookups must not scan a pool: a 100,000-user pool once cost 10x a 1,000-user one because
// the login lookup searched by pool_id alone. This checks SQLite's plans for the hot-path queries.
// Logins are rows of login_keys, unique per pool across kinds, so a login names at most one user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { KyselyRepository } from '../src/storage/repository.js';
import { migrate } from '../src/storage/migrations.js';

/** A fresh migrated SQLite store whose every prepared statement is recorded in `seen`. */
async function withRecordedStore(run: (s: { repo: KyselyRepository; db: Kysely<any>; file: InstanceType<typeof Database>; seen: string[] }) => Promise<void>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-plans-'));
  const file = new Database(path.join(dir, 'plans.db'));
  const seen: string[] = [];
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: { close: () => file.close(), prepare: (text: string) => { seen.push(text); return file.prepare(text); } } }) });
  try {
    await migrate(db, 'sqlite');
    await run({ repo: new KyselyRepository(db, 'sqlite'), db, file, seen });
  } finally {
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('login, membership and session lookups use full index keys, not a pool scan', () => withRecordedStore(async ({ repo, file, seen }) => {
  seen.length = 0;
  await repo.findUserByLogin('local_pool', 'someone@example.com');
  await repo.listGroupsForUser('local_pool', 'user-id', 100);
  await repo.getSession('session-hash');
  await repo.getRefreshToken('token-hash');
  assert.equal(seen.length, 4);
  // A login is one probe of login_keys' (pool_id, key) key, then the user by id.
  const login = (file.prepare('explain query plan ' + seen[0]).all('x', 'x') as { detail: string }[]).map((r) => r.detail);
  assert.match(login.join('\n'), /SEARCH login_keys USING (INDEX|PRIMARY KEY).*\(pool_id=\? AND key=\?\)/, login.join('\n'));
  assert.match(login.join('\n'), /SEARCH users USING INDEX sqlite_autoindex_users_1 \(id=\?\)/, login.join('\n'));
  for (const text of seen) {
    const params = Array.from(text.matchAll(/\?/g), () => 'x');
    const plan = (file.prepare('explain query plan ' + text).all(...params) as { detail: string }[]).map((r) => r.detail);
    for (const step of plan) {
      assert.doesNotMatch(step, /^SCAN /, `${text}\n${plan.join('\n')}`);
      assert.doesNotMatch(step, /\(pool_id=\?\)$/, `searches a whole pool:\n${text}\n${plan.join('\n')}`);
    }
  }
}));

test('outbox claims and decoy writes use their indexes, not a scan of the outbox or the decoys', () => withRecordedStore(async ({ repo, db, file, seen }) => {
  const now = Date.now();
  const message = { id: 'm', pool_id: 'p', channel: 'EMAIL', state: 'decoy', sealed: 'v1.x', attempts: 0, due_at: now, created_at: now };
  const decoy = { id: 'd', pool_id: 'p', subject: 's', kind: 'code:forgotPassword', data: 'x', expires_at: now, created_at: now };
  await db.insertInto('pools').values({ id: 'p', name: 'p', config: '{}', created_at: now, updated_at: now }).execute();
  seen.length = 0;
  await repo.claimOutbox(now, now + 60_000, 10);
  await repo.putDecoyCode(decoy, message);
  await repo.addDecoyEvent({ ...decoy, id: 'e', kind: 'event:ForgotPassword' }, 100, 20);
  const statements = seen.filter((t) => /^(select|delete|update)/i.test(t));
  assert.equal(statements.length, 3);
  for (const text of statements) {
    const params = Array.from(text.matchAll(/\?/g), () => 'x');
    const plan = (file.prepare('explain query plan ' + text).all(...params) as { detail: string }[]).map((r) => r.detail);
    for (const step of plan) assert.doesNotMatch(step, /^SCAN /, `${text}\n${plan.join('\n')}`);
  }
}));

test('DescribeUserPool\'s user count reads an index alone, not the users\' rows', () => withRecordedStore(async ({ repo, file, seen }) => {
  seen.length = 0;
  assert.equal(await repo.countUsers('local_pool'), 0);
  assert.equal(seen.length, 1);
  const plan = (file.prepare('explain query plan ' + seen[0]).all('x') as { detail: string }[]).map((r) => r.detail).join('\n');
  assert.match(plan, /^SEARCH users USING COVERING INDEX \w+ \(pool_id=\?\)$/, plan);
}));

test('the console\'s activity counts read the covering index alone, not the events\' rows', () => withRecordedStore(async ({ repo, file, seen }) => {
  seen.length = 0;
  await repo.countActivity('local_pool', 0, 3600_000, 60_000);
  await repo.listActivityRollups('local_pool', 900_000, 0, 4);
  assert.equal(seen.length, 2);
  const plan = (text: string) => (file.prepare('explain query plan ' + text).all(...Array.from(text.matchAll(/\?/g), () => 'x')) as { detail: string }[]).map((r) => r.detail).join('\n');
  assert.match(plan(seen[0]), /^SEARCH auth_events USING COVERING INDEX auth_events_activity \(pool_id=\? AND created_at>\? AND created_at<\?\)/, plan(seen[0]));
  assert.match(plan(seen[1]), /^SEARCH activity_rollups USING INDEX sqlite_autoindex_activity_rollups_1 \(pool_id=\? AND width_ms=\? AND bucket>\? AND bucket<\?\)$/, plan(seen[1]));
}));

test('passkey lookups (by credential at sign-in, by user for options and listings) use their index keys', () => withRecordedStore(async ({ repo, file, seen }) => {
  seen.length = 0;
  await repo.getWebAuthnCredential('local_pool', 'credential-id');
  await repo.listWebAuthnCredentials('user-id', 20);
  await repo.listWebAuthnCredentials('user-id', 20, '1700000000000:credential-id');
  await repo.useWebAuthnCredential('local_pool', 'credential-id', 0, 1, 1);
  assert.equal(seen.length, 4);
  const plans = seen.map((text) => (file.prepare('explain query plan ' + text).all(...Array.from(text.matchAll(/\?/g), () => 'x')) as { detail: string }[]).map((r) => r.detail).join('\n'));
  assert.match(plans[0], /SEARCH webauthn_credentials USING INDEX sqlite_autoindex_webauthn_credentials_1 \(pool_id=\? AND credential_id=\?\)/);
  assert.match(plans[1], /SEARCH webauthn_credentials USING INDEX webauthn_credentials_user \(user_id=\?\)/);
  assert.match(plans[2], /SEARCH webauthn_credentials USING INDEX webauthn_credentials_user \(user_id=\?/);
  for (const [i, plan] of plans.entries()) assert.doesNotMatch(plan, /^SCAN |TEMP B-TREE/m, `${seen[i]}\n${plan}`);
}));
