// One-time codes held by a challenge session: sign-in codes sent by email or SMS, as a first factor
// (USER_AUTH's EMAIL_OTP and SMS_OTP) or as MFA. The code goes out; only its HMAC stays, in the
// session's sealed state, bound to the purpose, the user and the address it went to (a changed email
// or phone voids it). A session takes at most OTP_MAX_ANSWERS answers, counted before each is
// checked (so racing guesses on any process meet the same cap), and the right one spends it.
import { CodeMismatchException, NotAuthorizedException } from '../errors.js';
import type { Ctx } from './context.js';
import type { LoadedPool } from './pools.js';
import type { User } from './users.js';
import { maskDestination } from './messages.js';
import { limitCodes } from './limits.js';
import { randomDigits, randomToken, safeEqual } from './secrets.js';
import { consumeSession, type OpenSession } from './sessions.js';

/** Answers a code session takes: so at most 3 wrong ones, after which even the right code is refused. */
export const OTP_MAX_ANSWERS = 3;

export type OtpMedium = 'EMAIL' | 'SMS';
export interface OtpChannel { medium: OtpMedium; attribute: 'email' | 'phone_number'; to: string }

/** What a session keeps of its code (sealed with the rest of its state). */
export interface SessionCode { purpose: string; medium: OtpMedium; nonce: string; mac: string }

/** The challenge parameters Amplify reads to tell the user where the code went. */
export interface CodeDeliveryParameters { CODE_DELIVERY_DELIVERY_MEDIUM: OtpMedium; CODE_DELIVERY_DESTINATION: string }

const ATTRIBUTE: Record<OtpMedium, 'email' | 'phone_number'> = { EMAIL: 'email', SMS: 'phone_number' };

/** Where a code by `medium` can go: the user's email or phone, only once verified. */
export function verifiedChannel(user: User, medium: OtpMedium): OtpChannel | undefined {
  const attribute = ATTRIBUTE[medium];
  const to = user.attributes[attribute];
  return to && user.attributes[`${attribute}_verified`] === 'true' ? { medium, attribute, to } : undefined;
}

const codeMac = (ctx: Ctx, c: Pick<SessionCode, 'purpose' | 'nonce'>, userId: string, to: string, code: string) =>
  ctx.secrets.mac('session-code', c.purpose, c.nonce, userId, to, code);

/** The text of a sign-in code: the pool's MFA message settings where it has them. */
function codeMessage(pool: LoadedPool, medium: OtpMedium, code: string) {
  const email = pool.config.EmailMfaConfiguration;
  const body = medium === 'EMAIL' ? email?.Message ?? 'Your sign-in code is {####}' : pool.config.SmsAuthenticationMessage ?? 'Your sign-in code is {####}';
  return { subject: email?.Subject ?? 'Your sign-in code', body: body.replaceAll('{####}', code) };
}

/**
 * Sends a new code to the user for a session about to be made, counted against the per-user code
 * cap for `purpose`; answers what the session keeps and the delivery parameters.
 */
export async function sendSessionCode(ctx: Ctx, pool: LoadedPool, user: User, channel: OtpChannel, purpose: string): Promise<{ code: SessionCode; delivery: CodeDeliveryParameters }> {
  await limitCodes(ctx, user.id, purpose);
  const code = randomDigits(6);
  const kept = { purpose, medium: channel.medium, nonce: randomToken(16), mac: '' };
  kept.mac = codeMac(ctx, kept, user.id, channel.to, code);
  const { subject, body } = codeMessage(pool, channel.medium, code);
  await ctx.messages.send(pool.id, channel.medium, channel.to, subject, body);
  return { code: kept, delivery: { CODE_DELIVERY_DELIVERY_MEDIUM: channel.medium, CODE_DELIVERY_DESTINATION: maskDestination(channel.medium, channel.to) } };
}

/**
 * For a login that names no user (or one that must not get a code): the same cap under a stand-in
 * subject, the same work (a code and its sealed message, written as a decoy that is never sent)
 * and the same answer, to `to`, an address the caller made up; no code can match.
 */
export async function simulateSessionCode(ctx: Ctx, pool: LoadedPool, subject: string, medium: OtpMedium, to: string, purpose: string): Promise<{ code: SessionCode; delivery: CodeDeliveryParameters }> {
  await limitCodes(ctx, `nobody:${pool.id}:${subject}`, purpose);
  const code = randomDigits(6);
  const kept = { purpose, medium, nonce: randomToken(16), mac: randomToken(32) };
  const { subject: title, body } = codeMessage(pool, medium, code);
  await ctx.messages.sendDecoy(pool.id, medium, to, title, body, ctx.now() + 15 * 60e3);
  return { code: kept, delivery: { CODE_DELIVERY_DELIVERY_MEDIUM: medium, CODE_DELIVERY_DESTINATION: maskDestination(medium, to) } };
}

const tooManyAnswers = () => new NotAuthorizedException('Invalid session for the user: too many wrong codes. Sign in again.');

/**
 * Checks an answer to a code session. `user` is the user as stored now (undefined for a session of
 * a login that names nobody); the code must have gone to the address they have now. The answer is
 * counted first; the right one spends the session, so a code works once.
 */
export async function checkSessionCode(ctx: Ctx, session: OpenSession, kept: SessionCode, user: User | undefined, answer: string): Promise<void> {
  if (!(await ctx.repo.claimSessionAttempt(session.id, OTP_MAX_ANSWERS, ctx.now()))) throw tooManyAnswers();
  const channel = user && verifiedChannel(user, kept.medium);
  const expected = channel ? codeMac(ctx, kept, user.id, channel.to, answer) : randomToken(32);
  if (!safeEqual(expected, kept.mac)) throw new CodeMismatchException('Invalid code received for user');
  await consumeSession(ctx, session);
}
