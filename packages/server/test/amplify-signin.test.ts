// The unmodified aws-amplify v6 client against a real Gatehouse process, codes read from real mail.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Amplify } from 'aws-amplify';
import {
  signIn, signOut, signUp, confirmSignUp, autoSignIn, confirmSignIn, getCurrentUser, fetchAuthSession, fetchUserAttributes,
  updateUserAttributes, updatePassword, resetPassword, confirmResetPassword, confirmUserAttribute,
} from 'aws-amplify/auth';
import { AdminCreateUserCommand, AdminResetUserPasswordCommand, CreateUserPoolClientCommand, AdminAddUserToGroupCommand, CreateGroupCommand, AdminGetUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import { MailCatcher, startGatehouse, createPoolAndClient, uniqueEmail, rawCall, unrefLongClientTimers, AUTO_SIGN_IN_DEBOUNCE_MS, type Gatehouse, errorOf } from './support/harness.js';

unrefLongClientTimers();

let gh: Gatehouse, mail: MailCatcher, poolId: string, clientId: string;
const PASSWORD = 'Correct-Horse-9';

before(async () => {
  mail = await new MailCatcher().start();
  gh = await startGatehouse({ GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${mail.port}` });
  ({ poolId, clientId } = await createPoolAndClient(gh));
  Amplify.configure({ Auth: { Cognito: { userPoolId: poolId, userPoolClientId: clientId, userPoolEndpoint: gh.url, loginWith: { email: true } } } });
});
after(async () => { await gh?.stop(); await mail?.close(); });
beforeEach(async () => { await signOut().catch(() => {}); });

/** Signs a new user up and confirms them with the emailed code. */
async function confirmedUser(password = PASSWORD) {
  const email = uniqueEmail();
  const since = Date.now();
  await signUp({ username: email, password, options: { userAttributes: { email } } });
  await confirmSignUp({ username: email, confirmationCode: await mail.code(email, since) });
  return email;
}

test('default signIn uses SRP and yields Cognito-shaped tokens', async () => {
  const email = await confirmedUser();
  const { isSignedIn, nextStep } = await signIn({ username: email, password: PASSWORD });
  assert.equal(isSignedIn, true);
  assert.equal(nextStep.signInStep, 'DONE');
  const { tokens } = await fetchAuthSession();
  const access = tokens!.accessToken.payload, id = tokens!.idToken!.payload;
  assert.equal(access.token_use, 'access');
  assert.equal(access.client_id, clientId);
  assert.equal(access.iss, `http://localhost:${new URL(gh.url).port}/${poolId}`.replace(/localhost:\d+/, new URL(access.iss as string).host));
  assert.ok(typeof access.origin_jti === 'string' && typeof access.jti === 'string' && typeof access.iat === 'number');
  assert.equal(id.email, email);
  assert.equal(id.email_verified, true);
  assert.equal(id.aud, clientId);
  assert.equal(id['cognito:username'], access.username);
  const user = await getCurrentUser();
  assert.equal(user.userId, access.sub);
});

test('USER_PASSWORD_AUTH signs in', async () => {
  const email = await confirmedUser();
  const r = await signIn({ username: email, password: PASSWORD, options: { authFlowType: 'USER_PASSWORD_AUTH' } });
  assert.equal(r.nextStep.signInStep, 'DONE');
});

test('wrong password and unknown user get the same answer, for SRP and USER_PASSWORD_AUTH', async () => {
  const email = await confirmedUser();
  for (const authFlowType of ['USER_SRP_AUTH', 'USER_PASSWORD_AUTH'] as const) {
    const wrong = await errorOf(signIn({ username: email, password: 'Wrong-Password-1', options: { authFlowType } }));
    const unknown = await errorOf(signIn({ username: uniqueEmail('nobody'), password: 'Wrong-Password-1', options: { authFlowType } }));
    assert.equal(wrong.name, 'NotAuthorizedException');
    assert.equal(unknown.name, wrong.name);
    assert.equal(unknown.message, wrong.message);
  }
});

test('signUp, confirmSignUp and autoSignIn sign the user in', async () => {
  const email = uniqueEmail();
  const since = Date.now();
  const up = await signUp({ username: email, password: PASSWORD, options: { userAttributes: { email }, autoSignIn: true } });
  assert.equal(up.nextStep.signUpStep, 'CONFIRM_SIGN_UP');
  assert.equal((up.nextStep as any).codeDeliveryDetails.deliveryMedium, 'EMAIL');
  const confirmed = await confirmSignUp({ username: email, confirmationCode: await mail.code(email, since) });
  assert.equal(confirmed.nextStep.signUpStep, 'COMPLETE_AUTO_SIGN_IN');
  await new Promise((res) => setTimeout(res, AUTO_SIGN_IN_DEBOUNCE_MS));
  const r = await autoSignIn();
  assert.equal(r.isSignedIn, true);
  assert.equal((await fetchUserAttributes()).email, email);
});

test('autoSignIn with USER_AUTH uses the session from ConfirmSignUp, not the password', async () => {
  const email = uniqueEmail();
  const since = Date.now();
  await signUp({ username: email, password: PASSWORD, options: { userAttributes: { email }, autoSignIn: { authFlowType: 'USER_AUTH' } } });
  await confirmSignUp({ username: email, confirmationCode: await mail.code(email, since) });
  await new Promise((res) => setTimeout(res, AUTO_SIGN_IN_DEBOUNCE_MS));
  const r = await autoSignIn();
  assert.equal(r.isSignedIn, true);
});

test('a wrong confirmation code is refused and the account stays unconfirmed', async () => {
  const email = uniqueEmail();
  const since = Date.now();
  await signUp({ username: email, password: PASSWORD, options: { userAttributes: { email } } });
  const real = await mail.code(email, since);
  const wrong = real === '000000' ? '111111' : '000000';
  const e = await errorOf(confirmSignUp({ username: email, confirmationCode: wrong }));
  assert.equal(e.name, 'CodeMismatchException');
  const r = await signIn({ username: email, password: PASSWORD });
  assert.equal(r.nextStep.signInStep, 'CONFIRM_SIGN_UP');
});

test('an unconfirmed user is sent to CONFIRM_SIGN_UP', async () => {
  const email = uniqueEmail();
  await signUp({ username: email, password: PASSWORD, options: { userAttributes: { email } } });
  for (const authFlowType of ['USER_SRP_AUTH', 'USER_PASSWORD_AUTH'] as const) {
    const r = await signIn({ username: email, password: PASSWORD, options: { authFlowType } });
    assert.equal(r.nextStep.signInStep, 'CONFIRM_SIGN_UP');
  }
});

test('an admin-created user sets a new password with confirmSignIn', async () => {
  const email = uniqueEmail('invited');
  const since = Date.now();
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: email, UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }], DesiredDeliveryMediums: ['EMAIL'] }));
  const invite = await mail.next(email, since);
  const temp = /temporary password is (\S+?)\.?$/m.exec(invite.text)![1];
  const r = await signIn({ username: email, password: temp });
  assert.equal(r.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED');
  const weak = await errorOf(confirmSignIn({ challengeResponse: 'short' }));
  assert.equal(weak.name, 'InvalidPasswordException');
  // The policy is checked before the session is used up, so the user can try again.
  const done = await confirmSignIn({ challengeResponse: 'Brand-New-Passw0rd' });
  assert.equal(done.nextStep.signInStep, 'DONE');
  const got = await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: email }));
  assert.equal(got.UserStatus, 'CONFIRMED');
  await signOut();
  assert.equal((await signIn({ username: email, password: 'Brand-New-Passw0rd' })).nextStep.signInStep, 'DONE');
});

test('AdminResetUserPassword leads to RESET_PASSWORD on a client that does not hide users, reset with the mailed code, and the code is single use', async () => {
  const email = await confirmedUser();
  let since = Date.now();
  await gh.admin.send(new AdminResetUserPasswordCommand({ UserPoolId: poolId, Username: email }));
  const code = await mail.code(email, since);
  // A client that hides users answers as for a login that names nobody (Cognito does the same).
  const hidden = await errorOf(signIn({ username: email, password: PASSWORD }));
  assert.equal(hidden.name, 'NotAuthorizedException');
  assert.equal(hidden.message, 'Incorrect username or password.');
  const { UserPoolClient: legacy } = await gh.admin.send(new CreateUserPoolClientCommand({
    UserPoolId: poolId, ClientName: 'legacy', ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'], PreventUserExistenceErrors: 'LEGACY',
  }));
  Amplify.configure({ Auth: { Cognito: { userPoolId: poolId, userPoolClientId: legacy!.ClientId!, userPoolEndpoint: gh.url, loginWith: { email: true } } } });
  try {
    const r = await signIn({ username: email, password: PASSWORD });
    assert.equal(r.nextStep.signInStep, 'RESET_PASSWORD');
  } finally {
    Amplify.configure({ Auth: { Cognito: { userPoolId: poolId, userPoolClientId: clientId, userPoolEndpoint: gh.url, loginWith: { email: true } } } });
  }
  await confirmResetPassword({ username: email, confirmationCode: code, newPassword: 'After-Reset-42' });
  const replay = await errorOf(confirmResetPassword({ username: email, confirmationCode: code, newPassword: 'Another-One-43' }));
  assert.ok(['ExpiredCodeException', 'CodeMismatchException'].includes(replay.name), replay.name);
  assert.equal((await signIn({ username: email, password: 'After-Reset-42' })).nextStep.signInStep, 'DONE');
  await signOut();
  // The self-service path: resetPassword sends a code, confirmResetPassword uses it.
  since = Date.now();
  const started = await resetPassword({ username: email });
  assert.equal(started.nextStep.resetPasswordStep, 'CONFIRM_RESET_PASSWORD_WITH_CODE');
  await confirmResetPassword({ username: email, confirmationCode: await mail.code(email, since), newPassword: 'Self-Reset-44' });
  assert.equal((await signIn({ username: email, password: 'Self-Reset-44' })).nextStep.signInStep, 'DONE');
});

test('fetchAuthSession({ forceRefresh: true }) refreshes the tokens', async () => {
  const email = await confirmedUser();
  await signIn({ username: email, password: PASSWORD });
  const first = (await fetchAuthSession()).tokens!;
  await new Promise((r) => setTimeout(r, 1100));
  const second = (await fetchAuthSession({ forceRefresh: true })).tokens!;
  assert.notEqual(second.accessToken.toString(), first.accessToken.toString());
  assert.equal(second.accessToken.payload.origin_jti, first.accessToken.payload.origin_jti);
  assert.ok(second.accessToken.payload.iat! > first.accessToken.payload.iat!);
});

test('signOut revokes the refresh token; global signOut also kills access tokens', async () => {
  const email = await confirmedUser();
  await signIn({ username: email, password: PASSWORD });
  const access = (await fetchAuthSession()).tokens!.accessToken.toString();
  await signOut();
  const afterLocal = await rawCall(gh.url, 'GetUser', JSON.stringify({ AccessToken: access }));
  assert.equal(afterLocal.status, 400);
  assert.equal(afterLocal.type, 'NotAuthorizedException');

  await signIn({ username: email, password: PASSWORD });
  const access2 = (await fetchAuthSession()).tokens!.accessToken.toString();
  assert.equal((await rawCall(gh.url, 'GetUser', JSON.stringify({ AccessToken: access2 }))).status, 200);
  await signOut({ global: true });
  const afterGlobal = await rawCall(gh.url, 'GetUser', JSON.stringify({ AccessToken: access2 }));
  assert.equal(afterGlobal.type, 'NotAuthorizedException');
});

test('updatePassword changes the password', async () => {
  const email = await confirmedUser();
  await signIn({ username: email, password: PASSWORD });
  const wrong = await errorOf(updatePassword({ oldPassword: 'Not-The-Password-1', newPassword: 'Changed-Passw0rd' }));
  assert.equal(wrong.name, 'NotAuthorizedException');
  await updatePassword({ oldPassword: PASSWORD, newPassword: 'Changed-Passw0rd' });
  await signOut();
  assert.equal((await errorOf(signIn({ username: email, password: PASSWORD }))).name, 'NotAuthorizedException');
  assert.equal((await signIn({ username: email, password: 'Changed-Passw0rd' })).nextStep.signInStep, 'DONE');
});

test('fetchUserAttributes and updateUserAttributes, with email re-verification', async () => {
  const email = await confirmedUser();
  await signIn({ username: email, password: PASSWORD });
  await updateUserAttributes({ userAttributes: { name: 'Ada Lovelace', given_name: 'Ada' } });
  let attrs = await fetchUserAttributes();
  assert.equal(attrs.name, 'Ada Lovelace');
  assert.equal(attrs.given_name, 'Ada');
  assert.ok(attrs.sub);
  const newEmail = uniqueEmail('moved');
  const since = Date.now();
  const out = await updateUserAttributes({ userAttributes: { email: newEmail } });
  assert.equal(out.email.nextStep.updateAttributeStep, 'CONFIRM_ATTRIBUTE_WITH_CODE');
  attrs = await fetchUserAttributes();
  assert.equal(attrs.email, newEmail);
  assert.equal(attrs.email_verified, 'false');
  await confirmUserAttribute({ userAttributeKey: 'email', confirmationCode: await mail.code(newEmail, since) });
  assert.equal((await fetchUserAttributes()).email_verified, 'true');
});

test('password policy errors come back as InvalidPasswordException', async () => {
  for (const [password, reason] of [['Sh0rt!', 'long enough'], ['alllowercase1!', 'uppercase'], ['NoDigits-Here', 'numeric'], ['NoSymbols123A', 'symbol']]) {
    const e = await errorOf(signUp({ username: uniqueEmail(), password, options: { userAttributes: {} } }));
    assert.equal(e.name, 'InvalidPasswordException', `${password}: ${e.name}`);
    assert.match(e.message, new RegExp(reason));
  }
});

test('groups appear in cognito:groups', async () => {
  const email = await confirmedUser();
  await gh.admin.send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: 'editors', Precedence: 1 }));
  await gh.admin.send(new AdminAddUserToGroupCommand({ UserPoolId: poolId, Username: email, GroupName: 'editors' }));
  await signIn({ username: email, password: PASSWORD });
  const { tokens } = await fetchAuthSession();
  assert.deepEqual(tokens!.accessToken.payload['cognito:groups'], ['editors']);
});
