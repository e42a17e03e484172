// Ending sessions: revocation that races token issuing, password changes, deleted app clients, and
// the SQLite file's permissions. Real server process, real SMTP; each test runs on SQLite and PostgreSQL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CognitoIdentityProviderClient, AdminCreateUserCommand, AdminSetUserPasswordCommand, AdminUserGlobalSignOutCommand,
  AdminDisableUserCommand, AdminEnableUserCommand, CreateUserPoolClientCommand, DeleteUserPoolClientCommand,
  InitiateAuthCommand, GetTokensFromRefreshTokenCommand, GetUserCommand, GlobalSignOutCommand, RevokeTokenCommand,
  ForgotPasswordCommand, ConfirmForgotPasswordCommand, ChangePasswordCommand, UpdateUserAttributesCommand,
  DeleteUserAttributesCommand, GetUserAttributeVerificationCodeCommand, VerifyUserAttributeCommand, DeleteUserCommand,
  AdminGetUserCommand, CreateUserPoolCommand,
  type AuthenticationResultType,
} from '@aws-sdk/client-cognito-identity-provider';
import { startMailSuite, startGatehouse, userClient, uniqueEmail, queryDatabase, testDatabase, type MailSuite, type Gatehouse, type MailCatcher } from './support/harness.js';

let suite: MailSuite | undefined;
let gh: Gatehouse, mail: MailCatcher, poolId: string, clientId: string, cip: CognitoIdentityProviderClient;
/** More SDK clients: a burst's 60 requests are in flight at once (50 sockets each), and a revocation queues behind none. */
let side: CognitoIdentityProviderClient, more: CognitoIdentityProviderClient;
let rotatingClientId: string;
const PASSWORD = 'Session-Passw0rd!';
const flows = ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'];

before(async () => {
  suite = await startMailSuite();
  ({ gh, mail, poolId, clientId, cip } = suite);
  side = userClient(gh.url);
  more = userClient(gh.url);
  const { UserPoolClient } = await gh.admin.send(new CreateUserPoolClientCommand({
    UserPoolId: poolId, ClientName: 'rotating', ExplicitAuthFlows: flows, RefreshTokenRotation: { Feature: 'ENABLED', RetryGracePeriodSeconds: 60 },
  }));
  rotatingClientId = UserPoolClient!.ClientId!;
});
after(async () => { side?.destroy(); more?.destroy(); await suite?.stop(); });

async function err(p: Promise<unknown>) {
  try { await p; } catch (e) { return e as Error; }
  return undefined;
}

async function confirmedUser() {
  const email = uniqueEmail('tok');
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: email, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }] }));
  await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: email, Password: PASSWORD, Permanent: true }));
  return email;
}

async function signIn(email: string, client = clientId, password = PASSWORD): Promise<AuthenticationResultType> {
  return (await cip.send(new InitiateAuthCommand({ ClientId: client, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: password } }))).AuthenticationResult!;
}

/** Asserts that none of the sessions' refresh tokens refreshes and none of their access tokens is taken by GetUser. */
async function assertDead(sessions: AuthenticationResultType[], client: string, what: string) {
  for (const [i, s] of sessions.entries()) {
    if (s.RefreshToken) assert.equal((await err(cip.send(new GetTokensFromRefreshTokenCommand({ ClientId: client, RefreshToken: s.RefreshToken }))))?.name, 'NotAuthorizedException', `${what}: refresh token ${i} still refreshes`);
    assert.equal((await err(cip.send(new GetUserCommand({ AccessToken: s.AccessToken }))))?.name, 'NotAuthorizedException', `${what}: access token ${i} still works`);
  }
}

type Revocation = 'GlobalSignOut' | 'AdminUserGlobalSignOut' | 'AdminDisableUser' | 'RevokeToken';
const revocations: Revocation[] = ['GlobalSignOut', 'AdminUserGlobalSignOut', 'AdminDisableUser', 'RevokeToken'];

function revoke(kind: Revocation, email: string, first: AuthenticationResultType, client: string) {
  switch (kind) {
    case 'GlobalSignOut': return side.send(new GlobalSignOutCommand({ AccessToken: first.AccessToken }));
    case 'AdminUserGlobalSignOut': return gh.admin.send(new AdminUserGlobalSignOutCommand({ UserPoolId: poolId, Username: email }));
    case 'AdminDisableUser': return gh.admin.send(new AdminDisableUserCommand({ UserPoolId: poolId, Username: email }));
    case 'RevokeToken': return side.send(new RevokeTokenCommand({ ClientId: client, Token: first.RefreshToken }));
  }
}

for (const rotation of [true, false]) {
  for (const kind of revocations) {
    test(`sign-out undone: 60 ${rotation ? 'rotating (grace period on)' : 'plain'} refreshes racing ${kind} leave no live refresh or access token`, async () => {
      const client = rotation ? rotatingClientId : clientId;
      const email = await confirmedUser();
      const first = await signIn(email, client);
      // The revocation goes out in the middle of the burst, so that it lands while refreshes are in flight.
      let revoked: Promise<unknown> | undefined;
      const burst = Array.from({ length: 60 }, (_, i) => {
        if (i === 30) revoked = revoke(kind, email, first, client);
        return (i % 2 ? more : cip).send(new GetTokensFromRefreshTokenCommand({ ClientId: client, RefreshToken: first.RefreshToken }));
      });
      const results = await Promise.allSettled(burst);
      await revoked;
      if (kind === 'AdminDisableUser') await gh.admin.send(new AdminEnableUserCommand({ UserPoolId: poolId, Username: email }));
      const issued = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.AuthenticationResult!] : []));
      for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as Error).name, 'NotAuthorizedException', String(r.reason));
      if (rotation) assert.ok(issued.every((t) => t.RefreshToken && t.RefreshToken !== first.RefreshToken), 'each rotation hands out a new refresh token');
      await assertDead([first, ...issued], client, kind);
      // A new sign-in still works afterwards.
      assert.ok((await cip.send(new GetUserCommand({ AccessToken: (await signIn(email, client)).AccessToken }))).Username);
    });
  }
}

test('session survival after password reset: ConfirmForgotPassword ends every session of the user', async () => {
  const email = await confirmedUser();
  const sessions = [await signIn(email), await signIn(email, rotatingClientId)];
  const since = Date.now();
  await cip.send(new ForgotPasswordCommand({ ClientId: clientId, Username: email }));
  await cip.send(new ConfirmForgotPasswordCommand({ ClientId: clientId, Username: email, ConfirmationCode: await mail.code(email, since), Password: 'Reset-Passw0rd!' }));
  await assertDead(sessions.slice(0, 1), clientId, 'after ConfirmForgotPassword');
  await assertDead(sessions.slice(1), rotatingClientId, 'after ConfirmForgotPassword');
  assert.ok((await cip.send(new GetUserCommand({ AccessToken: (await signIn(email, clientId, 'Reset-Passw0rd!')).AccessToken }))).Username);
});

test('session survival after an admin sets the password: AdminSetUserPassword ends every session of the user', async () => {
  const email = await confirmedUser();
  const sessions = [await signIn(email), await signIn(email)];
  await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: email, Password: 'Admin-Set-Passw0rd!', Permanent: true }));
  await assertDead(sessions, clientId, 'after AdminSetUserPassword');
  assert.ok((await cip.send(new GetUserCommand({ AccessToken: (await signIn(email, clientId, 'Admin-Set-Passw0rd!')).AccessToken }))).Username);
});

test('session survival after a password change: ChangePassword ends the other sessions and keeps the caller\'s', async () => {
  const email = await confirmedUser();
  const [own, other, rotating] = [await signIn(email), await signIn(email), await signIn(email, rotatingClientId)];
  await cip.send(new ChangePasswordCommand({ AccessToken: own.AccessToken, PreviousPassword: PASSWORD, ProposedPassword: 'Changed-Passw0rd!' }));
  await assertDead([other], clientId, 'the other session after ChangePassword');
  await assertDead([rotating], rotatingClientId, 'the other client\'s session after ChangePassword');
  assert.equal((await cip.send(new GetUserCommand({ AccessToken: own.AccessToken }))).UserAttributes!.find((a) => a.Name === 'email')!.Value, email);
  const refreshed = (await cip.send(new GetTokensFromRefreshTokenCommand({ ClientId: clientId, RefreshToken: own.RefreshToken }))).AuthenticationResult!;
  assert.ok((await cip.send(new GetUserCommand({ AccessToken: refreshed.AccessToken }))).Username, 'the caller\'s session goes on');
});

test('deleted app client: its access tokens are refused by every operation that takes one, its refresh tokens too', async () => {
  const { UserPoolClient } = await gh.admin.send(new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName: 'doomed', ExplicitAuthFlows: flows }));
  const doomed = UserPoolClient!.ClientId!;
  const email = await confirmedUser();
  const tokens = await signIn(email, doomed);
  const survivor = await signIn(email);
  assert.ok((await cip.send(new GetUserCommand({ AccessToken: tokens.AccessToken }))).Username);
  await gh.admin.send(new DeleteUserPoolClientCommand({ UserPoolId: poolId, ClientId: doomed }));
  const AccessToken = tokens.AccessToken!;
  const calls: [string, () => Promise<unknown>][] = [
    ['GetUser', () => cip.send(new GetUserCommand({ AccessToken }))],
    ['UpdateUserAttributes', () => cip.send(new UpdateUserAttributesCommand({ AccessToken, UserAttributes: [{ Name: 'name', Value: 'Mallory' }] }))],
    ['DeleteUserAttributes', () => cip.send(new DeleteUserAttributesCommand({ AccessToken, UserAttributeNames: ['name'] }))],
    ['GetUserAttributeVerificationCode', () => cip.send(new GetUserAttributeVerificationCodeCommand({ AccessToken, AttributeName: 'email' }))],
    ['VerifyUserAttribute', () => cip.send(new VerifyUserAttributeCommand({ AccessToken, AttributeName: 'email', Code: '123456' }))],
    ['ChangePassword', () => cip.send(new ChangePasswordCommand({ AccessToken, PreviousPassword: PASSWORD, ProposedPassword: 'Hijacked-Passw0rd!' }))],
    ['GlobalSignOut', () => cip.send(new GlobalSignOutCommand({ AccessToken }))],
    ['DeleteUser', () => cip.send(new DeleteUserCommand({ AccessToken }))],
  ];
  for (const [name, call] of calls) assert.equal((await err(call()))?.name, 'NotAuthorizedException', `${name} took the deleted client's access token`);
  // Nothing of the above happened: the user, the password and the other client's session are intact.
  assert.equal((await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: email }))).Username !== undefined, true);
  assert.ok((await cip.send(new GetUserCommand({ AccessToken: survivor.AccessToken }))).Username);
  assert.ok(await signIn(email));
  // Its refresh token: refused under its own (deleted) client id and under any other.
  assert.equal((await err(cip.send(new GetTokensFromRefreshTokenCommand({ ClientId: doomed, RefreshToken: tokens.RefreshToken }))))?.name, 'ResourceNotFoundException');
  assert.equal((await err(cip.send(new GetTokensFromRefreshTokenCommand({ ClientId: clientId, RefreshToken: tokens.RefreshToken }))))?.name, 'NotAuthorizedException');
  const live = await queryDatabase<{ n: number | string }>(gh, 'select count(*) as n from refresh_tokens where client_id = ? and revoked_at is null', [doomed]);
  assert.equal(Number(live[0].n), 0, 'no live refresh token of the deleted client is left');
});

const modeOf = (p: string) => fs.statSync(p).mode & 0o777;

test('data at rest: the SQLite file, its -wal and -shm, and the data directory are private, also where they existed before', { skip: testDatabase !== 'sqlite' && 'SQLite only' }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-perm-'));
  const oldMask = process.umask(0o022);
  try {
    fs.chmodSync(dir, 0o755);
    const files = ['gatehouse.db', 'gatehouse.db-wal', 'gatehouse.db-shm'].map((f) => path.join(dir, f));
    const check = async (label: string) => {
      const server = await startGatehouse({ GATEHOUSE_DATA_DIR: dir });
      try {
        await server.admin.send(new CreateUserPoolCommand({ PoolName: 'perm' }));
        assert.equal(modeOf(dir).toString(8), '700', `${label}: data directory`);
        for (const f of files) assert.equal(modeOf(f).toString(8), '600', `${label}: ${path.basename(f)}`);
      } finally {
        await server.stop();
      }
    };
    await check('fresh files in a world-readable directory');
    // As an older install left them: everything readable by all.
    fs.chmodSync(dir, 0o755);
    for (const f of files) if (fs.existsSync(f)) fs.chmodSync(f, 0o644);
    await check('files that existed world-readable');
  } finally {
    process.umask(oldMask);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
