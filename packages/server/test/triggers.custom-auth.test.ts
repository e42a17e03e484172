// CUSTOM_AUTH through the unmodified aws-amplify client, driven by DefineAuthChallenge,
// CreateAuthChallenge and VerifyAuthChallengeResponse triggers, each as a module and as a URL.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Amplify } from 'aws-amplify';
import { signIn, signOut, confirmSignIn, fetchAuthSession } from 'aws-amplify/auth';
import {
  AdminCreateUserCommand, AdminSetUserPasswordCommand, InitiateAuthCommand, RespondToAuthChallengeCommand, CreateUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, createPoolAndClient, uniqueEmail, unrefLongClientTimers, userClient, type Gatehouse } from './support/harness.js';
import { TriggerKit, errorOf, FORMS, CUSTOM_AUTH_MODULES, type Form } from './support/triggers.js';

unrefLongClientTimers();

const PASSWORD = 'Correct-Horse-9';
let gh: Gatehouse, kit: TriggerKit;

before(async () => {
  kit = await new TriggerKit().start();
  for (const [name, body] of Object.entries(CUSTOM_AUTH_MODULES)) kit.module(name, body);
  // Never gives up: the server's own cap must end the sign-in.
  kit.module('define-forever.mjs', `
export const handler = async (event) => {
  const last = event.request.session.at(-1);
  if (last && last.challengeResult) event.response.issueTokens = true;
  else event.response.challengeName = 'CUSTOM_CHALLENGE';
  return event;
};`);
  gh = await startGatehouse({ GATEHOUSE_TRIGGERS_DIR: kit.dir });
});
after(async () => { await signOut().catch(() => {}); await gh?.stop(); await kit?.stop(); });
beforeEach(async () => { await signOut().catch(() => {}); });

const flows = ['ALLOW_CUSTOM_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] as const;

/** A pool whose custom-auth triggers are called in `form`; Amplify configured for it. */
async function customPool(form: Form, define = 'define.mjs', client: object = {}) {
  const { poolId, clientId } = await createPoolAndClient(gh, {
    LambdaConfig: {
      DefineAuthChallenge: kit.target(form, define),
      CreateAuthChallenge: kit.target(form, 'create.mjs'),
      VerifyAuthChallengeResponse: kit.target(form, 'verify.mjs'),
    },
  }, { ExplicitAuthFlows: [...flows], ...client });
  Amplify.configure({ Auth: { Cognito: { userPoolId: poolId, userPoolClientId: clientId, userPoolEndpoint: gh.url, loginWith: { email: true } } } });
  return { poolId, clientId };
}

async function confirmedUser(poolId: string) {
  const email = uniqueEmail('custom');
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: email, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }] }));
  await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: email, Password: PASSWORD, Permanent: true }));
  return email;
}


for (const form of FORMS) {
  test(`CUSTOM_WITHOUT_SRP (${form}): a wrong answer is asked again, the right one signs in; additionalInfo carries the public parameters`, async () => {
    const { poolId } = await customPool(form);
    const email = await confirmedUser(poolId);
    const first = await signIn({ username: email, options: { authFlowType: 'CUSTOM_WITHOUT_SRP' } });
    assert.equal(first.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE');
    const info = (first.nextStep as { additionalInfo?: Record<string, string> }).additionalInfo!;
    assert.equal(info.question, 'What is 6 times 7?');
    assert.equal(info.round, '1');
    assert.equal(info.answer, undefined, 'private parameters stay on the server');
    const again = await confirmSignIn({ challengeResponse: '41' });
    assert.equal(again.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE');
    assert.equal((again.nextStep as { additionalInfo?: Record<string, string> }).additionalInfo!.round, '2');
    const done = await confirmSignIn({ challengeResponse: '42' });
    assert.equal(done.isSignedIn, true);
    assert.equal(done.nextStep.signInStep, 'DONE');
    const { tokens } = await fetchAuthSession();
    assert.equal(tokens!.idToken!.payload.email, email);
  });

  test(`CUSTOM_WITH_SRP (${form}): the right password, then the challenge, signs in; a wrong password is refused`, async () => {
    const { poolId } = await customPool(form);
    const email = await confirmedUser(poolId);
    const wrong = await errorOf(signIn({ username: email, password: 'Wrong-Horse-9', options: { authFlowType: 'CUSTOM_WITH_SRP' } }));
    assert.equal(wrong.name, 'NotAuthorizedException');
    const first = await signIn({ username: email, password: PASSWORD, options: { authFlowType: 'CUSTOM_WITH_SRP' } });
    assert.equal(first.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE');
    const done = await confirmSignIn({ challengeResponse: '42' });
    assert.equal(done.nextStep.signInStep, 'DONE');
    // DefineAuthChallenge saw SRP_A (for the refused attempt too), then PASSWORD_VERIFIER, then the answered challenge.
    const seen = kit.events('DefineAuthChallenge_Authentication').filter((e) => e.userPoolId === poolId).map((e) => e.request.session.map((c: any) => `${c.challengeName}:${c.challengeResult}`).join(','));
    assert.deepEqual(seen, ['SRP_A:true', 'SRP_A:true', 'SRP_A:true,PASSWORD_VERIFIER:true', 'SRP_A:true,PASSWORD_VERIFIER:true,CUSTOM_CHALLENGE:true']);
  });

  test(`CUSTOM_WITHOUT_SRP (${form}): three wrong answers fail the sign-in`, async () => {
    const { poolId } = await customPool(form);
    const email = await confirmedUser(poolId);
    await signIn({ username: email, options: { authFlowType: 'CUSTOM_WITHOUT_SRP' } });
    assert.equal((await confirmSignIn({ challengeResponse: '1' })).nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE');
    assert.equal((await confirmSignIn({ challengeResponse: '2' })).nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE');
    const e = await errorOf(confirmSignIn({ challengeResponse: '3' }));
    assert.equal(e.name, 'NotAuthorizedException');
  });
}

test('trigger events: the session history with results and metadata, ClientMetadata, private parameters only to Verify', async () => {
  const { poolId, clientId } = await customPool('module');
  const email = await confirmedUser(poolId);
  kit.clearEvents();
  const cip = userClient(gh.url);
  const start = await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'CUSTOM_AUTH', AuthParameters: { USERNAME: email }, ClientMetadata: { app: 'web' } }));
  assert.equal(start.ChallengeName, 'CUSTOM_CHALLENGE');
  const username = start.ChallengeParameters!.USERNAME;
  const wrong = await cip.send(new RespondToAuthChallengeCommand({ ClientId: clientId, ChallengeName: 'CUSTOM_CHALLENGE', Session: start.Session, ChallengeResponses: { USERNAME: username, ANSWER: 'no' }, ClientMetadata: { step: 'two' } }));
  const right = await cip.send(new RespondToAuthChallengeCommand({ ClientId: clientId, ChallengeName: 'CUSTOM_CHALLENGE', Session: wrong.Session, ChallengeResponses: { USERNAME: username, ANSWER: '42' } }));
  assert.ok(right.AuthenticationResult?.AccessToken);
  const [verify] = kit.events('VerifyAuthChallengeResponse_Authentication');
  assert.deepEqual(verify.request.privateChallengeParameters, { answer: '42' });
  assert.equal(verify.request.challengeAnswer, 'no');
  assert.deepEqual(verify.request.clientMetadata, { step: 'two' });
  assert.equal(verify.request.userNotFound, false);
  assert.equal(verify.userName, username);
  assert.equal(verify.callerContext.clientId, clientId);
  assert.equal(verify.userPoolId, poolId);
  assert.equal(verify.request.userAttributes.email, email);
  const defines = kit.events('DefineAuthChallenge_Authentication');
  assert.deepEqual(defines[0].request.clientMetadata, { app: 'web' });
  assert.deepEqual(defines.at(-1).request.session, [
    { challengeName: 'CUSTOM_CHALLENGE', challengeResult: false, challengeMetadata: 'QUESTION-1' },
    { challengeName: 'CUSTOM_CHALLENGE', challengeResult: true, challengeMetadata: 'QUESTION-2' },
  ]);
  for (const e of kit.events()) {
    assert.equal(e.version, '1');
    assert.equal(e.region, 'local');
    assert.ok(e.callerContext.awsSdkVersion);
  }
  // Each answer spent its session: the first one cannot be answered again.
  const replay = await errorOf(cip.send(new RespondToAuthChallengeCommand({ ClientId: clientId, ChallengeName: 'CUSTOM_CHALLENGE', Session: start.Session, ChallengeResponses: { USERNAME: username, ANSWER: '42' } })));
  assert.equal(replay.name, 'NotAuthorizedException');
  cip.destroy();
});

test('custom-answer brute force: a DefineAuthChallenge that never gives up still ends the sign-in after three wrong answers', async () => {
  const { poolId, clientId } = await customPool('module', 'define-forever.mjs');
  const email = await confirmedUser(poolId);
  const cip = userClient(gh.url);
  let r = await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'CUSTOM_AUTH', AuthParameters: { USERNAME: email } }));
  const username = r.ChallengeParameters!.USERNAME;
  for (const guess of ['1', '2']) {
    r = await cip.send(new RespondToAuthChallengeCommand({ ClientId: clientId, ChallengeName: 'CUSTOM_CHALLENGE', Session: r.Session, ChallengeResponses: { USERNAME: username, ANSWER: guess } }));
    assert.equal(r.ChallengeName, 'CUSTOM_CHALLENGE');
  }
  const third = await errorOf(cip.send(new RespondToAuthChallengeCommand({ ClientId: clientId, ChallengeName: 'CUSTOM_CHALLENGE', Session: r.Session, ChallengeResponses: { USERNAME: username, ANSWER: '3' } })));
  assert.equal(third.name, 'NotAuthorizedException');
  cip.destroy();
});

test('user existence: an unknown login gets a challenge like a real user, and no right answer signs it in', async () => {
  const { clientId } = await customPool('module');
  kit.clearEvents();
  const cip = userClient(gh.url);
  const nobody = uniqueEmail('nobody');
  const r = await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'CUSTOM_AUTH', AuthParameters: { USERNAME: nobody } }));
  assert.equal(r.ChallengeName, 'CUSTOM_CHALLENGE');
  assert.match(r.ChallengeParameters!.USERNAME, /^[0-9a-f-]{36}$/, 'a stand-in shaped like a real username (a sub)');
  assert.equal(kit.events('DefineAuthChallenge_Authentication')[0].request.userNotFound, true);
  const e = await errorOf(cip.send(new RespondToAuthChallengeCommand({ ClientId: clientId, ChallengeName: 'CUSTOM_CHALLENGE', Session: r.Session, ChallengeResponses: { USERNAME: r.ChallengeParameters!.USERNAME, ANSWER: '42' } })));
  assert.equal(e.name, 'NotAuthorizedException');
  assert.equal(e.message, 'Incorrect username or password.');
  cip.destroy();
});

test('CUSTOM_AUTH without the three triggers, or without ALLOW_CUSTOM_AUTH, is refused', async () => {
  const { poolId, clientId } = await createPoolAndClient(gh, {}, { ExplicitAuthFlows: [...flows] });
  const cip = userClient(gh.url);
  const noTriggers = await errorOf(cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'CUSTOM_AUTH', AuthParameters: { USERNAME: 'someone@example.com' } })));
  assert.equal(noTriggers.name, 'InvalidParameterException');
  const custom = await customPool('module');
  const { UserPoolClient } = await gh.admin.send(new CreateUserPoolClientCommand({ UserPoolId: custom.poolId, ClientName: 'srp-only', ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] }));
  const notAllowed = await errorOf(cip.send(new InitiateAuthCommand({ ClientId: UserPoolClient!.ClientId!, AuthFlow: 'CUSTOM_AUTH', AuthParameters: { USERNAME: 'someone@example.com' } })));
  assert.equal(notAllowed.name, 'InvalidParameterException');
  void poolId;
  cip.destroy();
});
