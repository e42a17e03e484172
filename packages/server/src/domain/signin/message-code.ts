// SMS_MFA and EMAIL_OTP: a code sent by text or email (domain/otp.ts holds it in the session). As MFA
// they prove 'mfa'; EMAIL_OTP also ends email MFA setup (MFA_SETUP with an EMAIL), where the code
// proves the new address before it is stored. The passwordless first factors start the same way
// with `after: 'firstFactor'`.
import { issueOtp, otpMatches, type OtpState } from '../otp.js';
import { mfaChannel, mfaMessage, saveMfa } from '../mfa.js';
import { pendingOf, storeAttributes } from '../attribute-updates.js';
import type { User } from '../users.js';
import {
  carried, createSession, invalidSession, proved, required, userOf,
  type ChallengeAnswer, type ChallengeModule, type SessionState, type SignIn, type Step,
} from './base.js';
import { settleCodeCheck } from './password.js';

type Factor = 'SMS_MFA' | 'EMAIL_OTP';

export interface MessageCodeState extends SessionState {
  challenge: Factor;
  userId: string;
  /** The address the code went to. */
  to: string;
  otp: OtpState;
  after: Step;
  /** Email MFA setup: the address is stored, verified, and email MFA enabled once the code proves it. */
  enroll?: boolean;
}

/** Sends a code to the user's phone (SMS_MFA) or email (EMAIL_OTP, or `email` while setting it up) and asks for it. */
export async function startMessageCode(sc: SignIn, user: User, factor: Factor, opts: { email?: string; after?: Step } = {}): Promise<ChallengeAnswer> {
  const { ctx, pool, client } = sc;
  const channel = mfaChannel(user, factor, opts.email);
  const ttl = client.config.AuthSessionValidity * 60e3;
  const { otp, delivery } = await issueOtp(ctx, pool, user.id, `signIn:${factor}`, channel, mfaMessage(pool, factor), ttl, undefined,
    { source: 'Authentication', user, clientId: client.id, clientMetadata: sc.clientMetadata });
  const state: MessageCodeState = {
    challenge: factor, ...carried(sc), userId: user.id, to: channel.to, otp, after: opts.after ?? 'mfa', ...(opts.email ? { enroll: true } : {}),
  };
  return {
    ChallengeName: factor,
    Session: await createSession(ctx, pool, client, state, ttl),
    ChallengeParameters: { CODE_DELIVERY_DELIVERY_MEDIUM: delivery.DeliveryMedium, CODE_DELIVERY_DESTINATION: delivery.Destination },
  };
}

function messageCode(factor: Factor, answerKey: string): ChallengeModule<MessageCodeState> {
  return {
    name: factor,
    async answer(sc, s, r) {
      const { ctx, pool } = sc;
      required(r, answerKey);
      const user = await userOf(sc, s.state.userId);
      if (!user) throw invalidSession();
      const { to, otp, enroll } = s.state;
      // A code proves the address it went to: once the user's phone or email changed, it proves nothing.
      const current = factor === 'SMS_MFA' ? user.attributes.phone_number : user.attributes.email;
      const stillTheirs = enroll ? !current || current === to : current === to;
      await settleCodeCheck(ctx, pool, user, s.id, () => stillTheirs && otpMatches(ctx, otp, user.id, to, r[answerKey]), otp);
      if (enroll) await enrollEmail(sc, user, to);
      return proved(user, s.state.after);
    },
  };
}

/** Email MFA set up during sign-in: the proved address becomes the user's (verified), email MFA enabled. */
async function enrollEmail(sc: SignIn, user: User, email: string) {
  const { ctx, pool } = sc;
  if (user.attributes.email !== email) {
    await storeAttributes(ctx, pool, user, { attributes: { ...user.attributes, email, email_verified: 'true' }, pending: pendingOf(user) });
  }
  const enabled = [...new Set([...(user.mfa.enabled ?? []), 'EMAIL_OTP'])];
  await saveMfa(ctx, pool, user, { ...user.mfa, enabled, preferred: user.mfa.preferred ?? 'EMAIL_OTP' });
}

export const smsMfa = messageCode('SMS_MFA', 'SMS_MFA_CODE');
export const emailOtp = messageCode('EMAIL_OTP', 'EMAIL_OTP_CODE');
