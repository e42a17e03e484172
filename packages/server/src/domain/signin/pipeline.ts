// What follows a proved first factor, in one place:
//   account status -> new password -> MFA -> remembered device -> tokens.
// A challenge that proves a step resumes here after it. The outcome of each run goes to the user's
// auth events (InProgress while a challenge remains).
import { InvalidParameterException, NotAuthorizedException, PasswordResetRequiredException, UserNotConfirmedException } from '../../errors.js';
import type { User } from '../users.js';
import { recordAuthEvent } from '../events.js';
import { mfaDemand, poolFactors, userHas } from '../mfa.js';
import { deviceConfiguration, devicesBypassMfa, knownDevice, newDevice } from '../devices.js';
import { hostedUserOf, signedIn, unavailableChallenge, HOSTED_FLOW, type ChallengeAnswer, type Responses, type SignIn, type Step } from './base.js';
import { startNewPasswordRequired } from './new-password-required.js';
import { startMessageCode } from './message-code.js';
import { startSoftwareToken } from './software-token-mfa.js';
import { startSelectMfaType } from './select-mfa-type.js';
import { startMfaSetup } from './mfa-setup.js';
import { startDeviceSrp } from './device-srp.js';

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

/** Starts the MFA challenge of a factor, by its challenge name. */
function startMfaChallenge(sc: SignIn, user: User, factor: string, params: Responses = {}): Promise<ChallengeAnswer> {
  if (factor === 'SOFTWARE_TOKEN_MFA') return startSoftwareToken(sc, user);
  if (factor === 'SMS_MFA') return startMessageCode(sc, user, 'SMS_MFA');
  if (factor === 'EMAIL_OTP') return startMessageCode(sc, user, 'EMAIL_OTP', params.EMAIL ? { email: params.EMAIL } : {});
  throw unavailableChallenge(factor);
}

/**
 * The pool's MFA rules for this user (domain/mfa.ts): a code challenge, a choice, or a setup. Where
 * the pool lets a remembered device stand in for MFA, that device must prove itself instead.
 */
const mfa: StepRun = async (sc, user) => {
  const demand = mfaDemand(sc.pool, user);
  if (demand.kind === 'none') return undefined;
  const device = devicesBypassMfa(sc.pool) ? await knownDevice(sc.ctx, user, sc.device) : undefined;
  if (device?.remembered) return startDeviceSrp(sc, user, device);
  if (demand.kind === 'challenge') return startMfaChallenge(sc, user, demand.factor);
  if (demand.kind === 'select') return startSelectMfaType(sc, user, demand.options);
  return startMfaSetup(sc, user, demand.options);
};

/**
 * On a pool that tracks devices: a device the client names (and the user confirmed) proves itself
 * (DEVICE_SRP_AUTH, proving 'device'); otherwise the tokens come with a new device's metadata.
 */
const rememberedDevice: StepRun = async (sc, user) => {
  // The managed login's browser is no app's device: it gets no device metadata.
  if (!deviceConfiguration(sc.pool) || sc.flow === HOSTED_FLOW) return undefined;
  const device = await knownDevice(sc.ctx, user, sc.device);
  if (device) return startDeviceSrp(sc, user, device);
  return signedIn(sc, user, { newDevice: await newDevice(sc.ctx, sc.pool, user) });
};

/**
 * A challenge the user chose or set up to meet next (SELECT_MFA_TYPE's answer, MFA_SETUP's email):
 * started if the pool still offers it and the user can meet it.
 */
export async function startChosen(sc: SignIn, user: User, challenge: string, params: Responses = {}): Promise<ChallengeAnswer> {
  const offered = poolFactors(sc.pool) as string[];
  if (!offered.includes(challenge)) throw unavailableChallenge(challenge);
  if (!params.EMAIL && !userHas(user, challenge)) throw new InvalidParameterException(`The user cannot use ${challenge}.`);
  const answer = await startMfaChallenge(sc, user, challenge, params);
  await recordAuthEvent(sc.ctx, user, 'SignIn', 'InProgress', 'Success');
  return answer;
}

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
  // Failures (wrong passwords, wrong MFA codes) count until a sign-in ends in tokens (or, on the
  // hosted pages, in the code that buys them).
  const done = !!answer.AuthenticationResult || !!hostedUserOf(answer);
  if (done) await sc.ctx.repo.clearSignInFailures(sc.pool.id, user.id);
  await recordAuthEvent(sc.ctx, user, 'SignIn', done ? 'Pass' : 'InProgress', 'Success');
  return answer;
}

async function next(sc: SignIn, user: User, after: Step): Promise<ChallengeAnswer> {
  accountStatus(user);
  // After the first factor every step runs; after a later step, those that follow it.
  for (const [, run] of steps.slice(steps.findIndex(([step]) => step === after) + 1)) {
    const challenge = await run(sc, user);
    if (challenge) return challenge;
  }
  const source = after === 'newPassword' ? 'TokenGeneration_NewPasswordChallenge' : after === 'device' ? 'TokenGeneration_AuthenticateDevice' : 'TokenGeneration_Authentication';
  return signedIn(sc, user, { source });
}
