// What follows a proved first factor, in one place:
//   account status -> new password -> MFA -> remembered device -> tokens.
// A challenge that proves a step resumes here after it. The outcome of each run goes to the user's
// auth events (InProgress while a challenge remains).
import { NotAuthorizedException, PasswordResetRequiredException, UserNotConfirmedException } from '../../errors.js';
import type { User } from '../users.js';
import { recordAuthEvent } from '../events.js';
import { signedIn, type ChallengeAnswer, type SignIn, type Step } from './base.js';
import { startNewPasswordRequired } from './new-password-required.js';

/** A step either lets the sign-in go on (undefined) or answers with the challenge the user must meet. */
type StepRun = (sc: SignIn, user: User) => Promise<ChallengeAnswer | undefined>;

/**
 * Checked on every run, resumed ones too: an account disabled, reset or unconfirmed between two
 * challenges gets no tokens.
 */
function accountStatus(user: User) {
  if (!user.enabled) throw new NotAuthorizedException('User is disabled.');
  if (user.status === 'UNCONFIRMED') throw new UserNotConfirmedException('User is not confirmed.');
  if (user.status === 'RESET_REQUIRED') throw new PasswordResetRequiredException('Password reset required for the user');
}

const newPassword: StepRun = async (sc, user) => (user.status === 'FORCE_CHANGE_PASSWORD' ? startNewPasswordRequired(sc, user) : undefined);

// Issue 8 plugs in here: with the pool's MFA configuration and the user's factors, answer
// SMS_MFA / SOFTWARE_TOKEN_MFA / EMAIL_OTP, SELECT_MFA_TYPE or MFA_SETUP (each started by its
// module); their answers prove 'mfa'.
const mfa: StepRun = async () => undefined;

// Issue 8 plugs in here too: on a remembered device (DEVICE_SRP_AUTH, then
// DEVICE_PASSWORD_VERIFIER, proving 'device'), or NewDeviceMetadata with the tokens.
const rememberedDevice: StepRun = async () => undefined;

/** The steps after the first factor, in order, each named after what its challenge proves. */
const steps: readonly (readonly [Step, StepRun])[] = [
  ['newPassword', newPassword],
  ['mfa', mfa],
  ['device', rememberedDevice],
];

/** Goes on with a sign-in whose user has just proved `after`. */
export async function continueSignIn(sc: SignIn, user: User, after: Step): Promise<ChallengeAnswer> {
  let answer: ChallengeAnswer;
  try {
    answer = await next(sc, user, after);
  } catch (e) {
    await recordAuthEvent(sc.ctx, user, 'SignIn', 'Fail', 'Success');
    throw e;
  }
  await recordAuthEvent(sc.ctx, user, 'SignIn', answer.AuthenticationResult ? 'Pass' : 'InProgress', 'Success');
  return answer;
}

async function next(sc: SignIn, user: User, after: Step): Promise<ChallengeAnswer> {
  accountStatus(user);
  // After the first factor every step runs; after a later step, those that follow it.
  for (const [, run] of steps.slice(steps.findIndex(([step]) => step === after) + 1)) {
    const challenge = await run(sc, user);
    if (challenge) return challenge;
  }
  return signedIn(sc, user, after === 'newPassword' ? 'TokenGeneration_NewPasswordChallenge' : 'TokenGeneration_Authentication');
}
