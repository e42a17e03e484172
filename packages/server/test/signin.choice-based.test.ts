// Choice-based sign-in (USER_AUTH) with the unmodified aws-amplify client in Node: first-factor
// selection, preferred challenges, passwordless codes read from real mail and the SMS webhook, and
// passwordless sign-up. The SDK checks what Amplify does not show (unknown logins, auth factors).
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Amplify } from 'aws-amplify';
import { signIn, signOut, signUp, confirmSignUp, autoSignIn, confirmSignIn, fetchUserAttributes, fetchAuthSession } from 'aws-amplify/auth';
import {
  AdminGetUserAuthFactorsCommand, GetUserAuthFactorsCommand, InitiateAuthCommand, RespondToAuthChallengeCommand, SignUpCommand,
  SetUserPoolMfaConfigCommand, UpdateUserPoolCommand, type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  MailCatcher, startGatehouse, createPoolAndClient, uniqueEmail, unrefLongClientTimers, userClient, AUTO_SIGN_IN_DEBOUNCE_MS, type Gatehouse, errorOf } from './support/harness.js';
import { SmsCatcher } from './support/sms.js';

unrefLongClientTimers();

const PASSWORD = 'Correct-Horse-9';
const ALL_FACTORS = ['PASSWORD', 'EMAIL_OTP', 'SMS_OTP', 'WEB_AUTHN'];
let gh: Gatehouse, mail: MailCatcher, sms: SmsCatcher, cip: CognitoIdentityProviderClient;
let emailPool: { poolId: string; clientId: string }, phonePool: { poolId: string; clientId: string };

function useEmailPool() {
  Amplify.configure({ Auth: { Cognito: { userPoolId: emailPool.poolId, userPoolClientId: emailPool.clientId, userPoolEndpoint: gh.url, loginWith: { email: true } } } });
}

before(async () => {
  mail = await new MailCatcher().start();
  sms = await new SmsCatcher().start();
  gh = await startGatehouse({ GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${mail.port}`, GATEHOUSE_SMS_WEBHOOK_URL: sms.url });
  cip = userClient(gh.url);
  emailPool = await createPoolAndClient(gh, { Policies: { SignInPolicy: { AllowedFirstAuthFactors: ALL_FACTORS } } });
  phonePool = await createPoolAndClient(gh, {
    UsernameAttributes: ['phone_number'], AutoVerifiedAttributes: ['phone_number'], Schema: undefined,
    Policies: { SignInPolicy: { AllowedFirstAuthFactors: ['PASSWORD', 'SMS_OTP'] } },
  });
  useEmailPool();
});
after(async () => { cip?.destroy(); await gh?.stop(); await mail?.close(); await sms?.close(); });
beforeEach(async () => { await signOut().catch(() => {}); useEmailPool(); });

/** A confirmed user of the email pool with a password and a verified email. */
async function confirmedUser(password: string | undefined = PASSWORD) {
  const email = uniqueEmail();
  const since = Date.now();
  await signUp({ username: email, password, options: { userAttributes: { email } } });
  await confirmSignUp({ username: email, confirmationCode: await mail.code(email, since) });
  return email;
}

test('first-factor selection offers only what the user can use, then EMAIL_OTP signs in with the mailed code', async () => {
  const email = await confirmedUser();
  const first = await signIn({ username: email, options: { authFlowType: 'USER_AUTH' } });
  assert.equal(first.nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION');
  // No phone and no passkey: SMS_OTP and WEB_AUTHN are not offered although the pool allows them.
  assert.deepEqual((first.nextStep as any).availableChallenges, ['PASSWORD', 'PASSWORD_SRP', 'EMAIL_OTP']);
  const since = Date.now();
  const chosen = await confirmSignIn({ challengeResponse: 'EMAIL_OTP' });
  assert.equal(chosen.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE');
  assert.deepEqual((chosen.nextStep as any).codeDeliveryDetails, { deliveryMedium: 'EMAIL', destination: `${email[0]}***@e***` });
  const done = await confirmSignIn({ challengeResponse: await mail.code(email, since) });
  assert.equal(done.nextStep.signInStep, 'DONE');
  assert.equal((await fetchUserAttributes()).email, email);
});

test('first-factor selection, then PASSWORD (CONFIRM_SIGN_IN_WITH_PASSWORD) and PASSWORD_SRP', async () => {
  const email = await confirmedUser();
  for (const choice of ['PASSWORD', 'PASSWORD_SRP']) {
    await signOut();
    await signIn({ username: email, options: { authFlowType: 'USER_AUTH' } });
    const chosen = await confirmSignIn({ challengeResponse: choice });
    assert.equal(chosen.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_PASSWORD');
    const done = await confirmSignIn({ challengeResponse: PASSWORD });
    assert.equal(done.nextStep.signInStep, 'DONE', choice);
  }
});

test('preferred EMAIL_OTP mails a code that signs in', async () => {
  const email = await confirmedUser();
  const since = Date.now();
  const r = await signIn({ username: email, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'EMAIL_OTP' } });
  assert.equal(r.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE');
  const done = await confirmSignIn({ challengeResponse: await mail.code(email, since) });
  assert.equal(done.nextStep.signInStep, 'DONE');
  const { tokens } = await fetchAuthSession();
  assert.equal(tokens!.idToken!.payload.email, email);
});

test('preferred SMS_OTP with a phone number as the username: the code comes through the SMS webhook', async () => {
  Amplify.configure({ Auth: { Cognito: { userPoolId: phonePool.poolId, userPoolClientId: phonePool.clientId, userPoolEndpoint: gh.url, loginWith: { phone: true } } } });
  const phone = `+1555${String(Date.now() % 10_000_000).padStart(7, '0')}`;
  let since = Date.now();
  await signUp({ username: phone, password: PASSWORD });
  await confirmSignUp({ username: phone, confirmationCode: await sms.code(phone, since) });
  since = Date.now();
  const r = await signIn({ username: phone, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'SMS_OTP' } });
  assert.equal(r.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_SMS_CODE');
  assert.deepEqual((r.nextStep as any).codeDeliveryDetails, { deliveryMedium: 'SMS', destination: `+*******${phone.slice(-4)}` });
  const done = await confirmSignIn({ challengeResponse: await sms.code(phone, since) });
  assert.equal(done.nextStep.signInStep, 'DONE');
  assert.equal((await fetchUserAttributes()).phone_number, phone);
});

test('preferred PASSWORD and PASSWORD_SRP sign in; a wrong password is refused', async () => {
  const email = await confirmedUser();
  for (const preferredChallenge of ['PASSWORD', 'PASSWORD_SRP'] as const) {
    await signOut();
    const r = await signIn({ username: email, password: PASSWORD, options: { authFlowType: 'USER_AUTH', preferredChallenge } });
    assert.equal(r.nextStep.signInStep, 'DONE', preferredChallenge);
    await signOut();
    const e = await errorOf(signIn({ username: email, password: 'Wrong-Password-1', options: { authFlowType: 'USER_AUTH', preferredChallenge } }));
    assert.equal(e.name, 'NotAuthorizedException');
  }
});

test('passwordless signUp, confirmSignUp and autoSignIn sign the user in; they then sign in by code, not by password', async () => {
  const email = uniqueEmail('passwordless');
  const since = Date.now();
  const up = await signUp({ username: email, options: { userAttributes: { email }, autoSignIn: { authFlowType: 'USER_AUTH' } } });
  assert.equal(up.nextStep.signUpStep, 'CONFIRM_SIGN_UP');
  const confirmed = await confirmSignUp({ username: email, confirmationCode: await mail.code(email, since) });
  assert.equal(confirmed.nextStep.signUpStep, 'COMPLETE_AUTO_SIGN_IN');
  await new Promise((res) => setTimeout(res, AUTO_SIGN_IN_DEBOUNCE_MS));
  const r = await autoSignIn();
  assert.equal(r.nextStep.signInStep, 'DONE');
  assert.equal((await fetchUserAttributes()).email, email);
  await signOut();
  const choice = await signIn({ username: email, options: { authFlowType: 'USER_AUTH' } });
  assert.deepEqual((choice.nextStep as any).availableChallenges, ['EMAIL_OTP'], 'no password to offer');
  await signOut();
  const e = await errorOf(signIn({ username: email, password: 'Any-Passw0rd!', options: { authFlowType: 'USER_AUTH', preferredChallenge: 'PASSWORD' } }));
  assert.equal(e.name, 'NotAuthorizedException');
});

test('repeated wrong codes lock the session even against the right code', async () => {
  const email = await confirmedUser();
  const since = Date.now();
  await signIn({ username: email, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'EMAIL_OTP' } });
  const code = await mail.code(email, since);
  const wrong = code === '000000' ? '111111' : '000000';
  for (let i = 0; i < 3; i++) assert.equal((await errorOf(confirmSignIn({ challengeResponse: wrong }))).name, 'CodeMismatchException');
  const locked = await errorOf(confirmSignIn({ challengeResponse: code }));
  assert.equal(locked.name, 'NotAuthorizedException');
  // A new sign-in is a new session with a new code.
  const again = Date.now();
  await signIn({ username: email, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'EMAIL_OTP' } });
  assert.equal((await confirmSignIn({ challengeResponse: await mail.code(email, again) })).nextStep.signInStep, 'DONE');
});

test('a sign-in code works once: the session it answered is spent', async () => {
  const email = await confirmedUser();
  const since = Date.now();
  const start = await cip.send(new InitiateAuthCommand({ ClientId: emailPool.clientId, AuthFlow: 'USER_AUTH', AuthParameters: { USERNAME: email, PREFERRED_CHALLENGE: 'EMAIL_OTP' } }));
  const answer = { ClientId: emailPool.clientId, ChallengeName: 'EMAIL_OTP' as const, Session: start.Session, ChallengeResponses: { USERNAME: email, EMAIL_OTP_CODE: await mail.code(email, since) } };
  assert.ok((await cip.send(new RespondToAuthChallengeCommand(answer))).AuthenticationResult?.AccessToken);
  const replay = await errorOf(cip.send(new RespondToAuthChallengeCommand(answer)));
  assert.equal(replay.name, 'NotAuthorizedException');
});

test('an unknown login gets answers shaped as a real user\'s, stable per login, and no code is sent', async () => {
  const real = await confirmedUser();
  const start = (username: string, preferred?: string) => cip.send(new InitiateAuthCommand({
    ClientId: emailPool.clientId, AuthFlow: 'USER_AUTH', AuthParameters: { USERNAME: username, ...(preferred ? { PREFERRED_CHALLENGE: preferred } : {}) },
  }));
  const shape = (r: object) => Object.keys(r).filter((k) => k !== '$metadata').sort();
  const mine = await start(real);
  for (let i = 0; i < 8; i++) {
    const nobody = uniqueEmail('nobody');
    const a = await start(nobody), b = await start(nobody);
    assert.deepEqual(shape(a), shape(mine));
    assert.equal(a.ChallengeName, 'SELECT_CHALLENGE');
    assert.deepEqual(a.AvailableChallenges, b.AvailableChallenges, 'the same login gets the same choice');
    assert.ok(a.AvailableChallenges!.every((c) => ['PASSWORD', 'PASSWORD_SRP', ...ALL_FACTORS].includes(c)));
    assert.ok(a.AvailableChallenges!.includes('EMAIL_OTP'), 'an email login has an email');
    const since = Date.now();
    const otp = await start(nobody, 'EMAIL_OTP');
    assert.equal(otp.ChallengeName, 'EMAIL_OTP');
    assert.deepEqual(otp.ChallengeParameters, { CODE_DELIVERY_DELIVERY_MEDIUM: 'EMAIL', CODE_DELIVERY_DESTINATION: `${nobody[0]}***@e***` });
    const e = await errorOf(cip.send(new RespondToAuthChallengeCommand({
      ClientId: emailPool.clientId, ChallengeName: 'EMAIL_OTP', Session: otp.Session, ChallengeResponses: { USERNAME: nobody, EMAIL_OTP_CODE: '123456' },
    })));
    assert.equal(e.name, 'CodeMismatchException');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(mail.messages.filter((m) => m.to === nobody.toLowerCase() && m.at >= since).length, 0);
  }
});

test('GetUserAuthFactors and AdminGetUserAuthFactors list the first factors the user has', async () => {
  const email = await confirmedUser();
  const r = await cip.send(new InitiateAuthCommand({ ClientId: emailPool.clientId, AuthFlow: 'USER_AUTH', AuthParameters: { USERNAME: email, PREFERRED_CHALLENGE: 'PASSWORD', PASSWORD } }));
  const mine = await cip.send(new GetUserAuthFactorsCommand({ AccessToken: r.AuthenticationResult!.AccessToken }));
  assert.deepEqual(mine.ConfiguredUserAuthFactors, ['PASSWORD', 'EMAIL_OTP']);
  const admin = await gh.admin.send(new AdminGetUserAuthFactorsCommand({ UserPoolId: emailPool.poolId, Username: email }));
  assert.deepEqual(admin.ConfiguredUserAuthFactors, ['PASSWORD', 'EMAIL_OTP']);
  assert.equal(admin.Username, mine.Username);
});

test('what the pool does not allow is refused: a preferred factor, a passwordless sign-up, passwordless factors on the Lite tier', async () => {
  const { clientId } = await createPoolAndClient(gh, { Policies: { SignInPolicy: { AllowedFirstAuthFactors: ['PASSWORD'] } } });
  const e = await errorOf(cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_AUTH', AuthParameters: { USERNAME: uniqueEmail(), PREFERRED_CHALLENGE: 'EMAIL_OTP' } })));
  assert.equal(e.name, 'InvalidParameterException');
  const email = uniqueEmail();
  const up = await errorOf(cip.send(new SignUpCommand({ ClientId: clientId, Username: email, UserAttributes: [{ Name: 'email', Value: email }] })));
  assert.equal(up.name, 'InvalidParameterException');
  // Passwordless factors need the Essentials tier, on creation and on update.
  const lite = await errorOf(createPoolAndClient(gh, { UserPoolTier: 'LITE', Policies: { SignInPolicy: { AllowedFirstAuthFactors: ['PASSWORD', 'EMAIL_OTP'] } } }));
  assert.equal(lite.name, 'FeatureUnavailableInTierException');
  const down = await errorOf(gh.admin.send(new UpdateUserPoolCommand({ UserPoolId: emailPool.poolId, UserPoolTier: 'LITE', AutoVerifiedAttributes: ['email'], Policies: { SignInPolicy: { AllowedFirstAuthFactors: ALL_FACTORS } } })));
  assert.equal(down.name, 'FeatureUnavailableInTierException');
});

test('sign-in code brute force: 10 guesses sent at once are counted as serial ones (3 checked), and the right code is refused after them', async () => {
  const email = await confirmedUser();
  const since = Date.now();
  const start = await cip.send(new InitiateAuthCommand({ ClientId: emailPool.clientId, AuthFlow: 'USER_AUTH', AuthParameters: { USERNAME: email, PREFERRED_CHALLENGE: 'EMAIL_OTP' } }));
  const code = await mail.code(email, since);
  const answer = (c: string) => cip.send(new RespondToAuthChallengeCommand({ ClientId: emailPool.clientId, ChallengeName: 'EMAIL_OTP', Session: start.Session, ChallengeResponses: { USERNAME: email, EMAIL_OTP_CODE: c } }));
  const guesses = Array.from({ length: 10 }, (_, i) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0'));
  const results = await Promise.allSettled(guesses.map(answer));
  const names = results.map((r) => (r.status === 'rejected' ? (r.reason as Error).name : 'signed in'));
  assert.equal(names.filter((n) => n === 'CodeMismatchException').length, 3, names.join(', '));
  assert.equal(names.filter((n) => n === 'NotAuthorizedException').length, 7, names.join(', '));
  assert.equal((await errorOf(answer(code))).name, 'NotAuthorizedException');
});

test('MFA follows a password first factor as the pool says, and no MFA follows a sign-in code', async () => {
  const mfaPool = await createPoolAndClient(gh, { Policies: { SignInPolicy: { AllowedFirstAuthFactors: ['PASSWORD', 'EMAIL_OTP'] } } });
  await gh.admin.send(new SetUserPoolMfaConfigCommand({ UserPoolId: mfaPool.poolId, MfaConfiguration: 'ON', EmailMfaConfiguration: { Subject: 'Your code', Message: 'Your code is {####}' } }));
  Amplify.configure({ Auth: { Cognito: { userPoolId: mfaPool.poolId, userPoolClientId: mfaPool.clientId, userPoolEndpoint: gh.url, loginWith: { email: true } } } });
  const email = await confirmedUser();
  let since = Date.now();
  const password = await signIn({ username: email, password: PASSWORD, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'PASSWORD' } });
  assert.equal(password.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE', 'the second factor');
  assert.equal((await confirmSignIn({ challengeResponse: await mail.code(email, since) })).nextStep.signInStep, 'DONE');
  await signOut();
  since = Date.now();
  const code = await signIn({ username: email, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'EMAIL_OTP' } });
  assert.equal(code.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE', 'the first factor');
  assert.equal((await confirmSignIn({ challengeResponse: await mail.code(email, since) })).nextStep.signInStep, 'DONE', 'and nothing after it');
});
