// One-time codes held in challenge sessions: MFA codes by SMS or email (SMS_MFA, EMAIL_OTP), and the
// same for the passwordless EMAIL_OTP / SMS_OTP first factors. The code itself is never stored: the
// session's sealed state keeps an HMAC of it, bound to a nonce of that session, the user and the
// address it went to, so a code from one session (or for another user or address) matches nothing
// else. The session row counts answers: at most OTP_MAX_WRONG wrong ones, then it is dead; a right
// one spends it. Expiry is the session's (AuthSessionValidity, 3-15 minutes).
import { CodeMismatchException, ExpiredCodeException } from '../errors.js';
import type { Ctx } from './context.js';
import type { LoadedPool } from './pools.js';
import type { User } from './users.js';
import { randomDigits, randomToken, safeEqual } from './secrets.js';
import { maskDestination, type CodeDeliveryDetails } from './messages.js';
import { limitCodes, limitSms } from './limits.js';
import { invalidSession } from './sessions.js';
import { composeMessage, type MessageContext } from './triggers/events.js';

export const OTP_MAX_WRONG = 3;

/** What a session keeps of its code. */
export interface OtpState { nonce: string; mac: string; exp: number }
export interface OtpChannel { medium: 'EMAIL' | 'SMS'; attribute: 'email' | 'phone_number'; to: string }
export interface OtpMessage { subject: string; body: string }

const mac = (ctx: Ctx, nonce: string, userId: string, to: string, code: string) => ctx.secrets.mac('otp', nonce, userId, to, code);

/**
 * Issues a code to `channel` and sends it with `message` ({####} is the code). Counted first against
 * the per-user cap (per purpose) and, for texts, the SMS-pumping caps, so a refused code is never sent.
 * Sent at once (Messenger.sendNow): a failed delivery is CodeDeliveryFailureException. With `mc`, the
 * pool's message triggers apply (CustomMessage_Authentication rewrites the text; a sender trigger
 * takes the code instead, called from the outbox as Cognito calls it, asynchronously).
 */
export async function issueOtp(
  ctx: Ctx, pool: LoadedPool, userId: string, purpose: string, channel: OtpChannel, message: OtpMessage, ttlMs: number, digits = 6, mc?: MessageContext,
): Promise<{ otp: OtpState; delivery: CodeDeliveryDetails }> {
  await limitCodes(ctx, userId, purpose);
  if (channel.medium === 'SMS') await limitSms(ctx, channel.to);
  const code = randomDigits(digits);
  const nonce = randomToken(16);
  const otp: OtpState = { nonce, mac: mac(ctx, nonce, userId, channel.to, code), exp: ctx.now() + ttlMs };
  const composed = mc ? await composeMessage(ctx, pool, channel.medium, mc, code) : {};
  const own = composed.template;
  const body = ((channel.medium === 'EMAIL' ? own?.email : own?.sms) ?? message.body).replaceAll('{####}', code);
  const subject = channel.medium === 'EMAIL' ? own?.subject ?? message.subject : '';
  if (composed.sender) await ctx.messages.send(pool.id, channel.medium, channel.to, '', '', composed.sender);
  else await ctx.messages.sendNow(pool.id, channel.medium, { to: channel.to, subject, body });
  return { otp, delivery: { Destination: maskDestination(channel.medium, channel.to), DeliveryMedium: channel.medium, AttributeName: channel.attribute } };
}

/** Whether `code` is the one issued in `otp` to `userId` at `to` (constant time); false once expired. */
export function otpMatches(ctx: Ctx, otp: OtpState, userId: string, to: string, code: string): boolean {
  return otp.exp >= ctx.now() && /^\d{4,10}$/.test(code) && safeEqual(mac(ctx, otp.nonce, userId, to, code), otp.mac);
}

export const codeMismatch = () => new CodeMismatchException('Invalid code or auth state for the user.');

/**
 * Counts one answer to a code in session `sessionId` and spends the session when `matched`. Throws
 * CodeMismatchException for a wrong code (ExpiredCodeException once the code's time is up), and an
 * invalid session once the session is spent, expired, or has had its OTP_MAX_WRONG wrong answers.
 */
export async function answerOtp(ctx: Ctx, sessionId: string, matched: boolean, otp?: OtpState): Promise<void> {
  const outcome = await ctx.repo.answerSession(sessionId, matched, OTP_MAX_WRONG, ctx.now());
  if (outcome === 'used') return;
  if (outcome === 'refused') throw invalidSession();
  if (otp && otp.exp < ctx.now()) throw new ExpiredCodeException('Invalid code provided, please request a code again.');
  throw codeMismatch();
}

/** Where a sign-in code by `medium` can go as a first factor: the user's email or phone, only once verified. */
export function verifiedChannel(user: User, medium: 'EMAIL' | 'SMS'): OtpChannel | undefined {
  const attribute = medium === 'EMAIL' ? 'email' : 'phone_number';
  const to = user.attributes[attribute];
  return to && user.attributes[`${attribute}_verified`] === 'true' ? { medium, attribute, to } : undefined;
}

/**
 * issueOtp for a login that names no user (or a user who must not get such a code): the same caps
 * under a stand-in subject, a code and its sealed message written to the outbox as a decoy that is
 * never sent, and the same answer, to `to`, an address derived from the login; no code can match.
 */
export async function issueStandInOtp(
  ctx: Ctx, pool: LoadedPool, subject: string, purpose: string, channel: OtpChannel, message: OtpMessage, ttlMs: number,
): Promise<{ otp: OtpState; delivery: CodeDeliveryDetails }> {
  await limitCodes(ctx, `nobody:${pool.id}:${subject}`, purpose);
  if (channel.medium === 'SMS') await limitSms(ctx, channel.to);
  const body = message.body.replaceAll('{####}', randomDigits(6));
  await ctx.messages.sendDecoy(pool.id, channel.medium, channel.to, channel.medium === 'EMAIL' ? message.subject : '', body, ctx.now() + ttlMs);
  const otp: OtpState = { nonce: randomToken(16), mac: randomToken(32), exp: ctx.now() + ttlMs };
  return { otp, delivery: { Destination: maskDestination(channel.medium, channel.to), DeliveryMedium: channel.medium, AttributeName: channel.attribute } };
}
