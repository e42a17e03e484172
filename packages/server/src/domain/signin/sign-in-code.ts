// EMAIL_OTP and SMS_OTP: a one-time code sent to the user's verified email or phone, as USER_AUTH's
// first factor. The code lives in the challenge session (domain/otp.ts): at most 3 wrong answers,
// single use, gone when the session expires. A passwordless factor proves what MFA would: no MFA
// and no new password follow it, as in Cognito, where MFA follows password first factors only.
import { UserNotFoundException } from '../../errors.js';
import { hidesUsers, lookupKey } from '../pools.js';
import { findUser, type User } from '../users.js';
import { throttle } from '../limits.js';
import { recordAuthEvent } from '../events.js';
import { recordDecoyEvent, simulatedDestination } from '../decoys.js';
import { checkSessionCode, sendSessionCode, simulateSessionCode, verifiedChannel, type OtpMedium, type SessionCode } from '../otp.js';
import {
  answered, createSession, proved, required, standInHas, userOf,
  type ChallengeModule, type FirstFactor, type Outcome, type SessionState, type SignIn, type Step,
} from './base.js';

type CodeChallenge = 'EMAIL_OTP' | 'SMS_OTP';
export interface SignInCodeState extends SessionState { challenge: CodeChallenge; login: string; after: Step; code: SessionCode }

const MEDIUM: Record<CodeChallenge, OtpMedium> = { EMAIL_OTP: 'EMAIL', SMS_OTP: 'SMS' };
const ANSWER: Record<CodeChallenge, string> = { EMAIL_OTP: 'EMAIL_OTP_CODE', SMS_OTP: 'SMS_OTP_CODE' };
const looksLike = { EMAIL: (login: string) => login.includes('@'), SMS: (login: string) => /^\+[0-9]{4,15}$/.test(login) };

/**
 * Sends a code to the user's verified address and opens the session that checks it; `after` is what
 * a right answer proves. A user without such an address (or disabled), and a login naming nobody,
 * get the same answer under the same limits, and no message.
 */
export async function startSignInCode(sc: SignIn, challenge: CodeChallenge, login: string, user: User | undefined, after: Step): Promise<Outcome> {
  const { ctx, pool, client } = sc;
  const medium = MEDIUM[challenge];
  await throttle(ctx, client.id, ['codes']);
  const channel = user?.enabled ? verifiedChannel(user, medium) : undefined;
  const purpose = `signIn:${medium === 'EMAIL' ? 'email' : 'phone_number'}`;
  const issued = user && channel
    ? await sendSessionCode(ctx, pool, user, channel, purpose)
    // A stand-in's code "goes" to the login when it is such an address, else to one derived from it.
    : await simulateSessionCode(ctx, pool, lookupKey(pool, login), medium, simulatedDestination(ctx, pool, login, medium), purpose);
  const state: SignInCodeState = { challenge, flow: sc.flow, userId: channel ? user?.id : undefined, login, after, code: issued.code };
  return answered({ ChallengeName: challenge, Session: await createSession(ctx, pool, client, state), ChallengeParameters: { ...issued.delivery } });
}

function codeFactor(challenge: CodeChallenge): FirstFactor {
  const medium = MEDIUM[challenge];
  return {
    name: challenge,
    poolFactor: challenge,
    async availableTo(sc, user, login) {
      if (user) return !!verifiedChannel(user, medium);
      // A login shaped as this kind of address has one; others, as often as not.
      return looksLike[medium](login) || standInHas(sc, login, challenge, 50);
    },
    async start(sc, login) {
      const user = await findUser(sc.ctx, sc.pool, login);
      if (!user && !hidesUsers(sc.client)) throw new UserNotFoundException('User does not exist.');
      return startSignInCode(sc, challenge, login, user, 'mfa');
    },
  };
}

function codeChallenge(challenge: CodeChallenge): ChallengeModule<SignInCodeState> {
  return {
    name: challenge,
    async answer(sc, s, r) {
      const { ctx, pool } = sc;
      required(r, ANSWER[challenge]);
      const user = await userOf(sc, s.state.userId);
      try {
        await checkSessionCode(ctx, s, s.state.code, user, r[ANSWER[challenge]]);
      } catch (e) {
        if (user) await recordAuthEvent(ctx, user, 'SignIn', 'Fail');
        else await recordDecoyEvent(ctx, pool, s.state.login, 'SignIn', 'Fail');
        throw e;
      }
      return proved(user!, s.state.after);
    },
  };
}

export const emailOtpFactor = codeFactor('EMAIL_OTP');
export const smsOtpFactor = codeFactor('SMS_OTP');
export const emailOtpChallenge = codeChallenge('EMAIL_OTP');
export const smsOtpChallenge = codeChallenge('SMS_OTP');
