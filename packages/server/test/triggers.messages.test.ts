// The message triggers: CustomMessage rewrites every message a code goes out in (read here from
// real mail), CustomEmailSender and CustomSMSSender take the place of sending, with the code in
// clear. Each as a module and as a URL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  AdminCreateUserCommand, AdminGetUserCommand, AdminResetUserPasswordCommand, ConfirmSignUpCommand, ForgotPasswordCommand, GetUserAttributeVerificationCodeCommand,
  InitiateAuthCommand, ResendConfirmationCodeCommand, RespondToAuthChallengeCommand, SignUpCommand, UpdateUserAttributesCommand, type CognitoIdentityProviderClient,
  AdminSetUserPasswordCommand, SetUserPoolMfaConfigCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { MailCatcher, startGatehouse, createPoolAndClient, uniqueEmail, userClient, type Gatehouse } from './support/harness.js';
import { TriggerKit, errorOf, FORMS, CUSTOM_AUTH_MODULES } from './support/triggers.js';

const PASSWORD = 'Correct-Horse-9';
let gh: Gatehouse, kit: TriggerKit, mail: MailCatcher, cip: CognitoIdentityProviderClient;

before(async () => {
  kit = await new TriggerKit().start();
  kit.module('message.mjs', `
export const handler = async (event) => {
  record(event);
  const { codeParameter, usernameParameter } = event.request;
  if (event.request.userAttributes.email?.startsWith('no-code')) {
    event.response.emailMessage = 'Welcome, but no code here';
    return event;
  }
  event.response.emailSubject = 'Brand ' + event.triggerSource;
  event.response.emailMessage = 'Brand message: your code is ' + codeParameter + (usernameParameter ? ' for ' + usernameParameter : '');
  event.response.smsMessage = 'Brand SMS ' + codeParameter + (usernameParameter ? ' ' + usernameParameter : '');
  return event;
};`);
  kit.module('sender.mjs', `
export const handler = async (event) => { record(event); return event; };`);
  kit.module('flaky-sender.mjs', `
import { existsSync, writeFileSync } from 'node:fs';
const FLAG = new URL('./flaky-' + 'seen', import.meta.url);
export const handler = async (event) => {
  record(event);
  if (!existsSync(FLAG)) { writeFileSync(FLAG, 'x'); throw new Error('mail provider down'); }
  return event;
};`);
  for (const [name, body] of Object.entries(CUSTOM_AUTH_MODULES)) kit.module(name, body);
  mail = await new MailCatcher().start();
  gh = await startGatehouse({ GATEHOUSE_TRIGGERS_DIR: kit.dir, GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${mail.port}` });
  cip = userClient(gh.url);
});
after(async () => { cip?.destroy(); await gh?.stop(); await mail?.close(); await kit?.stop(); });


/** Events of the pool from `source`, waiting for the first `n` (sender triggers are called after the answer). */
async function eventsOf(poolId: string, source: string, n = 1, timeoutMs = 8000): Promise<any[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const found = kit.events(source).filter((e) => e.userPoolId === poolId);
    if (found.length >= n || Date.now() > end) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function signedInToken(clientId: string, email: string, password = PASSWORD) {
  const r = await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: password } }));
  return r.AuthenticationResult!.AccessToken!;
}

for (const form of FORMS) {
  test(`CustomMessage (${form}): the text of every message with a code, Cognito's trigger sources and parameters`, async () => {
    const { poolId, clientId } = await createPoolAndClient(gh, { LambdaConfig: { CustomMessage: kit.target(form, 'message.mjs') } });
    const email = uniqueEmail();
    let since = Date.now();
    await cip.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: email }], ClientMetadata: { app: 'web' } }));
    let m = await mail.next(email, since);
    assert.equal(m.subject, 'Brand CustomMessage_SignUp');
    assert.match(m.text.trim(), /^Brand message: your code is \d{6}$/);
    const [signUp] = await eventsOf(poolId, 'CustomMessage_SignUp');
    assert.equal(signUp.request.codeParameter, '{####}');
    assert.equal(signUp.request.usernameParameter, null);
    assert.deepEqual(signUp.request.clientMetadata, { app: 'web' });
    assert.equal(signUp.request.userAttributes.email, email);

    since = Date.now();
    await cip.send(new ResendConfirmationCodeCommand({ ClientId: clientId, Username: email }));
    m = await mail.next(email, since);
    assert.equal(m.subject, 'Brand CustomMessage_ResendCode');
    await cip.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: /(\d{6})/.exec(m.text)![1] }));

    since = Date.now();
    await cip.send(new ForgotPasswordCommand({ ClientId: clientId, Username: email }));
    assert.equal((await mail.next(email, since)).subject, 'Brand CustomMessage_ForgotPassword');

    since = Date.now();
    await gh.admin.send(new AdminResetUserPasswordCommand({ UserPoolId: poolId, Username: email }));
    assert.equal((await mail.next(email, since)).subject, 'Brand CustomMessage_ForgotPassword');

    const other = uniqueEmail('invited');
    since = Date.now();
    await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: other, UserAttributes: [{ Name: 'email', Value: other }, { Name: 'email_verified', Value: 'true' }], DesiredDeliveryMediums: ['EMAIL'] }));
    m = await mail.next(other, since);
    assert.equal(m.subject, 'Brand CustomMessage_AdminCreateUser');
    const username = (await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: other }))).Username!;
    const invite = /^Brand message: your code is (\S+) for (\S+)$/.exec(m.text.trim())!;
    assert.equal(invite[2], username);
    const [created] = await eventsOf(poolId, 'CustomMessage_AdminCreateUser');
    assert.equal(created.request.usernameParameter, '{username}');
    assert.equal(created.callerContext.clientId, 'CLIENT_ID_NOT_APPLICABLE');
    // The temporary password in the message works.
    const start = await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: other, PASSWORD: invite[1] } }));
    assert.equal(start.ChallengeName, 'NEW_PASSWORD_REQUIRED');
    const done = await cip.send(new RespondToAuthChallengeCommand({ ClientId: clientId, ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: start.Session, ChallengeResponses: { USERNAME: username, NEW_PASSWORD: PASSWORD } }));

    const token = done.AuthenticationResult!.AccessToken!;
    since = Date.now();
    await cip.send(new GetUserAttributeVerificationCodeCommand({ AccessToken: token, AttributeName: 'email' }));
    assert.equal((await mail.next(other, since)).subject, 'Brand CustomMessage_VerifyUserAttribute');
    const moved = uniqueEmail('moved');
    since = Date.now();
    await cip.send(new UpdateUserAttributesCommand({ AccessToken: token, UserAttributes: [{ Name: 'email', Value: moved }] }));
    assert.equal((await mail.next(moved, since)).subject, 'Brand CustomMessage_UpdateUserAttribute');
    const [update] = await eventsOf(poolId, 'CustomMessage_UpdateUserAttribute');
    assert.equal(update.request.userAttributes.email, moved, 'the trigger sees the attributes the change leaves');
  });

  test(`CustomMessage (${form}): a message without the code placeholder is InvalidLambdaResponseException, and the sign-up leaves no user`, async () => {
    const { poolId, clientId } = await createPoolAndClient(gh, { LambdaConfig: { CustomMessage: kit.target(form, 'message.mjs') } });
    const email = uniqueEmail('no-code');
    const e = await errorOf(cip.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: email }] })));
    assert.equal(e.name, 'InvalidLambdaResponseException');
    assert.equal((await errorOf(gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: email })))).name, 'UserNotFoundException');
  });

  test(`CustomEmailSender (${form}): called in place of mail with the code in clear, for codes and invitations`, async () => {
    const { poolId, clientId } = await createPoolAndClient(gh, {
      LambdaConfig: { CustomEmailSender: { LambdaVersion: 'V1_0', LambdaArn: kit.target(form, 'sender.mjs') }, CustomMessage: kit.target(form, 'message.mjs') },
    });
    const email = uniqueEmail();
    const since = Date.now();
    await cip.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: email }], ClientMetadata: { app: 'web' } }));
    const [sent] = await eventsOf(poolId, 'CustomEmailSender_SignUp');
    assert.ok(sent, 'the sender trigger was called');
    assert.equal(sent.request.type, 'customEmailSenderRequestV1');
    assert.match(sent.request.code, /^\d{6}$/);
    assert.deepEqual(sent.request.clientMetadata, { app: 'web' });
    assert.equal(sent.request.userAttributes.email, email);
    assert.equal((await eventsOf(poolId, 'CustomMessage_SignUp', 1, 0)).length, 0, 'CustomMessage is not asked for a medium with a sender');
    await cip.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: sent.request.code }));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(mail.messages.filter((m) => m.to === email.toLowerCase() && m.at >= since).length, 0, 'no mail went out');

    const invited = uniqueEmail('invited');
    await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: invited, UserAttributes: [{ Name: 'email', Value: invited }, { Name: 'email_verified', Value: 'true' }], DesiredDeliveryMediums: ['EMAIL'] }));
    const [invite] = await eventsOf(poolId, 'CustomEmailSender_AdminCreateUser');
    const start = await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: invited, PASSWORD: invite.request.code } }));
    assert.equal(start.ChallengeName, 'NEW_PASSWORD_REQUIRED');
  });
}

test('CustomSMSSender: an SMS code goes to the trigger (no SMS transport needed), and confirms the phone', async () => {
  const { poolId, clientId } = await createPoolAndClient(gh, {
    UsernameAttributes: ['phone_number'], AutoVerifiedAttributes: ['phone_number'], Schema: undefined,
    LambdaConfig: { CustomSMSSender: { LambdaVersion: 'V1_0', LambdaArn: 'sender.mjs' } },
  });
  const phone = `+1555${String(Date.now()).slice(-7)}`;
  await cip.send(new SignUpCommand({ ClientId: clientId, Username: phone, Password: PASSWORD, UserAttributes: [{ Name: 'phone_number', Value: phone }] }));
  const [sent] = await eventsOf(poolId, 'CustomSMSSender_SignUp');
  assert.equal(sent.request.type, 'customSMSSenderRequestV1');
  assert.equal(sent.request.userAttributes.phone_number, phone);
  await cip.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: phone, ConfirmationCode: sent.request.code }));
  assert.ok(await signedInToken(clientId, phone));
});

test('a sender trigger that fails is retried by the outbox, as a mail server would be', async () => {
  const { poolId, clientId } = await createPoolAndClient(gh, { LambdaConfig: { CustomEmailSender: { LambdaVersion: 'V1_0', LambdaArn: 'flaky-sender.mjs' } } });
  const email = uniqueEmail();
  await cip.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: email }] }));
  const calls = await eventsOf(poolId, 'CustomEmailSender_SignUp', 2);
  assert.equal(calls.length, 2, 'called again after the failure');
  assert.equal(calls[0].request.code, calls[1].request.code);
  assert.ok(!gh.logs.join('\n').includes(calls[0].request.code), 'the code is not in the log');
});



test('MFA after custom authentication, as the pool says: the EMAIL_OTP code in CustomMessage_Authentication\'s text, or to CustomEmailSender_Authentication', async () => {
  for (const lambda of [{ CustomMessage: 'message.mjs' }, { CustomEmailSender: { LambdaVersion: 'V1_0' as const, LambdaArn: 'sender.mjs' } }]) {
    const { poolId, clientId } = await createPoolAndClient(gh, {
      LambdaConfig: { DefineAuthChallenge: 'define.mjs', CreateAuthChallenge: 'create.mjs', VerifyAuthChallengeResponse: 'verify.mjs', ...lambda },
    }, { ExplicitAuthFlows: ['ALLOW_CUSTOM_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] });
    await gh.admin.send(new SetUserPoolMfaConfigCommand({ UserPoolId: poolId, MfaConfiguration: 'ON', EmailMfaConfiguration: { Message: 'Your sign-in code is {####}', Subject: 'Sign-in code' } }));
    const email = uniqueEmail('mfa');
    await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: email, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }] }));
    await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: email, Password: PASSWORD, Permanent: true }));
    const start = await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'CUSTOM_AUTH', AuthParameters: { USERNAME: email } }));
    const USERNAME = start.ChallengeParameters!.USERNAME;
    const since = Date.now();
    const mfa = await cip.send(new RespondToAuthChallengeCommand({ ClientId: clientId, ChallengeName: 'CUSTOM_CHALLENGE', Session: start.Session, ChallengeResponses: { USERNAME, ANSWER: '42' } }));
    assert.equal(mfa.ChallengeName, 'EMAIL_OTP', 'the right answer still meets MFA');
    assert.equal(mfa.AuthenticationResult, undefined);
    let code: string;
    if ('CustomMessage' in lambda) {
      const m = await mail.next(email, since);
      assert.equal(m.subject, 'Brand CustomMessage_Authentication');
      code = /(\d{6})/.exec(m.text)![1];
    } else {
      const [sent] = await eventsOf(poolId, 'CustomEmailSender_Authentication');
      assert.equal(sent.request.type, 'customEmailSenderRequestV1');
      code = sent.request.code;
    }
    const done = await cip.send(new RespondToAuthChallengeCommand({ ClientId: clientId, ChallengeName: 'EMAIL_OTP', Session: mfa.Session, ChallengeResponses: { USERNAME, EMAIL_OTP_CODE: code } }));
    assert.ok(done.AuthenticationResult?.AccessToken);
  }
});
