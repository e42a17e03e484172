// Passkeys in a real browser: aws-amplify bundled for the browser (esbuild) on a page served from
// http://localhost (an origin the RP ID "localhost" accepts, calling the server cross-origin through
// CORS), in headless Chromium with a virtual authenticator (the DevTools Protocol's WebAuthn domain).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, CDPSession, Page } from 'playwright-core';
import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, userClient, type Gatehouse } from './support/harness.js';
import { PASSWORD, passkeyPool, signedInUser } from './support/passkeys.js';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = !fs.existsSync(chromiumPath) && `no Chromium at ${chromiumPath} (.ci/run installs Debian's)`;
const here = path.dirname(fileURLToPath(import.meta.url));

let gh: Gatehouse, cip: CognitoIdentityProviderClient, pool: { poolId: string; clientId: string };
let site: http.Server, origin: string, browser: Browser;

before(async () => {
  if (skip) return;
  const out = await build({
    stdin: {
      contents: `import { Amplify } from 'aws-amplify';
        import * as auth from 'aws-amplify/auth';
        globalThis.amplify = { Amplify, ...auth };`,
      resolveDir: here, loader: 'js',
    },
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent',
  });
  const code = out.outputFiles[0]!.text;
  site = http.createServer((req, res) => {
    if (req.url === '/amplify.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(code);
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title><script type="module" src="/amplify.js"></script>');
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  // localhost, not 127.0.0.1: an IP address cannot be an RP ID.
  origin = `http://localhost:${(site.address() as { port: number }).port}`;
  gh = await startGatehouse();
  cip = userClient(gh.url);
  pool = await passkeyPool(gh, 'required');
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
});
after(async () => {
  await browser?.close();
  site?.close();
  cip?.destroy();
  await gh?.stop();
});

/** A page with Amplify configured for the pool and a virtual platform authenticator that verifies the user. */
async function open(): Promise<{ page: Page; cdp: CDPSession; authenticatorId: string }> {
  const page = await browser.newPage();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  await page.goto(origin);
  await page.waitForFunction(() => (globalThis as { amplify?: unknown }).amplify);
  await page.evaluate((c) => (globalThis as any).amplify.Amplify.configure(c), {
    Auth: { Cognito: { userPoolId: pool.poolId, userPoolClientId: pool.clientId, userPoolEndpoint: gh.url, loginWith: { email: true } } },
  });
  return { page, cdp, authenticatorId };
}

/** Runs an aws-amplify/auth function in the page; errors come back as { error: name }. */
function call(page: Page, fn: string, input?: unknown) {
  return page.evaluate(async ([f, i]) => {
    try {
      return await (globalThis as any).amplify[f as string](i);
    } catch (e) {
      return { error: (e as Error).name, message: (e as Error).message };
    }
  }, [fn, input] as const);
}

test('in Chromium: sign in, associateWebAuthnCredential, listWebAuthnCredentials, signOut, sign in with the passkey (preferred, then chosen), deleteWebAuthnCredential', { skip }, async () => {
  const { email } = await signedInUser(gh, cip, pool);
  const { page, cdp, authenticatorId } = await open();

  assert.deepEqual(await call(page, 'signIn', { username: email, password: PASSWORD }), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
  assert.equal(await call(page, 'associateWebAuthnCredential'), undefined);
  const { credentials: held } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(held.length, 1);
  assert.equal(held[0].rpId, 'localhost');
  assert.ok(held[0].isResidentCredential);

  const listed = await call(page, 'listWebAuthnCredentials');
  assert.equal(listed.credentials.length, 1);
  const [credential] = listed.credentials;
  assert.equal(credential.credentialId, held[0].credentialId.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
  assert.equal(credential.relyingPartyId, 'localhost');
  assert.equal(credential.authenticatorAttachment, 'platform');

  await call(page, 'signOut');
  const preferred = await call(page, 'signIn', { username: email, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'WEB_AUTHN' } });
  assert.deepEqual(preferred, { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
  assert.equal((await call(page, 'fetchUserAttributes')).email, email);
  const { credentials: used } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(used[0].signCount, held[0].signCount + 1, 'the authenticator signed once');

  await call(page, 'signOut');
  const choice = await call(page, 'signIn', { username: email, options: { authFlowType: 'USER_AUTH' } });
  assert.equal(choice.nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION');
  assert.deepEqual(choice.nextStep.availableChallenges, ['PASSWORD', 'PASSWORD_SRP', 'WEB_AUTHN']);
  assert.deepEqual(await call(page, 'confirmSignIn', { challengeResponse: 'WEB_AUTHN' }), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });

  assert.equal(await call(page, 'deleteWebAuthnCredential', { credentialId: credential.credentialId }), undefined);
  assert.equal((await call(page, 'listWebAuthnCredentials')).credentials.length, 0);
  // The passkey is gone from the server: it no longer signs in (and no longer is offered).
  await call(page, 'signOut');
  const after = await call(page, 'signIn', { username: email, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'WEB_AUTHN' } });
  assert.equal(after.nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION');
  assert.deepEqual(after.nextStep.availableChallenges, ['PASSWORD', 'PASSWORD_SRP']);
  await page.close();
});
