// Where aws-amplify hurts its users, @gatehouse/auth must not: outages during refresh, several
// clients in one process, stale sessions, multi-step sign-ins across reloads, a Node process that
// cannot exit. Real server, real network (a local proxy plays the outage).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Amplify } from 'aws-amplify';
import * as amplifyAuth from 'aws-amplify/auth';
import { cognitoUserPoolsTokenProvider } from 'aws-amplify/auth/cognito';
import { AdminCreateUserCommand, AdminUserGlobalSignOutCommand } from '@aws-sdk/client-cognito-identity-provider';
import { createAuth, memoryStorage, cookieStorage, type AuthOptions, type HubCapsule } from '@gatehouse/auth';
import { MailCatcher, startGatehouse, createPoolAndClient, uniqueEmail, unrefLongClientTimers, type Gatehouse } from '../../server/test/support/harness.js';

unrefLongClientTimers();
const here = path.dirname(fileURLToPath(import.meta.url));

let gh: Gatehouse, mail: MailCatcher, poolId: string, clientId: string;
const PASSWORD = 'Correct-Horse-9';

before(async () => {
  mail = await new MailCatcher().start();
  gh = await startGatehouse({ GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${mail.port}` });
  ({ poolId, clientId } = await createPoolAndClient(gh));
});
after(async () => { await gh?.stop(); await mail?.close(); });

const config = (endpoint = gh.url) => ({ Auth: { Cognito: { userPoolId: poolId, userPoolClientId: clientId, userPoolEndpoint: endpoint } } });
const client = (options: AuthOptions = {}, endpoint?: string) => createAuth(config(endpoint), { storage: memoryStorage(), ...options });

async function confirmedUser() {
  const email = uniqueEmail();
  const since = Date.now();
  const c = client();
  await c.signUp({ username: email, password: PASSWORD, options: { userAttributes: { email } } });
  await c.confirmSignUp({ username: email, confirmationCode: await mail.code(email, since) });
  return email;
}

/** A local HTTP proxy in front of the server that can drop connections or answer 503, like a flaky network. */
async function flakyProxy(target: string) {
  const state = { mode: 'up' as 'up' | 'down' | '503' };
  const server = http.createServer(async (req, res) => {
    if (state.mode === 'down') return void req.socket.destroy();
    if (state.mode === '503') return void res.writeHead(503, { 'content-type': 'text/html' }).end('<html>Service Unavailable</html>');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const r = await fetch(target, { method: 'POST', headers: { 'content-type': String(req.headers['content-type']), 'x-amz-target': String(req.headers['x-amz-target']) }, body: Buffer.concat(chunks) });
    const headers = Object.fromEntries([...r.headers].filter(([k]) => !/^(content-encoding|content-length|transfer-encoding|connection)$/.test(k)));
    res.writeHead(r.status, headers).end(Buffer.from(await r.arrayBuffer()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, state, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

test('refresh during a network outage keeps the tokens, and the next refresh after it works', async () => {
  const email = await confirmedUser();
  const proxy = await flakyProxy(gh.url);
  try {
    const storage = memoryStorage();
    const auth = client({ storage }, proxy.url);
    const events: string[] = [];
    auth.Hub.listen('auth', ({ payload }: HubCapsule) => events.push(payload.event));
    await auth.signIn({ username: email, password: PASSWORD });
    const before = (await auth.fetchAuthSession()).tokens!;

    for (const mode of ['down', '503'] as const) {
      proxy.state.mode = mode;
      const e = await auth.fetchAuthSession({ forceRefresh: true }).then(() => undefined, (err) => err);
      assert.equal(e?.name, mode === 'down' ? 'NetworkError' : 'InternalErrorException', `outage ${mode}`);
      assert.equal(events.at(-1), 'tokenRefresh_failure');
      // Still signed in, with the same tokens, while the server is out of reach.
      assert.equal((await auth.getCurrentUser()).username, before.accessToken.payload.username);
      assert.equal((await auth.fetchAuthSession()).tokens!.accessToken.toString(), before.accessToken.toString());
    }

    proxy.state.mode = 'up';
    await new Promise((r) => setTimeout(r, 1100));
    const after = (await auth.fetchAuthSession({ forceRefresh: true })).tokens!;
    assert.equal(events.at(-1), 'tokenRefresh');
    assert.notEqual(after.accessToken.toString(), before.accessToken.toString());
    assert.equal(after.accessToken.payload.origin_jti, before.accessToken.payload.origin_jti);
    assert.equal((await auth.fetchUserAttributes()).email, email);

    // A real refusal (every session of the user ended elsewhere) does sign this client out.
    await gh.admin.send(new AdminUserGlobalSignOutCommand({ UserPoolId: poolId, Username: email }));
    assert.deepEqual(await auth.fetchAuthSession({ forceRefresh: true }), {});
    assert.equal(events.at(-1), 'tokenRefresh_failure');
    assert.equal((await auth.getCurrentUser().catch((err) => err)).name, 'UserUnAuthenticatedException');
  } finally {
    await proxy.close();
  }
});

test('two clients in one process keep their users, sessions and events apart', async () => {
  const [alice, bob] = [await confirmedUser(), await confirmedUser()];
  const a = client(), b = client();
  const seen = { a: [] as string[], b: [] as string[] };
  a.Hub.listen('auth', ({ payload }) => seen.a.push(payload.event));
  b.Hub.listen('auth', ({ payload }) => seen.b.push(payload.event));
  await Promise.all([a.signIn({ username: alice, password: PASSWORD }), b.signIn({ username: bob, password: PASSWORD })]);
  assert.equal((await a.fetchUserAttributes()).email, alice);
  assert.equal((await b.fetchUserAttributes()).email, bob);
  assert.notEqual((await a.getCurrentUser()).userId, (await b.getCurrentUser()).userId);
  await a.signOut();
  assert.deepEqual(seen, { a: ['signedIn', 'signedOut'], b: ['signedIn'] });
  assert.equal((await a.fetchAuthSession()).tokens, undefined);
  assert.equal((await b.fetchUserAttributes()).email, bob);
  await Promise.all([b.fetchAuthSession({ forceRefresh: true }), a.signIn({ username: alice, password: PASSWORD })]);
  assert.equal((await a.getCurrentUser()).signInDetails?.loginId, alice);
  assert.equal((await b.getCurrentUser()).signInDetails?.loginId, bob);
});

test('a new signIn replaces a session the server has ended, and refuses while it lives', async () => {
  const email = await confirmedUser();
  const auth = client();
  await auth.signIn({ username: email, password: PASSWORD });
  const live = await auth.signIn({ username: email, password: PASSWORD }).catch((e) => e);
  assert.equal(live.name, 'UserAlreadyAuthenticatedException');
  await gh.admin.send(new AdminUserGlobalSignOutCommand({ UserPoolId: poolId, Username: email }));
  // aws-amplify answers "There is already a signed in user." here until the app signs out.
  assert.deepEqual(await auth.signIn({ username: email, password: PASSWORD }), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
  assert.equal((await auth.fetchUserAttributes()).email, email);
});

test('a confirmSignIn chain survives a refused answer and page reloads (a new client on the same storage)', async () => {
  const storage = memoryStorage();
  const email = uniqueEmail('invited');
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: email, MessageAction: 'SUPPRESS', TemporaryPassword: 'Temp-Passw0rd!1', UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }] }));
  const first = client({ storage });
  assert.equal((await first.signIn({ username: email, password: 'Temp-Passw0rd!1' })).nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED');
  assert.equal((await first.confirmSignIn({ challengeResponse: 'short' }).catch((e) => e)).name, 'InvalidPasswordException');
  const reloaded = client({ storage });
  assert.deepEqual(await reloaded.confirmSignIn({ challengeResponse: 'Brand-New-Passw0rd' }), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
  assert.equal((await reloaded.fetchUserAttributes()).email, email);
  await reloaded.signOut();

  // USER_AUTH: choose a factor, reload, give the password, reload, done.
  assert.equal((await client({ storage }).signIn({ username: email, options: { authFlowType: 'USER_AUTH' } })).nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION');
  assert.equal((await client({ storage }).confirmSignIn({ challengeResponse: 'PASSWORD_SRP' })).nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_PASSWORD');
  assert.equal((await client({ storage }).confirmSignIn({ challengeResponse: 'Brand-New-Passw0rd' })).isSignedIn, true);
  assert.equal((await client({ storage }).getCurrentUser()).signInDetails?.loginId, email);
  // The finished chain is gone: a stray confirmSignIn is refused, not replayed.
  assert.equal((await client({ storage }).confirmSignIn({ challengeResponse: 'x' }).catch((e) => e)).name, 'SignInException');
});

test('a Node process exits by itself when the work is done (no timers hold it)', async () => {
  const email = await confirmedUser();
  const started = Date.now();
  const child = spawn(process.execPath, [path.join(here, 'fixtures/exit-check.mjs')], {
    env: { ...process.env, GH_URL: gh.url, GH_POOL: poolId, GH_CLIENT: clientId, GH_EMAIL: email, GH_PASSWORD: PASSWORD, GH_NEW_EMAIL: uniqueEmail('pending') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(null); }, 20_000);
    child.on('exit', (c) => { clearTimeout(timer); resolve(c); });
  });
  assert.equal(code, 0, `the process did not exit by itself:\n${out}`);
  assert.match(out, /done/);
  assert.ok(Date.now() - started < 20_000);
});

test('an app switching from aws-amplify keeps its users signed in (same storage keys)', async () => {
  const email = await confirmedUser();
  const storage = memoryStorage();
  Amplify.configure(config());
  cognitoUserPoolsTokenProvider.setKeyValueStorage({
    getItem: async (k) => (await storage.getItem(k)) ?? null, setItem: async (k, v) => void (await storage.setItem(k, v)),
    removeItem: async (k) => void (await storage.removeItem(k)), clear: async () => {},
  });
  await amplifyAuth.signIn({ username: email, password: PASSWORD });
  const amplifyTokens = (await amplifyAuth.fetchAuthSession()).tokens!;
  const ours = client({ storage });
  const tokens = (await ours.fetchAuthSession()).tokens!;
  assert.equal(tokens.accessToken.toString(), amplifyTokens.accessToken.toString());
  assert.equal((await ours.getCurrentUser()).userId, amplifyTokens.accessToken.payload.sub);
  assert.equal((await ours.fetchAuthSession({ forceRefresh: true })).tokens!.accessToken.payload.origin_jti, amplifyTokens.accessToken.payload.origin_jti);
  await ours.signOut();
  assert.equal((await amplifyAuth.fetchAuthSession()).tokens, undefined);
});

test('cookie storage carries the session from a browser response to the next server-side request', async () => {
  const email = await confirmedUser();
  const setCookies: string[] = [];
  const browser = client({ storage: cookieStorage({ cookies: { get: () => '', set: (c) => void setCookies.push(c) } }) });
  await browser.signIn({ username: email, password: PASSWORD });
  assert.ok(setCookies.some((c) => /\.accessToken=ey/.test(c) && /; Secure/.test(c) && /; SameSite=lax/.test(c) && /; Path=\//.test(c)));
  // The next request's Cookie header, as a browser would send it (latest value of each name).
  const jar = new Map(setCookies.map((c) => c.split(';')[0]!.split('=') as [string, string]));
  const header = [...jar].filter(([, v]) => v).map(([k, v]) => `${k}=${v}`).join('; ');
  const server = client({ storage: cookieStorage({ cookies: { get: () => header, set: () => {} } }) });
  assert.equal((await server.fetchUserAttributes()).email, email);
});
