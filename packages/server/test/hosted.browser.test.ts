// aws-amplify in a real browser (headless Chromium) against a Gatehouse serving HTTPS with a
// certificate the test makes: signInWithRedirect() through the managed login page back to the app
// with tokens, and signOut() through /logout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { appTokens, bundleAmplifyApp, CHROMIUM, launchChromium, serveApp, type App } from './support/browser.js';
import { startGatehouse, selfSignedCertificate, type Gatehouse } from './support/harness.js';
import { confirmedUser, oauthPool, PASSWORD } from './support/hosted.js';

// Skipped on a developer machine without Chromium; CI installs it (.ci/run), and there it must run.
const skip = fs.existsSync(CHROMIUM) || process.env.CI ? false : `no Chromium at ${CHROMIUM}`;

let gh: Gatehouse, app: App, browser: Browser, tls: ReturnType<typeof selfSignedCertificate>;
let poolId: string, clientId: string;

before(async () => {
  if (skip) return;
  tls = selfSignedCertificate();
  gh = await startGatehouse({ GATEHOUSE_TLS_CERT: tls.cert, GATEHOUSE_TLS_KEY: tls.key });
  const ghPort = new URL(gh.url).port;
  const bundle = await bundleAmplifyApp();
  let appUrl = '';
  app = await serveApp(bundle, () => ({ userPoolId: poolId, userPoolClientId: clientId, domain: `localhost:${ghPort}`, endpoint: `https://localhost:${ghPort}`, redirect: appUrl, scopes: ['openid', 'email', 'profile', 'aws.cognito.signin.user.admin'] }));
  appUrl = app.url;
  ({ poolId, clientId } = await oauthPool(gh, { CallbackURLs: [appUrl], LogoutURLs: [appUrl] }));
  browser = await launchChromium();
});
after(async () => { await browser?.close(); await app?.close(); await gh?.stop(); if (tls) fs.rmSync(tls.dir, { recursive: true, force: true }); });

test('Amplify signInWithRedirect() goes through the managed login page over HTTPS and comes back with tokens; signOut() goes through /logout', { skip }, async () => {
  const email = await confirmedUser(gh, poolId);
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  await page.goto(app.url);
  await page.waitForFunction(() => !!(window as any).app);
  await Promise.all([page.waitForURL(/\/login\?/), page.evaluate(() => { void (window as any).app.signIn(); })]);
  assert.ok(page.url().startsWith(gh.url.replace('127.0.0.1', 'localhost') + '/login?'), page.url());
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await Promise.all([page.waitForURL((u) => u.href.startsWith(app.url)), page.getByRole('button', { name: 'Sign in' }).click()]);
  const tokens = await appTokens(page);
  const id = JSON.parse(Buffer.from(tokens.id.split('.')[1], 'base64url').toString());
  assert.equal(id.email, email);
  assert.equal(id.aud, clientId);
  const user = await page.evaluate(() => (window as any).app.user()) as { username: string };
  assert.ok(user.username);

  // signOut(): revokes the refresh token, then /logout ends the managed login's session and returns to the app.
  const logout = page.waitForRequest((r) => r.url().includes('/logout?'));
  await page.evaluate(() => { void (window as any).app.signOut(); });
  assert.match((await logout).url(), new RegExp(`/logout\\?client_id=${clientId}&logout_uri=`));
  await page.waitForURL((u) => u.href.startsWith(app.url));
  await page.waitForLoadState('load');
  await page.waitForFunction(() => !!(window as any).app);
  assert.equal(await page.evaluate(() => (window as any).app.tokens()), null, 'the app holds no tokens');
  const cookies = await context.cookies(gh.url.replace('127.0.0.1', 'localhost'));
  assert.ok(!cookies.some((c) => c.name.startsWith('gh_sso_')), 'the SSO cookie is gone');
  // Signing in again asks for the password: the session really ended.
  await Promise.all([page.waitForURL(/\/login\?/), page.evaluate(() => { void (window as any).app.signIn(); })]);
  assert.ok(await page.getByLabel('Password').isVisible());
  await context.close();
});

test('forged state: Amplify refuses a callback whose state it did not send, and exchanges no code', { skip }, async () => {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const tokenCalls: string[] = [];
  page.on('request', (r) => { if (r.url().includes('/oauth2/token')) tokenCalls.push(r.url()); });
  await page.goto(app.url);
  await page.waitForFunction(() => !!(window as any).app);
  // Start a real flow so Amplify has a state of its own, then land on a callback an attacker made.
  await Promise.all([page.waitForURL(/\/login\?/), page.evaluate(() => { void (window as any).app.signIn(); })]);
  await page.goto(`${app.url}?code=attacker-code&state=forged-state`);
  await page.waitForFunction(() => (window as any).appEvents?.length > 0, undefined, { timeout: 10000 }).catch(() => {});
  const events = await page.evaluate(() => (window as any).appEvents) as string[];
  assert.ok(events.some((e) => e.startsWith('signInWithRedirect_failure')), JSON.stringify(events));
  assert.deepEqual(tokenCalls, [], 'no code was exchanged');
  assert.equal(await page.evaluate(() => (window as any).app.tokens()), null);
  await context.close();
});
