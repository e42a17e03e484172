// Software-token MFA (RFC 6238 TOTP: SHA-1, 6 digits, 30-second steps, as authenticator apps and
// Cognito use). Secrets are sealed under the master key, bound to their user; a code is good for its
// own step and the steps either side, and each step once per user (users.totp_step).
import { Secret, TOTP } from 'otpauth';
import type { Ctx } from './context.js';

const PERIOD_S = 30;
/** Steps accepted either side of now: one, for clocks a little off and codes typed at a step's end. */
const WINDOW = 1;

/** A new secret as Cognito hands it out (SecretCode): 32 base32 characters, 160 bits. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

const context = (poolId: string, userId: string) => `totp:${poolId}:${userId}`;
export const sealTotpSecret = (ctx: Ctx, poolId: string, userId: string, secret: string) => ctx.secrets.encrypt(secret, context(poolId, userId));
export const openTotpSecret = (ctx: Ctx, poolId: string, userId: string, sealed: string) => ctx.secrets.decrypt(sealed, context(poolId, userId)).toString('utf8');

/** The time step `code` belongs to, within the window around now; undefined when it fits none. */
export function totpStep(secret: string, code: string, now: number): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const totp = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: PERIOD_S, algorithm: 'SHA1' });
  const delta = totp.validate({ token: code, timestamp: now, window: WINDOW });
  return delta === null ? undefined : Math.floor(now / 1000 / PERIOD_S) + delta;
}

/**
 * Checks a code and spends its step, so the same code (or an older one) never works again for the
 * user, however many requests race with it on however many processes.
 */
export async function useTotpCode(ctx: Ctx, poolId: string, userId: string, secret: string, code: string): Promise<boolean> {
  const step = totpStep(secret, code, ctx.now());
  return step !== undefined && ctx.repo.claimTotpStep(poolId, userId, step);
}

/** The otpauth:// URI authenticator apps read (as a QR code or pasted): issuer and account label it. */
export function totpUri(secret: string, issuer: string, account: string): string {
  return new TOTP({ secret: Secret.fromBase32(secret), issuer, label: account, digits: 6, period: PERIOD_S, algorithm: 'SHA1' }).toString();
}

/**
 * Enrolment after sign-in (AssociateSoftwareToken with an AccessToken) has no sign-in session to
 * count wrong codes on, so it gets a row of its own: each guess is counted before it is compared,
 * and past the cap only a new AssociateSoftwareToken (a new secret) lets the user try again.
 */
const ENROLMENT = 'totp-enrolment';
const ENROLMENT_ATTEMPTS = 5;
const ENROLMENT_TTL = 24 * 3600e3;

export async function startTotpEnrolment(ctx: Ctx, poolId: string, userId: string): Promise<void> {
  const now = ctx.now();
  // The row carries the count; the code itself is checked against the sealed secret, so no HMAC.
  await ctx.repo.putCode({ id: crypto.randomUUID(), pool_id: poolId, user_id: userId, purpose: ENROLMENT, code_hmac: '', attempts: 0, expires_at: now + ENROLMENT_TTL, consumed_at: null, created_at: now });
}

/** Counts one enrolment guess; false when the user has spent them all (or the enrolment is a day old). */
export async function countTotpEnrolmentGuess(ctx: Ctx, userId: string): Promise<boolean> {
  const now = ctx.now();
  const live = await ctx.repo.getLiveCode(userId, ENROLMENT, now);
  return !!live && (await ctx.repo.countAttempt(live.id, ENROLMENT_ATTEMPTS, now));
}
