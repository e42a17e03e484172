// Delivery paths and first-start behaviour: SMS webhook, development outbox CLI, generated admin keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  CognitoIdentityProviderClient, SignUpCommand, ConfirmSignUpCommand, InitiateAuthCommand, ListUserPoolsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, createPoolAndClient } from './support/harness.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/cli.js');
const anon = (url: string) => new CognitoIdentityProviderClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });

test('SMS goes to the webhook as {phoneNumber, message}, and the code confirms the account', async () => {
  const received: { phoneNumber: string; message: string }[] = [];
  const hook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => { received.push(JSON.parse(body)); res.end('ok'); });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  const gh = await startGatehouse({ GATEHOUSE_SMS_WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as { port: number }).port}/sms` });
  const cip = anon(gh.url);
  try {
    const { clientId } = await createPoolAndClient(gh, { UsernameAttributes: ['phone_number'], AutoVerifiedAttributes: ['phone_number'], Schema: undefined });
    const phone = '+15555550123';
    const up = await cip.send(new SignUpCommand({ ClientId: clientId, Username: phone, Password: 'Phone-Passw0rd!' }));
    assert.equal(up.CodeDeliveryDetails?.DeliveryMedium, 'SMS');
    assert.equal(up.CodeDeliveryDetails?.Destination, '+*******0123');
    assert.equal(received.length, 1);
    assert.equal(received[0].phoneNumber, phone);
    const code = /(\d{6})/.exec(received[0].message)![1];
    await cip.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: phone, ConfirmationCode: code }));
    const r = await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: phone, PASSWORD: 'Phone-Passw0rd!' } }));
    assert.ok(r.AuthenticationResult?.IdToken);
  } finally {
    cip.destroy();
    await gh.stop();
    hook.close();
  }
});

test('a failing SMS webhook gives CodeDeliveryFailureException and leaves no half-made user', async () => {
  const hook = http.createServer((_req, res) => { res.statusCode = 500; res.end(); });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  const gh = await startGatehouse({ GATEHOUSE_SMS_WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as { port: number }).port}/sms` });
  const cip = anon(gh.url);
  try {
    const { clientId } = await createPoolAndClient(gh, { UsernameAttributes: ['phone_number'], AutoVerifiedAttributes: ['phone_number'], Schema: undefined });
    const attempt = () => cip.send(new SignUpCommand({ ClientId: clientId, Username: '+15555550999', Password: 'Phone-Passw0rd!' }));
    await assert.rejects(attempt(), { name: 'CodeDeliveryFailureException' });
    // The same sign-up again is not a UsernameExists: the first one was undone.
    await assert.rejects(attempt(), { name: 'CodeDeliveryFailureException' });
  } finally {
    cip.destroy();
    await gh.stop();
    hook.close();
  }
});

test('without a mail transport, codes land in the outbox that `gatehouse outbox` prints', async () => {
  const gh = await startGatehouse();
  const cip = anon(gh.url);
  try {
    const { clientId } = await createPoolAndClient(gh);
    await cip.send(new SignUpCommand({ ClientId: clientId, Username: 'outbox@example.com', Password: 'Outbox-Passw0rd!', UserAttributes: [{ Name: 'email', Value: 'outbox@example.com' }] }));
    const out = execFileSync(process.execPath, [cli, 'outbox'], { env: { ...process.env, ...gh.env }, encoding: 'utf8' });
    assert.match(out, /EMAIL to outbox@example\.com/);
    const code = /Your verification code is (\d{6})/.exec(out)![1];
    await cip.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: 'outbox@example.com', ConfirmationCode: code }));
    // The log says a message was kept, but never its text.
    assert.ok(gh.logs.some((l) => l.includes('outbox')));
    assert.ok(!gh.logs.some((l) => l.includes(code)));
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
