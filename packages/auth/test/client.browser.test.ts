// @gatehouse/auth bundled for browsers (esbuild) in headless Chromium against a real server:
// SRP with WebCrypto and BigInt, localStorage by default, a session that survives a page reload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { startMailSuite, uniqueEmail, type MailSuite } from '../../server/test/support/harness.js';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = !fs.existsSync(chromiumPath) && `no Chromium at ${chromiumPath} (.ci/run installs Debian's)`;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PASSWORD = 'Correct-Horse-9';

let suite: MailSuite, site: http.Server, origin: string, browser: Browser;

before(async () => {
  if (skip) return;
  const out = await build({
    stdin: { contents: `import * as auth from '@gatehouse/auth'; globalThis.auth = auth;`, resolveDir: root, loader: 'js' },
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent',
  });
  const code = out.outputFiles[0]!.text;
  assert.doesNotMatch(code, /node:crypto|require\("crypto"\)/);
  site = http.createServer((req, res) => {
    if (req.url === '/auth.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(code);
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title><script type="module" src="/auth.js"></script>');
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(site.address() as { port: number }).port}`;
  suite = await startMailSuite();
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
});
after(async () => {
  await browser?.close();
  site?.close();
  await suite?.stop();
});

async function open(page: Page) {
  await page.goto(origin);
  await page.waitForFunction(() => (globalThis as { auth?: unknown }).auth);
  await page.evaluate((c) => (globalThis as any).auth.configure(c), { Auth: { Cognito: { userPoolId: suite.poolId, userPoolClientId: suite.clientId, userPoolEndpoint: suite.gh.url } } });
}

test('in Chromium: sign up, confirm, SRP sign-in, and the session survives a reload through localStorage', { skip }, async () => {
  const page = await browser.newPage();
  await open(page);
  const email = uniqueEmail('browser');
  const since = Date.now();
  const up = await page.evaluate(([u, p]) => (globalThis as any).auth.signUp({ username: u, password: p, options: { userAttributes: { email: u } } }), [email, PASSWORD]);
  assert.equal(up.nextStep.signUpStep, 'CONFIRM_SIGN_UP');
  const code = await suite.mail.code(email, since);
  await page.evaluate(([u, c]) => (globalThis as any).auth.confirmSignUp({ username: u, confirmationCode: c }), [email, code]);
  const r = await page.evaluate(([u, p]) => (globalThis as any).auth.signIn({ username: u, password: p }), [email, PASSWORD]);
  assert.deepEqual(r, { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
  assert.ok(await page.evaluate(() => Object.keys(localStorage).some((k) => k.endsWith('.accessToken'))));

  await page.reload();
  await open(page);
  const user = await page.evaluate(() => (globalThis as any).auth.getCurrentUser());
  assert.equal(user.signInDetails.loginId, email);
  const attrs = await page.evaluate(async () => { await (globalThis as any).auth.fetchAuthSession({ forceRefresh: true }); return (globalThis as any).auth.fetchUserAttributes(); });
  assert.equal(attrs.email, email);
  await page.evaluate(() => (globalThis as any).auth.signOut());
  assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.endsWith('.accessToken')).length), 0);
  await page.close();
});
