import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignatureV4 } from '@smithy/signature-v4';
import sha256js from '@aws-crypto/sha256-js'; // CJS: named exports aren't statically detectable
import { verifySigV4, type SignedRequest, type SigV4Options } from '../src/wire/sigv4.js';
import {
  InvalidSignatureException,
  MissingAuthenticationTokenException,
  UnrecognizedClientException,
} from '../src/errors.js';
import { CognitoIdentityProviderClient, ListUserPoolsCommand } from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, ADMIN } from './support/harness.js';

const { Sha256 } = sha256js;

const KEY = 'AKIDEXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const NOW = new Date('2024-05-06T07:08:09Z');
const opts: SigV4Options = {
  service: 'cognito-idp',
  lookupSecret: (id) => (id === KEY ? SECRET : undefined),
  now: NOW,
};

interface SignArgs {
  region?: string;
  service?: string;
  body?: string;
  path?: string;
  query?: Record<string, string | string[]>;
  date?: Date;
  applyChecksum?: boolean;
  extraHeaders?: Record<string, string>;
  sessionToken?: string;
  unsignable?: string[];
}

// Signs with the real SDK signer and shapes the result like a node IncomingMessage would.
async function sign(a: SignArgs = {}): Promise<SignedRequest> {
  const signer = new SignatureV4({
    credentials: { accessKeyId: KEY, secretAccessKey: SECRET, sessionToken: a.sessionToken },
    region: a.region ?? 'us-east-1',
    service: a.service ?? 'cognito-idp',
    sha256: Sha256,
    applyChecksum: a.applyChecksum ?? false,
  });
  const body = a.body ?? '{"UserPoolId":"us-east-1_abc"}';
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: 'localhost',
      port: 9229,
      path: a.path ?? '/',
      query: a.query ?? {},
      headers: {
        host: 'localhost:9229',
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': 'AWSCognitoIdentityProviderService.ListUsers',
        ...a.extraHeaders,
      },
      body,
    },
    { signingDate: a.date ?? NOW, unsignableHeaders: new Set(a.unsignable ?? []) },
  );
  const qs = Object.entries(a.query ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${encodeURIComponent(k)}=${encodeURIComponent(x)}`))
    .join('&');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) headers[k.toLowerCase()] = v;
  return { method: 'POST', url: (a.path ?? '/') + (qs ? '?' + qs : ''), headers, body: Buffer.from(body) };
}

test('accepts a request signed by @smithy/signature-v4', async () => {
  const req = await sign();
  assert.ok(req.headers.authorization);
  assert.equal(req.headers['x-amz-content-sha256'], undefined);
  assert.deepEqual(await verifySigV4(req, opts), { accessKeyId: KEY, region: 'us-east-1' });
});

test('accepts x-amz-content-sha256 when present and matching', async () => {
  const req = await sign({ applyChecksum: true });
  assert.match(String(req.headers['x-amz-content-sha256']), /^[0-9a-f]{64}$/);
  assert.deepEqual(await verifySigV4(req, opts), { accessKeyId: KEY, region: 'us-east-1' });
});

test('rejects x-amz-content-sha256 that does not match the body', async () => {
  const req = await sign({ extraHeaders: { 'x-amz-content-sha256': 'a'.repeat(64) } });
  await assert.rejects(verifySigV4(req, opts), InvalidSignatureException);
});

test('UNSIGNED-PAYLOAD is refused unless explicitly allowed', async () => {
  const req = await sign({ extraHeaders: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
  await assert.rejects(verifySigV4(req, opts), InvalidSignatureException);
  assert.deepEqual(await verifySigV4(req, { ...opts, allowUnsignedPayload: true }), { accessKeyId: KEY, region: 'us-east-1' });
});

test('returns the region named in the scope', async () => {
  const req = await sign({ region: 'eu-west-1' });
  assert.deepEqual(await verifySigV4(req, opts), { accessKeyId: KEY, region: 'eu-west-1' });
});

test('session token is just another signed header', async () => {
  const req = await sign({ sessionToken: 'FwoGZXIvYXdzEXAMPLE' });
  assert.ok(String(req.headers.authorization).includes('x-amz-security-token'));
  assert.deepEqual(await verifySigV4(req, opts), { accessKeyId: KEY, region: 'us-east-1' });
});

test('query string and non-root path are canonicalised like the SDK', async () => {
  const req = await sign({
    path: '/some/path',
    query: { b: '2', a: ['z', 'y x'], 'k*!': "v'()~" },
  });
  assert.ok(req.url.includes('?'));
  assert.deepEqual(await verifySigV4(req, opts), { accessKeyId: KEY, region: 'us-east-1' });
  // Reordering the query on the wire doesn't matter; changing a value does.
  const [path, qs] = req.url.split('?');
  await assert.doesNotReject(verifySigV4({ ...req, url: path + '?' + qs.split('&').reverse().join('&') }, opts));
  await assert.rejects(verifySigV4({ ...req, url: req.url.replace('b=2', 'b=3') }, opts), InvalidSignatureException);
});

test('header values are whitespace-normalised', async () => {
  const req = await sign({ extraHeaders: { 'x-custom': 'a   b' } });
  await assert.doesNotReject(verifySigV4({ ...req, headers: { ...req.headers, 'x-custom': '  a \t b ' } }, opts));
});

test('tampered body', async () => {
  const req = await sign();
  await assert.rejects(verifySigV4({ ...req, body: Buffer.from('{"UserPoolId":"other"}') }, opts), {
    name: 'InvalidSignatureException',
    message: /does not match the signature you provided/,
  });
});

test('tampered signed header', async () => {
  const req = await sign();
  const headers = { ...req.headers, 'x-amz-target': 'AWSCognitoIdentityProviderService.AdminDeleteUser' };
  await assert.rejects(verifySigV4({ ...req, headers }, opts), InvalidSignatureException);
});

test('tampered signature', async () => {
  const req = await sign();
  const auth = String(req.headers.authorization);
  const last = auth.at(-1) === '0' ? '1' : '0';
  await assert.rejects(verifySigV4({ ...req, headers: { ...req.headers, authorization: auth.slice(0, -1) + last } }, opts), InvalidSignatureException);
  // Wrong length / non-hex must not reach timingSafeEqual with unequal buffers.
  await assert.rejects(verifySigV4({ ...req, headers: { ...req.headers, authorization: auth + 'ab' } }, opts), InvalidSignatureException);
  await assert.rejects(verifySigV4({ ...req, headers: { ...req.headers, authorization: auth.slice(0, -1) + 'g' } }, opts), InvalidSignatureException);
});

test('unknown access key id', async () => {
  const req = await sign();
  await assert.rejects(verifySigV4(req, { ...opts, lookupSecret: () => undefined }), {
    name: 'UnrecognizedClientException',
    message: 'The security token included in the request is invalid.',
  });
  await assert.rejects(verifySigV4(req, { ...opts, lookupSecret: () => undefined }), UnrecognizedClientException);
});

test('wrong secret', async () => {
  const req = await sign();
  await assert.rejects(verifySigV4(req, { ...opts, lookupSecret: () => 'nope' }), InvalidSignatureException);
});

test('clock skew: 5 minutes either way, as AWS allows; 6 minutes off is refused, 4 minutes off accepted', async () => {
  for (const sign6 of [-6, 6]) {
    const off = await sign({ date: new Date(NOW.getTime() + sign6 * 60_000) });
    await assert.rejects(verifySigV4(off, opts), { name: 'InvalidSignatureException', message: sign6 < 0 ? /^Signature expired: .*- 5 min\.\)$/ : /^Signature not yet current: .*\+ 5 min\.\)$/ });
  }
  for (const minutes of [-4, 4]) await assert.doesNotReject(verifySigV4(await sign({ date: new Date(NOW.getTime() + minutes * 60_000) }), opts));
  const old = await sign({ date: new Date(NOW.getTime() - 16 * 60_000) });
  await assert.doesNotReject(verifySigV4(old, { ...opts, maxSkewMs: 20 * 60_000 }));
});

test('x-amz-date missing, malformed, or not matching the scope', async () => {
  const req = await sign();
  const { 'x-amz-date': date, ...rest } = req.headers;
  await assert.rejects(verifySigV4({ ...req, headers: rest }, opts), InvalidSignatureException);
  await assert.rejects(verifySigV4({ ...req, headers: { ...rest, 'x-amz-date': '2024-05-06T07:08:09Z' } }, opts), InvalidSignatureException);
  await assert.rejects(verifySigV4({ ...req, headers: { ...rest, 'x-amz-date': '20241306T070809Z' } }, opts), InvalidSignatureException);
  // Same instant is within skew, but the scope date differs.
  const auth = String(req.headers.authorization).replace('/20240506/', '/20240505/');
  assert.equal(date, '20240506T070809Z');
  await assert.rejects(verifySigV4({ ...req, headers: { ...req.headers, authorization: auth } }, opts), {
    name: 'InvalidSignatureException',
    message: /^Date in Credential scope does not match/,
  });
});

test('wrong service', async () => {
  const req = await sign({ service: 'cognito-identity' });
  await assert.rejects(verifySigV4(req, opts), {
    name: 'InvalidSignatureException',
    message: "Credential should be scoped to correct service: 'cognito-idp'.",
  });
});

test('missing Authorization', async () => {
  const req = await sign();
  const { authorization: _, ...headers } = req.headers;
  await assert.rejects(verifySigV4({ ...req, headers }, opts), {
    name: 'MissingAuthenticationTokenException',
    message: 'Missing Authentication Token',
  });
  await assert.rejects(verifySigV4({ ...req, headers }, opts), MissingAuthenticationTokenException);
});

test('malformed Authorization', async () => {
  const req = await sign();
  const auth = String(req.headers.authorization);
  const bad = [
    'Basic dXNlcjpwYXNz',
    auth.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA1'),
    auth.replace(/Signature=[0-9a-f]+/, ''),
    auth.replace(/SignedHeaders=[^,]+,/, ''),
    auth.replace(/Credential=[^,]+,/, ''),
    auth.replace('/aws4_request', '/aws4_reqest'),
    auth.replace(`${KEY}/`, ''),
  ];
  for (const authorization of bad)
    await assert.rejects(verifySigV4({ ...req, headers: { ...req.headers, authorization } }, opts), InvalidSignatureException, authorization);
});

test('host must be signed', async () => {
  const req = await sign();
  const auth = String(req.headers.authorization).replace('SignedHeaders=content-type;host;', 'SignedHeaders=content-type;');
  assert.notEqual(auth, req.headers.authorization);
  await assert.rejects(verifySigV4({ ...req, headers: { ...req.headers, authorization: auth } }, opts), {
    name: 'InvalidSignatureException',
    message: /'Host' or ':authority' must be a 'SignedHeader'/,
  });
});

test('operation swap: x-amz-target must be signed when present', async () => {
  const req = await sign({ unsignable: ['x-amz-target'] });
  assert.doesNotMatch(String(req.headers.authorization), /x-amz-target/);
  // Left unsigned, the target could be changed on a captured request (ListUsers -> AdminDeleteUser).
  const swapped = { ...req, headers: { ...req.headers, 'x-amz-target': 'AWSCognitoIdentityProviderService.AdminDeleteUser' } };
  await assert.rejects(verifySigV4(swapped, opts), { name: 'InvalidSignatureException', message: /x-amz-target/ });
});

test('clock skew through the server: an admin call signed 6 minutes off is refused, one 4 minutes off is accepted', async () => {
  const gh = await startGatehouse();
  const client = (minutes: number) => new CognitoIdentityProviderClient({ endpoint: gh.url, region: 'eu-west-1', credentials: ADMIN, maxAttempts: 1, systemClockOffset: minutes * 60_000 });
  try {
    for (const minutes of [-6, 6]) {
      const c = client(minutes);
      await assert.rejects(c.send(new ListUserPoolsCommand({ MaxResults: 1 })), { name: 'InvalidSignatureException', message: /^Signature (expired|not yet current): / }, `${minutes} min`);
      c.destroy();
    }
    for (const minutes of [-4, 4]) {
      const c = client(minutes);
      assert.ok((await c.send(new ListUserPoolsCommand({ MaxResults: 1 }))).UserPools, `${minutes} min`);
      c.destroy();
    }
  } finally {
    await gh.stop();
  }
});
