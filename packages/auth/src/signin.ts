/**
 * signIn, confirmSignIn and autoSignIn: Cognito's challenges driven on the wire, answered with
 * aws-amplify/auth's nextStep values. The state between steps survives wrong answers (the
 * server's session allows retries) and page reloads (it is kept in the client's storage).
 */
import { deviceSecret, passwordClaim, startSrp, type SrpEphemeral } from '@gatehouse/srp/client';
import {
  type Ctx, type SignInDetails, type SignInState, type Stored, type CognitoResult, type AuthUser,
  clearTokens, emit, expiring, getDevice, loadTokens, refresh, saveTokens, setDevice, stateKey, userOf,
} from './core.js';
import { AuthError, fail, isAuthFailure, need } from './errors.js';
import { call } from './wire.js';
import { getPasskey } from './webauthn.js';

export type AuthFlowType = 'USER_SRP_AUTH' | 'USER_PASSWORD_AUTH' | 'CUSTOM_WITH_SRP' | 'CUSTOM_WITHOUT_SRP' | 'USER_AUTH';
export type AuthFactorType = 'PASSWORD' | 'PASSWORD_SRP' | 'EMAIL_OTP' | 'SMS_OTP' | 'WEB_AUTHN';
export type MfaType = 'SMS' | 'TOTP' | 'EMAIL';

export interface SignInInput {
  username: string;
  password?: string;
  options?: { authFlowType?: AuthFlowType; clientMetadata?: Record<string, string>; preferredChallenge?: AuthFactorType };
}
export interface CodeDeliveryDetails { destination?: string; deliveryMedium?: string; attributeName?: string }
export interface TotpSetupDetails { sharedSecret: string; getSetupUri(appName: string, accountName?: string): URL }
export type SignInNextStep =
  | { signInStep: 'DONE' | 'CONFIRM_SIGN_UP' | 'RESET_PASSWORD' | 'CONFIRM_SIGN_IN_WITH_TOTP_CODE' | 'CONFIRM_SIGN_IN_WITH_PASSWORD' | 'CONTINUE_SIGN_IN_WITH_EMAIL_SETUP' }
  | { signInStep: 'CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED'; missingAttributes?: string[] }
  | { signInStep: 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE'; additionalInfo?: Record<string, string> }
  | { signInStep: 'CONFIRM_SIGN_IN_WITH_SMS_CODE' | 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE'; codeDeliveryDetails?: CodeDeliveryDetails }
  | { signInStep: 'CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION'; availableChallenges?: string[] }
  | { signInStep: 'CONTINUE_SIGN_IN_WITH_MFA_SELECTION' | 'CONTINUE_SIGN_IN_WITH_MFA_SETUP_SELECTION'; allowedMFATypes?: MfaType[] }
  | { signInStep: 'CONTINUE_SIGN_IN_WITH_TOTP_SETUP'; totpSetupDetails: TotpSetupDetails };
export interface SignInOutput { isSignedIn: boolean; nextStep: SignInNextStep }

export interface ConfirmSignInInput {
  challengeResponse: string;
  options?: { userAttributes?: Record<string, string>; clientMetadata?: Record<string, string>; friendlyDeviceName?: string };
}

interface AuthResponse {
  ChallengeName?: string;
  ChallengeParameters?: Record<string, string>;
  Session?: string;
  AuthenticationResult?: CognitoResult;
  AvailableChallenges?: string[];
}

/** Cognito's sessions live at most 15 minutes; a state older than that is dead whatever the server says. */
const STATE_TTL = 15 * 60_000;

async function saveState(ctx: Ctx, state: SignInState | undefined) {
  ctx.signIn = state;
  await (state ? ctx.storage.setItem(stateKey(ctx, 'signInState'), JSON.stringify(state)) : ctx.storage.removeItem(stateKey(ctx, 'signInState')));
}

async function loadState(ctx: Ctx): Promise<SignInState | undefined> {
  if (!ctx.signIn) {
    const raw = await ctx.storage.getItem(stateKey(ctx, 'signInState'));
    try { ctx.signIn = raw ? JSON.parse(raw) : undefined; } catch { ctx.signIn = undefined; }
  }
  return ctx.signIn && Date.now() - ctx.signIn.at < STATE_TTL ? ctx.signIn : undefined;
}

const respond = (ctx: Ctx, ChallengeName: string, responses: Record<string, string | undefined>, Session?: string, ClientMetadata?: Record<string, string>): Promise<AuthResponse> =>
  call(ctx, 'RespondToAuthChallenge', { ClientId: ctx.cfg.clientId, ChallengeName, ChallengeResponses: responses, Session, ClientMetadata });

const initiate = (ctx: Ctx, AuthFlow: string, params: Record<string, string | undefined>, ClientMetadata?: Record<string, string>, Session?: string): Promise<AuthResponse> =>
  call(ctx, 'InitiateAuth', { ClientId: ctx.cfg.clientId, AuthFlow, AuthParameters: params, ClientMetadata, Session });

/**
 * Answers the challenges a client answers by itself (PASSWORD_VERIFIER, DEVICE_SRP_AUTH) until one
 * that needs the user, or tokens. A device Cognito no longer knows is forgotten and the answer retried
 * without it, as Amplify does.
 */
async function drive(ctx: Ctx, r: AuthResponse, login: string, eph?: SrpEphemeral, password?: string, meta?: Record<string, string>): Promise<AuthResponse> {
  for (;;) {
    const p = r.ChallengeParameters ?? {};
    if (r.ChallengeName === 'PASSWORD_VERIFIER' && eph && password !== undefined) {
      const userId = p.USER_ID_FOR_SRP;
      if (!userId) fail('EmptyUserIdForSRPException', 'USER_ID_FOR_SRP was not found in challengeParameters');
      const claim = await passwordClaim({ poolName: ctx.cfg.poolName, userId, password, salt: p.SALT!, srpB: p.SRP_B!, secretBlock: p.SECRET_BLOCK!, ephemeral: eph });
      const answer = async (deviceKey?: string) =>
        respond(ctx, 'PASSWORD_VERIFIER', { USERNAME: userId, PASSWORD_CLAIM_SECRET_BLOCK: p.SECRET_BLOCK, TIMESTAMP: claim.timestamp, PASSWORD_CLAIM_SIGNATURE: claim.signature, DEVICE_KEY: deviceKey }, r.Session, meta);
      const device = await getDevice(ctx, userId);
      try {
        r = await answer(device?.deviceKey);
      } catch (e) {
        if (!(device && e instanceof AuthError && e.name === 'ResourceNotFoundException')) throw e;
        await setDevice(ctx, userId, undefined);
        r = await answer();
      }
      eph = undefined;
    } else if (r.ChallengeName === 'DEVICE_SRP_AUTH') {
      const username = p.USERNAME ?? login;
      const device = await getDevice(ctx, username);
      if (!device) fail('DeviceMetadataException', 'Device metadata is missing for the device challenge.');
      const de = startSrp();
      const c = await respond(ctx, 'DEVICE_SRP_AUTH', { USERNAME: username, SRP_A: de.srpA, DEVICE_KEY: device.deviceKey }, r.Session, meta);
      const q = c.ChallengeParameters ?? {};
      const claim = await passwordClaim({ poolName: device.deviceGroupKey, userId: device.deviceKey, password: device.randomPassword, salt: q.SALT!, srpB: q.SRP_B!, secretBlock: q.SECRET_BLOCK!, ephemeral: de });
      r = await respond(ctx, 'DEVICE_PASSWORD_VERIFIER', {
        USERNAME: q.USERNAME ?? username, PASSWORD_CLAIM_SECRET_BLOCK: q.SECRET_BLOCK, TIMESTAMP: claim.timestamp, PASSWORD_CLAIM_SIGNATURE: claim.signature, DEVICE_KEY: device.deviceKey,
      }, c.Session, meta);
    } else return r;
  }
}

const deviceName = () => (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent ?? 'Gatehouse client';

/** Tokens arrived: keep them, confirm a new device (its failure never blocks the sign-in), announce it. */
export async function signedIn(ctx: Ctx, result: CognitoResult, details: SignInDetails | undefined, oauth = false): Promise<AuthUser> {
  const previous = await loadTokens(ctx);
  // A new sign-in: nothing of the previous one's tokens or details carries over.
  const stored = await saveTokens(ctx, result, details, previous && { ...previous, refresh: undefined, id: undefined, details: undefined }, oauth);
  const nd = result.NewDeviceMetadata;
  if (nd?.DeviceKey && nd.DeviceGroupKey) {
    try {
      const d = await deviceSecret(nd.DeviceGroupKey, nd.DeviceKey);
      await call(ctx, 'ConfirmDevice', { AccessToken: result.AccessToken, DeviceKey: nd.DeviceKey, DeviceName: deviceName(), DeviceSecretVerifierConfig: { PasswordVerifier: d.verifier, Salt: d.salt } });
      await setDevice(ctx, stored.username, { deviceKey: nd.DeviceKey, deviceGroupKey: nd.DeviceGroupKey, randomPassword: d.randomPassword });
    } catch { /* the device stays unconfirmed; the next sign-in offers it again */ }
  }
  await saveState(ctx, undefined);
  const user = userOf(stored);
  emit(ctx, 'signedIn', user);
  return user;
}

const MFA_NAMES: Record<string, MfaType> = { SMS_MFA: 'SMS', SOFTWARE_TOKEN_MFA: 'TOTP', EMAIL_OTP: 'EMAIL' };
const mfaTypes = (json?: string): MfaType[] => (json ? (JSON.parse(json) as string[]).map((t) => MFA_NAMES[t]!).filter(Boolean) : []);
const delivery = (p: Record<string, string>): CodeDeliveryDetails => ({ deliveryMedium: p.CODE_DELIVERY_DELIVERY_MEDIUM, destination: p.CODE_DELIVERY_DESTINATION });

export function totpDetails(sharedSecret: string, username: string): TotpSetupDetails {
  return { sharedSecret, getSetupUri: (appName, accountName) => new URL(`otpauth://totp/${appName}:${accountName ?? username}?secret=${sharedSecret}&issuer=${appName}`) };
}

/** Turns a Cognito answer into signIn's output, keeping what the next confirmSignIn needs. */
async function result(ctx: Ctx, r: AuthResponse, login: string, details: SignInDetails, meta?: Record<string, string>): Promise<SignInOutput> {
  for (;;) {
    if (r.AuthenticationResult) {
      await signedIn(ctx, r.AuthenticationResult, details);
      return { isSignedIn: true, nextStep: { signInStep: 'DONE' } };
    }
    const challenge = r.ChallengeName;
    if (!challenge) fail('SignInException', 'The server answered neither tokens nor a challenge.');
    const p = r.ChallengeParameters ?? {};
    const state: SignInState = { username: p.USERNAME ?? p.USER_ID_FOR_SRP ?? ctx.signIn?.username ?? login, session: r.Session, challenge, params: p, available: r.AvailableChallenges, details, at: Date.now() };
    await saveState(ctx, state);
    const out = (nextStep: SignInNextStep): SignInOutput => ({ isSignedIn: false, nextStep });
    switch (challenge) {
      case 'CUSTOM_CHALLENGE': return out({ signInStep: 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE', additionalInfo: p });
      case 'NEW_PASSWORD_REQUIRED':
        return out({ signInStep: 'CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED', missingAttributes: p.requiredAttributes ? (JSON.parse(p.requiredAttributes) as string[]).map((a) => a.replace('userAttributes.', '')) : [] });
      case 'SELECT_MFA_TYPE': return out({ signInStep: 'CONTINUE_SIGN_IN_WITH_MFA_SELECTION', allowedMFATypes: mfaTypes(p.MFAS_CAN_CHOOSE) });
      case 'SMS_MFA': case 'SMS_OTP': return out({ signInStep: 'CONFIRM_SIGN_IN_WITH_SMS_CODE', codeDeliveryDetails: delivery(p) });
      case 'EMAIL_OTP': return out({ signInStep: 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE', codeDeliveryDetails: delivery(p) });
      case 'SOFTWARE_TOKEN_MFA': return out({ signInStep: 'CONFIRM_SIGN_IN_WITH_TOTP_CODE' });
      case 'PASSWORD': case 'PASSWORD_SRP': return out({ signInStep: 'CONFIRM_SIGN_IN_WITH_PASSWORD' });
      case 'SELECT_CHALLENGE': return out({ signInStep: 'CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION', availableChallenges: r.AvailableChallenges });
      case 'MFA_SETUP': {
        const types = mfaTypes(p.MFAS_CAN_SETUP).filter((t) => t !== 'SMS');
        if (types.length > 1) return out({ signInStep: 'CONTINUE_SIGN_IN_WITH_MFA_SETUP_SELECTION', allowedMFATypes: types });
        if (types[0] === 'EMAIL') return out({ signInStep: 'CONTINUE_SIGN_IN_WITH_EMAIL_SETUP' });
        if (types[0] === 'TOTP') {
          const a = await call(ctx, 'AssociateSoftwareToken', { Session: r.Session });
          await saveState(ctx, { ...state, session: a.Session ?? r.Session });
          return out({ signInStep: 'CONTINUE_SIGN_IN_WITH_TOTP_SETUP', totpSetupDetails: totpDetails(a.SecretCode, state.username) });
        }
        return fail('SignInException', `Cannot set up MFA from the available types: ${p.MFAS_CAN_SETUP}`);
      }
      case 'WEB_AUTHN': {
        // The browser ceremony runs at once, as in Amplify: the user's answer is the authenticator itself.
        const credential = await getPasskey(JSON.parse(p.CREDENTIAL_REQUEST_OPTIONS ?? 'null'));
        r = await respond(ctx, 'WEB_AUTHN', { USERNAME: state.username, CREDENTIAL: JSON.stringify(credential) }, r.Session, meta);
        continue;
      }
    }
    return fail('SignInException', `${challenge} challengeName returned by the underlying service was not addressed.`);
  }
}

/** Sign-in answers that are next steps rather than failures, as Amplify maps them. */
function stepFromError(e: unknown): SignInOutput {
  if (e instanceof AuthError && e.name === 'UserNotConfirmedException') return { isSignedIn: false, nextStep: { signInStep: 'CONFIRM_SIGN_UP' } };
  if (e instanceof AuthError && e.name === 'PasswordResetRequiredException') return { isSignedIn: false, nextStep: { signInStep: 'RESET_PASSWORD' } };
  throw e;
}

/**
 * A stored session blocks a new sign-in only while it is alive. Tokens the server refuses
 * (revoked, expired, user deleted) are cleared and the sign-in goes on, instead of Amplify's
 * "There is already a signed in user." until the app signs out.
 */
export async function assertNoLiveSession(ctx: Ctx) {
  await ctx.redirect?.catch(() => {});
  let s: Stored | undefined = await loadTokens(ctx);
  if (!s) return;
  try {
    if (expiring(s)) s = await refresh(ctx, s);
    else await call(ctx, 'GetUser', { AccessToken: s.access });
  } catch (e) {
    if (!isAuthFailure(e)) throw e;
    await clearTokens(ctx);
    s = undefined;
  }
  if (s) fail('UserAlreadyAuthenticatedException', 'There is already a signed in user.', 'Call signOut before calling signIn again.');
}

export async function signIn(ctx: Ctx, input: SignInInput): Promise<SignInOutput> {
  const { username, password, options = {} } = input;
  need(username, 'EmptySignInUsername', 'username is required to signIn');
  const flow = options.authFlowType ?? 'USER_SRP_AUTH';
  if (flow !== 'USER_AUTH' && flow !== 'CUSTOM_WITHOUT_SRP') need(password, 'EmptySignInPassword', 'password is required to signIn');
  await assertNoLiveSession(ctx);
  ctx.autoSignIn = undefined;
  await saveState(ctx, undefined);
  const meta = options.clientMetadata;
  const details: SignInDetails = { loginId: username, authFlowType: flow };
  try {
    let r: AuthResponse;
    let eph: SrpEphemeral | undefined;
    const device = async () => (await getDevice(ctx, username))?.deviceKey;
    if (flow === 'USER_PASSWORD_AUTH') r = await initiate(ctx, flow, { USERNAME: username, PASSWORD: password, DEVICE_KEY: await device() }, meta);
    else if (flow === 'CUSTOM_WITHOUT_SRP') r = await initiate(ctx, 'CUSTOM_AUTH', { USERNAME: username, DEVICE_KEY: await device() }, meta);
    else if (flow === 'CUSTOM_WITH_SRP') r = await initiate(ctx, 'CUSTOM_AUTH', { USERNAME: username, SRP_A: (eph = startSrp()).srpA, CHALLENGE_NAME: 'SRP_A' }, meta);
    else if (flow === 'USER_AUTH') {
      const pref = options.preferredChallenge;
      if (pref === 'PASSWORD' || pref === 'PASSWORD_SRP') need(password, 'EmptySignInPassword', 'password is required to signIn');
      r = await initiate(ctx, 'USER_AUTH', {
        USERNAME: username, PREFERRED_CHALLENGE: pref, PASSWORD: pref === 'PASSWORD' ? password : undefined, SRP_A: pref === 'PASSWORD_SRP' ? (eph = startSrp()).srpA : undefined,
      }, meta);
    } else r = await initiate(ctx, 'USER_SRP_AUTH', { USERNAME: username, SRP_A: (eph = startSrp()).srpA }, meta);
    r = await drive(ctx, r, username, eph, password, meta);
    return await result(ctx, r, username, details, meta);
  } catch (e) {
    return stepFromError(e);
  }
}

/** Errors after which the same challenge may be answered again; any other ends the attempt. */
const RETRYABLE = /^(CodeMismatchException|InvalidPasswordException|InvalidParameterException|EnableSoftwareTokenMFAException|NetworkError|TooManyRequestsException|LimitExceededException|InternalErrorException|Empty.*|IncorrectMFAMethod|SignInException|Passkey.*|RelyingPartyMismatch|Unknown)$/;

export async function confirmSignIn(ctx: Ctx, input: ConfirmSignInInput): Promise<SignInOutput> {
  const { challengeResponse: answer, options = {} } = input;
  need(answer, 'EmptyChallengeResponse', 'challengeResponse is required to confirmSignIn');
  const state = await loadState(ctx);
  if (!state) fail('SignInException', 'No sign-in is in progress, or it has expired.', 'Call signIn, then confirmSignIn with the answer to its nextStep.');
  const { username, session, challenge, details } = state;
  const meta = options.clientMetadata;
  const local = (c: string, params: Record<string, string> = {}) => result(ctx, { ChallengeName: c, ChallengeParameters: { ...params, USERNAME: username }, Session: session }, username, details, meta);
  try {
    let r: AuthResponse;
    let eph: SrpEphemeral | undefined;
    const deviceKey = async () => (await getDevice(ctx, username))?.deviceKey;
    switch (challenge) {
      case 'SELECT_CHALLENGE':
      case 'WEB_AUTHN':
        // Choosing a password factor asks for the password first (a local step, as in Amplify).
        if (answer === 'PASSWORD' || answer === 'PASSWORD_SRP') return await local(answer);
        r = await respond(ctx, 'SELECT_CHALLENGE', { USERNAME: username, ANSWER: answer }, session, meta);
        break;
      case 'PASSWORD':
        r = await respond(ctx, 'SELECT_CHALLENGE', { ANSWER: 'PASSWORD', USERNAME: username, PASSWORD: answer }, session, meta);
        break;
      case 'PASSWORD_SRP':
        r = await respond(ctx, 'SELECT_CHALLENGE', { ANSWER: 'PASSWORD_SRP', USERNAME: username, SRP_A: (eph = startSrp()).srpA }, session, meta);
        r = await drive(ctx, r, username, eph, answer, meta);
        break;
      case 'SELECT_MFA_TYPE': {
        const type = { SMS: 'SMS_MFA', TOTP: 'SOFTWARE_TOKEN_MFA', EMAIL: 'EMAIL_OTP' }[answer];
        need(type, 'IncorrectMFAMethod', 'The challengeResponse must be SMS, TOTP or EMAIL.');
        r = await respond(ctx, 'SELECT_MFA_TYPE', { USERNAME: username, ANSWER: type }, session, meta);
        break;
      }
      case 'MFA_SETUP':
        if (answer === 'EMAIL') return await local('MFA_SETUP', { MFAS_CAN_SETUP: '["EMAIL_OTP"]' });
        if (answer === 'TOTP') return await local('MFA_SETUP', { MFAS_CAN_SETUP: '["SOFTWARE_TOKEN_MFA"]' });
        if (/^\d+$/.test(answer)) {
          const v = await call(ctx, 'VerifySoftwareToken', { UserCode: answer, Session: session, FriendlyDeviceName: options.friendlyDeviceName });
          await saveState(ctx, { ...state, session: v.Session ?? session });
          r = await respond(ctx, 'MFA_SETUP', { USERNAME: username }, v.Session ?? session, meta);
        } else if (answer.includes('@')) r = await respond(ctx, 'MFA_SETUP', { USERNAME: username, EMAIL: answer }, session, meta);
        else fail('SignInException', `Cannot proceed with MFA setup using challengeResponse: ${answer}`, 'Pass "EMAIL", "TOTP", an email address, or the TOTP code.');
        break;
      case 'NEW_PASSWORD_REQUIRED': {
        const attrs: Record<string, string> = {};
        for (const [k, v] of Object.entries(options.userAttributes ?? {})) if (v) attrs[`userAttributes.${k}`] = v;
        r = await respond(ctx, 'NEW_PASSWORD_REQUIRED', { ...attrs, NEW_PASSWORD: answer, USERNAME: username }, session, meta);
        break;
      }
      case 'CUSTOM_CHALLENGE':
        r = await respond(ctx, 'CUSTOM_CHALLENGE', { USERNAME: username, ANSWER: answer, DEVICE_KEY: await deviceKey() }, session, meta);
        break;
      case 'SMS_MFA': case 'SMS_OTP': case 'EMAIL_OTP': case 'SOFTWARE_TOKEN_MFA': {
        const key = { SMS_MFA: 'SMS_MFA_CODE', SMS_OTP: 'SMS_OTP_CODE', EMAIL_OTP: 'EMAIL_OTP_CODE', SOFTWARE_TOKEN_MFA: 'SOFTWARE_TOKEN_MFA_CODE' }[challenge];
        r = await respond(ctx, challenge, { USERNAME: username, [key]: answer, DEVICE_KEY: await deviceKey() }, session, meta);
        break;
      }
      default:
        return fail('SignInException', `${challenge} cannot be answered with confirmSignIn.`);
    }
    r = await drive(ctx, r, username, undefined, undefined, meta);
    return await result(ctx, r, username, details, meta);
  } catch (e) {
    // A wrong code, a weak password, an outage or a cancelled passkey prompt leaves the session
    // usable: keep the state for another try. The server's other refusals end the attempt.
    if (e instanceof AuthError && !RETRYABLE.test(e.name)) await saveState(ctx, undefined);
    if (e instanceof AuthError && (e.name === 'UserNotConfirmedException' || e.name === 'PasswordResetRequiredException')) return stepFromError(e);
    throw e;
  }
}

/** Arms autoSignIn after signUp (in memory only: the password never reaches storage; no timer, a 3-minute deadline checked on use). */
export function armAutoSignIn(ctx: Ctx, username: string, password: string | undefined, opts: { authFlowType?: AuthFlowType; clientMetadata?: Record<string, string> } | undefined, session?: string) {
  ctx.autoSignIn = { username, password: opts?.authFlowType === 'CUSTOM_WITHOUT_SRP' ? undefined : password, flow: opts?.authFlowType, clientMetadata: opts?.clientMetadata, session, at: Date.now() };
}

export async function autoSignIn(ctx: Ctx): Promise<SignInOutput> {
  const a = ctx.autoSignIn;
  if (!a || Date.now() - a.at > 3 * 60_000) {
    ctx.autoSignIn = undefined;
    fail('AutoSignInException', 'The autoSignIn flow has not started, or has been cancelled/completed.', 'Call signUp with autoSignIn enabled, then confirmSignUp, then autoSignIn.');
  }
  ctx.autoSignIn = undefined;
  if (a.flow === 'USER_AUTH' && a.session) {
    // The session ConfirmSignUp returned signs the new user in without the password again.
    await assertNoLiveSession(ctx);
    try {
      const r = await initiate(ctx, 'USER_AUTH', { USERNAME: a.username }, a.clientMetadata, a.session);
      return await result(ctx, await drive(ctx, r, a.username), a.username, { loginId: a.username, authFlowType: 'USER_AUTH' }, a.clientMetadata);
    } catch (e) {
      return stepFromError(e);
    }
  }
  return signIn(ctx, { username: a.username, password: a.password, options: { authFlowType: a.flow, clientMetadata: a.clientMetadata } });
}
