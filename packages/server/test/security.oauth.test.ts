// Attacks on the hosted sign-in, each test named after the attack it stops.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AdminCreateUserCommand, RespondToAuthChallengeCommand } from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, uniqueEmail, userClient, type Gatehouse } from './support/harness.js';
import {
  anotherClient, authorizeUrl, CALLBACK, callbackParams, confirmedUser, formOn, oauthPool, pkce, PASSWORD, signInOnPage, token, Walker,
} from './support/hosted.js';

let gh: Gatehouse, poolId: string, clientId: string;

before(async () => {
  gh = await startGatehouse();
  ({ poolId, clientId } = await oauthPool(gh));
});
after(async () => { await gh?.stop(); });

async function codeFor(email: string, o: Record<string, string> = {}, client = clientId) {
  const p = pkce();
  const done = await signInOnPage(new Walker(gh.url), client, email, PASSWORD, { code_challenge: p.challenge, code_challenge_method: 'S256', ...o });
  return { code: callbackParams(done.location).code, verifier: p.verifier };
}

test('open redirect: an unregistered redirect_uri is shown an error page and never redirected to', async () => {
  const lookalikes = [
    'https://evil.example.com/callback', `${CALLBACK}.evil.com`, `${CALLBACK}/../steal`, `${CALLBACK}?next=https://evil.example.com`,
    `${CALLBACK}#x`, CALLBACK.toUpperCase(), `${CALLBACK}/`, 'https://app.example.com:443/callback', `//evil.example.com`, 'javascript:alert(1)',
  ];
  for (const uri of lookalikes) {
    for (const path of [authorizeUrl(clientId, { redirect_uri: uri, code_challenge: pkce().challenge }), `/login?client_id=${clientId}&response_type=code&redirect_uri=${encodeURIComponent(uri)}`]) {
      const r = await new Walker(gh.url).get(path);
      assert.equal(r.status, 400, `${uri} via ${path.split('?')[0]}`);
      assert.equal(r.location, undefined, `${uri} must not be redirected to`);
    }
  }
  // Even a bad request (an error the app would hear) is not sent to an unregistered URI.
  const bad = await new Walker(gh.url).get(authorizeUrl(clientId, { redirect_uri: 'https://evil.example.com/', response_type: 'nonsense' }));
  assert.equal(bad.status, 400);
  assert.equal(bad.location, undefined);
});

test('open redirect: after sign-in the code goes only to the registered URI, even if the login form is posted with another', async () => {
  const email = await confirmedUser(gh, poolId);
  const w = new Walker(gh.url);
  const page = await w.follow(await w.get(authorizeUrl(clientId, { code_challenge: pkce().challenge })));
  const f = formOn(page.text, '/login');
  const forged = f.action.replace(encodeURIComponent(CALLBACK), encodeURIComponent('https://evil.example.com/cb'));
  assert.notEqual(forged, f.action);
  const r = await w.post(forged, { ...f.fields, username: email, password: PASSWORD });
  assert.equal(r.status, 400);
  assert.equal(r.location, undefined);
});

test('PKCE: a code is refused without its verifier, with a wrong verifier, and with a verifier for a code that had none', async () => {
  const email = await confirmedUser(gh, poolId);
  const noVerifier = await codeFor(email);
  const r1 = await token(gh.url, { grant_type: 'authorization_code', code: noVerifier.code, client_id: clientId, redirect_uri: CALLBACK });
  assert.equal(r1.status, 400);
  assert.equal(r1.json.error, 'invalid_grant');
  const wrong = await codeFor(email);
  const r2 = await token(gh.url, { grant_type: 'authorization_code', code: wrong.code, client_id: clientId, redirect_uri: CALLBACK, code_verifier: pkce().verifier });
  assert.equal(r2.json.error, 'invalid_grant');
  // A failed redemption spends the code: the right verifier afterwards does not help a thief who guessed.
  const r3 = await token(gh.url, { grant_type: 'authorization_code', code: wrong.code, client_id: clientId, redirect_uri: CALLBACK, code_verifier: wrong.verifier });
  assert.equal(r3.json.error, 'invalid_grant');
  // Public clients must use PKCE at all, and only S256.
  const plainless = await new Walker(gh.url).get(authorizeUrl(clientId));
  assert.equal(callbackParams(plainless.location).error, 'invalid_request');
  const plain = await new Walker(gh.url).get(authorizeUrl(clientId, { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }));
  assert.equal(callbackParams(plain.location).error, 'invalid_request');
});

test('code replay: a reused authorization code is refused and revokes the tokens its first use bought', async () => {
  const email = await confirmedUser(gh, poolId);
  const { code, verifier } = await codeFor(email);
  const form = { grant_type: 'authorization_code', code, client_id: clientId, redirect_uri: CALLBACK, code_verifier: verifier };
  const first = await token(gh.url, form);
  assert.equal(first.status, 200);
  const second = await token(gh.url, form);
  assert.equal(second.status, 400);
  assert.equal(second.json.error, 'invalid_grant');
  const refresh = await token(gh.url, { grant_type: 'refresh_token', refresh_token: first.json.refresh_token, client_id: clientId });
  assert.equal(refresh.json.error, 'invalid_grant', 'the first use\'s refresh token is revoked');
  const info = await fetch(`${gh.url}/oauth2/userInfo`, { headers: { authorization: `Bearer ${first.json.access_token}` } });
  assert.equal(info.status, 401, 'and its access token');
});

test('code replay: of 10 parallel redemptions of one code exactly one gets tokens', async () => {
  const email = await confirmedUser(gh, poolId);
  const { code, verifier } = await codeFor(email);
  const form = { grant_type: 'authorization_code', code, client_id: clientId, redirect_uri: CALLBACK, code_verifier: verifier };
  const answers = await Promise.all(Array.from({ length: 10 }, () => token(gh.url, form)));
  assert.equal(answers.filter((a) => a.status === 200).length, 1);
});

test('code theft: a code is refused to another client, and with another redirect_uri than it was issued for', async () => {
  const email = await confirmedUser(gh, poolId);
  const other = await anotherClient(gh, poolId, { CallbackURLs: [CALLBACK, 'https://app.example.com/other'] });
  const a = await codeFor(email);
  const stolen = await token(gh.url, { grant_type: 'authorization_code', code: a.code, client_id: other.clientId, redirect_uri: CALLBACK, code_verifier: a.verifier });
  assert.equal(stolen.json.error, 'invalid_grant');
  const b = await codeFor(email, {}, other.clientId);
  const moved = await token(gh.url, { grant_type: 'authorization_code', code: b.code, client_id: other.clientId, redirect_uri: 'https://app.example.com/other', code_verifier: b.verifier });
  assert.equal(moved.json.error, 'invalid_grant');
});

test('forged state: the server hands back exactly the state it was given, to the registered URI only, and binds nothing to a state it did not see', async () => {
  const email = await confirmedUser(gh, poolId);
  const state = 'abc-' + 'ü&%=/?#'.repeat(3);
  const done = await signInOnPage(new Walker(gh.url), clientId, email, PASSWORD, { code_challenge: pkce().challenge, state });
  assert.equal(callbackParams(done.location).state, state);
  // A callback forged with another state carries a code the attacker's PKCE verifier alone redeems:
  // the victim's app (Amplify) refuses the unknown state, and the code is useless to anyone else.
  const attacker = await codeFor(email, { state: 'attacker' });
  const victim = await token(gh.url, { grant_type: 'authorization_code', code: attacker.code, client_id: clientId, redirect_uri: CALLBACK, code_verifier: pkce().verifier });
  assert.equal(victim.json.error, 'invalid_grant');
});

test('login CSRF: a login form posted without its form token (or with another browser\'s) is refused', async () => {
  const email = await confirmedUser(gh, poolId);
  const w = new Walker(gh.url);
  const page = await w.follow(await w.get(authorizeUrl(clientId, { code_challenge: pkce().challenge })));
  const f = formOn(page.text, '/login');
  const noToken = await w.post(f.action, { username: email, password: PASSWORD });
  assert.equal(noToken.status, 403);
  const otherBrowser = new Walker(gh.url);
  const cross = await otherBrowser.post(f.action, { ...f.fields, username: email, password: PASSWORD });
  assert.equal(cross.status, 403, 'a token without the cookie it was made for is refused');
  assert.equal(cross.location, undefined);
});

test('session crossing: a challenge session of the pages is refused by RespondToAuthChallenge, which would answer tokens', async () => {
  const email = uniqueEmail('invited');
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: email, TemporaryPassword: 'Temp-Pass-1234', MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: email }] }));
  const step = await signInOnPage(new Walker(gh.url), clientId, email, 'Temp-Pass-1234', { code_challenge: pkce().challenge });
  const f = formOn(step.text, '/login/challenge');
  const cip = userClient(gh.url);
  await assert.rejects(cip.send(new RespondToAuthChallengeCommand({ ClientId: clientId, ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: f.fields.session, ChallengeResponses: { USERNAME: f.fields.username, NEW_PASSWORD: 'Chosen-Pass-5678' } })),
    (e: Error) => e.name === 'NotAuthorizedException');
  cip.destroy();
});

test('clickjacking and leaks: pages cannot be framed, are never cached, and send no referrer', async () => {
  const r = await new Walker(gh.url).follow(await new Walker(gh.url).get(authorizeUrl(clientId, { code_challenge: pkce().challenge })));
  assert.equal(r.headers.get('x-frame-options'), 'DENY');
  assert.match(r.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const cookie = r.headers.getSetCookie().find((c) => c.startsWith('gh_csrf='));
  assert.match(cookie ?? '', /HttpOnly/);
  assert.match(cookie ?? '', /SameSite=Lax/);
});

test('escaping: parameters and usernames are never written into a page as markup', async () => {
  const evil = '"><script>alert(1)</script>';
  const r = await signInOnPage(new Walker(gh.url), clientId, evil, 'x', { code_challenge: pkce().challenge, state: evil, login_hint: evil });
  assert.ok(!r.text.includes('<script>alert(1)'), 'no injected markup');
});
