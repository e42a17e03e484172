/**
 * Cognito's SRP-6a: verifier, ephemerals and session key for both sides.
 *
 * Conventions: every Buffer is an unsigned big-endian integer, so leading zero
 * bytes never matter (a salt that arrived as PAD hex "00ab..." is the same
 * salt as "ab..."). Hashes are always over PAD(...) bytes, computed here.
 * Device SRP is identical with poolName = DeviceGroupKey, userId = DeviceKey.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { N, N_BYTES, SrpError, g, k, padBytes, sha256, toBigInt, toBuffer } from './group.js';
import { modPow } from './modpow.js';

/** Random exponent size. 256 bits matches the ~128-bit security of the 3072-bit group. */
const EPHEMERAL_BYTES = 32;
const HKDF_INFO = Buffer.concat([Buffer.from('Caldera Derived Key', 'utf8'), Buffer.of(1)]);

/** 16 random bytes, the size Cognito and amplify use. Send as `padHex(salt)`. */
export function generateSalt(): Buffer {
  return randomBytes(16);
}

/** "us-east-1_AbC123" -> "AbC123": the pool part that prefixes the SRP identity hash. */
export function poolNameOf(userPoolId: string): string {
  const i = userPoolId.indexOf('_');
  return i === -1 ? userPoolId : userPoolId.slice(i + 1);
}

/** x = H(PAD(salt) || H(poolName || userId || ":" || password)), as the raw 32-byte hash. */
export function computeX(poolName: string, userId: string, password: string, salt: Uint8Array): Buffer {
  const identity = sha256(Buffer.from(`${poolName}${userId}:${password}`, 'utf8'));
  return sha256(padBytes(salt), identity);
}

/** v = g^x mod N, as fixed-width N_BYTES (384) bytes. Wire/storage form is up to the caller (`padHex(v)` for Cognito). */
export function computeVerifier(poolName: string, userId: string, password: string, salt: Uint8Array): Buffer {
  return modPow(g, computeX(poolName, userId, password, salt));
}

/** u = H(PAD(A) || PAD(B)), as the raw 32-byte hash. */
export function computeU(A: Uint8Array, B: Uint8Array): Buffer {
  return sha256(padBytes(A), padBytes(B));
}

/**
 * K = first 16 bytes of HKDF-SHA256(ikm = PAD(S), salt = PAD(u), info = "Caldera Derived Key").
 * Single-block HKDF expand, exactly as amplify's computehkdf.
 */
export function deriveKey(u: Uint8Array, S: Uint8Array): Buffer {
  const prk = createHmac('sha256', padBytes(u)).update(padBytes(S)).digest();
  return createHmac('sha256', prk).update(HKDF_INFO).digest().subarray(0, 16);
}

/**
 * Parse a peer's public ephemeral (A or B) and reduce it mod N. Rejects values
 * a genuine peer never produces — ≡ 0 (the SRP-6a check; would force S = 0),
 * ≡ ±1 — and oversize inputs, which bounds the BigInt work per request.
 */
export function checkPublic(value: Uint8Array, name: 'SRP_A' | 'SRP_B'): bigint {
  const x = toBigInt(value);
  if (x >= 1n << BigInt(N_BYTES * 8)) throw new SrpError(`${name} is longer than the group modulus`);
  const r = x % N;
  if (r === 0n || r === 1n || r === N - 1n) throw new SrpError(`Invalid ${name}: degenerate value`);
  return r;
}

function checkU(u: Buffer): bigint {
  const v = toBigInt(u);
  if (v === 0n) throw new SrpError('Invalid SRP parameters: u = 0');
  return v;
}

/** A base that reduced to 0 or ±1 would make S trivially predictable; refuse rather than sign with it. */
function checkBase(base: bigint, name: 'SRP_A' | 'SRP_B'): bigint {
  if (base === 0n || base === 1n || base === N - 1n) throw new SrpError(`Invalid ${name}: degenerate session base`);
  return base;
}

/**
 * Server ephemeral: random b, B = (k*v + g^b) mod N. B is N_BYTES wide; send
 * `padHex(B)` as SRP_B. Keep `b` server-side (session state) for serverSessionKey.
 */
export function serverEphemeral(verifier: Uint8Array): { b: Buffer; B: Buffer } {
  const v = toBigInt(verifier) % N;
  for (;;) {
    const b = randomBytes(EPHEMERAL_BYTES);
    const B = (k * v + toBigInt(modPow(g, b))) % N;
    // B ≡ 0 is astronomically unlikely but the client would reject it; just redraw.
    if (B !== 0n) return { b, B: toBuffer(B) };
  }
}

/**
 * Server session key K from the client's A. S = (A * v^u)^b mod N.
 * Throws SrpError for an invalid A (map to NotAuthorizedException).
 * Cost: two modexps with 256-bit exponents.
 */
export function serverSessionKey(params: { A: Uint8Array; B: Uint8Array; b: Uint8Array; verifier: Uint8Array }): Buffer {
  const { A, B, b, verifier } = params;
  const a = checkPublic(A, 'SRP_A');
  const uHash = computeU(A, B);
  checkU(uHash);
  const vu = toBigInt(modPow(verifier, uHash));
  const base = checkBase((a * vu) % N, 'SRP_A');
  const S = modPow(base, b);
  return deriveKey(uHash, S);
}

/** Client ephemeral: random a, A = g^a mod N (N_BYTES wide; amplify sends it unpadded, either parses the same). */
export function clientEphemeral(): { a: Buffer; A: Buffer } {
  for (;;) {
    const a = randomBytes(EPHEMERAL_BYTES);
    const A = modPow(g, a);
    if (toBigInt(A) !== 0n) return { a, A };
  }
}

/**
 * Client session key K from the server's B and salt.
 * S = (B - k*g^x)^(a + u*x) mod N. Throws SrpError for an invalid B.
 */
export function clientSessionKey(params: {
  poolName: string;
  userId: string;
  password: string;
  salt: Uint8Array;
  A: Uint8Array;
  a: Uint8Array;
  B: Uint8Array;
}): Buffer {
  const { poolName, userId, password, salt, A, a, B } = params;
  const Bn = checkPublic(B, 'SRP_B');
  const uHash = computeU(A, B);
  const u = checkU(uHash);
  const x = toBigInt(computeX(poolName, userId, password, salt));
  const gx = toBigInt(modPow(g, x));
  const base = checkBase((((Bn - k * gx) % N) + N) % N, 'SRP_B');
  const S = modPow(base, toBigInt(a) + u * x);
  return deriveKey(uHash, S);
}
