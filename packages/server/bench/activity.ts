// Activity benchmark: the console's activity queries on a pool of 100,000 users with 1,000,000 auth
// events spread over the last week (the week view counts them all), on SQLite and PostgreSQL.
// Prints, per range, the first load (nothing stored yet: every event of the range counted, and the
// closed quarter-hours stored) and later loads (by any process: stored quarters read, the open ones
// counted), medians of BENCH_ACTIVITY_RUNS runs. Prints figures only.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openRepository } from '../src/storage/open.js';
import type { KyselyRepository } from '../src/storage/repository.js';
import { poolActivity, ACTIVITY_RANGES, type ActivityRange } from '../src/domain/activity.js';
import type { Ctx } from '../src/domain/context.js';
import { createPostgresNamespace, postgresUnreachable } from '../test/support/harness.js';

const USERS = Number(process.env.BENCH_ACTIVITY_USERS ?? 100_000);
const EVENTS = Number(process.env.BENCH_ACTIVITY_EVENTS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_ACTIVITY_RUNS ?? 5);
const WEEK = 7 * 86_400_000;
const POOL = 'local_benchActivity';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Users and events written by the database itself (a series, not a million round trips); a second pool gets a tenth as many, so the pool filter is exercised. */
async function load(repo: KyselyRepository, dialect: 'sqlite' | 'postgres', now: number) {
  const db = repo.db;
  for (const [pool, users, events] of [[POOL, USERS, EVENTS], [`${POOL}2`, USERS / 10, EVENTS / 10]] as const) {
    await db.insertInto('pools').values({ id: pool, name: pool, config: '{}', created_at: now, updated_at: now }).execute();
    const series = (n: number) => (dialect === 'postgres'
      ? sql`select i from generate_series(cast(0 as bigint), ${sql.lit(n - 1)}) as s(i)`
      : sql`with recursive s(i) as (select 0 union all select i + 1 from s where i < ${sql.lit(n - 1)}) select i from s`);
    await sql`insert into users (id, pool_id, username, username_key, status, enabled, attributes, mfa, failed_attempts, locked_until, created_at, updated_at)
      select ${pool} || '-u' || i, ${pool}, 'user' || i, 'user' || i, 'CONFIRMED', 1, '{}', '{}', 0, 0, ${sql.lit(now)}, ${sql.lit(now)} from (${series(users)}) as n`.execute(db);
    // i % 20 picks the kind: 60 % sign-ins that pass, 15 % failed, 5 % lockouts, 5 % challenged, 5 % sign-ups, 10 % codes sent.
    await sql`insert into auth_events (id, pool_id, user_id, event_type, response, challenges, ip, detail, created_at)
      select ${pool} || '-e' || i, ${pool}, ${pool} || '-u' || (i % ${sql.lit(users)}),
        case when i % 20 < 17 then 'SignIn' when i % 20 = 17 then 'SignUp' when i % 20 = 18 then 'ResendCode' else 'ForgotPassword' end,
        case when i % 20 < 12 then 'Pass' when i % 20 < 16 then 'Fail' when i % 20 = 16 then 'InProgress' when i % 20 = 19 then 'InProgress' else 'Pass' end,
        '[]', null, case when i % 20 = 15 then 'lockout' else null end,
        ${sql.lit(now)} - (i * 104729) % ${sql.lit(WEEK)}
      from (${series(events)}) as n`.execute(db);
  }
  // What autovacuum and SQLite's optimizer statistics would have by now on a live store.
  await sql.raw(dialect === 'postgres' ? 'vacuum analyze auth_events' : 'analyze').execute(db);
}

async function measure(kind: string, repo: KyselyRepository, dialect: 'sqlite' | 'postgres') {
  const now = Date.now();
  const t0 = performance.now();
  await load(repo, dialect, now);
  console.log(`  ${kind}: loaded ${USERS.toLocaleString('en')} users and ${EVENTS.toLocaleString('en')} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const ctx = { repo, now: () => Date.now() } as unknown as Ctx;
  for (const range of Object.keys(ACTIVITY_RANGES) as ActivityRange[]) {
    const cold: number[] = [], warm: number[] = [];
    let total = 0;
    for (let i = 0; i < RUNS; i++) {
      await repo.db.deleteFrom('activity_rollups').execute();
      let s = performance.now();
      const a = await poolActivity(ctx, POOL, range);
      cold.push(performance.now() - s);
      const t = a.totals;
      total = t.signInSucceeded + t.signInFailed + t.signInChallenged + t.signUps + t.codeSends;
      s = performance.now();
      await poolActivity(ctx, POOL, range);
      warm.push(performance.now() - s);
    }
    console.log(`  ${kind}: last ${range.padEnd(4)} (${ACTIVITY_RANGES[range].buckets} buckets, ${total.toLocaleString('en')} events): first load ${median(cold).toFixed(1)} ms, later loads ${median(warm).toFixed(1)} ms (medians of ${RUNS})`);
  }
}

console.log(`\nGatehouse activity benchmark: a pool of ${USERS.toLocaleString('en')} users with ${EVENTS.toLocaleString('en')} auth events over the last week, node ${process.version}`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-bench-activity-'));
try {
  const repo = await openRepository({ dataDir: dir });
  try { await measure('SQLite', repo, 'sqlite'); } finally { await repo.close(); }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
const why = process.env.BENCH_SKIP_PG ? 'BENCH_SKIP_PG is set' : await postgresUnreachable();
if (why) console.log(`  PostgreSQL: skipped, ${why}`);
else {
  const ns = await createPostgresNamespace();
  try {
    const repo = await openRepository({ databaseUrl: ns.url, dataDir: os.tmpdir() });
    try { await measure('PostgreSQL', repo, 'postgres'); } finally { await repo.close(); }
  } finally {
    await ns.drop();
  }
}
process.exit(0);
