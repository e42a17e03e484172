/**
 * @gatehouse/srp/client — the client side of Cognito's SRP for any runtime with
 * WebCrypto and BigInt (browsers, Node 20, Deno, Bun, workers). No node: import
 * and no Buffer, so a browser bundle of it stays small and self-contained; the
 * server keeps the OpenSSL path in index.ts.
 *
 * Hex strings are the wire form (SRP_A, SRP_B, SALT); byte arrays are unsigned
 * big-endian integers, hashed in their PAD form as the protocol requires.
 */
import { N_HEX } from './modp.js';
import { formatTimestamp } from './timestamp.js';

export { formatTimestamp };

const N = BigInt('0x' + N_HEX);
const g = 2n;
const utf8 = (s: string) => new TextEncoder().encode(s);

export class SrpClientError extends Error {
  override name = 'SrpClientError';
}

export function bytesToHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}

/** Wire hex (either case, odd length allowed) -> bytes; refuses anything else. */
export function hexToBytes(hex: string): Uint8Array {
  if (!/^[0-9a-fA-F]+$/.test(hex)) throw new SrpClientError('Invalid hex integer');
  if (hex.length % 2) hex = '0' + hex;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

const big = (hex: string): bigint => BigInt('0x' + bytesToHex(hexToBytes(hex)));
const bytesToBig = (b: Uint8Array): bigint => (b.length ? BigInt('0x' + bytesToHex(b)) : 0n);

/** Cognito's PAD(x): minimal big-endian bytes, with 0x00 prepended when the top bit is set. */
export function padHex(x: bigint): string {
  let h = x.toString(16);
  if (h.length % 2) h = '0' + h;
  return /^[89a-f]/.test(h) ? '00' + h : h;
}
const pad = (x: bigint) => hexToBytes(padHex(x));

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
export function fromBase64(b64: string): Uint8Array {
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

export async function sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', concat(parts)));
}

export async function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey('raw', new Uint8Array(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, concat(parts)));
}

export function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/**
 * base^exp mod m with a fixed 4-bit window: about 15% fewer multiplications than
 * square-and-multiply. Not constant-time; the client's exponents are
 * single-use (a, and a + u*x for one sign-in).
 */
export function modPow(base: bigint, exp: bigint, m: bigint = N): bigint {
  if (m === 1n) return 0n;
  base %= m;
  if (base < 0n) base += m;
  const table = [1n, base];
  for (let i = 2; i < 16; i++) table.push((table[i - 1]! * base) % m);
  const hex = exp.toString(16);
  let r = 1n;
  for (let i = 0; i < hex.length; i++) {
    if (i) for (let j = 0; j < 4; j++) r = (r * r) % m;
    const d = parseInt(hex[i]!, 16);
    if (d) r = (r * table[d]!) % m;
  }
  return r;
}

let kValue: Promise<bigint> | undefined;
/** k = H(PAD(N) || PAD(g)), computed once. */
const multiplier = () => (kValue ??= sha256(pad(N), pad(g)).then(bytesToBig));

/** One sign-in's ephemeral pair: a random 256-bit a (not Amplify's 1024 bits; 3072-bit SRP gives ~128-bit security) and A = g^a mod N. */
export interface SrpEphemeral {
  a: bigint;
  A: bigint;
  /** A as the wire hex for SRP_A. */
  srpA: string;
}

export function startSrp(): SrpEphemeral {
  for (;;) {
    const a = bytesToBig(randomBytes(32));
    const A = modPow(g, a);
    if (a !== 0n && A > 1n) return { a, A, srpA: A.toString(16) };
  }
}

/** x = H(PAD(salt) || H(poolName || userId || ":" || password)). */
async function computeX(poolName: string, userId: string, password: string, salt: bigint): Promise<bigint> {
  return bytesToBig(await sha256(pad(salt), await sha256(utf8(`${poolName}${userId}:${password}`))));
}

/**
 * K from the server's SRP_B and SALT (wire hex): S = (B - k*g^x)^(a + u*x) mod N,
 * K = HKDF-SHA256(PAD(S), salt PAD(u), "Caldera Derived Key") truncated to 16 bytes.
 * Refuses a B a genuine server never sends (≡ 0 or ±1 mod N).
 */
export async function sessionKey(params: {
  poolName: string;
  userId: string;
  password: string;
  salt: string;
  srpB: string;
  ephemeral: SrpEphemeral;
}): Promise<Uint8Array> {
  const { poolName, userId, password, ephemeral } = params;
  const rawB = big(params.srpB);
  if (rawB >= 1n << 3072n) throw new SrpClientError('SRP_B is longer than the group modulus');
  const B = rawB % N;
  if (B === 0n || B === 1n || B === N - 1n) throw new SrpClientError('Invalid SRP_B');
  const u = bytesToBig(await sha256(pad(ephemeral.A), pad(rawB)));
  if (u === 0n) throw new SrpClientError('Invalid SRP parameters: u = 0');
  const x = await computeX(poolName, userId, password, big(params.salt));
  const k = await multiplier();
  const base = (((B - ((k * modPow(g, x)) % N)) % N) + N) % N;
  if (base === 0n || base === 1n || base === N - 1n) throw new SrpClientError('Invalid SRP_B');
  const S = modPow(base, ephemeral.a + u * x);
  const prk = await hmacSha256(pad(u), pad(S));
  return (await hmacSha256(prk, utf8('Caldera Derived Key'), Uint8Array.of(1))).subarray(0, 16);
}

/**
 * The PASSWORD_VERIFIER (or DEVICE_PASSWORD_VERIFIER) answer: PASSWORD_CLAIM_SIGNATURE
 * = base64(HMAC(K, poolName || userId || SECRET_BLOCK bytes || TIMESTAMP)).
 */
export async function passwordClaim(params: {
  poolName: string;
  userId: string;
  password: string;
  salt: string;
  srpB: string;
  secretBlock: string;
  ephemeral: SrpEphemeral;
  now?: Date;
}): Promise<{ signature: string; timestamp: string }> {
  const key = await sessionKey(params);
  const timestamp = formatTimestamp(params.now ?? new Date());
  const mac = await hmacSha256(key, utf8(params.poolName), utf8(params.userId), fromBase64(params.secretBlock), utf8(timestamp));
  return { signature: toBase64(mac), timestamp };
}

/**
 * A remembered device's secret, made when Cognito hands out NewDeviceMetadata:
 * a random password (40 bytes, base64) and the salt and verifier ConfirmDevice
 * takes, each base64 of its PAD bytes. poolName = DeviceGroupKey, userId = DeviceKey.
 */
export async function deviceSecret(deviceGroupKey: string, deviceKey: string): Promise<{ randomPassword: string; salt: string; verifier: string }> {
  const randomPassword = toBase64(randomBytes(40));
  const salt = bytesToBig(randomBytes(16));
  const x = await computeX(deviceGroupKey, deviceKey, randomPassword, salt);
  return { randomPassword, salt: toBase64(pad(salt)), verifier: toBase64(pad(modPow(g, x))) };
}
