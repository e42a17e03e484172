// User import throughput: one CSV import job of BENCH_IMPORT_N users (default 20,000) through the
// AWS SDK, timed from StartUserImportJob to Succeeded. Prints figures; asserts nothing.
// GATEHOUSE_TEST_DATABASE=postgres runs it on PostgreSQL (as the tests do).
import { GetCSVHeaderCommand, CreateUserImportJobCommand, StartUserImportJobCommand } from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, createPoolAndClient, testDatabase, type Gatehouse } from '../test/support/harness.js';
import { ROLE_ARN, buildCsv, uploadCsv, waitForJob } from '../test/support/user-import.js';

const N = Number(process.env.BENCH_IMPORT_N ?? 20_000);

/** Imports `n` users into a fresh pool; returns the figures. Usable by other benchmarks. */
export async function measureImport(gh: Gatehouse, n: number) {
  const { poolId } = await createPoolAndClient(gh, { Schema: [{ Name: 'email', Required: true, Mutable: true, AttributeDataType: 'String' }, { Name: 'plan', AttributeDataType: 'String', Mutable: true }] });
  const { CSVHeader } = await gh.admin.send(new GetCSVHeaderCommand({ UserPoolId: poolId }));
  const rows = Array.from({ length: n }, (_, i) => {
    const email = `bench-${i}@example.com`;
    return { 'cognito:username': email, email, email_verified: 'true', given_name: `Given ${i}`, family_name: `Family, ${i}`, 'custom:plan': i % 3 ? 'free' : 'pro', 'cognito:mfa_enabled': 'false' };
  });
  const csv = buildCsv(CSVHeader!, rows);
  const { UserImportJob } = await gh.admin.send(new CreateUserImportJobCommand({ UserPoolId: poolId, JobName: 'bench', CloudWatchLogsRoleArn: ROLE_ARN }));
  const u0 = performance.now();
  const up = await uploadCsv(UserImportJob!.PreSignedUrl!, csv);
  const uploadMs = performance.now() - u0;
  if (up.status !== 200) throw new Error(`upload refused: ${up.status} ${up.text}`);
  const t0 = performance.now();
  await gh.admin.send(new StartUserImportJobCommand({ UserPoolId: poolId, JobId: UserImportJob!.JobId }));
  let maxDescribeMs = 0;
  let last = performance.now();
  const job = await waitForJob(gh, poolId, UserImportJob!.JobId!, undefined, 600_000, () => {
    const now = performance.now();
    maxDescribeMs = Math.max(maxDescribeMs, now - last);
    last = now;
  });
  const seconds = (performance.now() - t0) / 1000;
  return { rows: n, bytes: csv.length, uploadMs, seconds, usersPerSecond: job.ImportedUsers! / seconds, job, maxDescribeMs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const gh = await startGatehouse();
  try {
    const r = await measureImport(gh, N);
    console.log(`user import (${testDatabase}): ${r.rows} rows, ${(r.bytes / 1048576).toFixed(1)} MiB uploaded in ${r.uploadMs.toFixed(0)} ms; `
      + `${r.job.Status} in ${r.seconds.toFixed(2)} s = ${Math.round(r.usersPerSecond)} users/s `
      + `(imported ${r.job.ImportedUsers}, skipped ${r.job.SkippedUsers}, failed ${r.job.FailedUsers}); `
      + `slowest DescribeUserImportJob round trip while importing: ${r.maxDescribeMs.toFixed(0)} ms`);
  } finally {
    await gh.stop();
  }
}
