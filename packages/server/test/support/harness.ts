import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.server.address() as { port: number }).port;
    return this;
  }
  /** Waits for the next message to `to` that arrives after `since`. */
  async next(to: string, since = 0, timeoutMs = 5000): Promise<Mail> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const m = this.messages.filter((x) => x.to === to.toLowerCase() && x.at >= since).at(-1);
      if (m) return m;
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

export interface Gatehouse { url: string; proc: ChildProcess; dataDir: string; admin: CognitoIdentityProviderClient; logs: string[]; stop(): Promise<void> }

/** Starts the built server as its own process on a free port with a fresh data directory. */
export async function startGatehouse(env: Record<string, string> = {}): Promise<Gatehouse> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-test-'));
  // GATEHOUSE_SERVER_NODE_ARGS passes flags such as --cpu-prof to the server process, for profiling.
  const nodeArgs = process.env.GATEHOUSE_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const proc = spawn(process.execPath, [...nodeArgs, serverMain], {
    env: {
      ...process.env, PORT: '0', HOST: '127.0.0.1', GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_LOG_LEVEL: 'info',
      GATEHOUSE_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId, GATEHOUSE_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey, ...env,
    },
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
  });
  const admin = new CognitoIdentityProviderClient({ endpoint: url, region: 'us-east-1', credentials: ADMIN, maxAttempts: 1 });
  return {
    url, proc, dataDir, admin, logs,
    async stop() {
      admin.destroy();
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
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
