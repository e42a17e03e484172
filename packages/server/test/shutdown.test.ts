// Graceful shutdown on SIGTERM: a request in flight completes (its mail is held by a slow SMTP
// server until after the signal), new connections are refused meanwhile, and the process exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { SMTPServer } from 'smtp-server';
import { CognitoIdentityProviderClient, SignUpCommand } from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, createPoolAndClient, uniqueEmail, queryDatabase } from './support/harness.js';

/** An SMTP server that takes a message and holds its answer until released. */
async function slowSmtp() {
  let arrived!: () => void, release!: () => void;
  const reached = new Promise<void>((r) => (arrived = r));
  const released = new Promise<void>((r) => (release = r));
  const server = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
    onData(stream, _session, done) {
      stream.resume();
      stream.on('end', () => { arrived(); released.then(() => done()); });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.server.address() as { port: number }).port, reached, release, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Resolves once a new TCP connection to the port is refused (polling), or rejects after `ms`. */
async function refusedWithin(port: number, ms: number) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(false); });
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
    });
    if (refused) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('new connections were still accepted');
}

for (const processes of ['1', '2']) {
  test(`SIGTERM (${processes} process${processes === '1' ? '' : 'es'}): the request in flight completes, new connections are refused, exit code 0`, async () => {
    const smtp = await slowSmtp();
    const gh = await startGatehouse({ GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, GATEHOUSE_PROCESSES: processes });
    const cip = new CognitoIdentityProviderClient({ endpoint: gh.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
    try {
      const { poolId, clientId } = await createPoolAndClient(gh);
      const email = uniqueEmail('inflight');
      const inFlight = cip.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: 'Drain-Passw0rd!', UserAttributes: [{ Name: 'email', Value: email }] }));
      await smtp.reached; // the SignUp is now inside the server, waiting on its mail
      const exited = new Promise<{ code: number | null; signal: string | null }>((r) => gh.proc.once('exit', (code, signal) => r({ code, signal })));
      gh.proc.kill('SIGTERM');
      await refusedWithin(Number(new URL(gh.url).port), 3000);
      assert.equal(gh.proc.exitCode, null, 'still running: it waits for the request in flight');
      smtp.release();
      const result = await inFlight;
      assert.match(result.UserSub!, /^[0-9a-f-]{36}$/);
      // Promptly: the answer closed its keep-alive connection instead of idling for keepAliveTimeout (72 s).
      const answered = Date.now();
      assert.deepEqual(await exited, { code: 0, signal: null });
      assert.ok(Date.now() - answered < 5000, `exited ${Date.now() - answered} ms after the last answer`);
      assert.ok(gh.logs.some((l) => l.includes('"msg":"shutting down"')));
      // What it acknowledged is stored, with its auth event: the store was closed after the request, not under it.
      const rows = await queryDatabase<{ id: string }>(gh, 'select id from users where pool_id = ? and email_key = ?', [poolId, email.toLowerCase()]);
      assert.deepEqual(rows.map((r) => r.id), [result.UserSub]);
      assert.equal((await queryDatabase(gh, 'select id from auth_events where user_id = ?', [result.UserSub])).length, 1);
    } finally {
      smtp.release();
      cip.destroy();
      await gh.stop();
      await smtp.close();
    }
  });
}
