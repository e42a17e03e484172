// The OAuth 2.0 / OpenID Connect endpoints over plain HTTP, walked as a browser and an app would:
// authorize, the managed login page, token (its grants and errors), userInfo, revoke, logout, SSO.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { AdminDisableUserCommand, GetUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, userClient, type Gatehouse } from './support/harness.js';
import {
  anotherClient, authorizeUrl, basic, CALLBACK, callbackParams, confirmedUser, formOn, jwtPayload, oauthPool, pkce, PASSWORD,
  signInOnPage, SIGNED_OUT, token, Walker,
} from './support/hosted.js';

let gh: Gatehouse, poolId: string, clientId: string;

before(async () => {
  gh = await startGatehouse();
  ({ poolId, clientId } = await oauthPool(gh));
});
after(async () => { await gh?.stop(); });

/** Signs in on the pages with PKCE and redeems the code: the token response. */
async function codeFlow(w: Walker, email: string, o: Record<string, string | undefined> = {}, client = clientId) {
  const p = pkce();
  const done = await signInOnPage(w, client, email, PASSWORD, { code_challenge: p.challenge, code_challenge_method: 'S256', ...o });
  assert.equal(done.status, 302, done.text.slice(0, 400));
  const { code } = callbackParams(done.location);
  const t = await token(gh.url, { grant_type: 'authorization_code', code, client_id: client, redirect_uri: CALLBACK, code_verifier: p.verifier });
  assert.equal(t.status, 200, JSON.stringify(t.json));
  return t.json;
}

test('code flow with PKCE: the login page signs in, the code buys signed tokens that carry the scopes and nonce', async () => {
  const email = await confirmedUser(gh, poolId);
  const w = new Walker(gh.url);
  const p = pkce();
  const state = 'state with spaces & symbols =/?';
  const done = await signInOnPage(w, clientId, email, PASSWORD, { code_challenge: p.challenge, code_challenge_method: 'S256', nonce: 'n-123', state });
  assert.equal(done.status, 302);
  assert.ok(done.location!.startsWith(CALLBACK + '?'), done.location);
  const back = callbackParams(done.location);
  assert.equal(back.state, state, 'state comes back exactly as sent');
  assert.match(back.code, /^[A-Za-z0-9_-]{43}$/);
  const t = await token(gh.url, { grant_type: 'authorization_code', code: back.code, client_id: clientId, redirect_uri: CALLBACK, code_verifier: p.verifier });
  assert.equal(t.status, 200, JSON.stringify(t.json));
  assert.equal(t.headers.get('cache-control'), 'no-store');
  assert.equal(t.json.token_type, 'Bearer');
  assert.equal(t.json.expires_in, 3600);
  assert.ok(t.json.refresh_token);
  const jwks = createRemoteJWKSet(new URL(`${gh.url}/${poolId}/.well-known/jwks.json`));
  const iss = jwtPayload(t.json.id_token).iss;
  const { payload: id } = await jwtVerify(t.json.id_token, jwks, { issuer: iss, audience: clientId });
  assert.equal(id.token_use, 'id');
  assert.equal(id.nonce, 'n-123');
  assert.equal(id.email, email);
  const { payload: access } = await jwtVerify(t.json.access_token, jwks, { issuer: iss });
  assert.deepEqual(String(access.scope).split(' ').sort(), ['aws.cognito.signin.user.admin', 'email', 'openid', 'profile']);
  assert.equal(access.client_id, clientId);
  // With aws.cognito.signin.user.admin the access token works for the user's own API operations.
  const cip = userClient(gh.url);
  const me = await cip.send(new GetUserCommand({ AccessToken: t.json.access_token }));
  assert.equal(me.UserAttributes?.find((a) => a.Name === 'email')?.Value, email);
  cip.destroy();
});

test('refresh_token grant: new access and ID tokens with the scopes of the sign-in', async () => {
  const email = await confirmedUser(gh, poolId);
  const first = await codeFlow(new Walker(gh.url), email, { scope: 'openid email' });
  const r = await token(gh.url, { grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: clientId });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(jwtPayload(r.json.access_token).scope, 'openid email');
  assert.equal(jwtPayload(r.json.id_token).email, email);
  assert.equal(r.json.refresh_token, undefined, 'no rotation unless the client asks for it');
  const bad = await token(gh.url, { grant_type: 'refresh_token', refresh_token: 'nonsense', client_id: clientId });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error, 'invalid_grant');
});

test('an access token without aws.cognito.signin.user.admin cannot call the user API, as in Cognito', async () => {
  const email = await confirmedUser(gh, poolId);
  const t = await codeFlow(new Walker(gh.url), email, { scope: 'openid email' });
  const cip = userClient(gh.url);
  await assert.rejects(cip.send(new GetUserCommand({ AccessToken: t.access_token })), (e: Error) => e.name === 'NotAuthorizedException');
  cip.destroy();
});

test('userInfo answers the attributes the scopes allow, and refuses bad tokens with 401', async () => {
  const email = await confirmedUser(gh, poolId);
  const narrow = await codeFlow(new Walker(gh.url), email, { scope: 'openid email' });
  const r = await fetch(`${gh.url}/oauth2/userInfo`, { headers: { authorization: `Bearer ${narrow.access_token}` } });
  assert.equal(r.status, 200);
  const info = await r.json() as Record<string, string>;
  assert.equal(info.email, email);
  assert.equal(info.email_verified, 'true');
  assert.ok(info.sub && info.username);
  const wide = await codeFlow(new Walker(gh.url), email, { scope: 'openid profile' });
  const r2 = await fetch(`${gh.url}/oauth2/userInfo`, { method: 'POST', headers: { authorization: `Bearer ${wide.access_token}` } });
  assert.equal((await r2.json() as Record<string, string>).email, email, 'profile reads every readable attribute');
  const none = await fetch(`${gh.url}/oauth2/userInfo`);
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate') ?? '', /Bearer error="invalid_token"/);
  const forged = await fetch(`${gh.url}/oauth2/userInfo`, { headers: { authorization: `Bearer ${narrow.access_token.slice(0, -4)}AAAA` } });
  assert.equal(forged.status, 401);
});

test('revoke ends the refresh token and the access tokens of its sign-in', async () => {
  const email = await confirmedUser(gh, poolId);
  const t = await codeFlow(new Walker(gh.url), email);
  const r = await fetch(`${gh.url}/oauth2/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: t.refresh_token, client_id: clientId }) });
  assert.equal(r.status, 200);
  const again = await token(gh.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: clientId });
  assert.equal(again.json.error, 'invalid_grant');
  const info = await fetch(`${gh.url}/oauth2/userInfo`, { headers: { authorization: `Bearer ${t.access_token}` } });
  assert.equal(info.status, 401);
  const unknown = await fetch(`${gh.url}/oauth2/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: 'unknown', client_id: clientId }) });
  assert.equal(unknown.status, 200, 'unknown tokens are revoked quietly (RFC 7009)');
});

test('token endpoint errors: unsupported grant, missing grant, unknown client, wrong secret (401 with WWW-Authenticate)', async () => {
  const odd = await token(gh.url, { grant_type: 'password', client_id: clientId });
  assert.equal(odd.json.error, 'unsupported_grant_type');
  const missing = await token(gh.url, { client_id: clientId });
  assert.equal(missing.json.error, 'invalid_request');
  const unknown = await token(gh.url, { grant_type: 'authorization_code', client_id: 'nosuchclient', code: 'x' });
  assert.equal(unknown.status, 401);
  assert.equal(unknown.json.error, 'invalid_client');
  const confidential = await anotherClient(gh, poolId, { GenerateSecret: true });
  const wrong = await token(gh.url, { grant_type: 'refresh_token', refresh_token: 'x' }, basic(confidential.clientId, 'wrong-secret'));
  assert.equal(wrong.status, 401);
  assert.equal(wrong.json.error, 'invalid_client');
  assert.match(wrong.headers.get('www-authenticate') ?? '', /^Basic/);
  const noSecret = await token(gh.url, { grant_type: 'refresh_token', refresh_token: 'x', client_id: confidential.clientId });
  assert.equal(noSecret.json.error, 'invalid_client', 'a client with a secret must prove it');
  const twice = await fetch(`${gh.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=authorization_code&client_id=${clientId}&code=a&code=b` });
  assert.equal((await twice.json() as { error: string }).error, 'invalid_request', 'a repeated parameter is refused');
});

test('a confidential client signs in with Basic auth and no PKCE; client_secret_post works too', async () => {
  const c = await anotherClient(gh, poolId, { GenerateSecret: true });
  const email = await confirmedUser(gh, poolId);
  for (const how of ['basic', 'post'] as const) {
    const w = new Walker(gh.url);
    const done = await signInOnPage(w, c.clientId, email, PASSWORD);
    const { code } = callbackParams(done.location);
    const t = how === 'basic'
      ? await token(gh.url, { grant_type: 'authorization_code', code, redirect_uri: CALLBACK }, basic(c.clientId, c.secret!))
      : await token(gh.url, { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, client_id: c.clientId, client_secret: c.secret! });
    assert.equal(t.status, 200, JSON.stringify(t.json));
    assert.equal(jwtPayload(t.json.id_token).aud, c.clientId);
  }
});

test('implicit flow: tokens in the fragment, no refresh token', async () => {
  const email = await confirmedUser(gh, poolId);
  const done = await signInOnPage(new Walker(gh.url), clientId, email, PASSWORD, { response_type: 'token', state: 's1' });
  assert.equal(done.status, 302);
  const u = new URL(done.location!);
  assert.equal(u.search, '');
  const frag = new URLSearchParams(u.hash.slice(1));
  assert.equal(frag.get('state'), 's1');
  assert.equal(frag.get('token_type'), 'Bearer');
  assert.ok(frag.get('access_token') && frag.get('id_token'));
  assert.equal(frag.get('refresh_token'), null);
});

test('single sign-on: a second client of the pool signs in without the password; prompt=login asks again; prompt=none answers login_required without a session', async () => {
  const email = await confirmedUser(gh, poolId);
  const other = await anotherClient(gh, poolId);
  const w = new Walker(gh.url);
  await codeFlow(w, email);
  assert.ok([...w.cookies.keys()].some((k) => k === `gh_sso_${poolId}`), 'the session cookie is set');
  const p = pkce();
  const silent = await w.get(authorizeUrl(other.clientId, { code_challenge: p.challenge, code_challenge_method: 'S256', prompt: 'none', state: 'q' }));
  assert.equal(silent.status, 302);
  const { code, state } = callbackParams(silent.location);
  assert.equal(state, 'q');
  const t = await token(gh.url, { grant_type: 'authorization_code', code, client_id: other.clientId, redirect_uri: CALLBACK, code_verifier: p.verifier });
  assert.equal(jwtPayload(t.json.id_token).email, email);
  const again = await w.follow(await w.get(authorizeUrl(clientId, { code_challenge: p.challenge, prompt: 'login' })));
  assert.equal(again.status, 200);
  assert.match(again.text, /name="password"/, 'prompt=login shows the sign-in form');
  const stranger = await new Walker(gh.url).get(authorizeUrl(clientId, { code_challenge: p.challenge, prompt: 'none', state: 'z' }));
  assert.equal(stranger.status, 302);
  assert.deepEqual(callbackParams(stranger.location).error, 'login_required');
  // A disabled user's session no longer signs anyone in.
  await gh.admin.send(new AdminDisableUserCommand({ UserPoolId: poolId, Username: email }));
  const afterDisable = await w.get(authorizeUrl(clientId, { code_challenge: p.challenge, prompt: 'none' }));
  assert.equal(callbackParams(afterDisable.location).error, 'login_required');
});

test('logout ends the session and returns to a registered logout URL only', async () => {
  const email = await confirmedUser(gh, poolId);
  const w = new Walker(gh.url);
  await codeFlow(w, email);
  const refused = await w.get(`/logout?client_id=${clientId}&logout_uri=${encodeURIComponent('https://evil.example.com/')}`);
  assert.equal(refused.status, 400);
  assert.equal(refused.location, undefined);
  const out = await w.get(`/logout?client_id=${clientId}&logout_uri=${encodeURIComponent(SIGNED_OUT)}`);
  assert.equal(out.status, 302);
  assert.equal(out.location, SIGNED_OUT);
  assert.ok(![...w.cookies.keys()].includes(`gh_sso_${poolId}`), 'the session cookie is cleared');
  const p = pkce();
  const silent = await w.get(authorizeUrl(clientId, { code_challenge: p.challenge, prompt: 'none' }));
  assert.equal(callbackParams(silent.location).error, 'login_required', 'the session is over on the server too');
  // /logout with redirect_uri and response_type goes back to the sign-in page.
  const relogin = await w.get(`/logout?client_id=${clientId}&redirect_uri=${encodeURIComponent(CALLBACK)}&response_type=code&code_challenge=${p.challenge}&code_challenge_method=S256`);
  assert.equal(relogin.status, 302);
  assert.match(relogin.location!, /^\/login\?/);
});

test('openid-configuration names every endpoint, and they answer', async () => {
  const res = await fetch(`${gh.url}/${poolId}/.well-known/openid-configuration`);
  assert.equal(res.status, 200);
  const c = await res.json() as Record<string, any>;
  for (const k of ['issuer', 'authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'revocation_endpoint', 'end_session_endpoint', 'jwks_uri']) assert.equal(typeof c[k], 'string', k);
  assert.deepEqual(c.code_challenge_methods_supported, ['S256']);
  assert.ok(c.grant_types_supported.includes('client_credentials'));
  assert.ok(c.scopes_supported.includes('openid'));
  assert.ok(c.token_endpoint_auth_methods_supported.includes('client_secret_basic'));
  const local = (u: string) => gh.url + new URL(u).pathname;
  assert.equal((await fetch(local(c.jwks_uri))).status, 200);
  assert.equal((await fetch(local(c.userinfo_endpoint))).status, 401);
  assert.equal((await fetch(local(c.token_endpoint), { method: 'POST' })).status, 401, 'the token endpoint asks who the client is');
  const unknown = await fetch(`${gh.url}/local_nosuchpool/.well-known/openid-configuration`);
  assert.equal(unknown.status, 400);
});

test('a client without OAuth settings, or without COGNITO, is told so at its redirect URI', async () => {
  const plain = await anotherClient(gh, poolId, { AllowedOAuthFlowsUserPoolClient: false });
  const r = await new Walker(gh.url).get(authorizeUrl(plain.clientId, { state: 'x' }));
  assert.equal(r.status, 302);
  assert.equal(callbackParams(r.location).error, 'unauthorized_client');
  const noPool = await anotherClient(gh, poolId, { SupportedIdentityProviders: undefined });
  const r2 = await new Walker(gh.url).get(authorizeUrl(noPool.clientId, { code_challenge: pkce().challenge }));
  assert.equal(callbackParams(r2.location).error, 'unauthorized_client');
  const noScope = await new Walker(gh.url).get(authorizeUrl(clientId, { scope: 'openid admin/write', code_challenge: pkce().challenge }));
  assert.equal(callbackParams(noScope.location).error, 'invalid_scope');
  const form = formOn((await new Walker(gh.url).follow(await new Walker(gh.url).get(authorizeUrl(clientId, { code_challenge: pkce().challenge })))).text, '/login');
  assert.ok(form.fields._csrf);
});
