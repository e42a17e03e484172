// aws-amplify in a real browser (headless Chromium) against a Gatehouse serving HTTPS with a
// certificate the test makes: signInWithRedirect() through the managed login page back to the app
// with tokens, signOut() through /logout, and signInWithRedirect({ provider: { custom } }) through
// an OpenID Connect provider and a SAML identity provider that the test starts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { appTokens, bundleAmplifyApp, CHROMIUM, launchChromium, serveApp, type App } from './support/browser.js';
import { startGatehouse, selfSignedCertificate, type Gatehouse } from './support/harness.js';
import { CreateIdentityProviderCommand, UpdateUserPoolClientCommand } from '@aws-sdk/client-cognito-identity-provider';
import { confirmedUser, oauthClient, oauthPool, PASSWORD } from './support/hosted.js';
import { startOidcProvider, startSamlIdp, type Account } from './support/idps.js';

// Skipped on a developer machine without Chromium; CI installs it (.ci/run), and there it must run.
const skip = fs.existsSync(CHROMIUM) || process.env.CI ? false : `no Chromium at ${CHROMIUM}`;

let gh: Gatehouse, app: App, browser: Browser, tls: ReturnType<typeof selfSignedCertificate>;
let poolId: string, clientId: string;
let oidcIdp: Awaited<ReturnType<typeof startOidcProvider>>, samlIdp: Awaited<ReturnType<typeof startSamlIdp>>;
const accounts = new Map<string, Account>();

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
  // The identity providers send the browser back to the address it used for Gatehouse.
  oidcIdp = await startOidcProvider({ clientId: 'gatehouse', clientSecret: 'browser-test-secret-0123', redirectUris: [`https://localhost:${ghPort}/oauth2/idpresponse`], accounts });
  samlIdp = await startSamlIdp();
  await gh.admin.send(new CreateIdentityProviderCommand({
    UserPoolId: poolId, ProviderName: 'MyOidcProvider', ProviderType: 'OIDC', AttributeMapping: { email: 'email', name: 'name' },
    ProviderDetails: { client_id: 'gatehouse', client_secret: 'browser-test-secret-0123', authorize_scopes: 'openid email profile', oidc_issuer: oidcIdp.issuer },
  }));
  await gh.admin.send(new CreateIdentityProviderCommand({ UserPoolId: poolId, ProviderName: 'MySamlProvider', ProviderType: 'SAML', ProviderDetails: { MetadataURL: samlIdp.metadataUrl }, AttributeMapping: { email: 'email' } }));
  await gh.admin.send(new UpdateUserPoolClientCommand({ UserPoolId: poolId, ClientId: clientId, ...oauthClient({ CallbackURLs: [appUrl], LogoutURLs: [appUrl], SupportedIdentityProviders: ['COGNITO', 'MyOidcProvider', 'MySamlProvider'] }) } as never));
  browser = await launchChromium();
});
after(async () => {
  await browser?.close(); await app?.close(); await oidcIdp?.stop(); await samlIdp?.stop(); await gh?.stop();
  if (tls) fs.rmSync(tls.dir, { recursive: true, force: true });
});

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

test('Amplify signInWithRedirect({ provider: { custom } }) through a real OpenID Connect provider comes back with tokens of a federated user', { skip }, async () => {
  accounts.set('dana', { sub: 'dana-sub', email: 'dana@idp.example.com', name: 'Dana' });
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  await page.goto(app.url);
  await page.waitForFunction(() => !!(window as any).app);
  await Promise.all([page.waitForURL((u) => u.href.startsWith(oidcIdp.issuer + '/interaction/')), page.evaluate(() => { void (window as any).app.signIn('MyOidcProvider'); })]);
  await page.locator('input[name=login]').fill('dana-sub');
  await page.locator('input[name=password]').fill('anything');
  await page.locator('button[type=submit]').click();
  // The provider asks for consent once.
  await page.waitForURL((u) => u.href.startsWith(app.url) || u.href.includes('/interaction/'));
  if (page.url().includes('/interaction/')) await Promise.all([page.waitForURL((u) => u.href.startsWith(app.url)), page.locator('button[type=submit]').click()]);
  const tokens = await appTokens(page);
  const id = JSON.parse(Buffer.from(tokens.id.split('.')[1], 'base64url').toString());
  assert.equal(id['cognito:username'], 'MyOidcProvider_dana-sub');
  assert.equal(id.email, 'dana@idp.example.com');
  assert.equal(id.identities[0].providerName, 'MyOidcProvider');
  await context.close();
});

test('Amplify signInWithRedirect({ provider: { custom } }) through a SAML identity provider comes back with tokens of a federated user', { skip }, async () => {
  samlIdp.state.user = { nameId: 'erin', email: 'erin@corp.example.com' };
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  await page.goto(app.url);
  await page.waitForFunction(() => !!(window as any).app);
  // The IdP signs erin in at once and posts its signed response to /saml2/idpresponse.
  await Promise.all([page.waitForURL((u) => u.href.startsWith(app.url) && u.href.includes('code=')), page.evaluate(() => { void (window as any).app.signIn('MySamlProvider'); })]);
  const tokens = await appTokens(page);
  const id = JSON.parse(Buffer.from(tokens.id.split('.')[1], 'base64url').toString());
  assert.equal(id['cognito:username'], 'MySamlProvider_erin');
  assert.equal(id.email, 'erin@corp.example.com');
  assert.equal(id.identities[0].providerType, 'SAML');
  await context.close();
});
