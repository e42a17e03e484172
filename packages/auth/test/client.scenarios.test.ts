// One scenario table, run once with the unmodified aws-amplify v6 client and once with @gatehouse/auth,
// against a real Gatehouse process (codes read from real mail and a real SMS webhook, TOTP codes
// computed as an authenticator app does). Same inputs, same outputs expected.
import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Amplify } from 'aws-amplify';
import * as amplifyAuth from 'aws-amplify/auth';
import { TOTP, Secret } from 'otpauth';
import {
  AdminCreateUserCommand, AdminGetUserCommand, AdminSetUserPasswordCommand, SetUserPoolMfaConfigCommand, UpdateUserPoolCommand,
  type CreateUserPoolCommandInput,
} from '@aws-sdk/client-cognito-identity-provider';
import { createAuth, memoryStorage, type Auth } from '@gatehouse/auth';
import { MailCatcher, startGatehouse, createPoolAndClient, uniqueEmail, rawCall, unrefLongClientTimers, AUTO_SIGN_IN_DEBOUNCE_MS, type Gatehouse } from '../../server/test/support/harness.js';
import { SmsCatcher } from '../../server/test/support/sms.js';
import { TriggerKit, CUSTOM_AUTH_MODULES } from '../../server/test/support/triggers.js';

unrefLongClientTimers();
// Amplify names a new device after navigator.userAgent and silently skips confirming it when that
// throws: Node 20 has no navigator (Node 21 has), every browser has one.
if (typeof (globalThis as { navigator?: unknown }).navigator === 'undefined') {
  Object.defineProperty(globalThis, 'navigator', { value: { userAgent: 'Node.js test' }, configurable: true });
}

/** The part of aws-amplify/auth both clients implement, by the same names. */
type Api = Pick<Auth, 'signIn' | 'confirmSignIn' | 'signUp' | 'confirmSignUp' | 'resendSignUpCode' | 'autoSignIn' | 'signOut' | 'fetchAuthSession' | 'getCurrentUser' |
  'resetPassword' | 'confirmResetPassword' | 'updatePassword' | 'fetchUserAttributes' | 'updateUserAttributes' | 'sendUserAttributeVerificationCode' |
  'confirmUserAttribute' | 'deleteUserAttributes' | 'deleteUser' | 'setUpTOTP' | 'verifyTOTPSetup' | 'updateMFAPreference' | 'fetchMFAPreference' |
  'rememberDevice' | 'forgetDevice' | 'fetchDevices'>;

interface ClientUnderTest { name: string; configure(poolId: string, clientId: string, url: string): Api }

const clients: ClientUnderTest[] = [
  {
    name: 'aws-amplify',
    configure(poolId, clientId, url) {
      Amplify.configure({ Auth: { Cognito: { userPoolId: poolId, userPoolClientId: clientId, userPoolEndpoint: url, loginWith: { email: true } } } });
      return amplifyAuth as unknown as Api;
    },
  },
  {
    name: '@gatehouse/auth',
    configure(poolId, clientId, url) {
      return createAuth({ Auth: { Cognito: { userPoolId: poolId, userPoolClientId: clientId, userPoolEndpoint: url, loginWith: { email: true } } } }, { storage: memoryStorage() });
    },
  },
];

let gh: Gatehouse, mail: MailCatcher, sms: SmsCatcher, kit: TriggerKit, poolId: string, clientId: string;
const PASSWORD = 'Correct-Horse-9';

before(async () => {
  mail = await new MailCatcher().start();
  sms = await new SmsCatcher().start();
  // AWS's custom-auth trio (a question, the answer 42, three tries) as trigger modules.
  kit = await new TriggerKit().start();
  for (const [name, body] of Object.entries(CUSTOM_AUTH_MODULES)) kit.module(name, body);
  gh = await startGatehouse({ GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${mail.port}`, GATEHOUSE_SMS_WEBHOOK_URL: sms.url, GATEHOUSE_TRIGGERS_DIR: kit.dir });
  ({ poolId, clientId } = await createPoolAndClient(gh, { Policies: { SignInPolicy: { AllowedFirstAuthFactors: ['PASSWORD'] } } }));
});
after(async () => { await gh?.stop(); await mail?.close(); await sms?.close(); await kit?.stop(); });

async function errorOf(p: Promise<unknown>): Promise<Error & { name: string }> {
  try { await p; } catch (e) { return e as Error & { name: string }; }
  assert.fail('expected an error');
}

async function confirmedUser(api: Api, password = PASSWORD) {
  const email = uniqueEmail();
  const since = Date.now();
  await api.signUp({ username: email, password, options: { userAttributes: { email } } });
  await api.confirmSignUp({ username: email, confirmationCode: await mail.code(email, since) });
  return email;
}

interface Pool { poolId: string; clientId: string }
/** A scenario gets the client on the shared pool, and `use` to point a fresh client at a pool of its own. */
type Scenario = (api: Api, use: (pool: Pool) => Promise<Api>) => Promise<void>;

const SMS_CONFIG = { SnsCallerArn: 'arn:aws:iam::123456789012:role/sms', ExternalId: 'gatehouse' };
let n = 0;

/** A pool with plain usernames and the given MFA settings. */
async function mfaPool(mfa: { mode: 'ON' | 'OPTIONAL'; sms?: boolean; totp?: boolean; email?: boolean }, extra: Partial<CreateUserPoolCommandInput> = {}): Promise<Pool> {
  const pool = await createPoolAndClient(gh, { UsernameAttributes: undefined, AutoVerifiedAttributes: undefined, Schema: undefined, ...extra });
  await gh.admin.send(new SetUserPoolMfaConfigCommand({
    UserPoolId: pool.poolId, MfaConfiguration: mfa.mode,
    SmsMfaConfiguration: mfa.sms ? { SmsConfiguration: SMS_CONFIG, SmsAuthenticationMessage: 'Your sign-in code: {####}' } : undefined,
    SoftwareTokenMfaConfiguration: { Enabled: !!mfa.totp },
    EmailMfaConfiguration: mfa.email ? { Message: 'Your sign-in code is {####}', Subject: 'Sign-in code' } : undefined,
  }));
  return pool;
}

/** An admin-made user with a permanent password (no sign-up: the pool may have no email attribute). */
async function adminUser(pool: Pool, attrs: Record<string, string> = {}) {
  const username = `u${process.pid}x${n++}`;
  await gh.admin.send(new AdminCreateUserCommand({
    UserPoolId: pool.poolId, Username: username, MessageAction: 'SUPPRESS', TemporaryPassword: 'Temp-Passw0rd!',
    UserAttributes: Object.entries(attrs).map(([Name, Value]) => ({ Name, Value })),
  }));
  await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: pool.poolId, Username: username, Password: PASSWORD, Permanent: true }));
  return username;
}

const totpOf = (secret: string) => new TOTP({ secret: Secret.fromBase32(secret) });
/** A six-digit code that is not `code`. */
const wrongCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

/** Signs in (no MFA yet) and enrols TOTP as an app does: setUpTOTP, verifyTOTPSetup, updateMFAPreference. */
async function enrolTotp(api: Api, username: string, preference: 'PREFERRED' | 'ENABLED' = 'PREFERRED') {
  assert.equal((await api.signIn({ username, password: PASSWORD })).nextStep.signInStep, 'DONE');
  const details = await api.setUpTOTP();
  assert.equal(details.getSetupUri('Gatehouse', username).href, `otpauth://totp/Gatehouse:${username}?secret=${details.sharedSecret}&issuer=Gatehouse`);
  const totp = totpOf(details.sharedSecret);
  assert.equal((await errorOf(api.verifyTOTPSetup({ code: wrongCode(totp.generate()) }))).name, 'EnableSoftwareTokenMFAException');
  // The previous step's code, so that this step's stays unspent for the sign-in that follows.
  await api.verifyTOTPSetup({ code: totp.generate({ timestamp: Date.now() - 30_000 }) });
  await api.updateMFAPreference({ totp: preference });
  return totp;
}

/** Pools for choice-based sign-in: email logins with passwords and mailed codes; phone logins with texted codes. */
const emailCodePool = () => createPoolAndClient(gh, { Policies: { SignInPolicy: { AllowedFirstAuthFactors: ['PASSWORD', 'EMAIL_OTP'] } } });
const phoneCodePool = () => createPoolAndClient(gh, {
  UsernameAttributes: ['phone_number'], AutoVerifiedAttributes: ['phone_number'], Schema: undefined,
  Policies: { SignInPolicy: { AllowedFirstAuthFactors: ['PASSWORD', 'SMS_OTP'] } },
});
const newPhone = () => `+1556${String(process.pid % 1000).padStart(3, '0')}${String(n++).padStart(4, '0')}`;

/** A pool whose DefineAuthChallenge, CreateAuthChallenge and VerifyAuthChallengeResponse are the trio above. */
async function customAuthPool(): Promise<Pool> {
  return createPoolAndClient(gh, {
    LambdaConfig: { DefineAuthChallenge: 'define.mjs', CreateAuthChallenge: 'create.mjs', VerifyAuthChallengeResponse: 'verify.mjs' },
  }, { ExplicitAuthFlows: ['ALLOW_CUSTOM_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] });
}

/** A confirmed user of an email-login pool, made by the admin API. */
async function emailUser(pool: Pool) {
  const email = uniqueEmail('custom');
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: pool.poolId, Username: email, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }] }));
  await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: pool.poolId, Username: email, Password: PASSWORD, Permanent: true }));
  return email;
}

const scenarios: Record<string, Scenario> = {
  async 'default signIn is SRP and yields Cognito-shaped tokens'(api) {
    const email = await confirmedUser(api);
    const r = await api.signIn({ username: email, password: PASSWORD });
    assert.deepEqual(r, { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
    const { tokens } = await api.fetchAuthSession();
    const access = tokens!.accessToken.payload, id = tokens!.idToken!.payload;
    assert.equal(access.token_use, 'access');
    assert.equal(access.client_id, clientId);
    assert.equal(id.email, email);
    assert.equal(id.aud, clientId);
    const user = await api.getCurrentUser();
    assert.equal(user.userId, access.sub);
    assert.equal(user.username, access.username);
    assert.deepEqual(user.signInDetails, { loginId: email, authFlowType: 'USER_SRP_AUTH' });
  },

  async 'USER_PASSWORD_AUTH signs in'(api) {
    const email = await confirmedUser(api);
    const r = await api.signIn({ username: email, password: PASSWORD, options: { authFlowType: 'USER_PASSWORD_AUTH' } });
    assert.equal(r.nextStep.signInStep, 'DONE');
    assert.equal((await api.getCurrentUser()).signInDetails?.authFlowType, 'USER_PASSWORD_AUTH');
  },

  async 'a wrong password and an unknown user get the same answer'(api) {
    const email = await confirmedUser(api);
    for (const authFlowType of ['USER_SRP_AUTH', 'USER_PASSWORD_AUTH'] as const) {
      const wrong = await errorOf(api.signIn({ username: email, password: 'Wrong-Password-1', options: { authFlowType } }));
      const unknown = await errorOf(api.signIn({ username: uniqueEmail('nobody'), password: 'Wrong-Password-1', options: { authFlowType } }));
      assert.equal(wrong.name, 'NotAuthorizedException');
      assert.equal(unknown.name, wrong.name);
      assert.equal(unknown.message, wrong.message);
    }
  },

  async 'signUp, confirmSignUp and autoSignIn sign the user in'(api) {
    const email = uniqueEmail();
    const since = Date.now();
    const up = await api.signUp({ username: email, password: PASSWORD, options: { userAttributes: { email }, autoSignIn: true } });
    assert.equal(up.isSignUpComplete, false);
    assert.equal(up.nextStep.signUpStep, 'CONFIRM_SIGN_UP');
    assert.deepEqual(up.nextStep.codeDeliveryDetails && { ...up.nextStep.codeDeliveryDetails, destination: undefined }, { deliveryMedium: 'EMAIL', attributeName: 'email', destination: undefined });
    assert.ok(up.userId);
    const resent = await api.resendSignUpCode({ username: email });
    assert.equal(resent.deliveryMedium, 'EMAIL');
    const confirmed = await api.confirmSignUp({ username: email, confirmationCode: await mail.code(email, since) });
    assert.deepEqual(confirmed, { isSignUpComplete: true, nextStep: { signUpStep: 'COMPLETE_AUTO_SIGN_IN' } });
    await new Promise((res) => setTimeout(res, AUTO_SIGN_IN_DEBOUNCE_MS));
    assert.deepEqual(await api.autoSignIn(), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
    assert.equal((await api.fetchUserAttributes()).email, email);
  },

  async 'autoSignIn with USER_AUTH signs in with the session ConfirmSignUp returned'(api) {
    const email = uniqueEmail();
    const since = Date.now();
    await api.signUp({ username: email, password: PASSWORD, options: { userAttributes: { email }, autoSignIn: { authFlowType: 'USER_AUTH' } } });
    await api.confirmSignUp({ username: email, confirmationCode: await mail.code(email, since) });
    await new Promise((res) => setTimeout(res, AUTO_SIGN_IN_DEBOUNCE_MS));
    assert.equal((await api.autoSignIn()).isSignedIn, true);
    assert.equal((await api.getCurrentUser()).signInDetails?.authFlowType, 'USER_AUTH');
  },

  async 'an unconfirmed user is sent to CONFIRM_SIGN_UP'(api) {
    const email = uniqueEmail();
    await api.signUp({ username: email, password: PASSWORD, options: { userAttributes: { email } } });
    for (const authFlowType of ['USER_SRP_AUTH', 'USER_PASSWORD_AUTH'] as const) {
      assert.deepEqual(await api.signIn({ username: email, password: PASSWORD, options: { authFlowType } }), { isSignedIn: false, nextStep: { signInStep: 'CONFIRM_SIGN_UP' } });
    }
  },

  async 'USER_AUTH with a preferred PASSWORD or PASSWORD_SRP signs in at once'(api) {
    const email = await confirmedUser(api);
    for (const preferredChallenge of ['PASSWORD', 'PASSWORD_SRP'] as const) {
      const r = await api.signIn({ username: email, password: PASSWORD, options: { authFlowType: 'USER_AUTH', preferredChallenge } });
      assert.deepEqual(r, { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
      await api.signOut();
    }
  },

  async 'USER_AUTH first-factor selection, then the password, then DONE'(api) {
    const email = await confirmedUser(api);
    for (const factor of ['PASSWORD', 'PASSWORD_SRP']) {
      const r = await api.signIn({ username: email, options: { authFlowType: 'USER_AUTH' } });
      assert.equal(r.nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION');
      assert.deepEqual([...(r.nextStep as { availableChallenges: string[] }).availableChallenges].sort(), ['PASSWORD', 'PASSWORD_SRP']);
      const chosen = await api.confirmSignIn({ challengeResponse: factor });
      assert.deepEqual(chosen, { isSignedIn: false, nextStep: { signInStep: 'CONFIRM_SIGN_IN_WITH_PASSWORD' } });
      assert.deepEqual(await api.confirmSignIn({ challengeResponse: PASSWORD }), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
      await api.signOut();
    }
  },

  async 'an admin-created user sets a new password with confirmSignIn, after a refused weak one'(api) {
    const email = uniqueEmail('invited');
    const since = Date.now();
    await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: email, UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }], DesiredDeliveryMediums: ['EMAIL'] }));
    const temp = /temporary password is (\S+?)\.?$/m.exec((await mail.next(email, since)).text)![1]!;
    const r = await api.signIn({ username: email, password: temp });
    assert.deepEqual(r, { isSignedIn: false, nextStep: { signInStep: 'CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED', missingAttributes: [] } });
    assert.equal((await errorOf(api.confirmSignIn({ challengeResponse: 'short' }))).name, 'InvalidPasswordException');
    assert.deepEqual(await api.confirmSignIn({ challengeResponse: 'Brand-New-Passw0rd' }), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
    assert.equal((await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: email }))).UserStatus, 'CONFIRMED');
  },

  async 'resetPassword mails a code and confirmResetPassword sets the new password'(api) {
    const email = await confirmedUser(api);
    const since = Date.now();
    const started = await api.resetPassword({ username: email });
    assert.equal(started.isPasswordReset, false);
    assert.equal(started.nextStep.resetPasswordStep, 'CONFIRM_RESET_PASSWORD_WITH_CODE');
    assert.equal(started.nextStep.codeDeliveryDetails.deliveryMedium, 'EMAIL');
    await api.confirmResetPassword({ username: email, confirmationCode: await mail.code(email, since), newPassword: 'Self-Reset-44' });
    assert.equal((await errorOf(api.signIn({ username: email, password: PASSWORD }))).name, 'NotAuthorizedException');
    assert.equal((await api.signIn({ username: email, password: 'Self-Reset-44' })).nextStep.signInStep, 'DONE');
  },

  async 'updatePassword refuses a wrong old password and changes it with the right one'(api) {
    const email = await confirmedUser(api);
    await api.signIn({ username: email, password: PASSWORD });
    assert.equal((await errorOf(api.updatePassword({ oldPassword: 'Not-The-Password-1', newPassword: 'Changed-Passw0rd' }))).name, 'NotAuthorizedException');
    await api.updatePassword({ oldPassword: PASSWORD, newPassword: 'Changed-Passw0rd' });
    await api.signOut();
    assert.equal((await api.signIn({ username: email, password: 'Changed-Passw0rd' })).nextStep.signInStep, 'DONE');
  },

  async 'attributes: update, verify a changed email with its code, resend a code, delete'(api) {
    const email = await confirmedUser(api);
    await api.signIn({ username: email, password: PASSWORD });
    const plain = await api.updateUserAttributes({ userAttributes: { name: 'Ada Lovelace', given_name: 'Ada' } });
    assert.deepEqual(plain.name, { isUpdated: true, nextStep: { updateAttributeStep: 'DONE' } });
    const newEmail = uniqueEmail('moved');
    let since = Date.now();
    const changed = await api.updateUserAttributes({ userAttributes: { email: newEmail } });
    assert.equal(changed.email!.isUpdated, false);
    assert.equal(changed.email!.nextStep.updateAttributeStep, 'CONFIRM_ATTRIBUTE_WITH_CODE');
    assert.equal(changed.email!.nextStep.codeDeliveryDetails?.attributeName, 'email');
    await mail.code(newEmail, since);
    since = Date.now();
    const resent = await api.sendUserAttributeVerificationCode({ userAttributeKey: 'email' });
    assert.equal(resent.deliveryMedium, 'EMAIL');
    await api.confirmUserAttribute({ userAttributeKey: 'email', confirmationCode: await mail.code(newEmail, since) });
    let attrs = await api.fetchUserAttributes();
    assert.equal(attrs.email, newEmail);
    assert.equal(attrs.email_verified, 'true');
    assert.equal(attrs.given_name, 'Ada');
    await api.deleteUserAttributes({ userAttributeKeys: ['given_name'] });
    attrs = await api.fetchUserAttributes();
    assert.equal(attrs.given_name, undefined);
    assert.equal(attrs.name, 'Ada Lovelace');
  },

  async 'fetchAuthSession({ forceRefresh: true }) refreshes within the same sign-in'(api) {
    const email = await confirmedUser(api);
    await api.signIn({ username: email, password: PASSWORD });
    const first = (await api.fetchAuthSession()).tokens!;
    await new Promise((r) => setTimeout(r, 1100));
    const second = (await api.fetchAuthSession({ forceRefresh: true })).tokens!;
    assert.notEqual(second.accessToken.toString(), first.accessToken.toString());
    assert.equal(second.accessToken.payload.origin_jti, first.accessToken.payload.origin_jti);
    assert.ok(second.accessToken.payload.iat! > first.accessToken.payload.iat!);
    assert.equal((await api.fetchUserAttributes()).email, email);
  },

  async 'signOut revokes the sign-in; global signOut ends every session of the user'(api) {
    const email = await confirmedUser(api);
    await api.signIn({ username: email, password: PASSWORD });
    const access = (await api.fetchAuthSession()).tokens!.accessToken.toString();
    await api.signOut();
    assert.equal((await api.fetchAuthSession()).tokens, undefined);
    assert.equal((await rawCall(gh.url, 'GetUser', JSON.stringify({ AccessToken: access }))).type, 'NotAuthorizedException');
    await api.signIn({ username: email, password: PASSWORD });
    const access2 = (await api.fetchAuthSession()).tokens!.accessToken.toString();
    assert.equal((await rawCall(gh.url, 'GetUser', JSON.stringify({ AccessToken: access2 }))).status, 200);
    await api.signOut({ global: true });
    assert.equal((await rawCall(gh.url, 'GetUser', JSON.stringify({ AccessToken: access2 }))).type, 'NotAuthorizedException');
    assert.equal((await errorOf(api.getCurrentUser())).name, 'UserUnAuthenticatedException');
  },

  async 'deleteUser removes the user and signs out'(api) {
    const email = await confirmedUser(api);
    await api.signIn({ username: email, password: PASSWORD });
    await api.deleteUser();
    assert.equal((await api.fetchAuthSession()).tokens, undefined);
    assert.equal((await errorOf(api.signIn({ username: email, password: PASSWORD }))).name, 'NotAuthorizedException');
  },

  // ---- MFA (issue 8) ----

  async 'TOTP: set up and preferred, then a sign-in refuses a wrong code, takes the right one, and refuses it reused'(_, use) {
    const pool = await mfaPool({ mode: 'OPTIONAL', totp: true });
    const api = await use(pool);
    const username = await adminUser(pool);
    const totp = await enrolTotp(api, username);
    assert.deepEqual(await api.fetchMFAPreference(), { enabled: ['TOTP'], preferred: 'TOTP' });
    await api.signOut();

    assert.deepEqual(await api.signIn({ username, password: PASSWORD }), { isSignedIn: false, nextStep: { signInStep: 'CONFIRM_SIGN_IN_WITH_TOTP_CODE' } });
    const code = totp.generate();
    assert.equal((await errorOf(api.confirmSignIn({ challengeResponse: wrongCode(code) }))).name, 'CodeMismatchException');
    assert.deepEqual(await api.confirmSignIn({ challengeResponse: code }), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
    assert.equal((await api.getCurrentUser()).username, username);
    await api.signOut();

    assert.equal((await api.signIn({ username, password: PASSWORD })).nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_TOTP_CODE');
    assert.equal((await errorOf(api.confirmSignIn({ challengeResponse: code }))).name, 'CodeMismatchException');
    assert.equal((await api.confirmSignIn({ challengeResponse: totp.generate({ timestamp: Date.now() + 30_000 }) })).nextStep.signInStep, 'DONE');
  },

  async 'SMS MFA: the sign-in asks for the texted code, refuses a wrong one and signs in with it'(_, use) {
    const pool = await mfaPool({ mode: 'ON', sms: true });
    const api = await use(pool);
    const phone = `+1555${String(process.pid % 1000).padStart(3, '0')}${String(n).padStart(4, '0')}`;
    const username = await adminUser(pool, { phone_number: phone });
    const since = Date.now();
    const r = await api.signIn({ username, password: PASSWORD });
    assert.deepEqual(r, { isSignedIn: false, nextStep: { signInStep: 'CONFIRM_SIGN_IN_WITH_SMS_CODE', codeDeliveryDetails: { deliveryMedium: 'SMS', destination: `+*******${phone.slice(-4)}` } } });
    const code = await sms.code(phone, since);
    assert.equal((await errorOf(api.confirmSignIn({ challengeResponse: wrongCode(code) }))).name, 'CodeMismatchException');
    assert.deepEqual(await api.confirmSignIn({ challengeResponse: code }), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
    assert.equal((await api.fetchUserAttributes()).phone_number, phone);
  },

  async 'email MFA: a user who prefers it gets the code by mail and signs in with it'(_, use) {
    const pool = await mfaPool({ mode: 'OPTIONAL', email: true });
    const api = await use(pool);
    const email = uniqueEmail('mfa');
    const username = await adminUser(pool, { email, email_verified: 'true' });
    assert.equal((await api.signIn({ username, password: PASSWORD })).nextStep.signInStep, 'DONE');
    await api.updateMFAPreference({ email: 'PREFERRED' });
    assert.deepEqual(await api.fetchMFAPreference(), { enabled: ['EMAIL'], preferred: 'EMAIL' });
    await api.signOut();
    const since = Date.now();
    const r = await api.signIn({ username, password: PASSWORD });
    assert.equal(r.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE');
    assert.equal((r.nextStep as { codeDeliveryDetails?: { deliveryMedium?: string } }).codeDeliveryDetails?.deliveryMedium, 'EMAIL');
    const m = await mail.next(email, since);
    assert.equal(m.subject, 'Sign-in code');
    assert.deepEqual(await api.confirmSignIn({ challengeResponse: /(\d{6})/.exec(m.text)![1]! }), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
  },

  async 'MFA selection: TOTP and email enabled, none preferred: both offered, the chosen one used'(_, use) {
    const pool = await mfaPool({ mode: 'OPTIONAL', totp: true, email: true });
    const api = await use(pool);
    const email = uniqueEmail('select');
    const username = await adminUser(pool, { email, email_verified: 'true' });
    const totp = await enrolTotp(api, username, 'ENABLED');
    await api.updateMFAPreference({ email: 'ENABLED' });
    assert.deepEqual(await api.fetchMFAPreference(), { enabled: ['TOTP', 'EMAIL'], preferred: undefined });
    await api.signOut();

    const r = await api.signIn({ username, password: PASSWORD });
    assert.deepEqual(r, { isSignedIn: false, nextStep: { signInStep: 'CONTINUE_SIGN_IN_WITH_MFA_SELECTION', allowedMFATypes: ['TOTP', 'EMAIL'] } });
    const since = Date.now();
    assert.equal((await api.confirmSignIn({ challengeResponse: 'EMAIL' })).nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE');
    assert.equal((await api.confirmSignIn({ challengeResponse: await mail.code(email, since) })).nextStep.signInStep, 'DONE');
    await api.signOut();

    assert.equal((await api.signIn({ username, password: PASSWORD })).nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_MFA_SELECTION');
    assert.deepEqual(await api.confirmSignIn({ challengeResponse: 'TOTP' }), { isSignedIn: false, nextStep: { signInStep: 'CONFIRM_SIGN_IN_WITH_TOTP_CODE' } });
    assert.equal((await api.confirmSignIn({ challengeResponse: totp.generate() })).nextStep.signInStep, 'DONE');
  },

  async 'required MFA, setup selection then EMAIL: the address given gets a code that finishes the sign-in'(_, use) {
    const pool = await mfaPool({ mode: 'ON', totp: true, email: true });
    const api = await use(pool);
    const username = await adminUser(pool);
    const r = await api.signIn({ username, password: PASSWORD });
    assert.deepEqual(r, { isSignedIn: false, nextStep: { signInStep: 'CONTINUE_SIGN_IN_WITH_MFA_SETUP_SELECTION', allowedMFATypes: ['TOTP', 'EMAIL'] } });
    assert.deepEqual(await api.confirmSignIn({ challengeResponse: 'EMAIL' }), { isSignedIn: false, nextStep: { signInStep: 'CONTINUE_SIGN_IN_WITH_EMAIL_SETUP' } });
    const email = uniqueEmail('setup');
    const since = Date.now();
    assert.equal((await api.confirmSignIn({ challengeResponse: email })).nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE');
    const code = await mail.code(email, since);
    assert.equal((await errorOf(api.confirmSignIn({ challengeResponse: wrongCode(code) }))).name, 'CodeMismatchException');
    assert.equal((await api.confirmSignIn({ challengeResponse: code })).nextStep.signInStep, 'DONE');
    const attrs = await api.fetchUserAttributes();
    assert.equal(attrs.email, email);
    assert.equal(attrs.email_verified, 'true');
    assert.deepEqual(await api.fetchMFAPreference(), { enabled: ['EMAIL'], preferred: 'EMAIL' });
  },

  async 'required MFA, setup selection then TOTP: a refused code, then the right one signs in and the next sign-in asks for TOTP'(_, use) {
    const pool = await mfaPool({ mode: 'ON', totp: true, email: true });
    const api = await use(pool);
    const username = await adminUser(pool);
    assert.equal((await api.signIn({ username, password: PASSWORD })).nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_MFA_SETUP_SELECTION');
    const setup = await api.confirmSignIn({ challengeResponse: 'TOTP' });
    assert.equal(setup.nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_TOTP_SETUP');
    const details = (setup.nextStep as { totpSetupDetails: { sharedSecret: string; getSetupUri(app: string, account?: string): URL } }).totpSetupDetails;
    assert.equal(details.getSetupUri('Gatehouse', 'me').href, `otpauth://totp/Gatehouse:me?secret=${details.sharedSecret}&issuer=Gatehouse`);
    const totp = totpOf(details.sharedSecret);
    assert.equal((await errorOf(api.confirmSignIn({ challengeResponse: wrongCode(totp.generate()) }))).name, 'EnableSoftwareTokenMFAException');
    assert.deepEqual(await api.confirmSignIn({ challengeResponse: totp.generate({ timestamp: Date.now() - 30_000 }) }), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
    assert.deepEqual(await api.fetchMFAPreference(), { enabled: ['TOTP'], preferred: 'TOTP' });
    await api.signOut();
    assert.equal((await api.signIn({ username, password: PASSWORD })).nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_TOTP_CODE');
    assert.equal((await api.confirmSignIn({ challengeResponse: totp.generate() })).nextStep.signInStep, 'DONE');
  },

  async 'updateMFAPreference: NOT_PREFERRED keeps a factor without preference, DISABLED turns it off, and sign-in follows'(_, use) {
    const pool = await mfaPool({ mode: 'OPTIONAL', totp: true, email: true });
    const api = await use(pool);
    const email = uniqueEmail('pref');
    const username = await adminUser(pool, { email, email_verified: 'true' });
    await enrolTotp(api, username);
    await api.updateMFAPreference({ email: 'PREFERRED', totp: 'NOT_PREFERRED' });
    assert.deepEqual(await api.fetchMFAPreference(), { enabled: ['TOTP', 'EMAIL'], preferred: 'EMAIL' });
    await api.signOut();
    let since = Date.now();
    assert.equal((await api.signIn({ username, password: PASSWORD })).nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE');
    assert.equal((await api.confirmSignIn({ challengeResponse: await mail.code(email, since) })).nextStep.signInStep, 'DONE');
    await api.updateMFAPreference({ email: 'DISABLED', totp: 'DISABLED' });
    assert.deepEqual(await api.fetchMFAPreference(), { enabled: undefined, preferred: undefined });
    await api.signOut();
    assert.deepEqual(await api.signIn({ username, password: PASSWORD }), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
  },

  async 'remembered device: rememberDevice makes a sign-in skip MFA, fetchDevices shows it, forgetDevice brings MFA back'(_, use) {
    const pool = await mfaPool({ mode: 'ON', totp: true });
    await gh.admin.send(new UpdateUserPoolCommand({
      UserPoolId: pool.poolId, MfaConfiguration: 'ON', DeviceConfiguration: { ChallengeRequiredOnNewDevice: true, DeviceOnlyRememberedOnUserPrompt: true },
    }));
    const api = await use(pool);
    const username = await adminUser(pool);
    // The first sign-in sets TOTP up and hands out a device, which the client confirms (not yet remembered).
    const setup = await api.signIn({ username, password: PASSWORD });
    assert.equal(setup.nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_TOTP_SETUP');
    const totp = totpOf((setup.nextStep as { totpSetupDetails: { sharedSecret: string } }).totpSetupDetails.sharedSecret);
    assert.equal((await api.confirmSignIn({ challengeResponse: totp.generate({ timestamp: Date.now() - 30_000 }) })).nextStep.signInStep, 'DONE');
    let devices = await api.fetchDevices();
    assert.equal(devices.length, 1);
    assert.equal(devices[0]!.attributes['dev:device_remembered_status'], 'not_remembered');
    assert.equal(devices[0]!.name, 'Node.js test');
    assert.ok(devices[0]!.createDate instanceof Date);
    await api.signOut();

    // Not remembered: MFA is still asked.
    assert.equal((await api.signIn({ username, password: PASSWORD })).nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_TOTP_CODE');
    assert.equal((await api.confirmSignIn({ challengeResponse: totp.generate() })).nextStep.signInStep, 'DONE');
    await api.rememberDevice();
    devices = await api.fetchDevices();
    assert.equal(devices.length, 1);
    assert.equal(devices[0]!.attributes['dev:device_remembered_status'], 'remembered');
    await api.signOut();

    // Remembered: the password, then the device proves itself (DEVICE_SRP_AUTH), and no code is asked.
    assert.deepEqual(await api.signIn({ username, password: PASSWORD }), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
    await api.forgetDevice();
    assert.deepEqual(await api.fetchDevices(), []);
    await api.signOut();
    assert.equal((await api.signIn({ username, password: PASSWORD })).nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_TOTP_CODE');
    assert.equal((await api.confirmSignIn({ challengeResponse: totp.generate({ timestamp: Date.now() + 30_000 }) })).nextStep.signInStep, 'DONE');
  },

  // ---- Passwordless codes (issue 9) ----

  async 'USER_AUTH with a preferred EMAIL_OTP: a wrong code is refused, the mailed one signs in'(_, use) {
    const api = await use(await emailCodePool());
    const email = await confirmedUser(api);
    const since = Date.now();
    const r = await api.signIn({ username: email, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'EMAIL_OTP' } });
    assert.deepEqual(r, { isSignedIn: false, nextStep: { signInStep: 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE', codeDeliveryDetails: { deliveryMedium: 'EMAIL', destination: `${email[0]}***@e***` } } });
    const code = await mail.code(email, since);
    assert.equal((await errorOf(api.confirmSignIn({ challengeResponse: wrongCode(code) }))).name, 'CodeMismatchException');
    assert.deepEqual(await api.confirmSignIn({ challengeResponse: code }), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
    assert.equal((await api.fetchAuthSession()).tokens!.idToken!.payload.email, email);
    assert.deepEqual((await api.getCurrentUser()).signInDetails, { loginId: email, authFlowType: 'USER_AUTH' });
  },

  async 'USER_AUTH with a preferred SMS_OTP, the phone number as username: the texted code signs in'(_, use) {
    const api = await use(await phoneCodePool());
    const phone = newPhone();
    let since = Date.now();
    await api.signUp({ username: phone, password: PASSWORD });
    await api.confirmSignUp({ username: phone, confirmationCode: await sms.code(phone, since) });
    since = Date.now();
    const r = await api.signIn({ username: phone, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'SMS_OTP' } });
    assert.deepEqual(r, { isSignedIn: false, nextStep: { signInStep: 'CONFIRM_SIGN_IN_WITH_SMS_CODE', codeDeliveryDetails: { deliveryMedium: 'SMS', destination: `+*******${phone.slice(-4)}` } } });
    assert.deepEqual(await api.confirmSignIn({ challengeResponse: await sms.code(phone, since) }), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
    assert.equal((await api.fetchUserAttributes()).phone_number, phone);
  },

  async 'USER_AUTH first-factor selection offers what the user has, then EMAIL_OTP signs in with the mailed code'(_, use) {
    const api = await use(await emailCodePool());
    const email = await confirmedUser(api);
    const r = await api.signIn({ username: email, options: { authFlowType: 'USER_AUTH' } });
    assert.deepEqual(r, { isSignedIn: false, nextStep: { signInStep: 'CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION', availableChallenges: ['PASSWORD', 'PASSWORD_SRP', 'EMAIL_OTP'] } });
    const since = Date.now();
    const chosen = await api.confirmSignIn({ challengeResponse: 'EMAIL_OTP' });
    assert.deepEqual(chosen, { isSignedIn: false, nextStep: { signInStep: 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE', codeDeliveryDetails: { deliveryMedium: 'EMAIL', destination: `${email[0]}***@e***` } } });
    assert.deepEqual(await api.confirmSignIn({ challengeResponse: await mail.code(email, since) }), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
  },

  async 'passwordless signUp, confirmSignUp and autoSignIn sign the user in; later only EMAIL_OTP is offered'(_, use) {
    const api = await use(await emailCodePool());
    const email = uniqueEmail('passwordless');
    const since = Date.now();
    const up = await api.signUp({ username: email, options: { userAttributes: { email }, autoSignIn: { authFlowType: 'USER_AUTH' } } });
    assert.equal(up.nextStep.signUpStep, 'CONFIRM_SIGN_UP');
    const confirmed = await api.confirmSignUp({ username: email, confirmationCode: await mail.code(email, since) });
    assert.deepEqual(confirmed, { isSignUpComplete: true, nextStep: { signUpStep: 'COMPLETE_AUTO_SIGN_IN' } });
    await new Promise((res) => setTimeout(res, AUTO_SIGN_IN_DEBOUNCE_MS));
    assert.deepEqual(await api.autoSignIn(), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
    assert.equal((await api.fetchUserAttributes()).email, email);
    await api.signOut();
    const choice = await api.signIn({ username: email, options: { authFlowType: 'USER_AUTH' } });
    assert.deepEqual((choice.nextStep as { availableChallenges?: string[] }).availableChallenges, ['EMAIL_OTP'], 'no password to offer');
  },


  async 'CUSTOM_WITHOUT_SRP: a wrong answer is asked again, the right one signs in; additionalInfo carries only the public parameters'(_, use) {
    const pool = await customAuthPool();
    const api = await use(pool);
    const email = await emailUser(pool);
    const first = await api.signIn({ username: email, options: { authFlowType: 'CUSTOM_WITHOUT_SRP' } });
    assert.equal(first.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE');
    const info = (first.nextStep as { additionalInfo?: Record<string, string> }).additionalInfo!;
    assert.equal(info.question, 'What is 6 times 7?');
    assert.equal(info.round, '1');
    assert.equal(info.answer, undefined, 'private parameters stay on the server');
    const again = await api.confirmSignIn({ challengeResponse: '41' });
    assert.equal(again.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE');
    assert.equal((again.nextStep as { additionalInfo?: Record<string, string> }).additionalInfo!.round, '2');
    assert.deepEqual(await api.confirmSignIn({ challengeResponse: '42' }), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
    assert.equal((await api.fetchAuthSession()).tokens!.idToken!.payload.email, email);
    assert.deepEqual((await api.getCurrentUser()).signInDetails, { loginId: email, authFlowType: 'CUSTOM_WITHOUT_SRP' });
  },

  async 'CUSTOM_WITHOUT_SRP: three wrong answers end the sign-in, and the session is not answered again'(_, use) {
    const pool = await customAuthPool();
    const api = await use(pool);
    const email = await emailUser(pool);
    await api.signIn({ username: email, options: { authFlowType: 'CUSTOM_WITHOUT_SRP' } });
    assert.equal((await api.confirmSignIn({ challengeResponse: '1' })).nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE');
    assert.equal((await api.confirmSignIn({ challengeResponse: '2' })).nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE');
    assert.equal((await errorOf(api.confirmSignIn({ challengeResponse: '3' }))).name, 'NotAuthorizedException');
    // Amplify sends the spent session again (the server refuses it); ours knows the attempt ended and sends nothing.
    assert.match((await errorOf(api.confirmSignIn({ challengeResponse: '42' }))).name, /^(NotAuthorizedException|SignInException)$/);
    assert.equal((await api.fetchAuthSession()).tokens, undefined);
  },

  async 'CUSTOM_WITH_SRP: a wrong password is refused; the right password, then the challenge, signs in'(_, use) {
    const pool = await customAuthPool();
    const api = await use(pool);
    const email = await emailUser(pool);
    assert.equal((await errorOf(api.signIn({ username: email, password: 'Wrong-Horse-9', options: { authFlowType: 'CUSTOM_WITH_SRP' } }))).name, 'NotAuthorizedException');
    const first = await api.signIn({ username: email, password: PASSWORD, options: { authFlowType: 'CUSTOM_WITH_SRP' } });
    assert.equal(first.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE');
    assert.equal((first.nextStep as { additionalInfo?: Record<string, string> }).additionalInfo!.question, 'What is 6 times 7?');
    assert.equal((await api.confirmSignIn({ challengeResponse: '7' })).nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE');
    assert.deepEqual(await api.confirmSignIn({ challengeResponse: '42' }), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
    assert.deepEqual((await api.getCurrentUser()).signInDetails, { loginId: email, authFlowType: 'CUSTOM_WITH_SRP' });
  },
};

for (const client of clients) {
  describe(client.name, () => {
    let api: Api;
    beforeEach(async () => {
      api = client.configure(poolId, clientId, gh.url);
      await api.signOut().catch(() => {});
    });
    const use = async (pool: Pool) => {
      const other = client.configure(pool.poolId, pool.clientId, gh.url);
      await other.signOut().catch(() => {});
      return other;
    };
    for (const [name, run] of Object.entries(scenarios)) test(name, () => run(api, use));
  });
}
