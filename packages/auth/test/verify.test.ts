// verifyToken and its middleware against tokens a real server issued, and each forgery a backend
// must refuse: a tampered token, a forged signature, alg none, an expired token, another pool's or
// another client's token, an ID token offered as an access token, a signed-out one when asked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import crypto from 'node:crypto';
import { CreateUserPoolClientCommand } from '@aws-sdk/client-cognito-identity-provider';
import { createAuth, memoryStorage, verifyToken, createVerifier, nodeMiddleware, fetchMiddleware, type VerifyOptions } from '@gatehouse/auth';
import { MailCatcher, startGatehouse, createPoolAndClient, uniqueEmail, type Gatehouse } from '../../server/test/support/harness.js';

let gh: Gatehouse, mail: MailCatcher, poolId: string, clientId: string, otherPool: { poolId: string; clientId: string };
const PASSWORD = 'Correct-Horse-9';

before(async () => {
  mail = await new MailCatcher().start();
  gh = await startGatehouse({ GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${mail.port}` });
  ({ poolId, clientId } = await createPoolAndClient(gh));
  otherPool = await createPoolAndClient(gh);
});
after(async () => { await gh?.stop(); await mail?.close(); });

async function signedIn(pool = { poolId, clientId }) {
  const auth = createAuth({ Auth: { Cognito: { userPoolId: pool.poolId, userPoolClientId: pool.clientId, userPoolEndpoint: gh.url } } }, { storage: memoryStorage() });
  const email = uniqueEmail();
  const since = Date.now();
  await auth.signUp({ username: email, password: PASSWORD, options: { userAttributes: { email } } });
  await auth.confirmSignUp({ username: email, confirmationCode: await mail.code(email, since) });
  await auth.signIn({ username: email, password: PASSWORD });
  const { tokens } = await auth.fetchAuthSession();
  return { auth, email, access: tokens!.accessToken.toString(), id: tokens!.idToken!.toString() };
}

const opts = (extra: Partial<VerifyOptions> = {}): VerifyOptions => ({ userPoolId: poolId, clientId, endpoint: gh.url, ...extra });
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const parts = (t: string) => t.split('.') as [string, string, string];
const claims = (t: string) => JSON.parse(Buffer.from(parts(t)[1], 'base64url').toString());
async function refusal(p: Promise<unknown>): Promise<string> {
  try { await p; } catch (e) { return (e as Error).name; }
  return 'accepted';
}

test('genuine access and ID tokens verify, with their claims', async () => {
  const { access, id, email } = await signedIn();
  const a = await verifyToken(access, opts());
  assert.equal(a.payload.token_use, 'access');
  assert.equal(a.payload.client_id, clientId);
  const i = await verifyToken(id, opts({ tokenUse: 'id' }));
  assert.equal(i.payload.email, email);
  assert.equal(i.payload.sub, a.payload.sub);
  assert.equal((await verifyToken(id, opts({ tokenUse: null }))).payload.token_use, 'id');
});

test('forgery: a tampered payload or signature is refused', async () => {
  const { access } = await signedIn();
  const [h, p, s] = parts(access);
  const raised = b64({ ...claims(access), 'cognito:groups': ['admin'] });
  assert.equal(await refusal(verifyToken(`${h}.${raised}.${s}`, opts())), 'JwtInvalidSignature');
  const flipped = Buffer.from(s, 'base64url');
  flipped[10]! ^= 1;
  assert.equal(await refusal(verifyToken(`${h}.${p}.${flipped.toString('base64url')}`, opts())), 'JwtInvalidSignature');
  assert.equal(await refusal(verifyToken(`${h}.${p}`, opts())), 'JwtMalformed');
});

test('forgery: alg none, HS256 and a key of the attacker\'s under the pool\'s kid are refused', async () => {
  const { access } = await signedIn();
  const header = JSON.parse(Buffer.from(parts(access)[0], 'base64url').toString());
  const body = b64(claims(access));
  assert.equal(await refusal(verifyToken(`${b64({ alg: 'none', kid: header.kid })}.${body}.`, opts())), 'JwtInvalidSignature');
  const hs = `${b64({ alg: 'HS256', kid: header.kid })}.${body}`;
  assert.equal(await refusal(verifyToken(`${hs}.${crypto.createHmac('sha256', 'secret').update(hs).digest('base64url')}`, opts())), 'JwtInvalidSignature');
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signed = `${b64(header)}.${body}`;
  assert.equal(await refusal(verifyToken(`${signed}.${crypto.sign('sha256', Buffer.from(signed), privateKey).toString('base64url')}`, opts())), 'JwtInvalidSignature');
});

test('an expired token is refused; within the clock tolerance it is not', async () => {
  const { access } = await signedIn();
  const exp = claims(access).exp * 1000;
  assert.equal(await refusal(verifyToken(access, opts({ now: () => exp + 6000 }))), 'JwtExpired');
  assert.equal(await refusal(verifyToken(access, opts({ now: () => exp + 1000 }))), 'accepted');
  assert.equal(await refusal(verifyToken(access, opts({ now: () => exp + 1000, clockToleranceSeconds: 0 }))), 'JwtExpired');
});

test('a token of another user pool, or of another app client, is refused', async () => {
  const foreign = await signedIn(otherPool);
  assert.match(await refusal(verifyToken(foreign.access, opts())), /^(JwtInvalidSignature|JwtInvalidIssuer)$/);
  const { UserPoolClient } = await gh.admin.send(new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName: 'other', ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] }));
  const mine = await signedIn({ poolId, clientId: UserPoolClient!.ClientId! });
  assert.equal(await refusal(verifyToken(mine.access, opts())), 'JwtInvalidClient');
  assert.equal(await refusal(verifyToken(mine.id, opts({ tokenUse: 'id' }))), 'JwtInvalidClient');
  assert.equal(await refusal(verifyToken(mine.access, opts({ clientId: [clientId, UserPoolClient!.ClientId!] }))), 'accepted');
  // A pinned issuer that is not the pool's own refuses everything.
  assert.equal(await refusal(verifyToken(mine.access, opts({ clientId: UserPoolClient!.ClientId!, issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x' }))), 'JwtInvalidIssuer');
});

test('an ID token offered where an access token is expected is refused, and the reverse', async () => {
  const { access, id } = await signedIn();
  assert.equal(await refusal(verifyToken(id, opts())), 'JwtInvalidTokenUse');
  assert.equal(await refusal(verifyToken(access, opts({ tokenUse: 'id' }))), 'JwtInvalidTokenUse');
});

test('revocation is checked when asked: a signed-out access token still verifies offline but not with checkRevocation', async () => {
  const { auth, access, id } = await signedIn();
  assert.equal(await refusal(verifyToken(access, opts({ checkRevocation: true }))), 'accepted');
  await auth.signOut();
  assert.equal(await refusal(verifyToken(access, opts())), 'accepted');
  assert.equal(await refusal(verifyToken(access, opts({ checkRevocation: true }))), 'JwtRevoked');
  assert.equal(await refusal(verifyToken(id, opts({ tokenUse: 'id', checkRevocation: true }))), 'JwtRevocationUnchecked');
});

test('keys that cannot be fetched answer 503, not a verdict on the token', async () => {
  const { access } = await signedIn();
  const v = createVerifier(opts({ endpoint: 'http://127.0.0.1:9', issuer: 'x' }));
  await assert.rejects(v.verify(access), (e: Error & { status?: number }) => e.name === 'JwksUnavailable' && e.status === 503);
});

test('Node middleware: 401 without a valid bearer token, the verified claims on req.auth with one', async () => {
  const { access } = await signedIn();
  const guard = nodeMiddleware(opts());
  const server = http.createServer(async (req, res) => {
    const auth = await guard(req as never, res);
    if (auth) res.end(JSON.stringify({ sub: auth.payload.sub }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  try {
    const none = await fetch(url);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.equal((await fetch(url, { headers: { authorization: `Bearer ${access}x` } })).status, 401);
    const ok = await fetch(url, { headers: { authorization: `Bearer ${access}` } });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).sub, claims(access).sub);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('fetch middleware wraps a handler and hands it the verified token', async () => {
  const { access } = await signedIn();
  const handler = fetchMiddleware(opts())((_req, auth) => Response.json({ user: auth.payload.username }));
  assert.equal((await handler(new Request('http://app/'))).status, 401);
  assert.equal((await handler(new Request('http://app/', { headers: { authorization: 'Bearer nope' } }))).status, 401);
  const ok = await handler(new Request('http://app/', { headers: { authorization: `Bearer ${access}` } }));
  assert.equal((await ok.json()).user, claims(access).username);
});
