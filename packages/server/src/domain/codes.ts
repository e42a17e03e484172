import { CodeMismatchException, ExpiredCodeException } from '../errors.js';
import type { Ctx } from './context.js';
import { randomDigits, safeEqual } from './secrets.js';
import { limitCodes, limitSms } from './limits.js';
import type { Insertable } from 'kysely';
import type { CodeTable } from '../storage/schema.js';

export const CODE_MAX_ATTEMPTS = 5;
export const CODE_TTL = { signUp: 24 * 3600e3, attribute: 24 * 3600e3, forgotPassword: 3600e3 } as const;

// Codes are stored only as keyed HMACs bound to user, purpose and the address the code went to, so
// a code proves control of that address only: once the email or phone changes, it no longer works.
// Attempts are counted; single use is a conditional update, so racing requests cannot both succeed.
// At most 5 codes per user and purpose go out in 15 minutes (GATEHOUSE_LIMIT_CODES_PER_USER).
export interface IssuedCode { code: string; row: Insertable<CodeTable> }

/**
 * Counts a code against the per-user cap and makes it. Nothing is stored yet: Messenger.sendCode
 * stores the code with its message in one transaction, so no code exists without its message.
 */
export async function issueCode(ctx: Ctx, poolId: string, userId: string, purpose: string, destination: string, ttlMs: number): Promise<IssuedCode> {
  await limitCodes(ctx, userId, purpose);
  // A code to a phone number is a text: the SMS-pumping caps count it too.
  if (destination.startsWith('+')) await limitSms(ctx, destination);
  const code = randomDigits(6);
  const now = ctx.now();
  const row = {
    id: crypto.randomUUID(), pool_id: poolId, user_id: userId, purpose,
    code_hmac: ctx.secrets.mac('code', userId, purpose, destination, code), attempts: 0, expires_at: now + ttlMs, consumed_at: null, created_at: now,
  };
  return { code, row };
}

const mismatch = () => new CodeMismatchException('Invalid verification code provided, please try again.');
const expired = () => new ExpiredCodeException('Invalid code provided, please request a code again.');

/** The answer for a user who does not exist: the same as for a user with no code out, so neither tells. */
export const noCodeForUnknownUser = mismatch;

/**
 * Uses a code. Each guess is counted and compared in one conditional statement, so however many
 * race (on any process), at most CODE_MAX_ATTEMPTS are ever compared. Past the cap the code is dead:
 * ExpiredCodeException, or with `hideState` (clients that hide which users exist) the answer to a
 * wrong code, which is all a login that names no user can get.
 */
export async function useCode(ctx: Ctx, userId: string, purpose: string, destination: string, code: string, opts: { hideState?: boolean } = {}): Promise<void> {
  const now = ctx.now();
  const live = await ctx.repo.getLiveCode(userId, purpose, now);
  if (!live) throw mismatch();
  // Cognito tells an expired code apart, and clients prompt for a new one on it.
  if (live.expires_at < now) throw expired();
  const outcome = await ctx.repo.attemptCode(live.id, ctx.secrets.mac('code', userId, purpose, destination, code), CODE_MAX_ATTEMPTS, now);
  if (outcome === 'used') return;
  if (outcome === 'wrong' || opts.hideState) throw mismatch();
  throw expired();
}

/**
 * What a wrong code costs for a login that names no user: the same lookup, and a small write where
 * a real user's guess is counted; answers as for a user with no code out.
 */
export async function useCodeOfNobody(ctx: Ctx, poolId: string, key: string, purpose: string): Promise<Error> {
  const now = ctx.now();
  await ctx.repo.getLiveCode(ctx.secrets.mac('nobody', poolId, key), purpose, now);
  // The small write standing in for a real user's counted guess.
  await ctx.repo.noteLoginFailure(ctx.secrets.mac('nobody', poolId, key), now + CODE_TTL.signUp);
  return mismatch();
}
