// Triggers that fail, hang, answer nonsense or cannot be reached: Cognito's three Lambda errors,
// never a 500, and no half-made user. Where triggers may live, and what an admin may not name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import http from 'node:http';
import { AdminGetUserCommand, CreateUserPoolCommand, SignUpCommand, type CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, createPoolAndClient, uniqueEmail, userClient, type Gatehouse } from './support/harness.js';
import { TriggerKit, errorOf, FORMS } from './support/triggers.js';

const PASSWORD = 'Correct-Horse-9';
let gh: Gatehouse, kit: TriggerKit, cip: CognitoIdentityProviderClient;
const MAPPED = 'arn:aws:lambda:us-east-1:123456789012:function:pre-sign-up';
const MAPPED_URL = 'arn:aws:lambda:us-east-1:123456789012:function:pre-sign-up-web';
const UNMAPPED = 'arn:aws:lambda:us-east-1:123456789012:function:nowhere';

before(async () => {
  kit = await new TriggerKit().start();
  kit.module('throws.mjs', `export const handler = async () => { throw new Error('No sign-ups today'); };`);
  kit.module('slow.mjs', `export const handler = async (event) => { await new Promise((r) => setTimeout(r, 6000)); return event; };`);
  kit.module('null.mjs', `export const handler = async () => null;`);
  kit.module('wrong-type.mjs', `export const handler = async (event) => { event.response.autoConfirmUser = 'yes'; return event; };`);
  kit.module('ok.mjs', `export const handler = async (event) => { record(event); event.response.autoConfirmUser = true; return event; };`);
  kit.raw('callback.cjs', `exports.handler = function (event, context, callback) { event.response.autoConfirmUser = true; setTimeout(() => callback(null, event), 10); };`);
  kit.raw('succeed.cjs', `exports.handler = function (event, context) { context.succeed(event); };`);
  kit.raw('broken.mjs', `export const handler = async (event) => { return event ;; }}}`);
  kit.raw('no-handler.mjs', `export const other = 1;`);
  fs.symlinkSync('/etc/hostname', path.join(kit.dir, 'escape.mjs'));
  const url = `http://127.0.0.1:${kit.port}`;
  gh = await startGatehouse({
    GATEHOUSE_TRIGGERS_DIR: kit.dir,
    GATEHOUSE_TRIGGERS: JSON.stringify({ [MAPPED]: 'ok.mjs', [MAPPED_URL]: `${url}/ok.mjs` }),
  });
  cip = userClient(gh.url);
});
after(async () => { cip?.destroy(); await gh?.stop(); await kit?.stop(); });


/** A pool whose PreSignUp trigger is `target`; a sign-up through it, and whether it left a user. */
async function signUpThrough(target: string) {
  const { poolId, clientId } = await createPoolAndClient(gh, { LambdaConfig: { PreSignUp: target } });
  const email = uniqueEmail();
  const started = Date.now();
  const outcome = await cip.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: email }] })).then((r) => r, (e) => e as Error & { name: string; $metadata?: { httpStatusCode?: number } });
  const ms = Date.now() - started;
  const left = await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: email })).then(() => true, () => false);
  return { outcome, ms, left };
}

function assertRefused(r: Awaited<ReturnType<typeof signUpThrough>>, type: string) {
  assert.ok(r.outcome instanceof Error, 'the sign-up is refused');
  assert.equal(r.outcome.name, type);
  assert.equal((r.outcome as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 400);
  assert.equal(r.left, false, 'no half-made user');
}

for (const form of FORMS) {
  test(`a trigger that throws (${form}): UserLambdaValidationException with its message, no user`, async () => {
    const r = await signUpThrough(kit.target(form, 'throws.mjs'));
    assertRefused(r, 'UserLambdaValidationException');
    assert.equal((r.outcome as Error).message, 'PreSignUp failed with error No sign-ups today.');
  });

  test(`a trigger slower than 5 seconds (${form}): UnexpectedLambdaException at 5 seconds, no user`, async () => {
    const r = await signUpThrough(kit.target(form, 'slow.mjs'));
    assertRefused(r, 'UnexpectedLambdaException');
    assert.ok(r.ms >= 4900 && r.ms < 5900, `answered after ${r.ms} ms`);
  });

  test(`a trigger answering no event, or a wrong type (${form}): InvalidLambdaResponseException, no user`, async () => {
    assertRefused(await signUpThrough(kit.target(form, 'null.mjs')), 'InvalidLambdaResponseException');
    assertRefused(await signUpThrough(kit.target(form, 'wrong-type.mjs')), 'InvalidLambdaResponseException');
  });
}

test('a URL that answers a page rather than JSON: InvalidLambdaResponseException; an error page: UserLambdaValidationException without its text', async () => {
  const web = http.createServer((req, res) => {
    res.writeHead(req.url === '/page' ? 200 : 502, { 'content-type': 'text/html' });
    res.end('<html><body>Bad gateway at internal-host-7</body></html>');
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
  const port = (web.address() as { port: number }).port;
  try {
    assertRefused(await signUpThrough(`http://127.0.0.1:${port}/page`), 'InvalidLambdaResponseException');
    const r = await signUpThrough(`http://127.0.0.1:${port}/error`);
    assertRefused(r, 'UserLambdaValidationException');
    assert.equal((r.outcome as Error).message, 'PreSignUp failed with error the trigger answered HTTP 502.');
  } finally {
    web.closeAllConnections();
    await new Promise((r) => web.close(r));
  }
});

test('modules: callback and context.succeed handlers work; a broken module or one without a handler is UnexpectedLambdaException', async () => {
  for (const m of ['callback.cjs', 'succeed.cjs']) {
    const r = await signUpThrough(m);
    assert.ok(!(r.outcome instanceof Error), `${m}: ${String(r.outcome)}`);
  }
  assertRefused(await signUpThrough('broken.mjs'), 'UnexpectedLambdaException');
  assertRefused(await signUpThrough('no-handler.mjs'), 'UnexpectedLambdaException');
  assertRefused(await signUpThrough('missing.mjs'), 'UnexpectedLambdaException');
});

test('an unreachable URL: UnexpectedLambdaException, no user', async () => {
  const closed = await new Promise<number>((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
  });
  assertRefused(await signUpThrough(`http://127.0.0.1:${closed}/pre`), 'UnexpectedLambdaException');
});

test('Lambda ARNs: mapped through GATEHOUSE_TRIGGERS to a module or a URL they run; an unmapped one is taken, logged, and fails when due', async () => {
  for (const arn of [MAPPED, MAPPED_URL]) {
    const r = await signUpThrough(arn);
    assert.ok(!(r.outcome instanceof Error), `${arn}: ${String(r.outcome)}`);
    assert.equal(r.left, true);
  }
  assertRefused(await signUpThrough(UNMAPPED), 'UnexpectedLambdaException');
  assert.ok(gh.logs.some((l) => l.includes('not mapped by GATEHOUSE_TRIGGERS') && l.includes(UNMAPPED)), 'the unmapped ARN is logged');
});

test('running any file on the server: modules outside GATEHOUSE_TRIGGERS_DIR and other values are refused; a symbolic link out is not followed', async () => {
  for (const value of ['../outside.mjs', '/etc/passwd', 'file:///etc/hosts', `${kit.dir}/../x.mjs`, 'ftp://example.com/trigger', 'just words', 'node:fs', 'data:text/javascript,export const handler=1']) {
    const e = await errorOf(gh.admin.send(new CreateUserPoolCommand({ PoolName: 'bad', LambdaConfig: { PreSignUp: value } })));
    assert.equal(e.name, 'InvalidParameterException', value);
  }
  assertRefused(await signUpThrough('escape.mjs'), 'UnexpectedLambdaException');
  // A module in the directory may be named by its absolute path or a file: URL.
  for (const value of [path.join(kit.dir, 'ok.mjs'), `file://${path.join(kit.dir, 'ok.mjs')}`]) {
    const r = await signUpThrough(value);
    assert.ok(!(r.outcome instanceof Error), `${value}: ${String(r.outcome)}`);
  }
});

test('without GATEHOUSE_TRIGGERS_DIR no module is taken; URLs and ARNs still are', async () => {
  const bare = await startGatehouse();
  try {
    const e = await errorOf(bare.admin.send(new CreateUserPoolCommand({ PoolName: 'bad', LambdaConfig: { PreSignUp: 'ok.mjs' } })));
    assert.equal(e.name, 'InvalidParameterException');
    assert.match(e.message, /GATEHOUSE_TRIGGERS_DIR/);
    await bare.admin.send(new CreateUserPoolCommand({ PoolName: 'ok', LambdaConfig: { PreSignUp: `${kit.url}/ok.mjs`, PostConfirmation: UNMAPPED } }));
  } finally {
    await bare.stop();
  }
});

test('trigger failures write no event content to the log (a migrating password, codes, attributes)', async () => {
  const secret = 'Unmistakable-Secret-7';
  const { clientId } = await createPoolAndClient(gh, { LambdaConfig: { UserMigration: 'throws.mjs' } }, { ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] });
  const { InitiateAuthCommand } = await import('@aws-sdk/client-cognito-identity-provider');
  await errorOf(cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'legacy@example.com', PASSWORD: secret } })));
  assert.ok(!gh.logs.join('\n').includes(secret));
  assert.ok(!gh.logs.join('\n').includes('legacy@example.com'));
});
