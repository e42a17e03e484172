// Scale benchmark: sign-in rate and server CPU on SQLite and PostgreSQL, the cost of a sign-in in a
// pool of 1,000 users against one of 100,000, and bulk-import throughput. Prints figures only.
import {
  GetCSVHeaderCommand, CreateUserImportJobCommand, StartUserImportJobCommand, DescribeUserImportJobCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, createPostgresNamespace, postgresUnreachable, type Gatehouse } from '../test/support/harness.js';
import { load, warmUp } from './common.js';
import { benchPoolFor } from './pool.js';

const N = Number(process.env.BENCH_N ?? 300);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const BIG = Number(process.env.BENCH_BIG_POOL ?? 100_000);

/** Imports `count` users through Cognito's import-job API; answers users per second. */
async function importUsers(gh: Gatehouse, poolId: string, count: number, offset: number): Promise<number> {
  const { CSVHeader } = await gh.admin.send(new GetCSVHeaderCommand({ UserPoolId: poolId }));
  const header = CSVHeader!;
  const rows = [header.join(',')];
  for (let i = offset; i < offset + count; i++) {
    const values: Record<string, string> = { 'cognito:username': `imported-${i}`, email: `imported-${i}@scale.test`, email_verified: 'true', 'cognito:mfa_enabled': 'false', phone_number_verified: 'false', given_name: `User${i}` };
    rows.push(header.map((h) => values[h] ?? '').join(','));
  }
  const { UserImportJob } = await gh.admin.send(new CreateUserImportJobCommand({ UserPoolId: poolId, JobName: `scale-${offset}`, CloudWatchLogsRoleArn: 'arn:aws:iam::000000000000:role/import' }));
  const put = await fetch(UserImportJob!.PreSignedUrl!, { method: 'PUT', body: rows.join('\n') + '\n', headers: { 'x-amz-server-side-encryption': 'aws:kms' } });
  if (!put.ok) throw new Error(`upload: ${put.status} ${await put.text()}`);
  const t0 = performance.now();
  await gh.admin.send(new StartUserImportJobCommand({ UserPoolId: poolId, JobId: UserImportJob!.JobId }));
  for (;;) {
    const { UserImportJob: job } = await gh.admin.send(new DescribeUserImportJobCommand({ UserPoolId: poolId, JobId: UserImportJob!.JobId }));
    if (job!.Status === 'Succeeded') {
      if (job!.ImportedUsers !== count) throw new Error(`imported ${job!.ImportedUsers} of ${count}: ${job!.CompletionMessage}`);
      return (count * 1000) / (performance.now() - t0);
    }
    if (['Failed', 'Stopped', 'Expired'].includes(job!.Status!)) throw new Error(`import ${job!.Status}: ${job!.CompletionMessage}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function measure(kind: 'SQLite' | 'PostgreSQL', env: Record<string, string>) {
  const gh = await startGatehouse(env);
  try {
    // Imports need an auto-verified attribute: imported users reset their password through it.
    const bench = await benchPoolFor(gh, { AutoVerifiedAttributes: ['email'] });
    const pid = gh.proc.pid!;
    await warmUp(pid, CONCURRENCY, [bench.srp, bench.password]);
    const srp = await load('srp', pid, N, CONCURRENCY, bench.srp);
    const pwd = await load('password', pid, N, CONCURRENCY, bench.password);
    console.log(`  ${kind}: USER_SRP_AUTH ${srp.opsPerSec.toFixed(0)}/s at ${srp.perOpCpuMs.toFixed(2)} ms server CPU; USER_PASSWORD_AUTH ${pwd.opsPerSec.toFixed(0)}/s at ${pwd.perOpCpuMs.toFixed(2)} ms`);
    // Two pools in this one server, one of 1,000 users and one of BIG, measured in alternation so
    // that drift on this shared machine (and what an import leaves behind: garbage, a WAL to
    // checkpoint) falls on both alike. The figure is the median ratio of the pairs.
    const other = await benchPoolFor(gh, { AutoVerifiedAttributes: ['email'] });
    const small = await importUsers(gh, bench.poolId, 1_000 - 1, 0);
    const big = await importUsers(gh, other.poolId, BIG - 1, 0);
    console.log(`  ${kind}: import ${big.toFixed(0)} users/s (${BIG - 1} users; 999 at ${small.toFixed(0)}/s)`);
    await warmUp(pid, CONCURRENCY, [bench.password, other.password]);
    const pairs: { small: number; big: number }[] = [];
    for (let i = 0; i < 5; i++) {
      pairs.push({ small: (await load('1k', pid, N, CONCURRENCY, bench.password)).perOpCpuMs, big: (await load('big', pid, N, CONCURRENCY, other.password)).perOpCpuMs });
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    const ratio = median(pairs.map((p) => p.big / p.small));
    console.log(`  ${kind}: USER_PASSWORD_AUTH server CPU in a pool of 1,000: ${median(pairs.map((p) => p.small)).toFixed(2)} ms; of ${BIG.toLocaleString('en')}: ${median(pairs.map((p) => p.big)).toFixed(2)} ms (medians of 5 alternating runs); median ratio ${ratio.toFixed(2)}x (target <= 1.2x; pairs ${pairs.map((p) => (p.big / p.small).toFixed(2)).join(', ')})`);
  } finally {
    await gh.stop();
  }
}

console.log(`\nGatehouse scale benchmark: ${N} sign-ins per measurement, concurrency ${CONCURRENCY}, node ${process.version}`);
await measure('SQLite', {});
const why = process.env.BENCH_SKIP_PG ? 'BENCH_SKIP_PG is set' : await postgresUnreachable();
if (why) console.log(`  PostgreSQL: skipped, ${why}`);
else {
  const ns = await createPostgresNamespace();
  try {
    await measure('PostgreSQL', { GATEHOUSE_DATABASE_URL: ns.url });
  } finally {
    await ns.drop();
  }
}
process.exit(0);
