// Cognito's user import jobs: GetCSVHeader, CreateUserImportJob, StartUserImportJob,
// DescribeUserImportJob, ListUserImportJobs, StopUserImportJob. See domain/user-import.ts.
import crypto from 'node:crypto';
import { op } from '../wire/operations.js';
import { InvalidParameterException, ResourceNotFoundException } from '../errors.js';
import type { Ctx } from '../domain/context.js';
import type { LoadedPool } from '../domain/pools.js';
import type { ImportJob } from '../storage/repository.js';
import { csvHeader, importRunner, loadImportJob, userImportJobType } from '../domain/user-import.js';
import { pageCursor, pageToken, poolOf } from './common.js';

async function jobOf(ctx: Ctx, pool: LoadedPool, input: { JobId: string }): Promise<ImportJob> {
  const id = input.JobId;
  const job = await loadImportJob(ctx, id);
  if (!job || job.pool_id !== pool.id) throw new ResourceNotFoundException(`Import job ${id} does not exist.`);
  return job;
}

op('GetCSVHeader', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  return { UserPoolId: pool.id, CSVHeader: csvHeader(pool) };
});

op('CreateUserImportJob', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const name = input.JobName;
  // Cognito writes the job's log to CloudWatch with this role; here the log is the server's. Any value is taken.
  const roleArn = input.CloudWatchLogsRoleArn;
  if (input.PasswordHashingAlgorithm) throw new InvalidParameterException('Importing password hashes is not supported: imported users reset their password.');
  const now = ctx.now();
  const job: ImportJob = {
    id: `import-${crypto.randomBytes(10).toString('hex')}`, pool_id: pool.id, name, role_arn: roleArn, status: 'Created',
    upload_id: null, csv_bytes: 0, csv_records: 0, csv_error: null, rows_done: 0, imported: 0, skipped: 0, failed: 0, failures: '[]', message: null,
    owner: null, heartbeat_at: 0, attempts: 0, created_at: now, started_at: null, completed_at: null, updated_at: now,
  };
  await ctx.repo.createImportJob(job);
  return { UserImportJob: userImportJobType(ctx, job) };
});

op('StartUserImportJob', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const job = await jobOf(ctx, pool, input);
  if (job.status !== 'Created') throw new InvalidParameterException(`Import job ${job.id} cannot be started: its status is ${job.status}.`);
  if (!job.upload_id) throw new InvalidParameterException(`Upload the CSV file to the PreSignedUrl of import job ${job.id} before starting it.`);
  const auto = pool.config.AutoVerifiedAttributes ?? [];
  if (!auto.includes('email') && !auto.includes('phone_number')) {
    throw new InvalidParameterException('The user pool has no auto-verified attributes (email or phone_number); users cannot be imported into it.');
  }
  const now = ctx.now();
  if (!(await ctx.repo.updateImportJob(job.id, { status: 'Pending', started_at: now, updated_at: now }, { statuses: ['Created'] }))) {
    const again = await loadImportJob(ctx, job.id);
    throw new InvalidParameterException(`Import job ${job.id} cannot be started: its status is ${again?.status ?? 'Deleted'}.`);
  }
  // After this answer is on its way: the runner may hold the (SQLite) connection for a batch.
  setImmediate(() => importRunner(ctx).kick());
  return { UserImportJob: userImportJobType(ctx, { ...job, status: 'Pending', started_at: now, updated_at: now }) };
});

op('DescribeUserImportJob', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  return { UserImportJob: userImportJobType(ctx, await jobOf(ctx, pool, input)) };
});

op('ListUserImportJobs', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const limit = input.MaxResults;
  let after: string | undefined;
  try {
    after = pageCursor(input.PaginationToken, 'PaginationToken');
    if (after !== undefined && !/^[0-9]{1,15}:import-[0-9a-zA-Z-]+$/.test(after)) throw new Error('bad token');
  } catch {
    throw new InvalidParameterException('Invalid pagination token');
  }
  const page = await ctx.repo.listImportJobs(pool.id, limit, after);
  return {
    UserImportJobs: page.items.map((j) => userImportJobType(ctx, j)),
    PaginationToken: pageToken(page.next),
  };
});

op('StopUserImportJob', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  let job = await jobOf(ctx, pool, input);
  // A Pending job has no runner yet and stops at once; a running one stops after its current batch.
  for (let i = 0; i < 5; i++) {
    const now = ctx.now();
    if (job.status === 'Pending') {
      const patch = { status: 'Stopped', completed_at: now, message: 'The import job was stopped before it began.', upload_id: null, updated_at: now };
      if (await ctx.repo.updateImportJob(job.id, patch, { statuses: ['Pending'] })) {
        await ctx.repo.deleteImportChunks(job.id);
        return { UserImportJob: userImportJobType(ctx, { ...job, ...patch }) };
      }
    } else if (job.status === 'InProgress') {
      if (await ctx.repo.updateImportJob(job.id, { status: 'Stopping', updated_at: now }, { statuses: ['InProgress'] })) {
        return { UserImportJob: userImportJobType(ctx, { ...job, status: 'Stopping', updated_at: now }) };
      }
    } else {
      throw new InvalidParameterException(`Import job ${job.id} cannot be stopped: its status is ${job.status}.`);
    }
    const again = await loadImportJob(ctx, job.id);
    if (!again) throw new ResourceNotFoundException(`Import job ${job.id} does not exist.`);
    job = again;
  }
  throw new InvalidParameterException(`Import job ${job.id} is changing state; try again.`);
});
