/**
 * The PASSWORD_VERIFIER challenge response: an HMAC over the pool, user,
 * server-issued SECRET_BLOCK and the client's TIMESTAMP, keyed with K.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * base64(HMAC-SHA256(K, utf8(poolName) || utf8(userId) || secretBlock || utf8(timestamp))).
 * `secretBlock` is the raw bytes (base64-decode SECRET_BLOCK first). `timestamp`
 * is hashed exactly as received — never re-format it, clients differ in spacing.
 */
export function passwordClaimSignature(params: {
  key: Uint8Array;
  poolName: string;
  userId: string;
  secretBlock: Uint8Array;
  timestamp: string;
}): string {
  return createHmac('sha256', params.key)
    .update(Buffer.from(params.poolName, 'utf8'))
    .update(Buffer.from(params.userId, 'utf8'))
    .update(params.secretBlock)
    .update(Buffer.from(params.timestamp, 'utf8'))
    .digest('base64');
}

/**
 * Constant-time comparison of two base64 signatures (compared as decoded
 * bytes, so base64 padding differences don't matter). Length mismatch is
 * answered immediately — length is not secret.
 */
export function verifyClaim(expectedB64: string, receivedB64: string): boolean {
  const expected = Buffer.from(expectedB64, 'base64');
  const received = Buffer.from(receivedB64, 'base64');
  if (expected.length === 0 || expected.length !== received.length) return false;
  return timingSafeEqual(expected, received);
}

export { formatTimestamp } from './timestamp.js';
