/**
 * The SRP-6a group Cognito uses, plus the integer <-> bytes/hex encodings its
 * clients expect. Everything here is cheap; the expensive modexp lives in
 * modpow.ts so it can be swapped per platform.
 */
import { createHash } from 'node:crypto';

import { N_HEX } from './modp.js';

export { N_HEX };

/** Byte length of N; modexp results are returned at this fixed width. */
export const N_BYTES = 384;
export const N_BUFFER: Buffer = Buffer.from(N_HEX, 'hex');
export const N: bigint = BigInt('0x' + N_HEX);
export const g = 2n;

/**
 * Thrown for protocol-level rejections (bad A/B, malformed hex). A distinct
 * class so the server can map exactly these to NotAuthorizedException and let
 * anything else surface as an internal error.
 */
export class SrpError extends Error {
  override name = 'SrpError';
}

/** Unsigned big-endian bytes -> bigint. Leading zero bytes are irrelevant. */
export function toBigInt(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  return BigInt('0x' + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex'));
}

/** bigint -> unsigned big-endian bytes, left-padded to `length` (default N_BYTES). */
export function toBuffer(x: bigint, length: number = N_BYTES): Buffer {
  if (x < 0n) throw new RangeError('toBuffer: negative value');
  const hex = x.toString(16);
  if (hex.length > length * 2) throw new RangeError(`toBuffer: value does not fit in ${length} bytes`);
  return Buffer.from(hex.padStart(length * 2, '0'), 'hex');
}

/** Drop leading zero bytes (a view, no copy). */
function stripLeadingZeros(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  return bytes.subarray(i);
}

/**
 * Cognito's PAD(x) as bytes: the minimal big-endian encoding, with a 0x00
 * prepended when the top bit is set (Java BigInteger.toByteArray semantics,
 * which the service and amplify's padHex both follow). PAD(0) = [0x00].
 * Every hash in the protocol is over these bytes, so getting this wrong for
 * "high-bit" values is the classic 1-in-2 sign-in failure.
 */
export function padBytes(x: bigint | Uint8Array): Buffer {
  const raw = typeof x === 'bigint' ? bigintMinimal(x) : stripLeadingZeros(Buffer.from(x.buffer, x.byteOffset, x.byteLength));
  if (raw.length === 0 || raw[0]! >= 0x80) return Buffer.concat([Buffer.of(0), raw]);
  return raw;
}

function bigintMinimal(x: bigint): Buffer {
  if (x < 0n) throw new RangeError('padBytes: negative value');
  if (x === 0n) return Buffer.alloc(0);
  const hex = x.toString(16);
  return Buffer.from(hex.length % 2 ? '0' + hex : hex, 'hex');
}

/** Cognito's PAD(x) as a lowercase hex string — the form SALT/SRP_B take on the wire. */
export function padHex(x: bigint | Uint8Array): string {
  return padBytes(x).toString('hex');
}

/**
 * Parse a wire hex integer (SRP_A, SRP_B, SALT) into bytes. Tolerates odd
 * length (amplify sends SRP_A as `BigInteger.toString(16)`, unpadded) and
 * either case; rejects anything else, because Buffer.from(s, 'hex') silently
 * truncates at the first bad character.
 */
export function fromHex(hex: string): Buffer {
  if (hex.length === 0 || !/^[0-9a-fA-F]+$/.test(hex)) throw new SrpError('Invalid hex integer');
  return Buffer.from(hex.length % 2 ? '0' + hex : hex, 'hex');
}

/** SHA-256 over the concatenation of the given byte strings. */
export function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** k = H(PAD(N) || PAD(g)), the SRP-6a multiplier. */
export const k: bigint = toBigInt(sha256(padBytes(N), padBytes(g)));
