// SMS_MFA, EMAIL_OTP and SMS_OTP: a code sent by text or email (domain/otp.ts holds it in the
// session). As MFA they prove 'mfa'; EMAIL_OTP also ends email MFA setup (MFA_SETUP with an EMAIL),
// where the code proves the new address before it is stored. As USER_AUTH's passwordless first
// factors, EMAIL_OTP and SMS_OTP go only to a verified address and prove what MFA would: no MFA and
// no new password follow them (in Cognito, MFA follows password first factors only).
import { UserNotFoundException } from '../../errors.js';
import { issueOtp, issueStandInOtp, otpMatches, verifiedChannel, type OtpState } from '../otp.js';
import { mfaChannel, mfaMessage, saveMfa } from '../mfa.js';
import { pendingOf, storeAttributes } from '../attribute-updates.js';
import { hidesUsers, lookupKey } from '../pools.js';
import { findUser, type User } from '../users.js';
import { throttle } from '../limits.js';
import { simulatedDestination } from '../decoys.js';
import {
  answered, carried, createSession, invalidSession, proved, required, standInHas, userOf,
  type ChallengeAnswer, type ChallengeModule, type FirstFactor, type SessionState, type SignIn, type Step,
} from './base.js';
import { settleCodeCheck, settleStandInCode } from './password.js';

type Factor = 'SMS_MFA' | 'EMAIL_OTP' | 'SMS_OTP';

export interface MessageCodeState extends SessionState {
  challenge: Factor;
  /** Unset for a stand-in's session (a login naming nobody, or a user who cannot get such a code). */
  userId?: string;
  /** The address the code went to. */
  to: string;
  otp: OtpState;
  after: Step;
  /** Email MFA setup: the address is stored, verified, and email MFA enabled once the code proves it. */
  enroll?: boolean;
  /** First factors: the login the user gave (a stand-in's failures are counted under it). */
  login?: string;
}

/** Sends a code to the user's phone (SMS_MFA) or email (EMAIL_OTP, or `email` while setting it up) and asks for it. */
export async function startMessageCode(sc: SignIn, user: User, factor: 'SMS_MFA' | 'EMAIL_OTP', opts: { email?: string; after?: Step } = {}): Promise<ChallengeAnswer> {
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

const MEDIUM = { EMAIL_OTP: 'EMAIL', SMS_OTP: 'SMS' } as const;
const looksLike = { EMAIL: (login: string) => login.includes('@'), SMS: (login: string) => /^\+[0-9]{4,15}$/.test(login) };

/**
 * USER_AUTH's EMAIL_OTP / SMS_OTP: a code to the user's verified address (counted against the code
 * limits of the caller, the client and the user). A user without one (or disabled), and a login
 * naming nobody, get the same answer after the same work, and no message.
 */
async function startSignInCode(sc: SignIn, factor: 'EMAIL_OTP' | 'SMS_OTP', login: string, user: User | undefined): Promise<ChallengeAnswer> {
  const { ctx, pool, client } = sc;
  const medium = MEDIUM[factor];
  await throttle(ctx, client.id, ['codes']);
  const ttl = client.config.AuthSessionValidity * 60e3;
  const message = mfaMessage(pool, factor === 'SMS_OTP' ? 'SMS_MFA' : 'EMAIL_OTP');
  const purpose = `signIn:${factor}`;
  const channel = user?.enabled ? verifiedChannel(user, medium) : undefined;
  // A stand-in's code "goes" to the login when it is such an address, else to one derived from it.
  const { otp, delivery } = user && channel
    ? await issueOtp(ctx, pool, user.id, purpose, channel, message, ttl, undefined, { source: 'Authentication', user, clientId: client.id, clientMetadata: sc.clientMetadata })
    : await issueStandInOtp(ctx, pool, lookupKey(pool, login), purpose,
      { medium, attribute: medium === 'EMAIL' ? 'email' : 'phone_number', to: simulatedDestination(ctx, pool, login, medium) }, message, ttl);
  const state: MessageCodeState = {
    challenge: factor, ...carried(sc), ...(channel ? { userId: user!.id } : {}), to: channel?.to ?? '', otp, after: 'mfa', login,
  };
  return {
    ChallengeName: factor,
    Session: await createSession(ctx, pool, client, state, ttl),
    ChallengeParameters: { CODE_DELIVERY_DELIVERY_MEDIUM: delivery.DeliveryMedium, CODE_DELIVERY_DESTINATION: delivery.Destination },
  };
}

function codeFactor(factor: 'EMAIL_OTP' | 'SMS_OTP'): FirstFactor {
  const medium = MEDIUM[factor];
  return {
    name: factor,
    poolFactor: factor,
    async availableTo(sc, user, login) {
      if (user) return !!verifiedChannel(user, medium);
      // A login shaped as this kind of address has one; others, as often as not.
      return looksLike[medium](login) || standInHas(sc, login, factor, 50);
    },
    async start(sc, login) {
      const user = await findUser(sc.ctx, sc.pool, login);
      if (!user && !hidesUsers(sc.client)) throw new UserNotFoundException('User does not exist.');
      return answered(await startSignInCode(sc, factor, login, user));
    },
  };
}

function messageCode(factor: Factor, answerKey: string): ChallengeModule<MessageCodeState> {
  return {
    name: factor,
    async answer(sc, s, r) {
      const { ctx, pool } = sc;
      required(r, answerKey);
      const user = await userOf(sc, s.state.userId);
      if (!user && s.state.login !== undefined && !s.state.userId) return settleStandInCode(ctx, pool, s.state.login, s.id, s.state.otp);
      if (!user) throw invalidSession();
      const { to, otp, enroll } = s.state;
      // A code proves the address it went to: once the user's phone or email changed, it proves nothing.
      const current = factor === 'EMAIL_OTP' ? user.attributes.email : user.attributes.phone_number;
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
export const smsOtp = messageCode('SMS_OTP', 'SMS_OTP_CODE');
export const emailOtpFactor = codeFactor('EMAIL_OTP');
export const smsOtpFactor = codeFactor('SMS_OTP');
