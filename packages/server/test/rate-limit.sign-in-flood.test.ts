// Sign-in floods: per-IP and per-app-client limits on InitiateAuth / RespondToAuthChallenge and their
// admin variants. Each test runs its own server with tight limits; windows are a day long so no test
// straddles one (the window test uses a short one on purpose).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CognitoIdentityProviderClient, InitiateAuthCommand, AdminInitiateAuthCommand, AdminCreateUserCommand, AdminSetUserPasswordCommand, CreateUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, createPoolAndClient, rawCall, type Gatehouse } from './support/harness.js';

const PASSWORD = 'Flood-Passw0rd!';

async function withServer(env: Record<string, string>, fn: (gh: Gatehouse, cip: CognitoIdentityProviderClient) => Promise<void>) {
  const gh = await startGatehouse({ GATEHOUSE_RATE_LIMITS: 'on', ...env });
  const cip = new CognitoIdentityProviderClient({ endpoint: gh.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
  try { await fn(gh, cip); } finally { cip.destroy(); await gh.stop(); }
}

async function setUp(gh: Gatehouse, username = 'alice') {
  const { poolId, clientId } = await createPoolAndClient(gh, { UsernameAttributes: undefined, Schema: undefined, AutoVerifiedAttributes: [] });
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: username, MessageAction: 'SUPPRESS' }));
  await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: username, Password: PASSWORD, Permanent: true }));
  return { poolId, clientId };
}

async function outcome(p: Promise<unknown>): Promise<string> {
  try { await p; return 'ok'; } catch (e) { return (e as Error).name; }
}

const passwordAuth = (clientId: string, USERNAME: string, PASSWORD: string) =>
  new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME, PASSWORD } });

test('password spraying from one address: past the per-IP sign-in limit even the right password gets TooManyRequestsException, as HTTP 400', async () => {
  await withServer({ GATEHOUSE_LIMIT_SIGN_IN_PER_IP: '5/24h' }, async (gh, cip) => {
    const { clientId } = await setUp(gh);
    const sprayed = [];
    for (const user of ['bob', 'carol', 'dave', 'erin', 'frank']) sprayed.push(await outcome(cip.send(passwordAuth(clientId, user, 'Spring2025!'))));
    assert.deepEqual(sprayed, Array(5).fill('NotAuthorizedException'));
    assert.equal(await outcome(cip.send(passwordAuth(clientId, 'alice', PASSWORD))), 'TooManyRequestsException');
    const raw = await rawCall(gh.url, 'InitiateAuth', JSON.stringify({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'alice', PASSWORD } }));
    assert.equal(raw.status, 400, 'not 429: clients would retry that at once');
    assert.equal(raw.type, 'TooManyRequestsException');
    assert.equal(raw.json.__type, 'TooManyRequestsException');
    const metrics = await (await fetch(`${gh.url}/metrics`)).text();
    assert.match(metrics, /^gatehouse_rate_limited_total\{limit="signIn\.ip"\} 2$/m);
  });
});

test('SRP: both steps count, and the challenge answer is refused once the address is over its limit', async () => {
  await withServer({ GATEHOUSE_LIMIT_SIGN_IN_PER_IP: '2/24h' }, async (gh) => {
    const { clientId } = await setUp(gh);
    const start = await rawCall(gh.url, 'InitiateAuth', JSON.stringify({ ClientId: clientId, AuthFlow: 'USER_SRP_AUTH', AuthParameters: { USERNAME: 'alice', SRP_A: 'ab'.repeat(256) } }));
    assert.equal(start.status, 200);
    const second = await rawCall(gh.url, 'InitiateAuth', JSON.stringify({ ClientId: clientId, AuthFlow: 'USER_SRP_AUTH', AuthParameters: { USERNAME: 'alice', SRP_A: 'cd'.repeat(256) } }));
    assert.equal(second.status, 200);
    const answer = await rawCall(gh.url, 'RespondToAuthChallenge', JSON.stringify({ ClientId: clientId, ChallengeName: 'PASSWORD_VERIFIER', Session: start.json.Session, ChallengeResponses: {} }));
    assert.equal(answer.type, 'TooManyRequestsException');
  });
});

test('admin sign-ins are limited by the end user address from ContextData; requests refused by an address do not spend the client allowance', async () => {
  await withServer({ GATEHOUSE_LIMIT_SIGN_IN_PER_IP: '3/24h', GATEHOUSE_LIMIT_SIGN_IN_PER_CLIENT: '6/24h' }, async (gh) => {
    const { poolId, clientId } = await setUp(gh);
    const admin = (ip?: string) => outcome(gh.admin.send(new AdminInitiateAuthCommand({
      UserPoolId: poolId, ClientId: clientId, AuthFlow: 'ADMIN_USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'alice', PASSWORD },
      ...(ip ? { ContextData: { IpAddress: ip, ServerName: 'app.example', ServerPath: '/login', HttpHeaders: [] } } : {}),
    })));
    const flood = [];
    for (let i = 0; i < 8; i++) flood.push(await admin('203.0.113.7'));
    assert.deepEqual(flood, ['ok', 'ok', 'ok', ...Array(5).fill('TooManyRequestsException')]);
    // Another address still signs in: the five refusals did not spend the client's six.
    assert.deepEqual([await admin('203.0.113.8'), await admin('203.0.113.8'), await admin('2001:db8::1')], ['ok', 'ok', 'ok']);
    // The client has now spent its six; every address is refused, and so is the backend's own.
    assert.equal(await admin('198.51.100.1'), 'TooManyRequestsException');
    assert.equal(await admin(), 'TooManyRequestsException');
  });
});

test('per-client limit: one app client spending its allowance leaves another client of the pool alone', async () => {
  await withServer({ GATEHOUSE_LIMIT_SIGN_IN_PER_IP: 'off', GATEHOUSE_LIMIT_SIGN_IN_PER_CLIENT: '3/24h' }, async (gh, cip) => {
    const { poolId, clientId } = await setUp(gh);
    const other = (await gh.admin.send(new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName: 'mobile', ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'] }))).UserPoolClient!.ClientId!;
    const first = [];
    for (let i = 0; i < 4; i++) first.push(await outcome(cip.send(passwordAuth(clientId, 'alice', PASSWORD))));
    assert.deepEqual(first, ['ok', 'ok', 'ok', 'TooManyRequestsException']);
    assert.equal(await outcome(cip.send(passwordAuth(other, 'alice', PASSWORD))), 'ok');
  });
});

test('IPv6 callers are counted by their /64, so rotating addresses inside it gains nothing', async () => {
  await withServer({ GATEHOUSE_LIMIT_SIGN_IN_PER_IP: '2/24h' }, async (gh) => {
    const { poolId, clientId } = await setUp(gh);
    const from = (ip: string) => outcome(gh.admin.send(new AdminInitiateAuthCommand({
      UserPoolId: poolId, ClientId: clientId, AuthFlow: 'ADMIN_USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'alice', PASSWORD },
      ContextData: { IpAddress: ip, ServerName: 'app.example', ServerPath: '/login', HttpHeaders: [] },
    })));
    assert.deepEqual([await from('2001:db8:1:2::10'), await from('2001:db8:1:2:ffff::99'), await from('2001:db8:1:2:0:0:0:abc')], ['ok', 'ok', 'TooManyRequestsException']);
    assert.equal(await from('2001:db8:1:3::10'), 'ok', 'the next /64 is someone else');
  });
});

test('a burst straddling a clock boundary gets one window, not two; the window that ends frees its address again', async () => {
  await withServer({ GATEHOUSE_LIMIT_SIGN_IN_PER_IP: '2/2s' }, async (gh, cip) => {
    const { clientId } = await setUp(gh);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
    // Start 400 ms before a 2 s clock boundary: windows aligned to the clock would open a fresh one
    // mid-burst and let the third call through.
    await sleep(4000 - (Date.now() % 2000) - 400);
    const opened = Date.now();
    const burst = [await outcome(cip.send(passwordAuth(clientId, 'alice', PASSWORD))), await outcome(cip.send(passwordAuth(clientId, 'alice', PASSWORD)))];
    await sleep(opened + 600 - Date.now());
    burst.push(await outcome(cip.send(passwordAuth(clientId, 'alice', PASSWORD))));
    assert.deepEqual(burst, ['ok', 'ok', 'TooManyRequestsException']);
    await sleep(opened + 2100 - Date.now());
    assert.equal(await outcome(cip.send(passwordAuth(clientId, 'alice', PASSWORD))), 'ok');
  });
});

test('a malformed limit stops the server at start with a message naming the variable', async () => {
  await assert.rejects(startGatehouse({ GATEHOUSE_LIMIT_SIGN_IN_PER_IP: 'lots' }), /GATEHOUSE_LIMIT_SIGN_IN_PER_IP must look like 120\/1m/);
});
