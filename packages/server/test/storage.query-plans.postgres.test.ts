// PostgreSQL without statistics (a new store, a freshly imported pool) rated users_username's pool_id
// prefix as good as the primary key, and walked a pool's users to find one of them: in a pool of a
// few hundred users a login that names someone cost 0.2 ms more than one naming nobody, which the
// enumeration timing tests saw, and the walk grows with the pool. The repository's own statements
// for one user must probe a full index key on users, whatever the planner knows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Kysely, PostgresDialect, type CompiledQuery } from 'kysely';
import { AdminCreateUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import { KyselyRepository } from '../src/storage/repository.js';
import { createPoolAndClient, postgresUnreachable, queryDatabase, startGatehouse, testDatabase, uniqueEmail } from './support/harness.js';

const skip = testDatabase !== 'postgres'
  ? 'PostgreSQL only: runs with GATEHOUSE_TEST_DATABASE=postgres (npm test does)'
  : process.env.CI ? false : (await postgresUnreachable()) ?? false;

test('one user is found by a full index key on PostgreSQL before it has statistics, never by walking the pool\'s users', { skip }, async () => {
  const gh = await startGatehouse();
  const pool = new pg.Pool({ connectionString: (gh.database as { url: string }).url, max: 1 });
  const seen: CompiledQuery[] = [];
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }), log: (e) => { if (e.level === 'query') seen.push(e.query); } });
  try {
    const { poolId } = await createPoolAndClient(gh);
    for (let i = 0; i < 30; i++) {
      const email = uniqueEmail('plan');
      await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: email, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: email }] }));
    }
    const [user] = await queryDatabase<{ id: string; username_key: string }>(gh, 'select id, username_key from users where pool_id = ? order by username_key desc limit 1', [poolId]);
    const repo = new KyselyRepository(db, 'postgres');
    assert.equal((await repo.findUserByLogin(poolId, user.username_key))?.id, user.id);
    assert.equal((await repo.getUser(poolId, user.id))?.id, user.id);
    await repo.claimSignInAttempt(poolId, user.id, Date.now(), [0, 0, 0, 0, 900]);
    assert.equal(seen.length, 3);
    for (const q of seen) {
      const { rows } = await pool.query<{ 'QUERY PLAN': string }>(`explain ${q.sql}`, [...q.parameters]);
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      const onUsers = [...plan.matchAll(/(?:Index|Index Only|Bitmap Index) Scan using (\w+) on users[^\n]*\n\s*Index Cond: ([^\n]*)/g)];
      assert.ok(!/Seq Scan on users/.test(plan), plan);
      assert.ok(onUsers.length > 0, `no index probe of users:\n${plan}`);
      for (const [, index, cond] of onUsers) assert.match(cond, /\bid = /, `${index} is walked by pool, not probed by id:\n${plan}`);
    }
  } finally {
    await db.destroy();
    await gh.stop();
  }
});
