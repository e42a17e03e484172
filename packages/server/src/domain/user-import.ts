// Bulk user import from a CSV file, as Cognito's user import jobs do it.
//
// The file is uploaded with an HTTP PUT to the job's PreSignedUrl (wire/import-upload.ts) and kept
// in the database in chunks, so any process sharing the database can run the job. StartUserImportJob
// only marks the job Pending; a runner in every process claims Pending jobs by conditional update
// and imports the rows in batches. Each batch inserts its users and advances the job's counts and
// its position in the file (rows_done) in one transaction, while the runner holds the job's lease.
//
// Restarts: a runner renews its lease (heartbeat_at) with every batch and on a timer. A job whose
// runner died stays InProgress until its lease runs out; then any process claims it and resumes
// after the last committed batch: no row is imported twice or lost. A shutdown hands the job back
// at once; an error hands it back for a retry after a lease. A job interrupted MAX_ATTEMPTS times
// (an error that repeats, processes that keep dying) is marked Failed.
import crypto from 'node:crypto';
import os from 'node:os';
import type { Ctx } from './context.js';
import type { UserImportJobStatusType, UserImportJobType } from '../shapes.js';
import type { ImportJob } from '../storage/repository.js';
import type { UserTable } from '../storage/schema.js';
import type { Insertable } from 'kysely';
import { PassThrough } from 'node:stream';
import { once } from 'node:events';
import { CsvError, isBlankRecord, readCsv, type CsvRecord } from './csv.js';
import { isUsernameAttribute, parsePool, type LoadedPool } from './pools.js';
import { loginKeys, missingRequired, newUsername, validateAttributes, type Attributes } from './users.js';
import { CognitoError } from '../errors.js';

/** The largest file an upload may send. */
export const IMPORT_MAX_BYTES = 100 * 1024 * 1024;
/** Uploads are stored in chunks of this size. */
export const IMPORT_CHUNK_BYTES = 1024 * 1024;
/** A job not started within this time expires, and its file is deleted (Cognito: 24-48 h). */
export const IMPORT_CREATED_TTL_MS = 24 * 3600e3;
/** Claims of one job that may end without it finishing (errors, processes that died) before it is marked Failed. */
const MAX_ATTEMPTS = 5;
const MAX_FAILURES_KEPT = 10;

const envNumber = (name: string, fallback: number, min: number, max: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v >= min && v <= max ? v : fallback;
};
/** Tuning knobs (environment only): rows per transaction, and how long a silent runner keeps a job. */
export const importSettings = {
  batchSize: envNumber('GATEHOUSE_IMPORT_BATCH_SIZE', 512, 1, 1000),
  leaseMs: envNumber('GATEHOUSE_IMPORT_LEASE_SECONDS', 30, 1, 3600) * 1000,
};

const STANDARD_COLUMNS = [
  'name', 'given_name', 'family_name', 'middle_name', 'nickname', 'preferred_username', 'profile', 'picture', 'website',
  'email', 'email_verified', 'gender', 'birthdate', 'zoneinfo', 'locale', 'phone_number', 'phone_number_verified', 'address', 'updated_at',
];

/** GetCSVHeader: Cognito's standard columns, the pool's custom attributes, then cognito:mfa_enabled and cognito:username. */
export function csvHeader(pool: LoadedPool): string[] {
  const custom = (pool.config.Schema ?? [])
    .filter((s) => !s.DeveloperOnlyAttribute && !STANDARD_COLUMNS.includes(s.Name) && s.Name !== 'sub')
    .map((s) => (s.Name.startsWith('custom:') ? s.Name : `custom:${s.Name}`));
  return [...STANDARD_COLUMNS, ...custom, 'cognito:mfa_enabled', 'cognito:username'];
}

/** The upload token of a job: keyed by the master key, so nothing in the database reveals it. */
export function uploadToken(ctx: Ctx, jobId: string) {
  return ctx.secrets.mac('user-import-upload', jobId);
}

// The port the server listens on, by store (wire/import-upload.ts notes it once listening).
const listening = new WeakMap<object, number>();
export function noteListeningPort(ctx: Ctx, port: number) { listening.set(ctx.repo, port); }

/** `<PUBLIC_URL>/import/<jobId>?token=…`. With PORT=0 the default public URL names port 0: the real one goes there. */
export function preSignedUrl(ctx: Ctx, jobId: string) {
  let base = ctx.config.publicUrl;
  const port = listening.get(ctx.repo);
  if (port) {
    const u = new URL(base);
    if (u.port === '0') { u.port = String(port); base = u.toString().replace(/\/+$/, ''); }
  }
  return `${base}/import/${jobId}?token=${uploadToken(ctx, jobId)}`;
}

/** Cognito's UserImportJobType. Dates are epoch seconds. */
export function userImportJobType(ctx: Ctx, job: ImportJob): UserImportJobType {
  return {
    JobName: job.name,
    JobId: job.id,
    UserPoolId: job.pool_id,
    PreSignedUrl: preSignedUrl(ctx, job.id),
    CreationDate: job.created_at / 1000,
    ...(job.started_at != null ? { StartDate: job.started_at / 1000 } : {}),
    ...(job.completed_at != null ? { CompletionDate: job.completed_at / 1000 } : {}),
    Status: job.status as UserImportJobStatusType,
    CloudWatchLogsRoleArn: job.role_arn,
    ImportedUsers: job.imported,
    SkippedUsers: job.skipped,
    FailedUsers: job.failed,
    ...(job.message ? { CompletionMessage: job.message } : {}),
  };
}

/** Reads a job, expiring it first if it was never started in time. */
export async function loadImportJob(ctx: Ctx, jobId: string): Promise<ImportJob | undefined> {
  const job = await ctx.repo.getImportJob(jobId);
  if (job?.status === 'Created' && job.created_at < ctx.now() - IMPORT_CREATED_TTL_MS) {
    await ctx.repo.expireImportJobs(ctx.now() - IMPORT_CREATED_TTL_MS, ctx.now());
    return ctx.repo.getImportJob(jobId);
  }
  return job;
}

// ---- Reading the file ----

/** Counts the data rows of an upload as it streams in, and notes why it cannot be parsed, if it cannot. */
export class CsvScanner {
  private input = new PassThrough();
  private records = 0;
  error: string | undefined;
  private done: Promise<void>;

  constructor() {
    this.done = (async () => {
      try {
        for await (const r of readCsv(this.input)) if (!isBlankRecord(r)) this.records++;
      } catch (e) {
        this.error = parseError(e);
        this.input.destroy();
      }
    })();
  }

  /** Takes the next piece; waits while the parser is behind, so an upload is never held in memory. */
  async feed(bytes: Uint8Array) {
    if (this.error !== undefined || this.input.destroyed) return;
    if (!this.input.write(bytes)) await Promise.race([once(this.input, 'drain').catch(() => {}), this.done]);
  }
  async end() {
    if (!this.input.destroyed) this.input.end();
    await this.done;
  }
  /** Data rows: records that are not blank lines, less the header. */
  get rows() { return Math.max(0, this.records - 1); }
}

function parseError(e: unknown): string {
  if (e instanceof CsvError) return `The CSV file cannot be parsed: ${e.message}.`;
  if ((e as { code?: string })?.code === 'ERR_ENCODING_INVALID_ENCODED_DATA') return 'The CSV file is not valid UTF-8.';
  return 'The CSV file cannot be read.'; // not expected; the scan must not reject while nobody awaits it
}

/** The stored pieces of a job's file, in order. */
async function* storedChunks(ctx: Ctx, job: ImportJob): AsyncGenerator<Uint8Array> {
  for (let seq = 0; ; seq++) {
    const data = await ctx.repo.getImportChunk(job.id, job.upload_id!, seq);
    if (!data) return;
    yield data;
  }
}

/** The records of a job's stored file, in order. */
function storedRecords(ctx: Ctx, job: ImportJob): AsyncGenerator<CsvRecord> {
  return readCsv(storedChunks(ctx, job));
}

// ---- Rows to users ----

export interface Header { columns: string[] }

/** Checks the header row: known columns, none twice, cognito:username present. Answers why not, or the header. */
export function parseHeader(pool: LoadedPool, fields: string[]): Header | string {
  const allowed = new Set(csvHeader(pool));
  const columns = fields.map((f) => f.trim());
  const seen = new Set<string>();
  for (const c of columns) {
    if (!allowed.has(c)) return `The CSV header has a column that is not an attribute of the user pool: ${c.slice(0, 64)}`;
    if (seen.has(c)) return `The CSV header names ${c} twice.`;
    seen.add(c);
  }
  if (!seen.has('cognito:username')) return 'The CSV header has no cognito:username column.';
  return { columns };
}

const usernamePattern = /^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$/u;

/** One data row as a user row to insert, or why it cannot be imported. Imported users have no password and must reset it. */
export function prepareRow(pool: LoadedPool, header: Header, fields: string[], now: number): Insertable<UserTable> | string {
  if (fields.length !== header.columns.length) return `The row has ${fields.length} values but the header has ${header.columns.length} columns.`;
  let login = '';
  let mfa = '';
  const given: { Name: string; Value: string }[] = [];
  header.columns.forEach((name, i) => {
    const v = fields[i];
    if (name === 'cognito:username') login = v;
    else if (name === 'cognito:mfa_enabled') mfa = v.toLowerCase();
    else if (v !== '') given.push({ Name: name, Value: v });
  });
  if (!login) return 'The cognito:username value is missing.';
  if ([...login].length > 128 || !usernamePattern.test(login)) return 'The cognito:username value is not a valid username.';
  if (mfa !== '' && mfa !== 'true' && mfa !== 'false') return 'The cognito:mfa_enabled value must be true or false.';
  for (const a of given) {
    if ([...a.Value].length > 2048) return `The value of ${a.Name} is longer than 2048 characters.`;
    if (a.Name === 'updated_at' && !/^[0-9]+$/.test(a.Value)) return 'The updated_at value must be a number of seconds since the epoch.';
  }
  let attrs: Attributes;
  let username: string;
  let sub: string;
  try {
    attrs = validateAttributes(pool, given, { admin: true });
    ({ username, sub } = newUsername(pool, login, attrs));
  } catch (e) {
    if (e instanceof CognitoError) return e.message;
    throw e;
  }
  if (attrs.email_verified === 'true' && !attrs.email) return 'email_verified is true but the email value is missing.';
  if (attrs.phone_number_verified === 'true' && !attrs.phone_number) return 'phone_number_verified is true but the phone_number value is missing.';
  const auto = pool.config.AutoVerifiedAttributes ?? [];
  if (!auto.some((a) => attrs[`${a}_verified`] === 'true')) {
    return `The User Record does not set any of the auto verified attributes to true. (Example: ${auto[0] ?? 'email'}_verified to true).`;
  }
  const missing = missingRequired(pool, attrs);
  if (missing.length) return `The user is missing required attributes: ${missing.join(', ')}.`;
  if (mfa === 'true' && !attrs.phone_number) return 'cognito:mfa_enabled is true but the phone_number value is missing.';
  return {
    id: sub, pool_id: pool.id, username, ...loginKeys(pool, username, attrs), status: 'RESET_REQUIRED', enabled: 1,
    attributes: JSON.stringify(attrs), password: null, password_changed_at: null, temp_password_expires_at: null,
    mfa: mfa === 'true' ? JSON.stringify({ enabled: ['SMS_MFA'], preferred: 'SMS_MFA' }) : '{}',
    failed_attempts: 0, locked_until: 0, created_at: now, updated_at: now,
  };
}

// ---- The runner ----

interface Failure { line: number; reason: string }

class Lost extends Error {}

const yieldToRequests = () => new Promise<void>((r) => setImmediate(r));

/** Runs import jobs in this process: claims them from the database, one at a time. */
export class ImportRunner {
  readonly owner = `${os.hostname()}:${process.pid}:${crypto.randomBytes(6).toString('hex')}`;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private closing = false;
  private lastExpiry = 0;

  constructor(private readonly ctx: Ctx) {}

  start() {
    const every = Math.min(5000, Math.max(250, importSettings.leaseMs / 3));
    this.timer = setInterval(() => this.kick(), every);
    this.timer.unref();
    this.kick();
  }

  /** Looks for work now (StartUserImportJob calls this so its job starts at once). */
  kick() {
    if (this.closing) return;
    if (this.running) { this.again = true; return; }
    this.running = this.loop().catch((e) => this.ctx.log.error('import runner failed', { error: String((e as Error)?.stack ?? e) })).finally(() => {
      this.running = undefined;
      if (this.again) { this.again = false; this.kick(); }
    });
  }

  /** Stops after the current batch; a job it was running is handed back for any process to resume. */
  async stop() {
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private async loop() {
    const { ctx } = this;
    if (ctx.now() - this.lastExpiry > 60_000) {
      this.lastExpiry = ctx.now();
      const expired = await ctx.repo.expireImportJobs(ctx.now() - IMPORT_CREATED_TTL_MS, ctx.now());
      if (expired.length) ctx.log.info('user import jobs expired', { jobs: expired });
    }
    while (!this.closing) {
      const job = await ctx.repo.claimImportJob(this.owner, ctx.now(), ctx.now() - importSettings.leaseMs);
      if (!job) return;
      await this.run(job);
    }
  }

  private async run(job: ImportJob) {
    const { ctx, owner } = this;
    const held = { lost: false };
    const heartbeat = setInterval(() => {
      ctx.repo.updateImportJob(job.id, { heartbeat_at: ctx.now() }, { statuses: ['InProgress', 'Stopping'], owner })
        .then((ok) => { if (!ok) held.lost = true; }, () => {});
    }, Math.max(100, importSettings.leaseMs / 3));
    heartbeat.unref();
    try {
      await this.process(job, held);
    } catch (e) {
      if (e instanceof Lost) return;
      ctx.log.error('user import job error', { jobId: job.id, attempt: job.attempts, error: String((e as Error)?.stack ?? e) });
      // Hand the job back; after a lease's time any process retries it from the last committed batch.
      await ctx.repo.updateImportJob(job.id, { owner: null, heartbeat_at: ctx.now(), updated_at: ctx.now() }, { statuses: ['InProgress', 'Stopping'], owner }).catch(() => {});
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async finish(job: ImportJob, status: 'Succeeded' | 'Failed' | 'Stopped', message: string) {
    const { ctx } = this;
    const now = ctx.now();
    // A Stop that comes after the last batch leaves the job complete: it succeeded.
    const ok = await ctx.repo.updateImportJob(job.id, { status, message: message.slice(0, 2048), completed_at: now, owner: null, upload_id: null, updated_at: now },
      { statuses: status === 'Stopped' ? ['Stopping'] : ['InProgress', 'Stopping'], owner: this.owner });
    if (!ok) throw new Lost();
    await ctx.repo.deleteImportChunks(job.id);
    ctx.log.info('user import job finished', { jobId: job.id, poolId: job.pool_id, status, imported: job.imported, skipped: job.skipped, failed: job.failed, ms: now - (job.started_at ?? now) });
  }

  private async process(job: ImportJob, held: { lost: boolean }) {
    const { ctx } = this;
    if (job.status === 'Stopping') return this.finish(job, 'Stopped', 'The import job was stopped.');
    if (job.attempts > MAX_ATTEMPTS) return this.finish(job, 'Failed', `The import job was interrupted ${MAX_ATTEMPTS} times (internal errors or processes that stopped) and was given up. ${summary(job, JSON.parse(job.failures))}`);
    const row = await ctx.repo.getPool(job.pool_id);
    if (!row) return this.finish(job, 'Failed', 'The user pool has been deleted.');
    const pool = parsePool(row);
    if (job.csv_error) return this.finish(job, 'Failed', job.csv_error);
    if (!job.upload_id) return this.finish(job, 'Failed', 'No CSV file was uploaded.');
    if (job.rows_done > 0) ctx.log.info('user import job resumed', { jobId: job.id, rowsDone: job.rows_done, attempt: job.attempts });

    const failures: Failure[] = JSON.parse(job.failures);
    let header: Header | undefined;
    let index = 0;
    let batch: CsvRecord[] = [];
    const flush = async (): Promise<boolean> => {
      const status = await this.importBatch(pool, job, header!, batch, failures);
      batch = [];
      if (status === 'Stopping') { await this.finish(job, 'Stopped', `The import job was stopped. ${summary(job, failures)}`); return false; }
      if (held.lost) throw new Lost();
      if (this.closing) {
        // Shutting down: hand the job back (this claim does not count as a failed attempt).
        await ctx.repo.updateImportJob(job.id, { owner: null, heartbeat_at: 0, attempts: job.attempts - 1, updated_at: ctx.now() }, { statuses: ['InProgress', 'Stopping'], owner: this.owner });
        return false;
      }
      await yieldToRequests();
      return true;
    };
    try {
      for await (const rec of storedRecords(ctx, job)) {
        if (isBlankRecord(rec)) continue;
        if (!header) {
          const h = parseHeader(pool, rec.fields);
          if (typeof h === 'string') return this.finish(job, 'Failed', h);
          header = h;
          continue;
        }
        if (index++ < job.rows_done) continue;
        batch.push(rec);
        if (batch.length >= importSettings.batchSize && !(await flush())) return;
      }
    } catch (e) {
      // The upload already noted a file that cannot be read (csv_error); this is only a safety net.
      if (e instanceof CsvError) return this.finish(job, 'Failed', `The CSV file cannot be parsed: ${e.message}.`);
      if ((e as { code?: string })?.code === 'ERR_ENCODING_INVALID_ENCODED_DATA') return this.finish(job, 'Failed', 'The CSV file is not valid UTF-8.');
      throw e;
    }
    if (!header) return this.finish(job, 'Failed', 'The CSV file is empty: it has no header row.');
    if (batch.length && !(await flush())) return;
    return this.finish(job, 'Succeeded', summary(job, failures));
  }

  /** Imports one batch; returns the job's status after it. */
  private async importBatch(pool: LoadedPool, job: ImportJob, header: Header, batch: CsvRecord[], failures: Failure[]): Promise<string> {
    const { ctx } = this;
    const now = ctx.now();
    let skipped = 0;
    let failed = 0;
    const fail = (line: number, reason: string) => {
      failed++;
      if (failures.length < MAX_FAILURES_KEPT) failures.push({ line, reason });
      ctx.log.info('user import row failed', { jobId: job.id, line, reason });
    };
    const skip = (line: number) => {
      skipped++;
      ctx.log.info('user import row skipped', { jobId: job.id, line, reason: 'The user already exists.' });
    };
    const rows: { line: number; user: Insertable<UserTable> }[] = [];
    for (const rec of batch) {
      const r = prepareRow(pool, header, rec.fields, now);
      if (typeof r === 'string') fail(rec.line, r);
      else rows.push({ line: rec.line, user: r });
    }
    // Duplicates, with the rows already in the pool (one query) and the rows before in this batch.
    // Login keys are unique across kinds: a username, email, phone or preferred_username names one user.
    const keysOf = (u: Insertable<UserTable>) => [
      ['username', u.username_key], ['email', u.email_key], ['phone', u.phone_key], ['preferred_username', u.preferred_username_key],
    ].filter((k): k is [string, string] => !!k[1]);
    const existing = await ctx.repo.findLoginKeys(pool.id, [...new Set(rows.flatMap((r) => keysOf(r.user).map(([, k]) => k)))]);
    const taken = new Map(existing.map((e) => [e.key, e.kind]));
    // Where users sign in with email or phone, the username is a fresh sub and the email or phone names the user.
    const fresh = (pool.config.UsernameAttributes ?? []).length > 0;
    const identity = new Set(fresh ? [isUsernameAttribute(pool, 'email') && 'email', isUsernameAttribute(pool, 'phone_number') && 'phone'] : ['username']);
    const accepted: typeof rows = [];
    for (const r of rows) {
      const keys = keysOf(r.user).filter(([kind]) => kind !== 'username' || !fresh);
      const clash = keys.find(([, k]) => taken.has(k));
      if (clash) {
        // The same user (its identity key, held as such): skipped, as Cognito. Any other clash fails,
        // as AdminCreateUser would with UsernameExistsException or AliasExistsException.
        const [kind, k] = clash;
        if (kind === taken.get(k) && identity.has(kind)) skip(r.line);
        else fail(r.line, `An account with the given ${kind === 'phone' ? 'phone_number' : kind} already exists.`);
        continue;
      }
      for (const [kind, k] of keysOf(r.user)) if (!taken.has(k)) taken.set(k, kind);
      accepted.push(r);
    }
    const rowsDone = job.rows_done + batch.length;
    let imported = 0;
    const result = await ctx.repo.importUserBatch(job.id, this.owner, accepted.map((r) => r.user), (inserted) => {
      imported = inserted.size;
      return {
        rows_done: rowsDone, imported: job.imported + imported, skipped: job.skipped + skipped + (accepted.length - imported),
        failed: job.failed + failed, failures: JSON.stringify(failures), heartbeat_at: ctx.now(), updated_at: ctx.now(),
      };
    });
    if (!result) throw new Lost();
    for (const r of accepted) {
      // A concurrent write (a sign-up, another job) took one of its keys since the query above.
      if (!result.inserted.has(r.user.id as string)) ctx.log.info('user import row skipped', { jobId: job.id, line: r.line, reason: 'The user already exists.' });
    }
    job.rows_done = rowsDone;
    job.imported += imported;
    job.skipped += skipped + (accepted.length - imported);
    job.failed += failed;
    job.failures = JSON.stringify(failures);
    return result.status;
  }
}

/** CompletionMessage: the counts and the first failures, by line. */
function summary(job: ImportJob, failures: Failure[]) {
  let s = `Imported ${job.imported} users; skipped ${job.skipped} (they already exist); ${job.failed} failed.`;
  if (failures.length) {
    s += ' ' + failures.map((f) => `Line ${f.line}: ${f.reason}`).join(' ');
    if (job.failed > failures.length) s += ` (and ${job.failed - failures.length} more failures)`;
  }
  return s;
}

// Keyed by the repository: handlers get a copy of the server's context per request, the store is one.
const runners = new WeakMap<object, ImportRunner>();
/** The runner of this server (one per server context; wire/import-upload.ts makes it first). */
export function importRunner(ctx: Ctx): ImportRunner {
  let r = runners.get(ctx.repo);
  if (!r) runners.set(ctx.repo, (r = new ImportRunner(ctx)));
  return r;
}
