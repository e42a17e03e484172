// Delivery paths and first-start behaviour: the outbox (SMS webhook, retries, one delivery per message
// across processes, the development outbox CLI, nothing in plaintext at rest), generated admin keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  CognitoIdentityProviderClient, SignUpCommand, ConfirmSignUpCommand, InitiateAuthCommand, ListUserPoolsCommand, AdminCreateUserCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, createPoolAndClient, queryDatabase, type Gatehouse } from './support/harness.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/cli.js');
const anon = (url: string) => new CognitoIdentityProviderClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });

/** An SMS webhook that answers 500 to its first `failures` posts and keeps what it accepted. */
async function smsHook(failures = 0) {
  const received: { phoneNumber: string; message: string }[] = [];
  let posts = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (++posts <= failures) { res.statusCode = 500; res.end(); return; }
      received.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    received, posts: () => posts, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/sms`,
    close: () => new Promise<void>((r) => server.close(() => r())),
    /** Waits until `n` messages were accepted. */
    async waitFor(n: number, ms = 10_000) {
      const end = Date.now() + ms;
      while (received.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      assert.ok(received.length >= n, `${received.length} of ${n} messages arrived within ${ms} ms`);
    },
  };
}

/** Everything the store holds, as text: the SQLite file with its write-ahead log, or every PostgreSQL row. */
async function storeText(gh: Gatehouse): Promise<string> {
  if (gh.database.kind === 'sqlite') {
    const file = gh.database.file;
    return [file, `${file}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f).toString('latin1')).join('\n');
  }
  const tables = await queryDatabase<{ name: string }>(gh, "select table_name as name from information_schema.tables where table_schema = current_schema()");
  const parts: string[] = [];
  for (const { name } of tables) {
    for (const row of await queryDatabase<{ t: string }>(gh, `select t::text as t from "${name}" t`)) parts.push(row.t);
  }
  return parts.join('\n');
}

test('SMS goes to the webhook as {phoneNumber, message} after the answer, and the code confirms the account', async () => {
  const hook = await smsHook();
  const gh = await startGatehouse({ GATEHOUSE_SMS_WEBHOOK_URL: hook.url });
  const cip = anon(gh.url);
  try {
    const { clientId } = await createPoolAndClient(gh, { UsernameAttributes: ['phone_number'], AutoVerifiedAttributes: ['phone_number'], Schema: undefined });
    const phone = '+15555550123';
    const up = await cip.send(new SignUpCommand({ ClientId: clientId, Username: phone, Password: 'Phone-Passw0rd!' }));
    assert.equal(up.CodeDeliveryDetails?.DeliveryMedium, 'SMS');
    assert.equal(up.CodeDeliveryDetails?.Destination, '+*******0123');
    await hook.waitFor(1);
    assert.equal(hook.received[0].phoneNumber, phone);
    const code = /(\d{6})/.exec(hook.received[0].message)![1];
    await cip.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: phone, ConfirmationCode: code }));
    const r = await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: phone, PASSWORD: 'Phone-Passw0rd!' } }));
    assert.ok(r.AuthenticationResult?.IdToken);
    assert.deepEqual(await queryDatabase(gh, 'select id from outbox'), [], 'a sent message is deleted');
  } finally {
    cip.destroy();
    await gh.stop();
    await hook.close();
  }
});

test('a failed delivery no longer undoes the sign-up: the message is retried, delivered exactly once when the webhook works, then deleted', async () => {
  const hook = await smsHook(2);
  const gh = await startGatehouse({ GATEHOUSE_SMS_WEBHOOK_URL: hook.url });
  const cip = anon(gh.url);
  try {
    const { clientId } = await createPoolAndClient(gh, { UsernameAttributes: ['phone_number'], AutoVerifiedAttributes: ['phone_number'], Schema: undefined });
    const phone = '+15555550999';
    const up = await cip.send(new SignUpCommand({ ClientId: clientId, Username: phone, Password: 'Phone-Passw0rd!' }));
    assert.equal(up.UserConfirmed, false);
    await hook.waitFor(1);
    assert.equal(hook.posts(), 3, 'two failed posts, then the one that worked');
    assert.ok(gh.logs.some((l) => l.includes('message delivery failed; will retry')));
    await new Promise((r) => setTimeout(r, 2500)); // polls and the backoff would have sent it again by now
    assert.equal(hook.received.length, 1, 'delivered exactly once');
    assert.equal(hook.posts(), 3);
    assert.deepEqual(await queryDatabase(gh, 'select id from outbox'), []);
    const code = /(\d{6})/.exec(hook.received[0].message)![1];
    await cip.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: phone, ConfirmationCode: code }));
  } finally {
    cip.destroy();
    await gh.stop();
    await hook.close();
  }
});

test('double delivery: two processes sharing a store send each of 30 messages exactly once', async () => {
  const hook = await smsHook();
  const gh = await startGatehouse({ GATEHOUSE_SMS_WEBHOOK_URL: hook.url, GATEHOUSE_PROCESSES: '2' });
  const cip = anon(gh.url);
  try {
    const { clientId } = await createPoolAndClient(gh, { UsernameAttributes: ['phone_number'], AutoVerifiedAttributes: ['phone_number'], Schema: undefined });
    const phones = Array.from({ length: 30 }, (_, i) => `+1555556${String(i).padStart(4, '0')}`);
    await Promise.all(phones.map((p) => cip.send(new SignUpCommand({ ClientId: clientId, Username: p, Password: 'Phone-Passw0rd!' }))));
    await hook.waitFor(30);
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(hook.received.map((m) => m.phoneNumber).sort(), phones.slice().sort(), 'each one, once');
    assert.deepEqual(await queryDatabase(gh, 'select id from outbox'), []);
  } finally {
    cip.destroy();
    await gh.stop();
    await hook.close();
  }
});

test('without a mail transport, codes land in the outbox that `gatehouse outbox` prints, sealed: the store holds no code or temporary password in plaintext', async () => {
  const gh = await startGatehouse();
  const cip = anon(gh.url);
  try {
    const { poolId, clientId } = await createPoolAndClient(gh);
    await cip.send(new SignUpCommand({ ClientId: clientId, Username: 'outbox@example.com', Password: 'Outbox-Passw0rd!', UserAttributes: [{ Name: 'email', Value: 'outbox@example.com' }] }));
    const temporary = 'Invite-Temp-Passw0rd-7Q';
    await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: 'invited@example.com', TemporaryPassword: temporary, DesiredDeliveryMediums: ['EMAIL'], UserAttributes: [{ Name: 'email', Value: 'invited@example.com' }] }));
    const out = execFileSync(process.execPath, [cli, 'outbox'], { env: { ...process.env, ...gh.env }, encoding: 'utf8' });
    assert.match(out, /EMAIL to outbox@example\.com/);
    assert.ok(out.includes(temporary), 'the invitation is in the outbox too');
    const code = /Your verification code is (\d{6})/.exec(out)![1];
    const stored = await storeText(gh);
    assert.ok(stored.includes('outbox@example.com'), 'the search sees the stored rows');
    assert.ok(!stored.includes(code), 'the code is stored in plaintext');
    assert.ok(!stored.includes(temporary), 'the temporary password is stored in plaintext');
    await cip.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: 'outbox@example.com', ConfirmationCode: code }));
    // The log says a message was kept, but never its text.
    assert.ok(gh.logs.some((l) => l.includes('outbox')));
    assert.ok(!gh.logs.some((l) => l.includes(code)));
    // Another master key cannot open them.
    const other = execFileSync(process.execPath, [cli, 'outbox'], { env: { ...process.env, ...gh.env, GATEHOUSE_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.ok(!other.includes(code));
  } finally {
    cip.destroy();
    await gh.stop();
  }
});

test('with no admin keys configured, the server generates them into a private file and logs only where', async () => {
  const gh = await startGatehouse({ GATEHOUSE_ADMIN_ACCESS_KEY_ID: '', GATEHOUSE_ADMIN_SECRET_ACCESS_KEY: '' });
  try {
    const file = path.join(gh.dataDir, 'admin-credentials.json');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const creds = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.ok(gh.logs.some((l) => l.includes(file)));
    assert.ok(!gh.logs.some((l) => l.includes(creds.secretAccessKey)));
    const admin = new CognitoIdentityProviderClient({ endpoint: gh.url, region: 'us-east-1', credentials: creds, maxAttempts: 1 });
    assert.ok((await admin.send(new ListUserPoolsCommand({ MaxResults: 10 }))).UserPools);
    admin.destroy();
  } finally {
    await gh.stop();
  }
});
