// AdminListUserAuthEvents: what the domain records at sign-up, sign-in, password reset and change,
// in Cognito's shapes as the AWS SDK parses them, newest first, paged, capped per user.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CognitoIdentityProviderClient, SignUpCommand, ConfirmSignUpCommand, InitiateAuthCommand, ForgotPasswordCommand, ConfirmForgotPasswordCommand,
  ChangePasswordCommand, ResendConfirmationCodeCommand, AdminListUserAuthEventsCommand, AdminCreateUserCommand, AdminInitiateAuthCommand,
  AdminRespondToAuthChallengeCommand, AdminDeleteUserCommand, GetUserCommand, type AuthEventType,
} from '@aws-sdk/client-cognito-identity-provider';
import { startMailSuite, uniqueEmail, queryDatabase, type MailCatcher, type MailSuite, type Gatehouse } from './support/harness.js';

let gh: Gatehouse, mail: MailCatcher, poolId: string, clientId: string, cip: CognitoIdentityProviderClient;
const PASSWORD = 'Events-Passw0rd!';

let suite: MailSuite | undefined;
before(async () => {
  suite = await startMailSuite();
  ({ gh, mail, poolId, clientId, cip } = suite);
});
after(async () => { await suite?.stop(); });

async function allEvents(username: string, pageSize?: number): Promise<AuthEventType[]> {
  const out: AuthEventType[] = [];
  let NextToken: string | undefined;
  do {
    const page = await gh.admin.send(new AdminListUserAuthEventsCommand({ UserPoolId: poolId, Username: username, MaxResults: pageSize, NextToken }));
    out.push(...page.AuthEvents!);
    NextToken = page.NextToken;
  } while (NextToken);
  return out;
}
const summary = (e: AuthEventType) => `${e.EventType}:${e.EventResponse}${e.ChallengeResponses?.length ? ':' + e.ChallengeResponses.map((c) => `${c.ChallengeName}=${c.ChallengeResponse}`).join(',') : ''}`;

test('a user history: sign-up, resend, failed and good sign-ins, a reset with a wrong code, a password change; newest first', async () => {
  const email = uniqueEmail('events');
  const t0 = Date.now();
  await cip.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: email }] }));
  await cip.send(new ResendConfirmationCodeCommand({ ClientId: clientId, Username: email }));
  await cip.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: await mail.code(email, t0) }));
  await assert.rejects(cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: 'Wrong-Passw0rd!' } })));
  const signIn = await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD } }));
  const since = Date.now();
  await cip.send(new ForgotPasswordCommand({ ClientId: clientId, Username: email }));
  const code = await mail.code(email, since);
  await assert.rejects(cip.send(new ConfirmForgotPasswordCommand({ ClientId: clientId, Username: email, ConfirmationCode: code === '000000' ? '111111' : '000000', Password: 'Reset-Passw0rd!' })));
  await cip.send(new ConfirmForgotPasswordCommand({ ClientId: clientId, Username: email, ConfirmationCode: code, Password: 'Reset-Passw0rd!' }));
  // The reset ended the earlier session: the password change needs a new one.
  await assert.rejects(cip.send(new GetUserCommand({ AccessToken: signIn.AuthenticationResult!.AccessToken })), { name: 'NotAuthorizedException' });
  const again = await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: 'Reset-Passw0rd!' } }));
  await assert.rejects(cip.send(new ChangePasswordCommand({ AccessToken: again.AuthenticationResult!.AccessToken, PreviousPassword: 'Not-It-Passw0rd!', ProposedPassword: 'Changed-Passw0rd!' })));
  await cip.send(new ChangePasswordCommand({ AccessToken: again.AuthenticationResult!.AccessToken, PreviousPassword: 'Reset-Passw0rd!', ProposedPassword: 'Changed-Passw0rd!' }));
  const t1 = Date.now();

  const events = await allEvents(email);
  assert.deepEqual(events.map(summary), [
    'PasswordChange:Pass:Password=Success',
    'PasswordChange:Fail:Password=Failure',
    'SignIn:Pass:Password=Success',
    'ForgotPassword:Pass',
    'ForgotPassword:Fail',
    'ForgotPassword:InProgress',
    'SignIn:Pass:Password=Success',
    'SignIn:Fail:Password=Failure',
    'ResendCode:Pass',
    'SignUp:Pass',
  ]);
  for (const e of events) {
    assert.match(e.EventId!, /^[0-9a-f-]{36}$/);
    assert.ok(e.CreationDate instanceof Date, 'the SDK parses epoch seconds into a Date');
    assert.ok(e.CreationDate!.getTime() >= t0 - 1000 && e.CreationDate!.getTime() <= t1 + 1000);
    assert.equal(e.EventRisk?.RiskDecision, 'NoRisk');
    assert.equal(e.EventContextData?.IpAddress, '127.0.0.1');
  }
  assert.equal(new Set(events.map((e) => e.EventId)).size, events.length);
  for (let i = 1; i < events.length; i++) assert.ok(events[i - 1].CreationDate! >= events[i].CreationDate!, 'newest first');

  // Paging returns the same list in the same order, in pieces.
  const paged = await allEvents(email, 2);
  assert.deepEqual(paged.map((e) => e.EventId), events.map((e) => e.EventId));
  const first = await gh.admin.send(new AdminListUserAuthEventsCommand({ UserPoolId: poolId, Username: email, MaxResults: 4 }));
  assert.equal(first.AuthEvents!.length, 4);
  assert.ok(first.NextToken);
  await assert.rejects(gh.admin.send(new AdminListUserAuthEventsCommand({ UserPoolId: poolId, Username: email, NextToken: 'bm9wZQ' })), { name: 'InvalidParameterException' });
});

test('admin sign-in with a temporary password: InProgress at the new-password challenge, then Pass; the address comes from ContextData', async () => {
  const username = uniqueEmail('temp');
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: username, TemporaryPassword: 'Temp-Passw0rd!', MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: username }] }));
  const ContextData = { IpAddress: '198.51.100.23', ServerName: 'app.example', ServerPath: '/login', HttpHeaders: [{ headerName: 'user-agent', headerValue: 'test' }] };
  const start = await gh.admin.send(new AdminInitiateAuthCommand({ UserPoolId: poolId, ClientId: clientId, AuthFlow: 'ADMIN_USER_PASSWORD_AUTH', AuthParameters: { USERNAME: username, PASSWORD: 'Temp-Passw0rd!' }, ContextData }));
  assert.equal(start.ChallengeName, 'NEW_PASSWORD_REQUIRED');
  await gh.admin.send(new AdminRespondToAuthChallengeCommand({ UserPoolId: poolId, ClientId: clientId, ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: start.Session, ChallengeResponses: { USERNAME: username, NEW_PASSWORD: PASSWORD }, ContextData }));
  const events = await allEvents(username);
  assert.deepEqual(events.map(summary), ['SignIn:Pass:Password=Success', 'SignIn:InProgress:Password=Success']);
  assert.deepEqual(events.map((e) => e.EventContextData?.IpAddress), ['198.51.100.23', '198.51.100.23']);
});

test('storage is capped: a user is shown the newest 100 events and keeps at most 120; deleting the user deletes them', async () => {
  const email = uniqueEmail('cap');
  await cip.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: email }] }));
  const sub = (await queryDatabase<{ id: string }>(gh, 'select id from users where email_key = ?', [email.toLowerCase()]))[0].id;
  const stored = async () => Number((await queryDatabase<{ n: number }>(gh, 'select count(*) as n from auth_events where user_id = ?', [sub]))[0].n);
  // Failed sign-ins after the sign-up (the lockout answers alike and each counts): 105 events, 120, then 121.
  const fail = async (n: number) => {
    for (let i = 0; i < n; i++) {
      await assert.rejects(cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: `Wrong-${i}-Passw0rd!` } })));
    }
  };
  await fail(104);
  let events = await allEvents(email);
  assert.equal(events.length, 100, 'only the newest 100 are shown, while older ones wait for their batch delete');
  assert.ok(events.every((e) => e.EventType === 'SignIn' && e.EventResponse === 'Fail'), 'the oldest (the sign-up) is not shown');
  assert.equal(await stored(), 105);
  await fail(15);
  assert.equal(await stored(), 120);
  await fail(1);
  assert.equal(await stored(), 100, 'the 121st event drops all but the newest 100 in one statement');
  events = await allEvents(email);
  assert.equal(events.length, 100);
  await gh.admin.send(new AdminDeleteUserCommand({ UserPoolId: poolId, Username: email }));
  assert.equal(Number((await queryDatabase<{ n: number }>(gh, 'select count(*) as n from auth_events where user_id = ?', [sub]))[0].n), 0);
  await assert.rejects(gh.admin.send(new AdminListUserAuthEventsCommand({ UserPoolId: poolId, Username: email })), { name: 'UserNotFoundException' });
});

test('a forged NextToken is a client mistake, not an internal error', async () => {
  const email = uniqueEmail('forged');
  await cip.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: email }] }));
  for (const NextToken of ['AA', 'not-base64!', Buffer.from('99999999999999999999999:x').toString('base64url')]) {
    await assert.rejects(gh.admin.send(new AdminListUserAuthEventsCommand({ UserPoolId: poolId, Username: email, NextToken })), { name: 'InvalidParameterException' });
  }
});
