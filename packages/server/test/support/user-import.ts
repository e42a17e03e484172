// Helpers for user import jobs through the AWS SDK, for the tests and the import benchmark.
import {
  CreateUserImportJobCommand, DescribeUserImportJobCommand, GetCSVHeaderCommand, StartUserImportJobCommand, type UserImportJobType,
} from '@aws-sdk/client-cognito-identity-provider';
import type { Gatehouse } from './harness.js';

export const ROLE_ARN = 'arn:aws:iam::123456789012:role/CognitoImportRole';

/** One CSV field as RFC 4180 writes it. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** A CSV file: the header, then one line per row (missing columns empty), CRLF line breaks. */
export function buildCsv(header: string[], rows: Record<string, string>[]): string {
  return [header, ...rows.map((r) => header.map((h) => r[h] ?? ''))].map((fields) => fields.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** PUTs a file to a PreSignedUrl, as `curl -T file.csv -H "x-amz-server-side-encryption:aws:kms" <url>` does. */
export async function uploadCsv(preSignedUrl: string, body: string | Uint8Array) {
  const res = await fetch(preSignedUrl, {
    method: 'PUT', headers: { 'x-amz-server-side-encryption': 'aws:kms' },
    body: typeof body === 'string' ? new TextEncoder().encode(body) : body,
  });
  return { status: res.status, etag: res.headers.get('etag'), text: await res.text() };
}

export async function describeJob(gh: Gatehouse, poolId: string, jobId: string): Promise<UserImportJobType> {
  return (await gh.admin.send(new DescribeUserImportJobCommand({ UserPoolId: poolId, JobId: jobId }))).UserImportJob!;
}

/** Polls DescribeUserImportJob until the job is in one of `statuses`. */
export async function waitForJob(gh: Gatehouse, poolId: string, jobId: string, statuses = ['Succeeded', 'Failed', 'Stopped', 'Expired'], timeoutMs = 60_000, onProgress?: (job: UserImportJobType) => void) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const job = await describeJob(gh, poolId, jobId);
    onProgress?.(job);
    if (statuses.includes(job.Status!)) return job;
    if (Date.now() > end) throw new Error(`import job ${jobId} still ${job.Status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The whole flow: header, job, upload, start, wait. Returns the finished job and the time from start to end. */
export async function importUsers(gh: Gatehouse, poolId: string, rows: Record<string, string>[], jobName = 'import') {
  const { CSVHeader } = await gh.admin.send(new GetCSVHeaderCommand({ UserPoolId: poolId }));
  const { UserImportJob } = await gh.admin.send(new CreateUserImportJobCommand({ UserPoolId: poolId, JobName: jobName, CloudWatchLogsRoleArn: ROLE_ARN }));
  const up = await uploadCsv(UserImportJob!.PreSignedUrl!, buildCsv(CSVHeader!, rows));
  if (up.status !== 200) throw new Error(`upload refused: ${up.status} ${up.text}`);
  const t0 = performance.now();
  await gh.admin.send(new StartUserImportJobCommand({ UserPoolId: poolId, JobId: UserImportJob!.JobId }));
  const job = await waitForJob(gh, poolId, UserImportJob!.JobId!);
  return { job, seconds: (performance.now() - t0) / 1000 };
}
