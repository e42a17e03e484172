import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import crypto from 'node:crypto';
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import Database from 'better-sqlite3';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';
import { CognitoIdentityProviderClient, CreateUserPoolCommand, CreateUserPoolClientCommand, type CreateUserPoolCommandInput, type CreateUserPoolClientCommandInput } from '@aws-sdk/client-cognito-identity-provider';

const here = path.dirname(fileURLToPath(import.meta.url));
export const serverMain = path.resolve(here, '../../dist/main.js');

export const ADMIN = { accessKeyId: 'AKIDGATEHOUSETEST', secretAccessKey: 'test-secret-access-key-0123456789' };

export interface Mail { to: string; subject: string; text: string; at: number }

/** A real SMTP server that keeps what it receives, so tests read codes the way users do. */
export class MailCatcher {
  readonly messages: Mail[] = [];
  private server = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
    onData: (stream, session, done) => {
      simpleParser(stream).then((m) => {
        for (const rcpt of session.envelope.rcptTo) this.messages.push({ to: rcpt.address.toLowerCase(), subject: m.subject ?? '', text: m.text ?? '', at: Date.now() });
        done();
      }, done);
    },
  });
  port = 0;
  async start() {
    // Mail goes out after the answer, so a server stopped mid-send drops its connection: not a test failure.
    this.server.on('error', () => {});
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.server.address() as { port: number }).port;
    return this;
  }
  /**
   * Waits for the newest message to `to` that arrives after `since`. Mail leaves the server after
   * the answer, so an earlier operation's message may still arrive after `since`: the newest one
   * is taken once no other has come for `quietMs`.
   */
  async next(to: string, since = 0, timeoutMs = 5000, quietMs = 250): Promise<Mail> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const m = this.messages.filter((x) => x.to === to.toLowerCase() && x.at >= since).at(-1);
      if (m && Date.now() - m.at >= quietMs) return m;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no mail to ${to}`);
  }
  async code(to: string, since = 0): Promise<string> {
    const m = await this.next(to, since);
    const match = /(\d{6})/.exec(m.text);
    if (!match) throw new Error(`no code in mail: ${m.text}`);
    return match[1];
  }
  close() { return new Promise<void>((r) => this.server.close(() => r())); }
}

/**
 * The database the integration tests run against: GATEHOUSE_TEST_DATABASE=postgres selects
 * PostgreSQL at GATEHOUSE_TEST_POSTGRES_URL (default: the local `test` database); else SQLite.
 */
export const testDatabase: 'sqlite' | 'postgres' = process.env.GATEHOUSE_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
export const testPostgresUrl = process.env.GATEHOUSE_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test';

let pgAdmin: pg.Pool | undefined;
/** A small pool on the test database for the harness itself; it lets the test process exit when idle. */
export function postgresAdmin(): pg.Pool {
  if (!pgAdmin) {
    pgAdmin = new pg.Pool({ connectionString: testPostgresUrl, max: 3, allowExitOnIdle: true, connectionTimeoutMillis: 5000 });
    pgAdmin.on('error', () => {});
  }
  return pgAdmin;
}

/** Why PostgreSQL cannot be used, or undefined when it answers. */
export async function postgresUnreachable(): Promise<string | undefined> {
  try {
    await postgresAdmin().query('select 1');
    return undefined;
  } catch (e) {
    return `PostgreSQL at ${testPostgresUrl.replace(/\/\/[^@/]*@/, '//')} is unreachable (${(e as Error).message || String(e)})`;
  }
}

/** URL of the test database with `schema` alone on search_path. */
export function postgresUrlFor(schema: string): string {
  return testPostgresUrl + (testPostgresUrl.includes('?') ? '&' : '?') + 'options=' + encodeURIComponent(`-c search_path=${schema}`);
}

export interface PostgresNamespace { schema: string; url: string; drop(): Promise<void> }

let sweptStale = false;
/** Drops test schemas that a killed run left behind (named gh_<base36 ms>_…, older than six hours). */
async function dropStaleNamespaces() {
  if (sweptStale) return;
  sweptStale = true;
  const { rows } = await postgresAdmin().query<{ name: string }>("select nspname as name from pg_namespace where nspname ~ '^gh_[0-9a-z]+_[0-9a-f]+$'");
  for (const { name } of rows) {
    if (Date.now() - parseInt(name.split('_')[1], 36) > 6 * 3600e3) await postgresAdmin().query(`drop schema if exists ${name} cascade`).catch(() => {});
  }
}

/** A fresh, empty schema in the test database: one server (or several sharing it) sees nothing else. */
export async function createPostgresNamespace(): Promise<PostgresNamespace> {
  await dropStaleNamespaces();
  const schema = `gh_${Date.now().toString(36)}_${crypto.randomBytes(6).toString('hex')}`;
  await postgresAdmin().query(`create schema ${schema}`);
  return { schema, url: postgresUrlFor(schema), drop: async () => { await postgresAdmin().query(`drop schema if exists ${schema} cascade`); } };
}

export interface Gatehouse {
  url: string; proc: ChildProcess; dataDir: string; admin: CognitoIdentityProviderClient; logs: string[];
  /** The variables this harness gave the server (data directory, database URL, ...): run the CLI with them. */
  env: Record<string, string>;
  /** Where the server keeps its data: its SQLite file, or its PostgreSQL URL. */
  database: { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };
  stop(): Promise<void>;
}

/** Runs one query on the server's database, SQLite or PostgreSQL (reads answer rows); `?` marks parameters. */
export async function queryDatabase<T = Record<string, unknown>>(gh: Gatehouse, text: string, params: unknown[] = []): Promise<T[]> {
  if (gh.database.kind === 'sqlite') {
    // A test that sets up state (an UPDATE) gets a writable handle; reads stay read-only.
    const reads = /^\s*select/i.test(text);
    const db = new Database(gh.database.file, { readonly: reads });
    try {
      const st = db.prepare(text);
      return (reads ? st.all(...params) : (st.run(...params), [])) as T[];
    } finally { db.close(); }
  }
  let n = 0;
  const client = new pg.Client({ connectionString: gh.database.url });
  await client.connect();
  try { return (await client.query(text.replace(/\?/g, () => `$${++n}`), params)).rows as T[]; } finally { await client.end(); }
}

/**
 * Starts the built server as its own process on a free port with a fresh data directory and,
 * with GATEHOUSE_TEST_DATABASE=postgres, a fresh PostgreSQL schema of its own (dropped by stop()).
 * An explicit GATEHOUSE_DATABASE_URL in `env` is used as given, so several servers can share one database.
 */
export async function startGatehouse(env: Record<string, string> = {}): Promise<Gatehouse> {
  let namespace: PostgresNamespace | undefined;
  if (testDatabase === 'postgres' && !env.GATEHOUSE_DATABASE_URL) {
    const why = await postgresUnreachable();
    if (why) throw new Error(`${why}; GATEHOUSE_TEST_DATABASE=postgres needs it (GATEHOUSE_TEST_POSTGRES_URL names another)`);
    namespace = await createPostgresNamespace();
    env = { ...env, GATEHOUSE_DATABASE_URL: namespace.url };
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-test-'));
  // GATEHOUSE_SERVER_NODE_ARGS passes flags such as --cpu-prof to the server process, for profiling.
  const nodeArgs = process.env.GATEHOUSE_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const serverEnv: Record<string, string> = {
    PORT: '0', HOST: '127.0.0.1', GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_LOG_LEVEL: 'info',
    GATEHOUSE_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId, GATEHOUSE_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
    // Tests and the bench drive many requests from 127.0.0.1; the rate-limit tests turn limits on.
    // Under node --test, every answer is checked against the model's output shape (a drift fails the
    // suite as an internal error); benchmarks measure the server as it ships.
    GATEHOUSE_DATABASE_URL: '', GATEHOUSE_RATE_LIMITS: 'off', GATEHOUSE_CHECK_RESPONSES: process.env.NODE_TEST_CONTEXT ? '1' : '0', ...env,
  };
  const proc = spawn(process.execPath, [...nodeArgs, serverMain], {
    env: { ...process.env, ...serverEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start:\n' + logs.join('\n'))), 20000);
    let buf = '';
    proc.stdout!.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        logs.push(line);
        try {
          const j = JSON.parse(line);
          if (j.msg === 'gatehouse listening') { clearTimeout(timer); resolve(j.url); }
        } catch { /* not JSON */ }
      }
    });
    proc.stderr!.on('data', (d) => logs.push(String(d)));
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited ${code}:\n${logs.join('\n')}`)); });
  }).catch(async (e) => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
    await namespace?.drop().catch(() => {});
    throw e;
  });
  // Over TLS (a test's self-signed certificate), the admin client trusts that certificate alone.
  const tls = serverEnv.GATEHOUSE_TLS_CERT ? { requestHandler: { httpsAgent: new https.Agent({ ca: fs.readFileSync(serverEnv.GATEHOUSE_TLS_CERT) }) } } : {};
  const admin = new CognitoIdentityProviderClient({ endpoint: url, region: 'us-east-1', credentials: ADMIN, maxAttempts: 1, ...tls });
  const databaseUrl = serverEnv.GATEHOUSE_DATABASE_URL;
  return {
    url, proc, dataDir, admin, logs, env: serverEnv,
    database: databaseUrl ? { kind: 'postgres', url: databaseUrl } : { kind: 'sqlite', file: path.join(serverEnv.GATEHOUSE_DATA_DIR, 'gatehouse.db') },
    async stop() {
      admin.destroy();
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
      await namespace?.drop();
    },
  };
}

/** A pool and an app client as an Amplify app would have: email sign-in, email auto-verified. */
export async function createPoolAndClient(gh: Gatehouse, pool: Partial<CreateUserPoolCommandInput> = {}, client: Partial<CreateUserPoolClientCommandInput> = {}) {
  const { UserPool } = await gh.admin.send(new CreateUserPoolCommand({
    PoolName: 'test', UsernameAttributes: ['email'], AutoVerifiedAttributes: ['email'],
    Schema: [{ Name: 'email', Required: true, Mutable: true, AttributeDataType: 'String' }], ...pool,
  }));
  const poolId = UserPool!.Id!;
  const { UserPoolClient } = await gh.admin.send(new CreateUserPoolClientCommand({
    UserPoolId: poolId, ClientName: 'web',
    ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_AUTH', 'ALLOW_ADMIN_USER_PASSWORD_AUTH'],
    ...client,
  }));
  return { poolId, clientId: UserPoolClient!.ClientId! };
}

/** Posts a raw Cognito request, for the malformed-input tests. */
export async function rawCall(url: string, target: string | undefined, body: string | Buffer, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', ...(target ? { 'x-amz-target': `AWSCognitoIdentityProviderService.${target}` } : {}), ...headers },
    body,
  });
  const text = await res.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, type: res.headers.get('x-amzn-errortype'), json, text };
}

let counter = 0;
export function uniqueEmail(prefix = 'user') {
  return `${prefix}.${process.pid}.${Date.now()}.${counter++}@example.com`;
}

/**
 * Amplify arms a 3-minute timer at every signUp with autoSignIn; it would hold the test process
 * open after the last test. Unref long timers so the process can exit; behaviour is unchanged.
 */
export function unrefLongClientTimers() {
  const real = globalThis.setTimeout;
  globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const t = real(fn, ms, ...args);
    if ((ms ?? 0) >= 60_000) t.unref();
    return t;
  }) as typeof setTimeout;
}

/** Amplify debounces autoSignIn for 300 ms: a second call inside that window is dropped. */
export const AUTO_SIGN_IN_DEBOUNCE_MS = 350;

/** An SDK client for the unsigned operations (the credentials are never checked there). */
export function userClient(url: string) {
  return new CognitoIdentityProviderClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
}

export interface MailSuite { gh: Gatehouse; mail: MailCatcher; poolId: string; clientId: string; cip: CognitoIdentityProviderClient; stop(): Promise<void> }

/** What most suites start with: a mail catcher, a server sending to it, one pool and app client, a user-side SDK client. */
export async function startMailSuite(): Promise<MailSuite> {
  const mail = await new MailCatcher().start();
  const gh = await startGatehouse({ GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${mail.port}` });
  const { poolId, clientId } = await createPoolAndClient(gh);
  const cip = userClient(gh.url);
  return { gh, mail, poolId, clientId, cip, async stop() { cip.destroy(); await gh.stop(); await mail.close(); } };
}

/** A self-signed certificate for localhost and 127.0.0.1, made with openssl, valid for a day. */
export function selfSignedCertificate(): { cert: string; key: string; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-tls-'));
  const cert = path.join(dir, 'cert.pem'), key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert, key, dir };
}

/** How a call was refused, as "Name: message" ("no error" if it was not): for asserting Cognito's exact answers. */
export async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
  return 'no error';
}

/** The error a call was refused with; fails the test when the call succeeds. */
export async function errorOf(p: Promise<unknown>): Promise<Error & { name: string }> {
  try { await p; } catch (e) { return e as Error & { name: string }; }
  assert.fail('expected an error');
}
