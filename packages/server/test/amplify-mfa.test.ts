// MFA and remembered devices with the unmodified aws-amplify v6 client against a real Gatehouse
// process: codes read from the test's SMTP server and SMS webhook, TOTP codes computed as an app would.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Amplify } from 'aws-amplify';
import {
  signIn, signOut, confirmSignIn, setUpTOTP, verifyTOTPSetup, updateMFAPreference, fetchMFAPreference, fetchUserAttributes,
  fetchDevices, forgetDevice,
} from 'aws-amplify/auth';
import { TOTP, Secret } from 'otpauth';
import { AdminCreateUserCommand, AdminSetUserPasswordCommand, SetUserPoolMfaConfigCommand, UpdateUserPoolCommand } from '@aws-sdk/client-cognito-identity-provider';
import { MailCatcher, startGatehouse, createPoolAndClient, unrefLongClientTimers, type Gatehouse, errorOf } from './support/harness.js';
import { SmsCatcher } from './support/sms.js';

unrefLongClientTimers();
// Amplify names a new device after navigator.userAgent (ConfirmDevice's DeviceName), and silently
// skips confirming it when that throws: Node 20 has no navigator (Node 21 has), every browser has one.
if (typeof (globalThis as { navigator?: unknown }).navigator === 'undefined') {
  Object.defineProperty(globalThis, 'navigator', { value: { userAgent: 'Node.js test' }, configurable: true });
}

let gh: Gatehouse, mail: MailCatcher, sms: SmsCatcher;
const PASSWORD = 'Correct-Horse-9';
const SMS_CONFIG = { SnsCallerArn: 'arn:aws:iam::123456789012:role/sms', ExternalId: 'gatehouse' };
let n = 0;

before(async () => {
  mail = await new MailCatcher().start();
  sms = await new SmsCatcher().start();
  gh = await startGatehouse({ GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${mail.port}`, GATEHOUSE_SMS_WEBHOOK_URL: sms.url });
});
after(async () => { await gh?.stop(); await mail?.close(); await sms?.close(); });
beforeEach(async () => { await signOut().catch(() => {}); });

/** A pool with plain usernames and the given MFA settings; Amplify is pointed at it. */
async function pool(mfa: { mode: 'ON' | 'OPTIONAL'; sms?: boolean; totp?: boolean; email?: boolean }, extra: Record<string, unknown> = {}) {
  const { poolId, clientId } = await createPoolAndClient(gh, { UsernameAttributes: undefined, AutoVerifiedAttributes: undefined, Schema: undefined, ...extra });
  await gh.admin.send(new SetUserPoolMfaConfigCommand({
    UserPoolId: poolId, MfaConfiguration: mfa.mode,
    SmsMfaConfiguration: mfa.sms ? { SmsConfiguration: SMS_CONFIG, SmsAuthenticationMessage: 'Your sign-in code: {####}' } : undefined,
    SoftwareTokenMfaConfiguration: { Enabled: !!mfa.totp },
    EmailMfaConfiguration: mfa.email ? { Message: 'Your sign-in code is {####}', Subject: 'Sign-in code' } : undefined,
  }));
  Amplify.configure({ Auth: { Cognito: { userPoolId: poolId, userPoolClientId: clientId, userPoolEndpoint: gh.url } } });
  return { poolId, clientId };
}

async function user(poolId: string, attrs: Record<string, string> = {}) {
  const username = `a${process.pid}x${n++}`;
  await gh.admin.send(new AdminCreateUserCommand({
    UserPoolId: poolId, Username: username, MessageAction: 'SUPPRESS', TemporaryPassword: 'Temp-Passw0rd!',
    UserAttributes: Object.entries(attrs).map(([Name, Value]) => ({ Name, Value })),
  }));
  await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: username, Password: PASSWORD, Permanent: true }));
  return username;
}

/** Signs in (no MFA yet) and enrols TOTP as an app does: setUpTOTP, verifyTOTPSetup, updateMFAPreference. */
async function enrolTotp(username: string, preference: 'PREFERRED' | 'ENABLED' = 'PREFERRED') {
  const r = await signIn({ username, password: PASSWORD });
  assert.equal(r.nextStep.signInStep, 'DONE');
  const details = await setUpTOTP();
  assert.match(details.getSetupUri('Gatehouse').href, /^otpauth:\/\/totp\/Gatehouse:/);
  const totp = new TOTP({ secret: Secret.fromBase32(details.sharedSecret) });
  // The previous step's code, so that this step's stays unspent for the sign-in below.
  await verifyTOTPSetup({ code: totp.generate({ timestamp: Date.now() - 30_000 }) });
  await updateMFAPreference({ totp: preference });
  return totp;
}

test('TOTP: setUpTOTP, verifyTOTPSetup and updateMFAPreference, then a sign-in refuses a wrong code, takes the right one, and refuses it reused', async () => {
  const { poolId } = await pool({ mode: 'OPTIONAL', totp: true });
  const username = await user(poolId);
  const totp = await enrolTotp(username);
  assert.deepEqual(await fetchMFAPreference(), { enabled: ['TOTP'], preferred: 'TOTP' });
  await signOut();

  const r = await signIn({ username, password: PASSWORD });
  assert.equal(r.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_TOTP_CODE');
  const code = totp.generate();
  const wrong = await errorOf(confirmSignIn({ challengeResponse: String((Number(code) + 1) % 1_000_000).padStart(6, '0') }));
  assert.equal(wrong.name, 'CodeMismatchException');
  const ok = await confirmSignIn({ challengeResponse: code });
  assert.equal(ok.nextStep.signInStep, 'DONE');
  await signOut();

  const again = await signIn({ username, password: PASSWORD });
  assert.equal(again.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_TOTP_CODE');
  assert.equal((await errorOf(confirmSignIn({ challengeResponse: code }))).name, 'CodeMismatchException');
  const next = await confirmSignIn({ challengeResponse: totp.generate({ timestamp: Date.now() + 30_000 }) });
  assert.equal(next.nextStep.signInStep, 'DONE');
});

test('SMS MFA: sign-in asks for the texted code and signs in with it', async () => {
  const { poolId } = await pool({ mode: 'ON', sms: true });
  const phone = `+1555010${String(n).padStart(4, '0')}`;
  const username = await user(poolId, { phone_number: phone });
  const since = Date.now();
  const r = await signIn({ username, password: PASSWORD });
  assert.equal(r.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_SMS_CODE');
  const step = r.nextStep as { codeDeliveryDetails?: { deliveryMedium?: string; destination?: string } };
  assert.equal(step.codeDeliveryDetails?.deliveryMedium, 'SMS');
  assert.equal(step.codeDeliveryDetails?.destination, `+*******${phone.slice(-4)}`);
  assert.match(sms.texts.at(-1)!.message, /^Your sign-in code: \d{6}$/);
  const done = await confirmSignIn({ challengeResponse: await sms.code(phone, since) });
  assert.equal(done.nextStep.signInStep, 'DONE');
});

test('email MFA: a user who prefers it gets the code by mail and signs in with it', async () => {
  const { poolId } = await pool({ mode: 'OPTIONAL', email: true });
  const email = `m${process.pid}x${n}@example.com`;
  const username = await user(poolId, { email });
  assert.equal((await signIn({ username, password: PASSWORD })).nextStep.signInStep, 'DONE');
  await updateMFAPreference({ email: 'PREFERRED' });
  assert.deepEqual(await fetchMFAPreference(), { enabled: ['EMAIL'], preferred: 'EMAIL' });
  await signOut();
  const since = Date.now();
  const r = await signIn({ username, password: PASSWORD });
  assert.equal(r.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE');
  const m = await mail.next(email, since);
  assert.equal(m.subject, 'Sign-in code');
  const done = await confirmSignIn({ challengeResponse: /(\d{6})/.exec(m.text)![1] });
  assert.equal(done.nextStep.signInStep, 'DONE');
});

test('MFA selection: a user with TOTP and email enabled and none preferred is offered both, and the chosen one is used', async () => {
  const { poolId } = await pool({ mode: 'OPTIONAL', totp: true, email: true });
  const email = `s${process.pid}x${n}@example.com`;
  const username = await user(poolId, { email });
  await enrolTotp(username, 'ENABLED');
  await updateMFAPreference({ email: 'ENABLED' });
  const preference = await fetchMFAPreference();
  assert.deepEqual(preference.enabled, ['TOTP', 'EMAIL']);
  assert.equal(preference.preferred, undefined);
  await signOut();
  const r = await signIn({ username, password: PASSWORD });
  assert.equal(r.nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_MFA_SELECTION');
  assert.deepEqual((r.nextStep as { allowedMFATypes?: string[] }).allowedMFATypes, ['TOTP', 'EMAIL']);
  const since = Date.now();
  const chosen = await confirmSignIn({ challengeResponse: 'EMAIL' });
  assert.equal(chosen.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE');
  const done = await confirmSignIn({ challengeResponse: await mail.code(email, since) });
  assert.equal(done.nextStep.signInStep, 'DONE');
});

test('required MFA with TOTP and email: setup selection, email setup ending in an email code, TOTP setup ending in a sign-in', async () => {
  const { poolId } = await pool({ mode: 'ON', totp: true, email: true });
  // No email address and no TOTP: the user must set a factor up.
  const viaEmail = await user(poolId);
  const r = await signIn({ username: viaEmail, password: PASSWORD });
  assert.equal(r.nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_MFA_SETUP_SELECTION');
  assert.deepEqual((r.nextStep as { allowedMFATypes?: string[] }).allowedMFATypes, ['TOTP', 'EMAIL']);
  assert.equal((await confirmSignIn({ challengeResponse: 'EMAIL' })).nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_EMAIL_SETUP');
  const email = `e${process.pid}x${n}@example.com`;
  const since = Date.now();
  const code = await confirmSignIn({ challengeResponse: email });
  assert.equal(code.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE');
  assert.equal((await confirmSignIn({ challengeResponse: await mail.code(email, since) })).nextStep.signInStep, 'DONE');
  const attrs = await fetchUserAttributes();
  assert.equal(attrs.email, email);
  assert.equal(attrs.email_verified, 'true');
  assert.deepEqual(await fetchMFAPreference(), { enabled: ['EMAIL'], preferred: 'EMAIL' });
  await signOut();

  const viaTotp = await user(poolId);
  assert.equal((await signIn({ username: viaTotp, password: PASSWORD })).nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_MFA_SETUP_SELECTION');
  const setup = await confirmSignIn({ challengeResponse: 'TOTP' });
  assert.equal(setup.nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_TOTP_SETUP');
  const secret = (setup.nextStep as { totpSetupDetails: { sharedSecret: string } }).totpSetupDetails.sharedSecret;
  const totp = new TOTP({ secret: Secret.fromBase32(secret) });
  assert.equal((await confirmSignIn({ challengeResponse: totp.generate({ timestamp: Date.now() - 30_000 }) })).nextStep.signInStep, 'DONE');
  assert.deepEqual(await fetchMFAPreference(), { enabled: ['TOTP'], preferred: 'TOTP' });
  await signOut();
  assert.equal((await signIn({ username: viaTotp, password: PASSWORD })).nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_TOTP_CODE');
  assert.equal((await confirmSignIn({ challengeResponse: totp.generate() })).nextStep.signInStep, 'DONE');
});

test('remembered device: a confirmed device skips MFA, and forgetDevice brings MFA back', async () => {
  const { poolId } = await pool({ mode: 'ON', totp: true });
  await gh.admin.send(new UpdateUserPoolCommand({
    UserPoolId: poolId, MfaConfiguration: 'ON', DeviceConfiguration: { ChallengeRequiredOnNewDevice: true, DeviceOnlyRememberedOnUserPrompt: false },
  }));
  const username = await user(poolId);
  // The first sign-in sets TOTP up and hands out a device, which Amplify confirms.
  const setup = await signIn({ username, password: PASSWORD });
  assert.equal(setup.nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_TOTP_SETUP');
  const secret = (setup.nextStep as { totpSetupDetails: { sharedSecret: string } }).totpSetupDetails.sharedSecret;
  const totp = new TOTP({ secret: Secret.fromBase32(secret) });
  assert.equal((await confirmSignIn({ challengeResponse: totp.generate({ timestamp: Date.now() - 30_000 }) })).nextStep.signInStep, 'DONE');
  const devices = await fetchDevices();
  assert.equal(devices.length, 1);
  assert.equal(devices[0].attributes?.['dev:device_remembered_status'], 'remembered');
  await signOut();

  // Password, then the device proves itself (DEVICE_SRP_AUTH): no TOTP asked.
  assert.equal((await signIn({ username, password: PASSWORD })).nextStep.signInStep, 'DONE');
  await forgetDevice();
  await signOut();
  const r = await signIn({ username, password: PASSWORD });
  assert.equal(r.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_TOTP_CODE');
  assert.equal((await confirmSignIn({ challengeResponse: totp.generate() })).nextStep.signInStep, 'DONE');
});
