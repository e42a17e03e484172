// The runtime-neutral client entry (@gatehouse/srp/client) against the server's OpenSSL path
// and against amazon-cognito-identity-js (the SRP code amplify ships) as an oracle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

import { computeVerifier, fromHex, generateSalt, modPow as opensslModPow, padHex, passwordClaimSignature, serverEphemeral, serverSessionKey, toBigInt, verifyClaim, N } from '../src/index.js';
import { deviceSecret, modPow, passwordClaim, sessionKey, startSrp, SrpClientError, type SrpEphemeral } from '../src/client.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const requireFromServer = createRequire(path.resolve(here, '../../server/package.json'));
type Cb<T> = (err: unknown, value: T) => void;
interface OracleBig { toString(radix: number): string }
interface OracleHelper {
  getLargeAValue(cb: Cb<OracleBig>): void;
  smallAValue: OracleBig;
  getPasswordAuthenticationKey(u: string, p: string, B: OracleBig, salt: OracleBig, cb: Cb<Uint8Array>): void;
}
const cognito = requireFromServer('amazon-cognito-identity-js') as { AuthenticationHelper: new (pool: string) => OracleHelper };
const OracleBigInteger = createRequire(requireFromServer.resolve('amazon-cognito-identity-js/package.json'))('./lib/BigInteger.js').default as new (s: string, r: number) => OracleBig;

function sync<T>(fn: (cb: Cb<T>) => void): T {
  let out: { v: T } | undefined;
  fn((err, v) => { if (err) throw err; out = { v }; });
  assert.ok(out);
  return out.v;
}

const POOL = 'AbCdEf123';
const USER = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
const PASSWORD = 'Correct-Horse-Battery-1!';

function salted(first: number) {
  const s = generateSalt();
  s[0] = first;
  return s;
}

test('client key equals the server key and the claim verifies, for salts on both PAD branches', async () => {
  for (const first of [0x00, 0x01, 0x7f, 0x80, 0xff]) {
    const salt = salted(first);
    const verifier = computeVerifier(POOL, USER, PASSWORD, salt);
    const eph = startSrp();
    const { b, B } = serverEphemeral(verifier);
    const serverK = serverSessionKey({ A: fromHex(eph.srpA), B, b, verifier });
    const clientK = await sessionKey({ poolName: POOL, userId: USER, password: PASSWORD, salt: padHex(salt), srpB: padHex(B), ephemeral: eph });
    assert.deepEqual(Buffer.from(clientK), serverK, `salt first byte ${first}`);

    const secretBlock = crypto.randomBytes(300);
    const claim = await passwordClaim({ poolName: POOL, userId: USER, password: PASSWORD, salt: padHex(salt), srpB: padHex(B), secretBlock: secretBlock.toString('base64'), ephemeral: eph });
    const expected = passwordClaimSignature({ key: serverK, poolName: POOL, userId: USER, secretBlock, timestamp: claim.timestamp });
    assert.ok(verifyClaim(expected, claim.signature));
  }
});

test('a wrong password gives a claim the server refuses', async () => {
  const salt = generateSalt();
  const verifier = computeVerifier(POOL, USER, PASSWORD, salt);
  const eph = startSrp();
  const { b, B } = serverEphemeral(verifier);
  const serverK = serverSessionKey({ A: fromHex(eph.srpA), B, b, verifier });
  const secretBlock = crypto.randomBytes(64);
  const claim = await passwordClaim({ poolName: POOL, userId: USER, password: PASSWORD + 'x', salt: padHex(salt), srpB: padHex(B), secretBlock: secretBlock.toString('base64'), ephemeral: eph });
  assert.equal(verifyClaim(passwordClaimSignature({ key: serverK, poolName: POOL, userId: USER, secretBlock, timestamp: claim.timestamp }), claim.signature), false);
});

test('oracle: with amplify\'s own a, the client key and signature equal amplify\'s', async () => {
  for (const first of [0x05, 0x90]) {
    const salt = salted(first);
    const verifier = computeVerifier(POOL, USER, PASSWORD, salt);
    const helper = new cognito.AuthenticationHelper(POOL);
    const A = BigInt('0x' + sync<OracleBig>((cb) => helper.getLargeAValue(cb)).toString(16));
    const eph: SrpEphemeral = { a: BigInt('0x' + helper.smallAValue.toString(16)), A, srpA: A.toString(16) };
    const { B } = serverEphemeral(verifier);
    const theirs = sync<Uint8Array>((cb) => helper.getPasswordAuthenticationKey(USER, PASSWORD, new OracleBigInteger(padHex(B), 16), new OracleBigInteger(padHex(salt), 16), cb));
    const ours = await sessionKey({ poolName: POOL, userId: USER, password: PASSWORD, salt: padHex(salt), srpB: padHex(B), ephemeral: eph });
    assert.deepEqual(Buffer.from(ours), Buffer.from(theirs));
  }
});

test('the client secret a is 256 bits and A = g^a mod N', () => {
  for (let i = 0; i < 20; i++) {
    const eph = startSrp();
    assert.ok(eph.a > 0n && eph.a < 1n << 256n);
    assert.equal(eph.A, toBigInt(opensslModPow(2n, eph.a)));
    assert.equal(BigInt('0x' + eph.srpA), eph.A);
  }
});

test('windowed BigInt modPow agrees with OpenSSL for random and edge values', () => {
  for (let i = 0; i < 6; i++) {
    const base = toBigInt(crypto.randomBytes(384)) % N;
    const exp = toBigInt(crypto.randomBytes(1 + i * 13));
    assert.equal(modPow(base, exp), toBigInt(opensslModPow(base, exp)));
  }
  for (const base of [0n, 1n, 2n, N - 1n, N + 3n]) for (const exp of [0n, 1n, 2n, 15n, 16n, 17n]) assert.equal(modPow(base, exp), toBigInt(opensslModPow(base, exp)));
  assert.equal(modPow(5n, 3n, 7n), 6n);
  assert.equal(modPow(5n, 3n, 1n), 0n);
});

test('a degenerate or malformed SRP_B is refused', async () => {
  const eph = startSrp();
  for (const srpB of ['0', '1', padHex(N), padHex(N - 1n), padHex(2n * N), 'zz', '']) {
    await assert.rejects(sessionKey({ poolName: POOL, userId: USER, password: PASSWORD, salt: 'ab', srpB, ephemeral: eph }), SrpClientError, srpB.slice(0, 8));
  }
});

test('device secret: the verifier ConfirmDevice gets is the server\'s verifier, and device SRP keys agree', async () => {
  const group = '-abcDEF12';
  const device = `us-east-1_${crypto.randomUUID()}`;
  const d = await deviceSecret(group, device);
  assert.equal(Buffer.from(d.randomPassword, 'base64').length, 40);
  const salt = Buffer.from(d.salt, 'base64');
  const verifier = Buffer.from(d.verifier, 'base64');
  assert.equal(toBigInt(verifier), toBigInt(computeVerifier(group, device, d.randomPassword, salt)));
  const eph = startSrp();
  const { b, B } = serverEphemeral(verifier);
  const serverK = serverSessionKey({ A: fromHex(eph.srpA), B, b, verifier });
  const clientK = await sessionKey({ poolName: group, userId: device, password: d.randomPassword, salt: padHex(salt), srpB: padHex(B), ephemeral: eph });
  assert.deepEqual(Buffer.from(clientK), serverK);
});

test('the client entry bundles for browsers without node:crypto or Buffer', async () => {
  const out = await build({ entryPoints: [path.resolve(here, '../src/client.ts')], bundle: true, platform: 'browser', format: 'esm', write: false, minify: true });
  const code = out.outputFiles[0]!.text;
  assert.doesNotMatch(code, /node:|require\(|\bBuffer\b/);
  assert.ok(code.length < 6000, `${code.length} bytes`);
});
