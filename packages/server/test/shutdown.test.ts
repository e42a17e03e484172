// Graceful shutdown on SIGTERM: a request in flight completes (its body arrives after the signal),
// new connections are refused meanwhile, and the process exits 0 at once, though the outbox is still
// sending to a stalled mail server; messages not yet sent stay in the outbox for the next start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { SMTPServer } from 'smtp-server';
import { CognitoIdentityProviderClient, SignUpCommand } from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, createPoolAndClient, uniqueEmail, queryDatabase, MailCatcher } from './support/harness.js';

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
  server.on('error', () => {}); // the stopped server drops its connection mid-send
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

/** Posts a SignUp whose body arrives in two parts: the request is in flight until `finish()` sends the rest. */
function trickledSignUp(url: string, clientId: string, email: string) {
  const body = Buffer.from(JSON.stringify({ ClientId: clientId, Username: email, Password: 'Drain-Passw0rd!', UserAttributes: [{ Name: 'email', Value: email }] }));
  const req = http.request(url, {
    method: 'POST', agent: false,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.SignUp', 'content-length': body.length },
  });
  const answer = new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
  });
  req.write(body.subarray(0, 20));
  return { answer, finish: () => req.end(body.subarray(20)) };
}

for (const processes of ['1', '2']) {
  test(`SIGTERM (${processes} process${processes === '1' ? '' : 'es'}): the request in flight completes, new connections are refused, exit code 0 without waiting for a stalled mail server; unsent messages stay for the next start`, async () => {
    const smtp = await slowSmtp();
    const gh = await startGatehouse({ GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, GATEHOUSE_PROCESSES: processes });
    const cip = new CognitoIdentityProviderClient({ endpoint: gh.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
    let next: Awaited<ReturnType<typeof startGatehouse>> | undefined;
    const mail = await new MailCatcher().start();
    try {
      const { poolId, clientId } = await createPoolAndClient(gh);
      // Mail leaves the request: the answer comes while the mail server still holds the message.
      const first = uniqueEmail('stalled');
      const signedUp = await cip.send(new SignUpCommand({ ClientId: clientId, Username: first, Password: 'Drain-Passw0rd!', UserAttributes: [{ Name: 'email', Value: first }] }));
      await smtp.reached;
      const email = uniqueEmail('inflight');
      const inFlight = trickledSignUp(gh.url, clientId, email);
      await new Promise((r) => setTimeout(r, 200)); // its headers are in: the server has taken the request
      const exited = new Promise<{ code: number | null; signal: string | null }>((r) => gh.proc.once('exit', (code, signal) => r({ code, signal })));
      gh.proc.kill('SIGTERM');
      await refusedWithin(Number(new URL(gh.url).port), 3000);
      assert.equal(gh.proc.exitCode, null, 'still running: it waits for the request in flight');
      inFlight.finish();
      const result = await inFlight.answer;
      assert.equal(result.status, 200);
      assert.match(String(result.body.UserSub), /^[0-9a-f-]{36}$/);
      // Promptly: neither the keep-alive connection nor the stalled mail server holds the process.
      const answered = Date.now();
      assert.deepEqual(await exited, { code: 0, signal: null });
      assert.ok(Date.now() - answered < 5000, `exited ${Date.now() - answered} ms after the last answer`);
      assert.ok(gh.logs.some((l) => l.includes('"msg":"shutting down"')));
      // What it acknowledged is stored, with its auth event and its message: the store was closed after the request, not under it.
      const rows = await queryDatabase<{ id: string }>(gh, 'select id from users where pool_id = ? and email_key = ?', [poolId, email.toLowerCase()]);
      assert.deepEqual(rows.map((r) => r.id), [result.body.UserSub]);
      assert.equal((await queryDatabase(gh, 'select id from auth_events where user_id = ?', [result.body.UserSub])).length, 1);
      // Neither message was lost: the stalled one waits for its claim to run out, the other was never claimed.
      const left = await queryDatabase<{ attempts: number; state: string }>(gh, 'select attempts, state from outbox order by attempts desc');
      assert.deepEqual(left.map((m) => [m.state, Number(m.attempts)]), [['pending', 1], ['pending', 0]]);
      // The next start, on the same store, sends the one never claimed at once.
      next = await startGatehouse({ ...gh.env, GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${mail.port}`, GATEHOUSE_PROCESSES: '1' });
      assert.match((await mail.next(email)).text, /\d{6}/);
      assert.ok(signedUp.UserSub);
    } finally {
      smtp.release();
      cip.destroy();
      await next?.stop();
      await gh.stop();
      await smtp.close();
      await mail.close();
    }
  });
}
