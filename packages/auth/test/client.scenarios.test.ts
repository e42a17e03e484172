// One scenario table, run once with the unmodified aws-amplify v6 client and once with @gatehouse/auth,
// against a real Gatehouse process (codes read from real mail). Same inputs, same outputs expected.
import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Amplify } from 'aws-amplify';
import * as amplifyAuth from 'aws-amplify/auth';
import { AdminCreateUserCommand, AdminGetUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import { createAuth, memoryStorage, type Auth } from '@gatehouse/auth';
import { MailCatcher, startGatehouse, createPoolAndClient, uniqueEmail, rawCall, unrefLongClientTimers, AUTO_SIGN_IN_DEBOUNCE_MS, type Gatehouse } from '../../server/test/support/harness.js';

unrefLongClientTimers();

/** The part of aws-amplify/auth both clients implement, by the same names. */
type Api = Pick<Auth, 'signIn' | 'confirmSignIn' | 'signUp' | 'confirmSignUp' | 'resendSignUpCode' | 'autoSignIn' | 'signOut' | 'fetchAuthSession' | 'getCurrentUser' |
  'resetPassword' | 'confirmResetPassword' | 'updatePassword' | 'fetchUserAttributes' | 'updateUserAttributes' | 'sendUserAttributeVerificationCode' |
  'confirmUserAttribute' | 'deleteUserAttributes' | 'deleteUser'>;

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

let gh: Gatehouse, mail: MailCatcher, poolId: string, clientId: string;
const PASSWORD = 'Correct-Horse-9';

before(async () => {
  mail = await new MailCatcher().start();
  gh = await startGatehouse({ GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${mail.port}` });
  ({ poolId, clientId } = await createPoolAndClient(gh, { Policies: { SignInPolicy: { AllowedFirstAuthFactors: ['PASSWORD'] } } }));
});
after(async () => { await gh?.stop(); await mail?.close(); });

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

type Scenario = (api: Api) => Promise<void>;
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
};

for (const client of clients) {
  describe(client.name, () => {
    let api: Api;
    beforeEach(async () => {
      api = client.configure(poolId, clientId, gh.url);
      await api.signOut().catch(() => {});
    });
    for (const [name, run] of Object.entries(scenarios)) test(name, () => run(api));
  });
}
