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

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/**
 * Cognito's TIMESTAMP format, "ddd MMM D HH:mm:ss UTC YYYY" in UTC, e.g.
 * "Tue Mar 4 09:05:07 UTC 2025" (day not zero-padded; time fields are).
 * Matches amplify's DateHelper.getNowString.
 */
export function formatTimestamp(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${WEEKDAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()} ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} UTC ${date.getUTCFullYear()}`
  );
}
