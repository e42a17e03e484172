// One page script (fixtures/browser-app.ts, written against aws-amplify) bundled twice by esbuild: with
// aws-amplify, and with its imports pointed at @gatehouse/auth. The same steps run in headless
// Chromium with each bundle against a Gatehouse serving HTTPS with a certificate the test makes:
// signInWithRedirect through the managed login page and back, signOut through /logout, a forged
// callback refused.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { appTokens, CHROMIUM, launchChromium, serveApp, type App } from '../../server/test/support/browser.js';
import { startGatehouse, selfSignedCertificate, type Gatehouse } from '../../server/test/support/harness.js';
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
let pool: { poolId: string; clientId: string };
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
  pool = await oauthPool(gh, { CallbackURLs: urls, LogoutURLs: urls });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  for (const a of Object.values(apps)) await a.close();
  await gh?.stop();
  if (tls) fs.rmSync(tls.dir, { recursive: true, force: true });
});

async function open(app: App): Promise<{ context: BrowserContext; page: Page }> {
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
      const email = await confirmedUser(gh, pool.poolId);
      const { context, page } = await open(app);
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
      assert.equal(id.aud, pool.clientId);
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
      assert.match((await logout).url(), new RegExp(`/logout\\?client_id=${pool.clientId}&logout_uri=${encodeURIComponent(app.url)}$`));
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
  });
}
