// The managed login pages, walked as a browser would with cookies and forms: sign up and confirm
// (code from real mail), forgot password, new password, the pool's look, a domain prefix, and the
// admin operations behind them (resource servers with client_credentials, UI customization, domains).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  AdminCreateUserCommand, CreateResourceServerCommand, CreateUserPoolDomainCommand, DeleteResourceServerCommand, DeleteUserPoolDomainCommand,
  DescribeResourceServerCommand, DescribeUserPoolDomainCommand, GetUICustomizationCommand, ListResourceServersCommand,
  SetUICustomizationCommand, UpdateResourceServerCommand, CreateUserPoolClientCommand, CreateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  AdminSetUserPasswordCommand, AssociateSoftwareTokenCommand, InitiateAuthCommand, SetUserMFAPreferenceCommand, SetUserPoolMfaConfigCommand, VerifySoftwareTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { TOTP, Secret } from 'otpauth';
import { MailCatcher, startGatehouse, uniqueEmail, userClient, type Gatehouse } from './support/harness.js';
import {
  anotherClient, authorizeUrl, basic, CALLBACK, callbackParams, confirmedUser, formOn, jwtPayload, oauthClient, oauthPool, pkce, PASSWORD,
  signInOnPage, token, Walker,
} from './support/hosted.js';

let gh: Gatehouse, mail: MailCatcher, poolId: string, clientId: string;

before(async () => {
  mail = await new MailCatcher().start();
  gh = await startGatehouse({ GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${mail.port}` });
  ({ poolId, clientId } = await oauthPool(gh));
});
after(async () => { await gh?.stop(); await mail?.close(); });

const challenge = pkce();
async function open(w: Walker, o: Record<string, string> = {}) {
  return w.follow(await w.get(authorizeUrl(clientId, { code_challenge: challenge.challenge, code_challenge_method: 'S256', ...o })));
}

test('sign up on the page, confirm with the emailed code, and land back in the app signed in', async () => {
  const w = new Walker(gh.url);
  const login = await open(w);
  const signup = await w.get(formOn(login.text, '/login').action.replace('/login?', '/signup?'));
  assert.equal(signup.status, 200);
  assert.match(signup.text, /autocomplete="new-password"/);
  const email = uniqueEmail('page');
  const since = Date.now();
  const f = formOn(signup.text, '/signup');
  const confirm = await w.post(f.action, { ...f.fields, username: email, password: PASSWORD });
  assert.equal(confirm.status, 200, confirm.text.slice(0, 600));
  assert.match(confirm.text, /Confirm your account/);
  const c = formOn(confirm.text, '/confirm');
  const wrong = await w.post(c.action, { ...c.fields, code: '000000' });
  assert.match(wrong.text, /role="alert"/, 'a wrong code is shown as an alert');
  const done = await w.post(c.action, { ...c.fields, code: await mail.code(email, since) });
  assert.equal(done.status, 302, done.text.slice(0, 600));
  const { code } = callbackParams(done.location);
  const t = await token(gh.url, { grant_type: 'authorization_code', code, client_id: clientId, redirect_uri: CALLBACK, code_verifier: challenge.verifier });
  assert.equal(jwtPayload(t.json.id_token).email, email);
});

test('forgot password on the page: the emailed code sets a new password that signs in', async () => {
  const email = await confirmedUser(gh, poolId);
  const w = new Walker(gh.url);
  const login = await open(w);
  const forgot = await w.get(formOn(login.text, '/login').action.replace('/login?', '/forgotPassword?'));
  const since = Date.now();
  const f = formOn(forgot.text, '/forgotPassword');
  const reset = await w.post(f.action, { ...f.fields, username: email });
  const r = formOn(reset.text, '/confirmForgotPassword');
  const back = await w.post(r.action, { ...r.fields, code: await mail.code(email, since), password: 'Brand-New-Pass-7' });
  assert.match(back.text, /Your password is changed/);
  const done = await signInOnPage(new Walker(gh.url), clientId, email, 'Brand-New-Pass-7', { code_challenge: challenge.challenge });
  assert.equal(done.status, 302);
  assert.ok(callbackParams(done.location).code);
});

test('an invited user sets a new password on the page (NEW_PASSWORD_REQUIRED) and is signed in', async () => {
  const email = uniqueEmail('invited');
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: email, TemporaryPassword: 'Temp-Pass-1234', MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }] }));
  const w = new Walker(gh.url);
  const step = await signInOnPage(w, clientId, email, 'Temp-Pass-1234', { code_challenge: challenge.challenge });
  assert.equal(step.status, 200);
  assert.match(step.text, /Set a new password/);
  const f = formOn(step.text, '/login/challenge');
  assert.equal(f.fields.challenge, 'NEW_PASSWORD_REQUIRED');
  const weak = await w.post(f.action, { ...f.fields, new_password: 'short' });
  assert.match(weak.text, /role="alert"/);
  const f2 = formOn(weak.text, '/login/challenge');
  const done = await w.post(f2.action, { ...f2.fields, new_password: 'Chosen-Pass-5678' });
  assert.equal(done.status, 302, done.text.slice(0, 500));
  assert.ok(callbackParams(done.location).code);
});

test('the pages are labelled for screen readers and keyboard use', async () => {
  const page = await open(new Walker(gh.url));
  assert.match(page.text, /<html lang="en">/);
  assert.match(page.text, /<main/);
  for (const m of page.text.matchAll(/<input id="([^"]+)"/g)) assert.match(page.text, new RegExp(`<label for="${m[1]}">`), `input ${m[1]} has a label`);
  assert.match(page.text, /autocomplete="username"/);
  assert.match(page.text, /autocomplete="current-password"/);
  const failed = await signInOnPage(new Walker(gh.url), clientId, uniqueEmail('nobody'), 'Wrong-Pass-1', { code_challenge: challenge.challenge });
  assert.match(failed.text, /role="alert"[^>]*>Incorrect username or password\./);
  assert.match(failed.text, /aria-invalid="true"/);
  assert.equal(failed.headers.get('x-frame-options'), 'DENY');
  assert.match(failed.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  assert.equal(failed.headers.get('cache-control'), 'no-store');
});

test('SetUICustomization: the pool CSS and a client logo show on the pages; GetUICustomization reads them back', async () => {
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000100ffff03000006000557bfabd40000000049454e44ae426082', 'hex');
  await gh.admin.send(new SetUICustomizationCommand({ UserPoolId: poolId, CSS: '.background-customizable { background-color: #123456; }' }));
  await gh.admin.send(new SetUICustomizationCommand({ UserPoolId: poolId, ClientId: clientId, CSS: '.submitButton-customizable { color: #abcdef; }', ImageFile: png }));
  const page = await open(new Walker(gh.url));
  assert.match(page.text, /#abcdef/, 'the client CSS wins');
  assert.match(page.text, /<img class="logo[^"]*" src="data:image\/png;base64,/);
  const other = await anotherClient(gh, poolId);
  const otherPage = await new Walker(gh.url).follow(await new Walker(gh.url).get(authorizeUrl(other.clientId, { code_challenge: challenge.challenge })));
  assert.match(otherPage.text, /#123456/, 'other clients get the pool CSS');
  const { UICustomization } = await gh.admin.send(new GetUICustomizationCommand({ UserPoolId: poolId, ClientId: clientId }));
  assert.match(UICustomization!.CSS!, /#abcdef/);
  const logo = await fetch(gh.url + new URL(UICustomization!.ImageUrl!).pathname);
  assert.equal(logo.headers.get('content-type'), 'image/png');
  assert.deepEqual(Buffer.from(await logo.arrayBuffer()), png);
  await assert.rejects(gh.admin.send(new SetUICustomizationCommand({ UserPoolId: poolId, CSS: '</style><script>alert(1)</script>' })), (e: Error) => e.name === 'InvalidParameterException');
  await assert.rejects(gh.admin.send(new SetUICustomizationCommand({ UserPoolId: poolId, ImageFile: Buffer.from('<svg onload=alert(1)>') })), (e: Error) => e.name === 'InvalidParameterException');
});

test('a domain prefix serves the same endpoints for its pool only', async () => {
  const domain = `auth-${Date.now().toString(36)}`;
  await gh.admin.send(new CreateUserPoolDomainCommand({ UserPoolId: poolId, Domain: domain }));
  const { DomainDescription } = await gh.admin.send(new DescribeUserPoolDomainCommand({ Domain: domain }));
  assert.equal(DomainDescription?.UserPoolId, poolId);
  assert.equal(DomainDescription?.Status, 'ACTIVE');
  const email = await confirmedUser(gh, poolId);
  const w = new Walker(gh.url);
  const page = await w.follow(await w.get(`/${domain}` + authorizeUrl(clientId, { code_challenge: challenge.challenge, code_challenge_method: 'S256' })));
  const f = formOn(page.text, '/login');
  assert.ok(f.action.startsWith(`/${domain}/login?`), f.action);
  const done = await w.post(f.action, { ...f.fields, username: email, password: PASSWORD });
  const { code } = callbackParams(done.location);
  const res = await fetch(`${gh.url}/${domain}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', code, client_id: clientId, redirect_uri: CALLBACK, code_verifier: challenge.verifier }) });
  assert.equal(res.status, 200);
  const config = await (await fetch(`${gh.url}/${poolId}/.well-known/openid-configuration`)).json() as { authorization_endpoint: string };
  assert.ok(config.authorization_endpoint.endsWith(`/${domain}/oauth2/authorize`));
  // Another pool's client is not served under this pool's domain.
  const { UserPool } = await gh.admin.send(new CreateUserPoolCommand({ PoolName: 'other' }));
  const { UserPoolClient } = await gh.admin.send(new CreateUserPoolClientCommand({ UserPoolId: UserPool!.Id!, ClientName: 'x', ...oauthClient() } as never));
  const foreign = await new Walker(gh.url).get(`/${domain}` + authorizeUrl(UserPoolClient!.ClientId!, { code_challenge: challenge.challenge }));
  assert.equal(foreign.status, 400);
  await gh.admin.send(new DeleteUserPoolDomainCommand({ UserPoolId: poolId, Domain: domain }));
  assert.equal((await new Walker(gh.url).get(`/${domain}` + authorizeUrl(clientId))).status, 404);
});

test('client_credentials: a confidential client gets an access token with its resource-server scopes, and only those', async () => {
  await gh.admin.send(new CreateResourceServerCommand({ UserPoolId: poolId, Identifier: 'https://api.example.com', Name: 'api', Scopes: [{ ScopeName: 'read', ScopeDescription: 'read' }, { ScopeName: 'write', ScopeDescription: 'write' }] }));
  const { ResourceServer } = await gh.admin.send(new DescribeResourceServerCommand({ UserPoolId: poolId, Identifier: 'https://api.example.com' }));
  assert.equal(ResourceServer?.Scopes?.length, 2);
  assert.equal((await gh.admin.send(new ListResourceServersCommand({ UserPoolId: poolId, MaxResults: 10 }))).ResourceServers?.length, 1);
  await assert.rejects(anotherClient(gh, poolId, { AllowedOAuthFlows: ['client_credentials'], AllowedOAuthScopes: ['https://api.example.com/delete'], GenerateSecret: true }), (e: Error) => e.name === 'InvalidParameterException');
  await assert.rejects(anotherClient(gh, poolId, { AllowedOAuthFlows: ['client_credentials'], AllowedOAuthScopes: ['https://api.example.com/read'] }), (e: Error) => e.name === 'InvalidParameterException', 'needs a secret');
  const m2m = await anotherClient(gh, poolId, { AllowedOAuthFlows: ['client_credentials'], AllowedOAuthScopes: ['https://api.example.com/read', 'https://api.example.com/write'], GenerateSecret: true, CallbackURLs: undefined, SupportedIdentityProviders: undefined });
  const all = await token(gh.url, { grant_type: 'client_credentials' }, basic(m2m.clientId, m2m.secret!));
  assert.equal(all.status, 200, JSON.stringify(all.json));
  assert.equal(all.json.refresh_token, undefined);
  assert.equal(all.json.id_token, undefined);
  const claims = jwtPayload(all.json.access_token);
  assert.equal(claims.sub, m2m.clientId);
  assert.equal(claims.scope, 'https://api.example.com/read https://api.example.com/write');
  const one = await token(gh.url, { grant_type: 'client_credentials', scope: 'https://api.example.com/read' }, basic(m2m.clientId, m2m.secret!));
  assert.equal(jwtPayload(one.json.access_token).scope, 'https://api.example.com/read');
  const openid = await token(gh.url, { grant_type: 'client_credentials', scope: 'openid' }, basic(m2m.clientId, m2m.secret!));
  assert.equal(openid.json.error, 'invalid_scope');
  const publicClient = await token(gh.url, { grant_type: 'client_credentials', client_id: clientId });
  assert.equal(publicClient.json.error, 'unauthorized_client');
  // A scope removed from its resource server is no longer granted.
  await gh.admin.send(new UpdateResourceServerCommand({ UserPoolId: poolId, Identifier: 'https://api.example.com', Name: 'api', Scopes: [{ ScopeName: 'read', ScopeDescription: 'read' }] }));
  const gone = await token(gh.url, { grant_type: 'client_credentials', scope: 'https://api.example.com/write' }, basic(m2m.clientId, m2m.secret!));
  assert.equal(gone.json.error, 'invalid_scope');
  await gh.admin.send(new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: 'https://api.example.com' }));
  await assert.rejects(gh.admin.send(new DescribeResourceServerCommand({ UserPoolId: poolId, Identifier: 'https://api.example.com' })), (e: Error) => e.name === 'ResourceNotFoundException');
});

test('MFA on the pages: after the password the sign-in asks for the authenticator code by name; a wrong code asks again, the right one signs in', async () => {
  await gh.admin.send(new SetUserPoolMfaConfigCommand({ UserPoolId: poolId, MfaConfiguration: 'OPTIONAL', SoftwareTokenMfaConfiguration: { Enabled: true } }));
  const email = await confirmedUser(gh, poolId);
  const cip = userClient(gh.url);
  const { AuthenticationResult } = await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD } }));
  const AccessToken = AuthenticationResult!.AccessToken!;
  const { SecretCode } = await cip.send(new AssociateSoftwareTokenCommand({ AccessToken }));
  const totp = new TOTP({ secret: Secret.fromBase32(SecretCode!) });
  await cip.send(new VerifySoftwareTokenCommand({ AccessToken, UserCode: totp.generate({ timestamp: Date.now() - 30_000 }) }));
  await cip.send(new SetUserMFAPreferenceCommand({ AccessToken, SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true } }));
  cip.destroy();
  const w = new Walker(gh.url);
  const step = await signInOnPage(w, clientId, email, PASSWORD, { code_challenge: challenge.challenge, code_challenge_method: 'S256' });
  assert.equal(step.status, 200, step.text.slice(0, 400));
  assert.match(step.text, /Code from your authenticator app/);
  assert.match(step.text, /autocomplete="one-time-code"/);
  const f = formOn(step.text, '/login/challenge');
  assert.equal(f.fields.challenge, 'SOFTWARE_TOKEN_MFA');
  const wrong = await w.post(f.action, { ...f.fields, code: '000000' });
  assert.match(wrong.text, /role="alert"/);
  const f2 = formOn(wrong.text, '/login/challenge');
  const done = await w.post(f2.action, { ...f2.fields, code: totp.generate() });
  assert.equal(done.status, 302, done.text.slice(0, 400));
  const t = await token(gh.url, { grant_type: 'authorization_code', code: callbackParams(done.location).code, client_id: clientId, redirect_uri: CALLBACK, code_verifier: challenge.verifier });
  assert.equal(jwtPayload(t.json.id_token).email, email);
  await gh.admin.send(new SetUserPoolMfaConfigCommand({ UserPoolId: poolId, MfaConfiguration: 'OFF' }));
});

test('MFA setup on the pages: required MFA offers an authenticator app and email; the app is set up with its secret and otpauth URI, a wrong code asks again, the right one signs in', async () => {
  // A pool of plain usernames, so a user can lack an email address: then both TOTP and email setup are offered.
  const { UserPool } = await gh.admin.send(new CreateUserPoolCommand({ PoolName: 'Setup Pool' }));
  const setupPool = UserPool!.Id!;
  await gh.admin.send(new SetUserPoolMfaConfigCommand({ UserPoolId: setupPool, MfaConfiguration: 'ON', SoftwareTokenMfaConfiguration: { Enabled: true }, EmailMfaConfiguration: {} }));
  const { UserPoolClient } = await gh.admin.send(new CreateUserPoolClientCommand({ UserPoolId: setupPool, ClientName: 'web', ...oauthClient() } as never));
  const setupClient = UserPoolClient!.ClientId!;
  const username = `setup-${Date.now().toString(36)}`;
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: setupPool, Username: username, MessageAction: 'SUPPRESS' }));
  await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: setupPool, Username: username, Password: PASSWORD, Permanent: true }));

  const w = new Walker(gh.url);
  const step = await signInOnPage(w, setupClient, username, PASSWORD, { code_challenge: challenge.challenge, code_challenge_method: 'S256' });
  assert.equal(step.status, 200, step.text.slice(0, 400));
  assert.match(step.text, /Set up multi-factor authentication/);
  assert.match(step.text, /Set up an authenticator app/);
  assert.match(step.text, /<input id="f-email" name="email" type="email"/, 'email setup is offered too');
  const email = formOn(step.text, '/login/challenge');
  assert.equal(email.fields.challenge, 'MFA_SETUP');

  const associate = formOn(step.text, '/login/totp');
  const shown = await w.post(associate.action, associate.fields);
  assert.equal(shown.status, 200, shown.text.slice(0, 400));
  const secret = /<code id="totp-secret">([A-Z2-7 ]+)<\/code>/.exec(shown.text)?.[1]?.replace(/ /g, '');
  assert.ok(secret && secret.length >= 32, 'the secret is shown as text');
  const uri = new URL(/<a id="totp-uri" href="([^"]+)"/.exec(shown.text)![1].replace(/&amp;/g, '&'));
  assert.equal(uri.protocol, 'otpauth:');
  assert.equal(uri.host, 'totp');
  assert.equal(uri.searchParams.get('secret'), secret);
  assert.equal(uri.searchParams.get('issuer'), 'Setup Pool');
  assert.equal(decodeURIComponent(uri.pathname), `/Setup Pool:${username}`);
  const totp = new TOTP({ secret: Secret.fromBase32(secret) });

  const verify = formOn(shown.text, '/login/totp');
  assert.notEqual(verify.fields.session, associate.fields.session, 'AssociateSoftwareToken gave the sign-in a new session');
  const wrong = await w.post(verify.action, { ...verify.fields, code: '000000' });
  assert.equal(wrong.status, 200);
  assert.match(wrong.text, /role="alert"/);
  assert.match(wrong.text, new RegExp(`<code id="totp-secret">${secret.slice(0, 4)} `), 'the secret is shown again');
  const again = formOn(wrong.text, '/login/totp');
  const done = await w.post(again.action, { ...again.fields, code: totp.generate() });
  assert.equal(done.status, 302, done.text.slice(0, 400));
  const t = await token(gh.url, { grant_type: 'authorization_code', code: callbackParams(done.location).code, client_id: setupClient, redirect_uri: CALLBACK, code_verifier: challenge.verifier });
  assert.equal(t.status, 200, JSON.stringify(t.json));
  assert.equal(jwtPayload(t.json.access_token).username, username);

  // The app is enrolled: the next sign-in on the pages asks for its code.
  const next = await signInOnPage(new Walker(gh.url), setupClient, username, PASSWORD, { code_challenge: challenge.challenge });
  assert.equal(formOn(next.text, '/login/challenge').fields.challenge, 'SOFTWARE_TOKEN_MFA');
  // The spent setup session finishes nothing twice.
  const replay = await w.post(again.action, { ...again.fields, code: totp.generate() });
  assert.equal(replay.status, 200);
  assert.doesNotMatch(replay.headers.get('location') ?? '', /code=/);
  assert.match(replay.text, /role="alert"/);
});
