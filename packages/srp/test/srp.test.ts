import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';

import {
  N,
  N_BYTES,
  SrpError,
  clientEphemeral,
  clientSessionKey,
  computeVerifier,
  formatTimestamp,
  fromHex,
  g,
  generateSalt,
  k,
  modPow,
  modPowBigInt,
  padBytes,
  padHex,
  passwordClaimSignature,
  poolNameOf,
  serverEphemeral,
  serverSessionKey,
  toBigInt,
  toBuffer,
  verifyClaim,
} from '../src/index.js';

// ---------------------------------------------------------------------------
// Oracle: amazon-cognito-identity-js (the SRP code amplify ships), loaded via
// CommonJS. It is a devDependency of packages/server, hoisted to the root.
// ---------------------------------------------------------------------------
const requireFromServer = createRequire('/work/main/packages/server/package.json');
const cognitoPkgJson = requireFromServer.resolve('amazon-cognito-identity-js/package.json');
const requireFromCognito = createRequire(cognitoPkgJson);

type Cb<T> = (err: unknown, value: T) => void;
interface OracleBigInteger {
  toString(radix: number): string;
}
interface OracleHelper {
  getLargeAValue(cb: Cb<OracleBigInteger>): void;
  getSmallAValue(): OracleBigInteger;
  getPasswordAuthenticationKey(
    username: string,
    password: string,
    serverB: OracleBigInteger,
    salt: OracleBigInteger,
    cb: Cb<Uint8Array>,
  ): void;
  generateHashDevice(deviceGroupKey: string, username: string, cb: Cb<null>): void;
  getSaltDevices(): string;
  getVerifierDevices(): string;
  getRandomPassword(): string;
}
const cognito = requireFromServer('amazon-cognito-identity-js') as {
  AuthenticationHelper: new (poolName: string) => OracleHelper;
  DateHelper: new () => { getNowString(): string };
};
const OracleBigInteger = requireFromCognito('./lib/BigInteger.js').default as new (
  s: string,
  radix: number,
) => OracleBigInteger;
const { Sha256 } = requireFromCognito('@aws-crypto/sha256-js') as {
  Sha256: new (secret?: Uint8Array) => { update(d: Uint8Array): void; digestSync(): Uint8Array };
};

/** The oracle's API is callback-style but synchronous; unwrap it. */
function sync<T>(fn: (cb: Cb<T>) => void): T {
  let out: { v: T } | undefined;
  fn((err, v) => {
    if (err) throw err;
    out = { v };
  });
  assert.ok(out, 'oracle callback was not invoked synchronously');
  return out.v;
}

function oracleA(helper: OracleHelper): Buffer {
  // Exactly what CognitoUser sends as SRP_A: unpadded, possibly odd-length hex.
  return fromHex(sync<OracleBigInteger>((cb) => helper.getLargeAValue(cb)).toString(16));
}

function oracleKey(helper: OracleHelper, userId: string, password: string, B: Buffer, saltWireHex: string): Buffer {
  // CognitoUser parses SRP_B and SALT with `new BigInteger(hex, 16)`.
  const hkdf = sync<Uint8Array>((cb) =>
    helper.getPasswordAuthenticationKey(
      userId,
      password,
      new OracleBigInteger(padHex(B), 16),
      new OracleBigInteger(saltWireHex, 16),
      cb,
    ),
  );
  return Buffer.from(hkdf);
}

/** CognitoUser.authenticateUserDefaultAuth's signature code, verbatim in spirit (aws-crypto HMAC). */
function oracleSignature(hkdf: Uint8Array, poolName: string, userId: string, secretBlockB64: string, ts: string): string {
  const h = new Sha256(hkdf);
  h.update(
    Buffer.concat([
      Buffer.from(poolName, 'utf8'),
      Buffer.from(userId, 'utf8'),
      Buffer.from(secretBlockB64, 'base64'),
      Buffer.from(ts, 'utf8'),
    ]),
  );
  return Buffer.from(h.digestSync()).toString('base64');
}

// ---------------------------------------------------------------------------
// Independent pure-BigInt reference (no code shared with src/).
// ---------------------------------------------------------------------------
const refN = BigInt('0x' + crypto.getDiffieHellman('modp15').getPrime('hex'));
const refBig = (b: Uint8Array) => BigInt('0x' + (Buffer.from(b).toString('hex') || '0'));
function refPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b %= m;
  for (; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
  return r;
}
function refPad(x: bigint): Buffer {
  let h = x.toString(16);
  if (h.length % 2) h = '0' + h;
  if (/^[89a-f]/.test(h)) h = '00' + h;
  return Buffer.from(h, 'hex');
}
const refH = (...parts: Buffer[]) => crypto.createHash('sha256').update(Buffer.concat(parts)).digest();
const refK = refBig(refH(refPad(refN), refPad(2n)));
function refX(pool: string, user: string, pw: string, salt: bigint): bigint {
  return refBig(refH(refPad(salt), refH(Buffer.from(`${pool}${user}:${pw}`))));
}
function refKey(u: bigint, S: bigint): Buffer {
  const prk = crypto.createHmac('sha256', refPad(u)).update(refPad(S)).digest();
  return crypto.createHmac('sha256', prk).update('Caldera Derived Key\u0001').digest().subarray(0, 16);
}

const POOL_ID = 'us-east-1_AbCdEf123';
const POOL = poolNameOf(POOL_ID);
const USER = '7c9e6679-7425-40de-944b-e07fc1f90ae7'; // USER_ID_FOR_SRP is the sub-like username
const PASSWORD = 'Correct-Horse-Battery-1!';

/** A salt whose first byte is forced, to hit both PAD branches. */
function saltWithFirstByte(first: number): Buffer {
  const s = generateSalt();
  s[0] = first;
  return s;
}

// ---------------------------------------------------------------------------

test('group constants match RFC 3526 / Node and the reference k', () => {
  assert.equal(N, refN);
  assert.equal(g, 2n);
  assert.equal(k, refK);
  assert.equal(poolNameOf(POOL_ID), 'AbCdEf123');
  assert.equal(poolNameOf('noUnderscore'), 'noUnderscore');
});

test('PAD encoding and hex helpers', () => {
  assert.equal(padHex(0n), '00');
  assert.equal(padHex(0x14n), '14');
  assert.equal(padHex(0xecn), '00ec');
  assert.equal(padHex(0xabcn), '0abc');
  assert.equal(padHex(Buffer.from('0000ff01', 'hex')), '00ff01');
  assert.equal(padHex(Buffer.alloc(3)), '00');
  assert.deepEqual(padBytes(N), refPad(N));
  assert.deepEqual(fromHex('abc'), Buffer.from('0abc', 'hex'));
  assert.deepEqual(fromHex('00FF'), Buffer.from([0, 255]));
  assert.throws(() => fromHex(''), SrpError);
  assert.throws(() => fromHex('12zz'), SrpError);
  assert.throws(() => fromHex('0x12'), SrpError);
  assert.equal(toBuffer(1n).length, N_BYTES);
  assert.equal(toBigInt(toBuffer(N - 1n)), N - 1n);
});

test('modPow (OpenSSL) agrees with BigInt, including edge bases', () => {
  for (let i = 0; i < 5; i++) {
    const base = toBigInt(crypto.randomBytes(384)) % N;
    const exp = crypto.randomBytes(32 + i * 16);
    const want = refPow(base, refBig(exp), refN);
    assert.equal(toBigInt(modPow(base, exp)), want);
    assert.equal(modPowBigInt(base, refBig(exp), N), want);
  }
  const e = crypto.randomBytes(32);
  assert.equal(toBigInt(modPow(2n, e)), refPow(2n, refBig(e), refN));
  for (const base of [0n, 1n, 2n, N - 1n, N, N + 1n, N + 5n]) {
    for (const exp of [0n, 1n, 2n, 3n, refBig(e)]) {
      const out = modPow(base, exp);
      assert.equal(out.length, N_BYTES);
      assert.equal(toBigInt(out), refPow(base, exp, refN), `base=${base % N} exp=${exp}`);
    }
  }
});

test('oracle: server K equals amplify K for the oracle A; claims match', () => {
  for (const first of [0x01, 0x7f, 0x80, 0xff, 0x00]) {
    const salt = saltWithFirstByte(first);
    const saltWire = padHex(salt); // what we put in ChallengeParameters.SALT
    const verifier = computeVerifier(POOL, USER, PASSWORD, salt);
    const helper = new cognito.AuthenticationHelper(POOL);
    const A = oracleA(helper);
    const { b, B } = serverEphemeral(verifier);

    const serverK = serverSessionKey({ A, B, b, verifier });
    const clientK = oracleKey(helper, USER, PASSWORD, B, saltWire);
    assert.equal(serverK.length, 16);
    assert.deepEqual(serverK, clientK, `salt first byte 0x${first.toString(16)}`);

    const secretBlock = crypto.randomBytes(1024);
    const timestamp = formatTimestamp(new Date());
    const ours = passwordClaimSignature({ key: serverK, poolName: POOL, userId: USER, secretBlock, timestamp });
    const theirs = oracleSignature(clientK, POOL, USER, secretBlock.toString('base64'), timestamp);
    assert.equal(ours, theirs);
    assert.ok(verifyClaim(ours, theirs));
  }
});

test('oracle: wrong password yields a different key and a rejected claim', () => {
  const salt = generateSalt();
  const verifier = computeVerifier(POOL, USER, PASSWORD, salt);
  const helper = new cognito.AuthenticationHelper(POOL);
  const A = oracleA(helper);
  const { b, B } = serverEphemeral(verifier);
  const serverK = serverSessionKey({ A, B, b, verifier });
  const wrongK = oracleKey(helper, USER, PASSWORD + 'x', B, padHex(salt));
  assert.notDeepEqual(serverK, wrongK);

  const secretBlock = crypto.randomBytes(64);
  const timestamp = 'Tue Mar 4 09:05:07 UTC 2025';
  const expected = passwordClaimSignature({ key: serverK, poolName: POOL, userId: USER, secretBlock, timestamp });
  const received = oracleSignature(wrongK, POOL, USER, secretBlock.toString('base64'), timestamp);
  assert.equal(verifyClaim(expected, received), false);
});

test('oracle: device verifier (generateHashDevice) equals computeVerifier, and device SRP keys agree', () => {
  for (let i = 0; i < 4; i++) {
    const deviceGroupKey = '-abcDEF12';
    const deviceKey = `us-east-1_${crypto.randomUUID()}`;
    const helper = new cognito.AuthenticationHelper(POOL);
    sync<null>((cb) => helper.generateHashDevice(deviceGroupKey, deviceKey, cb));
    const saltHex = helper.getSaltDevices();
    const verifierHex = helper.getVerifierDevices();
    const randomPassword = helper.getRandomPassword();

    const ours = computeVerifier(deviceGroupKey, deviceKey, randomPassword, fromHex(saltHex));
    assert.equal(padHex(ours), verifierHex);

    // ConfirmDevice ships both as base64 of the PAD bytes; leading 00 must not matter.
    const storedSalt = Buffer.from(Buffer.from(saltHex, 'hex').toString('base64'), 'base64');
    const storedVerifier = Buffer.from(Buffer.from(verifierHex, 'hex').toString('base64'), 'base64');
    const deviceHelper = new cognito.AuthenticationHelper(deviceGroupKey);
    const A = oracleA(deviceHelper);
    const { b, B } = serverEphemeral(storedVerifier);
    const serverK = serverSessionKey({ A, B, b, verifier: storedVerifier });
    assert.deepEqual(serverK, oracleKey(deviceHelper, deviceKey, randomPassword, B, padHex(storedSalt)));
  }
});

test('degenerate or malformed A is rejected', () => {
  const verifier = computeVerifier(POOL, USER, PASSWORD, generateSalt());
  const { b, B } = serverEphemeral(verifier);
  const bad: Array<[string, Buffer]> = [
    ['0', Buffer.of(0)],
    ['empty', Buffer.alloc(0)],
    ['1', Buffer.of(1)],
    ['N', toBuffer(N)],
    ['2N', toBuffer(2n * N, N_BYTES + 1)],
    ['N-1', toBuffer(N - 1n)],
    ['N+1', toBuffer(N + 1n, N_BYTES + 1)],
    ['oversize', Buffer.concat([Buffer.of(1), Buffer.alloc(N_BYTES)])],
  ];
  for (const [name, A] of bad) {
    assert.throws(
      () => serverSessionKey({ A, B, b, verifier }),
      (err: unknown) => err instanceof SrpError && err instanceof Error && /SRP_A/.test(err.message),
      `A=${name}`,
    );
  }
  // A with harmless leading zero bytes is fine.
  const { a: _a, A } = clientEphemeral();
  assert.doesNotThrow(() => serverSessionKey({ A: Buffer.concat([Buffer.alloc(3), A]), B, b, verifier }));
});

test('degenerate B is rejected by the client', () => {
  const salt = generateSalt();
  const { a, A } = clientEphemeral();
  for (const B of [Buffer.of(0), toBuffer(N), Buffer.of(1)]) {
    assert.throws(
      () => clientSessionKey({ poolName: POOL, userId: USER, password: PASSWORD, salt, A, a, B }),
      SrpError,
    );
  }
});

test('salts with the high bit set (and leading zero) round-trip through the wire hex', () => {
  for (const first of [0x80, 0xff, 0x00, 0x01]) {
    const salt = saltWithFirstByte(first);
    const wire = padHex(salt);
    if (first >= 0x80) assert.ok(wire.startsWith('00') && wire.length === 34, wire);
    // amplify: new BigInteger(SALT, 16) then padHex() again.
    const reparsed = new OracleBigInteger(wire, 16).toString(16);
    assert.equal(padHex(fromHex(reparsed)), wire);
    const v1 = computeVerifier(POOL, USER, PASSWORD, salt);
    const v2 = computeVerifier(POOL, USER, PASSWORD, fromHex(wire));
    const v3 = computeVerifier(POOL, USER, PASSWORD, fromHex(reparsed));
    assert.deepEqual(v1, v2);
    assert.deepEqual(v1, v3);
  }
});

test('our client and our server agree; pure-BigInt reference agrees with both', () => {
  const salt = saltWithFirstByte(0x9a);
  const verifier = computeVerifier(POOL, USER, PASSWORD, salt);
  const { a, A } = clientEphemeral();
  const { b, B } = serverEphemeral(verifier);
  const serverK = serverSessionKey({ A, B, b, verifier });
  const clientK = clientSessionKey({ poolName: POOL, userId: USER, password: PASSWORD, salt, A, a, B });
  assert.deepEqual(clientK, serverK);

  const wrongK = clientSessionKey({ poolName: POOL, userId: USER, password: 'nope', salt, A, a, B });
  assert.notDeepEqual(wrongK, serverK);

  // Reference, from first principles.
  const x = refX(POOL, USER, PASSWORD, refBig(salt));
  const v = refPow(2n, x, refN);
  assert.equal(toBigInt(verifier), v);
  const An = refPow(2n, refBig(a), refN);
  assert.equal(toBigInt(A), An);
  const Bn = (refK * v + refPow(2n, refBig(b), refN)) % refN;
  assert.equal(toBigInt(B), Bn);
  const u = refBig(refH(refPad(An), refPad(Bn)));
  const Sserver = refPow((An * refPow(v, u, refN)) % refN, refBig(b), refN);
  const Sclient = refPow((((Bn - refK * refPow(2n, x, refN)) % refN) + refN) % refN, refBig(a) + u * x, refN);
  assert.equal(Sserver, Sclient);
  assert.deepEqual(refKey(u, Sserver), serverK);

  // And the claim, from first principles.
  const secretBlock = crypto.randomBytes(48);
  const ts = 'Sat Jan 1 00:00:00 UTC 2000';
  const refSig = crypto
    .createHmac('sha256', refKey(u, Sserver))
    .update(Buffer.concat([Buffer.from(POOL), Buffer.from(USER), secretBlock, Buffer.from(ts)]))
    .digest('base64');
  assert.equal(passwordClaimSignature({ key: serverK, poolName: POOL, userId: USER, secretBlock, timestamp: ts }), refSig);
});

test('verifyClaim', () => {
  const sig = crypto.randomBytes(32).toString('base64');
  assert.equal(verifyClaim(sig, sig), true);
  assert.equal(verifyClaim(sig, sig.replace(/=+$/, '')), true); // padding-insensitive
  const other = Buffer.from(sig, 'base64');
  other[5] = other[5]! ^ 1;
  assert.equal(verifyClaim(sig, other.toString('base64')), false);
  assert.equal(verifyClaim(sig, ''), false);
  assert.equal(verifyClaim(sig, sig.slice(0, 20)), false);
  assert.equal(verifyClaim('', ''), false);
});

test('formatTimestamp matches the Cognito format and amplify DateHelper', () => {
  const cases: Array<[Date, string]> = [
    [new Date(Date.UTC(2025, 2, 4, 9, 5, 7)), 'Tue Mar 4 09:05:07 UTC 2025'],
    [new Date(Date.UTC(2024, 1, 29, 0, 0, 0)), 'Thu Feb 29 00:00:00 UTC 2024'],
    [new Date(Date.UTC(2023, 11, 31, 23, 59, 59)), 'Sun Dec 31 23:59:59 UTC 2023'],
    [new Date(Date.UTC(2026, 0, 1, 12, 30, 9)), 'Thu Jan 1 12:30:09 UTC 2026'],
  ];
  for (const [date, want] of cases) assert.equal(formatTimestamp(date), want);

  // Cross-check against the oracle with a mocked clock.
  mock.timers.enable({ apis: ['Date'], now: Date.UTC(2025, 2, 4, 9, 5, 7) });
  try {
    assert.equal(new cognito.DateHelper().getNowString(), formatTimestamp(new Date()));
  } finally {
    mock.timers.reset();
  }
});
