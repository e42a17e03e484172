// The sign-up, sign-in and token triggers with Cognito's trigger sources and event shapes, each
// called as a module (GATEHOUSE_TRIGGERS_DIR) and as a URL, through aws-amplify and the AWS SDK.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Amplify } from 'aws-amplify';
import { signIn, signOut, signUp, confirmSignUp, fetchAuthSession, resetPassword, confirmResetPassword } from 'aws-amplify/auth';
import {
  AdminCreateUserCommand, AdminSetUserPasswordCommand, AdminGetUserCommand, AdminConfirmSignUpCommand, CreateGroupCommand, AdminAddUserToGroupCommand,
  InitiateAuthCommand, DescribeUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { decodeJwt } from 'jose';
import { MailCatcher, startGatehouse, createPoolAndClient, uniqueEmail, unrefLongClientTimers, userClient, type Gatehouse } from './support/harness.js';
import { TriggerKit, errorOf, FORMS, type Form } from './support/triggers.js';

unrefLongClientTimers();

const PASSWORD = 'Correct-Horse-9';
let gh: Gatehouse, kit: TriggerKit, mail: MailCatcher;

const MODULES = {
  'presignup.mjs': `
export const handler = async (event) => {
  record(event);
  if (event.request.userAttributes.email?.endsWith('@blocked.example')) throw new Error('Sign-ups from blocked.example are closed');
  if (event.request.validationData?.invite === 'yes') {
    event.response.autoConfirmUser = true;
    event.response.autoVerifyEmail = true;
  }
  return event;
};`,
  'postconfirm.mjs': `
export const handler = async (event) => {
  record(event);
  if (event.request.userAttributes.email?.startsWith('fail-postconfirm')) throw new Error('Profile store unavailable');
  return event;
};`,
  'preauth.mjs': `
export const handler = async (event) => {
  record(event);
  if (event.request.userAttributes.email?.startsWith('blocked')) throw new Error('This account is blocked');
  return event;
};`,
  'postauth.mjs': `
export const handler = async (event) => {
  record(event);
  if (event.request.userAttributes.email?.startsWith('fail-postauth')) throw new Error('Audit log unavailable');
  return event;
};`,
  'pretoken-v1.mjs': `
export const handler = async (event) => {
  record(event);
  event.response.claimsOverrideDetails = {
    claimsToAddOrOverride: { tier: 'gold', sub: 'not-allowed' },
    claimsToSuppress: ['email_verified'],
    groupOverrideDetails: { groupsToOverride: [...event.request.groupConfiguration.groupsToOverride, 'from-trigger'] },
  };
  return event;
};`,
  'pretoken-v2.mjs': `
export const handler = async (event) => {
  record(event);
  event.response.claimsAndScopeOverrideDetails = {
    idTokenGeneration: { claimsToAddOrOverride: { tier: 'platinum' } },
    accessTokenGeneration: {
      claimsToAddOrOverride: { plan: { name: 'pro', seats: 3 }, client_id: 'forged' },
      scopesToAdd: ['orders/read'],
    },
  };
  return event;
};`,
  'migrate.mjs': `
export const handler = async (event) => {
  record(event);
  const legacy = event.userName.endsWith('@legacy.example');
  if (event.triggerSource === 'UserMigration_Authentication') {
    if (!legacy || event.request.password !== 'Legacy-Pass-1') throw new Error('Bad password');
    event.response.userAttributes = { email: event.userName, email_verified: 'true', name: 'Old Timer' };
    event.response.finalUserStatus = 'CONFIRMED';
    event.response.messageAction = 'SUPPRESS';
  } else {
    if (!legacy) throw new Error('User not found');
    event.response.userAttributes = { email: event.userName, email_verified: 'true' };
    event.response.finalUserStatus = 'RESET_REQUIRED';
  }
  return event;
};`,
};

before(async () => {
  kit = await new TriggerKit().start();
  for (const [name, body] of Object.entries(MODULES)) kit.module(name, body);
  mail = await new MailCatcher().start();
  gh = await startGatehouse({ GATEHOUSE_TRIGGERS_DIR: kit.dir, GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${mail.port}` });
});
after(async () => { await signOut().catch(() => {}); await gh?.stop(); await mail?.close(); await kit?.stop(); });
beforeEach(async () => { await signOut().catch(() => {}); });

const CLIENT_FLOWS = ['ALLOW_USER_SRP_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'];

/** A pool with the sign-up, sign-in and V1 token triggers in `form`; Amplify configured for it. */
async function hookedPool(form: Form, lambda: Record<string, unknown> = {}) {
  const t = (name: string) => kit.target(form, name);
  const { poolId, clientId } = await createPoolAndClient(gh, {
    LambdaConfig: {
      PreSignUp: t('presignup.mjs'), PostConfirmation: t('postconfirm.mjs'), PreAuthentication: t('preauth.mjs'),
      PostAuthentication: t('postauth.mjs'), PreTokenGeneration: t('pretoken-v1.mjs'), UserMigration: t('migrate.mjs'), ...lambda,
    },
  }, { ExplicitAuthFlows: CLIENT_FLOWS });
  Amplify.configure({ Auth: { Cognito: { userPoolId: poolId, userPoolClientId: clientId, userPoolEndpoint: gh.url, loginWith: { email: true } } } });
  return { poolId, clientId };
}

async function adminUser(poolId: string, email: string) {
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: email, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }] }));
  await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: email, Password: PASSWORD, Permanent: true }));
}


const ofPool = (poolId: string, source: string) => kit.events(source).filter((e) => e.userPoolId === poolId);

for (const form of FORMS) {
  test(`PreSignUp (${form}): SignUp and AdminCreateUser events; autoConfirmUser and autoVerifyEmail; a refusal leaves no user`, async () => {
    const { poolId, clientId } = await hookedPool(form);
    const email = uniqueEmail('invited');
    const up = await signUp({ username: email, password: PASSWORD, options: { userAttributes: { email }, validationData: { invite: 'yes' }, clientMetadata: { app: 'web' } } });
    assert.equal(up.isSignUpComplete, true);
    const got = await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: email }));
    assert.equal(got.UserStatus, 'CONFIRMED');
    assert.equal(got.UserAttributes!.find((a) => a.Name === 'email_verified')?.Value, 'true');
    const [e] = ofPool(poolId, 'PreSignUp_SignUp');
    assert.equal(e.version, '1');
    assert.equal(e.callerContext.clientId, clientId);
    assert.equal(e.request.userAttributes.email, email);
    assert.deepEqual(e.request.validationData, { invite: 'yes' });
    assert.deepEqual(e.request.clientMetadata, { app: 'web' });
    assert.equal(e.userName, got.Username);
    // Auto-confirmed: no code to confirm, and no PostConfirmation, as in Cognito.
    assert.equal(ofPool(poolId, 'PostConfirmation_ConfirmSignUp').length, 0);
    assert.equal((await signIn({ username: email, password: PASSWORD })).nextStep.signInStep, 'DONE');

    const blocked = `someone.${Date.now()}@blocked.example`;
    const refused = await errorOf(signUp({ username: blocked, password: PASSWORD, options: { userAttributes: { email: blocked } } }));
    assert.equal(refused.name, 'UserLambdaValidationException');
    assert.equal(refused.message, 'PreSignUp failed with error Sign-ups from blocked.example are closed.');
    assert.equal((await errorOf(gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: blocked })))).name, 'UserNotFoundException');

    const invited = uniqueEmail('admin-made');
    await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: invited, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: invited }], ClientMetadata: { by: 'ops' } }));
    const [a] = ofPool(poolId, 'PreSignUp_AdminCreateUser');
    assert.equal(a.callerContext.clientId, 'CLIENT_ID_NOT_APPLICABLE');
    assert.deepEqual(a.request.clientMetadata, { by: 'ops' });
    assert.equal((await errorOf(gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: blocked, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: blocked }] })))).name, 'UserLambdaValidationException');
    assert.equal((await errorOf(gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: blocked })))).name, 'UserNotFoundException');
  });

  test(`PostConfirmation (${form}): ConfirmSignUp and ConfirmForgotPassword; a failure leaves the user unconfirmed`, async () => {
    const { poolId } = await hookedPool(form);
    const email = uniqueEmail();
    let since = Date.now();
    await signUp({ username: email, password: PASSWORD, options: { userAttributes: { email } } });
    await confirmSignUp({ username: email, confirmationCode: await mail.code(email, since) });
    const [c] = ofPool(poolId, 'PostConfirmation_ConfirmSignUp');
    assert.equal(c.request.userAttributes.email, email);
    assert.equal(c.request.userAttributes['cognito:user_status'], 'CONFIRMED');
    assert.equal(c.request.userAttributes.email_verified, 'true');

    since = Date.now();
    await resetPassword({ username: email });
    await confirmResetPassword({ username: email, confirmationCode: await mail.code(email, since), newPassword: 'Another-Horse-9' });
    assert.equal(ofPool(poolId, 'PostConfirmation_ConfirmForgotPassword').length, 1);

    const failing = uniqueEmail('fail-postconfirm');
    since = Date.now();
    await signUp({ username: failing, password: PASSWORD, options: { userAttributes: { email: failing } } });
    const e = await errorOf(confirmSignUp({ username: failing, confirmationCode: await mail.code(failing, since) }));
    assert.equal(e.name, 'UserLambdaValidationException');
    assert.equal(e.message, 'PostConfirmation failed with error Profile store unavailable.');
    assert.equal((await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: failing }))).UserStatus, 'UNCONFIRMED');
    assert.equal((await errorOf(gh.admin.send(new AdminConfirmSignUpCommand({ UserPoolId: poolId, Username: failing })))).name, 'UserLambdaValidationException');
    assert.equal((await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: failing }))).UserStatus, 'UNCONFIRMED');
  });

  test(`PreAuthentication and PostAuthentication (${form}): their events; a refusal by either gives no tokens`, async () => {
    const { poolId, clientId } = await hookedPool(form);
    const email = uniqueEmail();
    await adminUser(poolId, email);
    await signIn({ username: email, password: PASSWORD, options: { clientMetadata: { device: 'kiosk' } } });
    const [pre] = ofPool(poolId, 'PreAuthentication_Authentication');
    assert.equal(pre.request.userNotFound, false);
    assert.deepEqual(pre.request.validationData, { device: 'kiosk' });
    assert.equal(pre.callerContext.clientId, clientId);
    const [post] = ofPool(poolId, 'PostAuthentication_Authentication');
    assert.equal(post.request.newDeviceUsed, false);
    assert.deepEqual(post.request.clientMetadata, { device: 'kiosk' });
    await signOut();

    for (const [prefix, message] of [['blocked', 'PreAuthentication failed with error This account is blocked.'], ['fail-postauth', 'PostAuthentication failed with error Audit log unavailable.']]) {
      const who = uniqueEmail(prefix);
      await adminUser(poolId, who);
      const e = await errorOf(signIn({ username: who, password: PASSWORD }));
      assert.equal(e.name, 'UserLambdaValidationException');
      assert.equal(e.message, message);
    }
    // A login that names nobody reaches the trigger too (the client hides users), marked as such.
    await errorOf(signIn({ username: uniqueEmail('nobody'), password: PASSWORD }));
    assert.equal(ofPool(poolId, 'PreAuthentication_Authentication').at(-1).request.userNotFound, true);
  });

  test(`PreTokenGeneration V1 (${form}): an added claim and overridden groups in the token, a suppressed claim gone, protected claims kept, on refresh too`, async () => {
    const { poolId, clientId } = await hookedPool(form);
    const email = uniqueEmail();
    await adminUser(poolId, email);
    await gh.admin.send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: 'staff' }));
    await gh.admin.send(new AdminAddUserToGroupCommand({ UserPoolId: poolId, Username: email, GroupName: 'staff' }));
    await signIn({ username: email, password: PASSWORD });
    const { tokens } = await fetchAuthSession();
    const id = tokens!.idToken!.payload, access = tokens!.accessToken.payload;
    assert.equal(id.tier, 'gold');
    assert.equal(id.email_verified, undefined);
    assert.equal(id.email, email);
    assert.notEqual(id.sub, 'not-allowed');
    assert.deepEqual(id['cognito:groups'], ['staff', 'from-trigger']);
    assert.deepEqual(access['cognito:groups'], ['staff', 'from-trigger']);
    assert.equal(access.tier, undefined, 'V1 customizes the ID token only');
    const [e] = ofPool(poolId, 'TokenGeneration_Authentication');
    assert.equal(e.version, '1');
    assert.deepEqual(e.request.groupConfiguration.groupsToOverride, ['staff']);
    assert.equal(e.request.scopes, undefined);
    const refreshed = await fetchAuthSession({ forceRefresh: true });
    assert.equal(refreshed.tokens!.idToken!.payload.tier, 'gold');
    assert.equal(ofPool(poolId, 'TokenGeneration_RefreshTokens').length, 1);
    void clientId;
  });

  test(`PreTokenGeneration V2 (${form}): claims in both tokens and an added scope; client_id stays`, async () => {
    const { poolId, clientId } = await hookedPool(form, { PreTokenGeneration: undefined, PreTokenGenerationConfig: { LambdaVersion: 'V2_0', LambdaArn: kit.target(form, 'pretoken-v2.mjs') } });
    const email = uniqueEmail();
    await adminUser(poolId, email);
    const cip = userClient(gh.url);
    const r = await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD } }));
    cip.destroy();
    const id = decodeJwt(r.AuthenticationResult!.IdToken!), access = decodeJwt(r.AuthenticationResult!.AccessToken!);
    assert.equal(id.tier, 'platinum');
    assert.deepEqual(access.plan, { name: 'pro', seats: 3 });
    assert.equal(access.client_id, clientId);
    assert.equal(access.scope, 'aws.cognito.signin.user.admin orders/read');
    const [e] = ofPool(poolId, 'TokenGeneration_Authentication');
    assert.equal(e.version, '2');
    assert.deepEqual(e.request.scopes, ['aws.cognito.signin.user.admin']);
    const { UserPool } = await gh.admin.send(new DescribeUserPoolCommand({ UserPoolId: poolId }));
    assert.equal(UserPool!.LambdaConfig!.PreTokenGenerationConfig!.LambdaVersion, 'V2_0');
    assert.equal(UserPool!.LambdaConfig!.PreTokenGeneration, kit.target(form, 'pretoken-v2.mjs'));
  });

  test(`UserMigration (${form}): a user of the old store migrated on first sign-in with their password, and on ForgotPassword`, async () => {
    const { poolId } = await hookedPool(form);
    const legacy = `old.${Date.now()}.${form}@legacy.example`;
    const wrong = await errorOf(signIn({ username: legacy, password: 'Not-The-Pass-1', options: { authFlowType: 'USER_PASSWORD_AUTH' } }));
    assert.equal(wrong.name, 'NotAuthorizedException', 'a trigger that says no is an unknown user');
    assert.equal((await errorOf(gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: legacy })))).name, 'UserNotFoundException');
    const done = await signIn({ username: legacy, password: 'Legacy-Pass-1', options: { authFlowType: 'USER_PASSWORD_AUTH' } });
    assert.equal(done.nextStep.signInStep, 'DONE');
    const [e] = ofPool(poolId, 'UserMigration_Authentication').filter((x) => x.request.password === 'Legacy-Pass-1');
    assert.equal(e.userName, legacy);
    const got = await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: legacy }));
    assert.equal(got.UserStatus, 'CONFIRMED');
    assert.equal(got.UserAttributes!.find((a) => a.Name === 'name')?.Value, 'Old Timer');
    await signOut();
    // Now a user of this pool: SRP works, and the trigger is not asked again.
    const calls = ofPool(poolId, 'UserMigration_Authentication').length;
    assert.equal((await signIn({ username: legacy, password: 'Legacy-Pass-1' })).nextStep.signInStep, 'DONE');
    assert.equal(ofPool(poolId, 'UserMigration_Authentication').length, calls);
    await signOut();

    const forgetful = `forgot.${Date.now()}.${form}@legacy.example`;
    const since = Date.now();
    const reset = await resetPassword({ username: forgetful });
    assert.equal(reset.nextStep.resetPasswordStep, 'CONFIRM_RESET_PASSWORD_WITH_CODE');
    assert.equal((await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: forgetful }))).UserStatus, 'RESET_REQUIRED');
    await confirmResetPassword({ username: forgetful, confirmationCode: await mail.code(forgetful, since), newPassword: 'Fresh-Horse-9' });
    assert.equal((await signIn({ username: forgetful, password: 'Fresh-Horse-9' })).nextStep.signInStep, 'DONE');
  });
}
