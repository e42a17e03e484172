// One page script (fixtures/browser-app.ts, written against aws-amplify) bundled twice by esbuild: with
// aws-amplify, and with its imports pointed at @gatehouse/auth. The same steps run in headless
// Chromium with each bundle against a Gatehouse serving HTTPS with a certificate the test makes:
// signInWithRedirect through the managed login page and back, signOut through /logout, a forged
// callback refused; passkeys registered, listed, used and deleted with Chromium's virtual
// authenticator (the DevTools Protocol's WebAuthn domain), the page on http://localhost (an origin
// the RP ID "localhost" accepts).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { SetUserPoolMfaConfigCommand } from '@aws-sdk/client-cognito-identity-provider';
import { appTokens, CHROMIUM, launchChromium, serveApp, type App } from '../../server/test/support/browser.js';
import { startGatehouse, selfSignedCertificate, createPoolAndClient, type Gatehouse } from '../../server/test/support/harness.js';
import { confirmedUser, oauthPool, PASSWORD } from '../../server/test/support/hosted.js';

// Skipped on a developer machine without Chromium; CI installs it (.ci/run), and there it must run.
const skip = fs.existsSync(CHROMIUM) || process.env.CI ? false : `no Chromium at ${CHROMIUM}`;
const here = path.dirname(fileURLToPath(import.meta.url));
const OURS = { 'aws-amplify': '@gatehouse/auth', 'aws-amplify/auth': '@gatehouse/auth', 'aws-amplify/utils': '@gatehouse/auth' };
const clients = { 'aws-amplify': {}, '@gatehouse/auth': OURS } as const;
type Client = keyof typeof clients;

async function bundle(alias: Record<string, string>) {
  const out = await build({
    entryPoints: [path.join(here, 'fixtures/browser-app.ts')], bundle: true, write: false, format: 'esm', platform: 'browser', target: 'es2022',
    minify: true, alias, logLevel: 'silent', metafile: true, define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
  });
  return { code: out.outputFiles[0]!.text, inputs: Object.keys(out.metafile.inputs) };
}

let gh: Gatehouse, browser: Browser, tls: ReturnType<typeof selfSignedCertificate>, ghHost: string;
type Pool = { poolId: string; clientId: string };
/** The hosted sign-in's pool, the passkeys' pool (kept apart: there the managed login asks for the username first), and the one pages get. */
let oauth: Pool, passkeys: Pool, pool: Pool;
const apps = {} as Record<Client, App>;

before(async () => {
  if (skip) return;
  tls = selfSignedCertificate();
  gh = await startGatehouse({ GATEHOUSE_TLS_CERT: tls.cert, GATEHOUSE_TLS_KEY: tls.key });
  const ghPort = new URL(gh.url).port;
  ghHost = `https://localhost:${ghPort}`;
  for (const name of Object.keys(clients) as Client[]) {
    const { code, inputs } = await bundle(clients[name]);
    // The substitution is complete: not one aws-amplify module is left in our client's bundle.
    if (name === '@gatehouse/auth') assert.ok(!inputs.some((i) => /@aws-amplify|aws-amplify\//.test(i)), inputs.join('\n'));
    let url = '';
    apps[name] = await serveApp(code, () => ({ userPoolId: pool.poolId, userPoolClientId: pool.clientId, domain: `localhost:${ghPort}`, endpoint: ghHost, redirect: url, scopes: ['openid', 'email', 'profile', 'aws.cognito.signin.user.admin'] }));
    url = apps[name].url;
  }
  const urls = Object.values(apps).map((a) => a.url);
  oauth = await oauthPool(gh, { CallbackURLs: urls, LogoutURLs: urls });
  passkeys = await createPoolAndClient(gh, { Policies: { SignInPolicy: { AllowedFirstAuthFactors: ['PASSWORD', 'WEB_AUTHN'] } } });
  await gh.admin.send(new SetUserPoolMfaConfigCommand({ UserPoolId: passkeys.poolId, WebAuthnConfiguration: { RelyingPartyId: 'localhost', UserVerification: 'required' } }));
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  for (const a of Object.values(apps)) await a.close();
  await gh?.stop();
  if (tls) fs.rmSync(tls.dir, { recursive: true, force: true });
});

async function open(app: App, with_: Pool = oauth): Promise<{ context: BrowserContext; page: Page }> {
  pool = with_;
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  await page.goto(app.url);
  await page.waitForFunction(() => !!(window as any).app);
  return { context, page };
}

const call = (page: Page, name: string, input?: unknown) =>
  page.evaluate(([n, i]) => (window as any).app.call(n, i), [name, input] as const) as Promise<any>;

for (const name of Object.keys(clients) as Client[]) {
  describe(name, () => {
    test('signInWithRedirect goes through the managed login page and comes back with tokens; signOut goes through /logout', { skip }, async () => {
      const app = apps[name];
      const { context, page } = await open(app);
      const email = await confirmedUser(gh, oauth.poolId);
      const tokenCalls: string[] = [];
      page.on('request', (r) => { if (r.url().includes('/oauth2/token')) tokenCalls.push(r.postData() ?? ''); });
      await Promise.all([page.waitForURL(/\/login\?/), call(page, 'signInWithRedirect')]);
      assert.ok(page.url().startsWith(`${ghHost}/login?`), page.url());
      await page.getByLabel('Email address').fill(email);
      await page.getByLabel('Password').fill(PASSWORD);
      await Promise.all([page.waitForURL((u) => u.href.startsWith(app.url)), page.getByRole('button', { name: 'Sign in' }).click()]);
      const tokens = await appTokens(page);
      const id = JSON.parse(Buffer.from(tokens.id.split('.')[1]!, 'base64url').toString());
      assert.equal(id.email, email);
      assert.equal(id.aud, oauth.clientId);
      // The code and state are gone from the address bar, and the code is not exchanged twice on reload.
      assert.equal(page.url(), app.url);
      const user = await call(page, 'getCurrentUser');
      assert.equal(user.userId, id.sub);
      assert.equal(user.username, id['cognito:username']);
      assert.equal(user.signInDetails, undefined, 'a redirect sign-in has no loginId or authFlowType');
      assert.equal((await call(page, 'fetchUserAttributes')).email, email);
      await page.reload();
      await page.waitForFunction(() => !!(window as any).app);
      assert.equal((await page.evaluate(() => (window as any).app.tokens())).access, tokens.access, 'the session survives a reload');
      assert.equal(tokenCalls.length, 1, 'the code was exchanged once, with its PKCE verifier');
      assert.match(tokenCalls[0]!, /grant_type=authorization_code&.*code_verifier=/);

      // signOut: revokes the refresh token, then /logout ends the managed login's session and returns to the app.
      const logout = page.waitForRequest((r) => r.url().includes('/logout?'));
      void call(page, 'signOut');
      assert.match((await logout).url(), new RegExp(`/logout\\?client_id=${oauth.clientId}&logout_uri=${encodeURIComponent(app.url)}$`));
      await page.waitForURL((u) => u.href.startsWith(app.url));
      await page.waitForLoadState('load');
      await page.waitForFunction(() => !!(window as any).app);
      assert.equal(await page.evaluate(() => (window as any).app.tokens()), null, 'the app holds no tokens');
      const cookies = await context.cookies(ghHost);
      assert.ok(!cookies.some((c) => c.name.startsWith('gh_sso_')), 'the SSO cookie is gone');
      // Signing in again asks for the password: the session really ended.
      await Promise.all([page.waitForURL(/\/login\?/), call(page, 'signInWithRedirect')]);
      assert.ok(await page.getByLabel('Password').isVisible());
      await context.close();
    });

    test('forged state: a callback whose state the app did not send is refused, and no code is exchanged', { skip }, async () => {
      const app = apps[name];
      const { context, page } = await open(app);
      const tokenCalls: string[] = [];
      page.on('request', (r) => { if (r.url().includes('/oauth2/token')) tokenCalls.push(r.url()); });
      // A real flow under way, so the app has a state of its own; then the attacker's callback.
      await Promise.all([page.waitForURL(/\/login\?/), call(page, 'signInWithRedirect')]);
      await page.goto(`${app.url}?code=attacker-code&state=forged-state`);
      await page.waitForFunction(() => (window as any).appEvents?.length > 0, undefined, { timeout: 10000 }).catch(() => {});
      const events = await page.evaluate(() => (window as any).appEvents) as string[];
      assert.ok(events.some((e) => e.startsWith('signInWithRedirect_failure')), JSON.stringify(events));
      assert.deepEqual(tokenCalls, [], 'no code was exchanged');
      assert.equal(await page.evaluate(() => (window as any).app.tokens()), null);
      await context.close();
    });

    test('passkeys: associateWebAuthnCredential, listWebAuthnCredentials, sign-in with WEB_AUTHN preferred and chosen, deleteWebAuthnCredential', { skip }, async () => {
      const { context, page } = await open(apps[name], passkeys);
      const { cdp, authenticatorId } = await virtualAuthenticator(page);
      const email = await confirmedUser(gh, passkeys.poolId);
      assert.deepEqual(await call(page, 'signIn', { username: email, password: PASSWORD }), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
      assert.equal(await call(page, 'associateWebAuthnCredential'), undefined);
      const { credentials: held } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      assert.equal(held.length, 1);
      assert.equal(held[0]!.rpId, 'localhost');
      assert.ok(held[0]!.isResidentCredential);

      const listed = await call(page, 'listWebAuthnCredentials');
      assert.equal(listed.credentials.length, 1);
      const [credential] = listed.credentials;
      assert.equal(credential.credentialId, Buffer.from(held[0]!.credentialId, 'base64').toString('base64url'));
      assert.equal(credential.relyingPartyId, 'localhost');
      assert.equal(credential.authenticatorAttachment, 'platform');
      assert.ok(credential.createdAt instanceof Date && Math.abs(credential.createdAt.getTime() - Date.now()) < 60_000, String(credential.createdAt));

      await call(page, 'signOut');
      const preferred = await call(page, 'signIn', { username: email, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'WEB_AUTHN' } });
      assert.deepEqual(preferred, { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
      assert.equal((await call(page, 'fetchUserAttributes')).email, email);
      const { credentials: used } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      assert.equal(used[0]!.signCount, held[0]!.signCount + 1, 'the authenticator signed once');

      await call(page, 'signOut');
      const choice = await call(page, 'signIn', { username: email, options: { authFlowType: 'USER_AUTH' } });
      assert.deepEqual(choice, { isSignedIn: false, nextStep: { signInStep: 'CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION', availableChallenges: ['PASSWORD', 'PASSWORD_SRP', 'WEB_AUTHN'] } });
      assert.deepEqual(await call(page, 'confirmSignIn', { challengeResponse: 'WEB_AUTHN' }), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });

      assert.equal(await call(page, 'deleteWebAuthnCredential', { credentialId: credential.credentialId }), undefined);
      assert.equal((await call(page, 'listWebAuthnCredentials')).credentials.length, 0);
      // The passkey is gone from the server: it is no longer offered, nor signs in.
      await call(page, 'signOut');
      const after = await call(page, 'signIn', { username: email, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'WEB_AUTHN' } });
      assert.deepEqual(after.nextStep, { signInStep: 'CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION', availableChallenges: ['PASSWORD', 'PASSWORD_SRP'] });
      await context.close();
    });

    test('a cancelled passkey prompt is PasskeyAuthenticationCanceled and leaves the sign-in open for the password', { skip }, async () => {
      const { context, page } = await open(apps[name], passkeys);
      await virtualAuthenticator(page);
      const email = await confirmedUser(gh, passkeys.poolId);
      await call(page, 'signIn', { username: email, password: PASSWORD });
      await call(page, 'associateWebAuthnCredential');
      await call(page, 'signOut');
      // The user dismisses the browser's prompt.
      await page.evaluate(() => { navigator.credentials.get = () => Promise.reject(new DOMException('The operation either timed out or was not allowed.', 'NotAllowedError')); });
      const cancelled = await call(page, 'signIn', { username: email, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'WEB_AUTHN' } });
      assert.equal(cancelled.error, 'PasskeyAuthenticationCanceled');
      assert.deepEqual(await call(page, 'confirmSignIn', { challengeResponse: 'PASSWORD' }), { isSignedIn: false, nextStep: { signInStep: 'CONFIRM_SIGN_IN_WITH_PASSWORD' } });
      assert.deepEqual(await call(page, 'confirmSignIn', { challengeResponse: PASSWORD }), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
      // The same after choosing the passkey from the first-factor selection.
      await call(page, 'signOut');
      assert.equal((await call(page, 'signIn', { username: email, options: { authFlowType: 'USER_AUTH' } })).nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION');
      assert.equal((await call(page, 'confirmSignIn', { challengeResponse: 'WEB_AUTHN' })).error, 'PasskeyAuthenticationCanceled');
      assert.deepEqual(await call(page, 'confirmSignIn', { challengeResponse: 'PASSWORD_SRP' }), { isSignedIn: false, nextStep: { signInStep: 'CONFIRM_SIGN_IN_WITH_PASSWORD' } });
      assert.deepEqual(await call(page, 'confirmSignIn', { challengeResponse: PASSWORD }), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
      await context.close();
    });
  });
}

/** Chromium's virtual platform authenticator, which verifies the user and is always present. */
async function virtualAuthenticator(page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { cdp, authenticatorId };
}
