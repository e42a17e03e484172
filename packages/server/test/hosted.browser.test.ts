// aws-amplify in a real browser (headless Chromium) against a Gatehouse serving HTTPS with a
// certificate the test makes: signInWithRedirect() through the managed login page back to the app
// with tokens, signOut() through /logout, and signInWithRedirect({ provider: { custom } }) through
// an OpenID Connect provider and a SAML identity provider that the test starts, and a passkey sign-in on
// the managed login page with a virtual authenticator (the DevTools Protocol's WebAuthn domain).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import type { Browser } from 'playwright-core';
import { appTokens, bundleAmplifyApp, CHROMIUM, launchChromium, serveApp, type App } from './support/browser.js';
import { startGatehouse, selfSignedCertificate, type Gatehouse } from './support/harness.js';
import {
  AdminInitiateAuthCommand, CognitoIdentityProviderClient, CompleteWebAuthnRegistrationCommand, CreateIdentityProviderCommand,
  SetUserPoolMfaConfigCommand, StartWebAuthnRegistrationCommand, UpdateUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { createPoolAndClient } from './support/harness.js';
import { confirmedUser, oauthClient, oauthPool, PASSWORD } from './support/hosted.js';
import { startOidcProvider, startSamlIdp, type Account } from './support/idps.js';

// Skipped on a developer machine without Chromium; CI installs it (.ci/run), and there it must run.
const skip = fs.existsSync(CHROMIUM) || process.env.CI ? false : `no Chromium at ${CHROMIUM}`;

let gh: Gatehouse, app: App, browser: Browser, tls: ReturnType<typeof selfSignedCertificate>;
let poolId: string, clientId: string;
/** The pool and client the app is configured with, when a test wants another than the suite's. */
let appPool: { poolId: string; clientId: string } | undefined;
let oidcIdp: Awaited<ReturnType<typeof startOidcProvider>>, samlIdp: Awaited<ReturnType<typeof startSamlIdp>>;
const accounts = new Map<string, Account>();

before(async () => {
  if (skip) return;
  tls = selfSignedCertificate();
  gh = await startGatehouse({ GATEHOUSE_TLS_CERT: tls.cert, GATEHOUSE_TLS_KEY: tls.key });
  const ghPort = new URL(gh.url).port;
  const bundle = await bundleAmplifyApp();
  let appUrl = '';
  app = await serveApp(bundle, () => ({ userPoolId: appPool?.poolId ?? poolId, userPoolClientId: appPool?.clientId ?? clientId, domain: `localhost:${ghPort}`, endpoint: `https://localhost:${ghPort}`, redirect: appUrl, scopes: ['openid', 'email', 'profile', 'aws.cognito.signin.user.admin'] }));
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

test('passkey on the managed login page: a user with a registered passkey signs in with the passkey button and comes back to the app with tokens', { skip }, async () => {
  // A pool that allows passkeys, RP ID localhost: it covers the app (http://localhost) and the pages (https://localhost:<port>).
  const ids = await createPoolAndClient(gh, { Policies: { SignInPolicy: { AllowedFirstAuthFactors: ['PASSWORD', 'WEB_AUTHN'] } } }, oauthClient({ CallbackURLs: [app.url], LogoutURLs: [app.url] }));
  await gh.admin.send(new SetUserPoolMfaConfigCommand({ UserPoolId: ids.poolId, WebAuthnConfiguration: { RelyingPartyId: 'localhost', UserVerification: 'required' } }));
  const email = await confirmedUser(gh, ids.poolId);
  const signedIn = await gh.admin.send(new AdminInitiateAuthCommand({ UserPoolId: ids.poolId, ClientId: ids.clientId, AuthFlow: 'ADMIN_USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD } }));
  const AccessToken = signedIn.AuthenticationResult!.AccessToken!;
  const cip = new CognitoIdentityProviderClient({
    endpoint: gh.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1,
    requestHandler: { httpsAgent: new https.Agent({ ca: fs.readFileSync(tls.cert) }) },
  });
  appPool = ids;
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    await page.goto(app.url);
    await page.waitForFunction(() => !!(window as any).app);

    // Registration through the API: StartWebAuthnRegistration's options, the browser's create(), CompleteWebAuthnRegistration.
    const { CredentialCreationOptions } = await cip.send(new StartWebAuthnRegistrationCommand({ AccessToken }));
    const credential = await page.evaluate(`(${CREATE_PASSKEY})(${JSON.stringify(CredentialCreationOptions)})`);
    await cip.send(new CompleteWebAuthnRegistrationCommand({ AccessToken, Credential: credential as never }));
    const { credentials: held } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(held.length, 1);

    // signInWithRedirect() to the managed login page, where the passkey button signs the user in.
    await Promise.all([page.waitForURL(/\/login\?/), page.evaluate(() => { void (window as any).app.signIn(); })]);
    await page.locator('#f-other-username').fill(email);
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Sign in with a passkey' }).click()]);
    await page.getByRole('button', { name: 'Use passkey' }).waitFor();
    await Promise.all([
      page.waitForURL((u) => u.href.startsWith(app.url), { timeout: 15000 }).catch(async (e) => {
        throw new Error(`${(e as Error).message}; the page said: ${await page.locator('#passkey-status, [role=alert]').allTextContents().catch(() => [])}`);
      }),
      page.getByRole('button', { name: 'Use passkey' }).click(),
    ]);
    const tokens = await appTokens(page);
    const id = JSON.parse(Buffer.from(tokens.id.split('.')[1], 'base64url').toString());
    assert.equal(id.email, email);
    assert.equal(id.aud, ids.clientId);
    const { credentials: used } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(used[0].signCount, held[0].signCount + 1, 'the authenticator signed once');
  } finally {
    appPool = undefined;
    cip.destroy();
    await context.close();
  }
});

// The browser's create() with StartWebAuthnRegistration's options, its answer as JSON with base64url
// fields (as Amplify sends it). A string, so that the test's transpiler adds nothing to it.
const CREATE_PASSKEY = `async function (o) {
  function b64u(b) { return btoa(String.fromCharCode.apply(null, new Uint8Array(b))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, ''); }
  function unb64u(s) { return Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), function (c) { return c.charCodeAt(0); }); }
  var c = await navigator.credentials.create({ publicKey: Object.assign({}, o, {
    challenge: unb64u(o.challenge), user: Object.assign({}, o.user, { id: unb64u(o.user.id) }),
    excludeCredentials: (o.excludeCredentials || []).map(function (x) { return Object.assign({}, x, { id: unb64u(x.id) }); }),
  }) });
  var r = c.response;
  return { id: c.id, rawId: b64u(c.rawId), type: c.type, clientExtensionResults: c.getClientExtensionResults(), authenticatorAttachment: c.authenticatorAttachment,
    response: { clientDataJSON: b64u(r.clientDataJSON), attestationObject: b64u(r.attestationObject), transports: r.getTransports() } };
}`;
