// Several Gatehouse processes on ONE PostgreSQL database, as behind a load balancer: whatever one
// process writes, the others honour, and the single-use rules hold across them. PostgreSQL only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { clientEphemeral, clientSessionKey, passwordClaimSignature, formatTimestamp, fromHex, poolNameOf } from '@gatehouse/srp';
import {
  CognitoIdentityProviderClient, AdminCreateUserCommand, AdminSetUserPasswordCommand,
  InitiateAuthCommand, RespondToAuthChallengeCommand, GetUserCommand, ForgotPasswordCommand, ConfirmForgotPasswordCommand,
  UpdateUserPoolClientCommand, GetTokensFromRefreshTokenCommand, RevokeTokenCommand, GlobalSignOutCommand, ListUserPoolsCommand,
  CreateUserPoolClientCommand, DeleteUserPoolClientCommand, type AuthenticationResultType,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  MailCatcher, startGatehouse, createPoolAndClient, uniqueEmail, queryDatabase, createPostgresNamespace, postgresUnreachable,
  testDatabase, type Gatehouse, type PostgresNamespace,
} from './support/harness.js';
import { migrationNames } from '../src/storage/migrations.js';

// In CI PostgreSQL must be there: an unreachable server fails the run instead of skipping it.
const skip = testDatabase !== 'postgres'
  ? 'PostgreSQL only: runs with GATEHOUSE_TEST_DATABASE=postgres (npm test does)'
  : process.env.CI ? false : (await postgresUnreachable()) ?? false;
if (skip) console.log(`postgres-multiprocess.test.ts skipped: ${skip}`);

const PASSWORD = 'Shared-Passw0rd!';
const MASTER_KEY = crypto.randomBytes(32).toString('base64');
let ns: PostgresNamespace, mail: MailCatcher, a: Gatehouse, b: Gatehouse;
let cipA: CognitoIdentityProviderClient, cipB: CognitoIdentityProviderClient;
let poolId: string, clientId: string;

const anon = (url: string) => new CognitoIdentityProviderClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });

before(async () => {
  if (skip) return;
  ns = await createPostgresNamespace();
  mail = await new MailCatcher().start();
  const env = { GATEHOUSE_DATABASE_URL: ns.url, GATEHOUSE_MASTER_KEY: MASTER_KEY, GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${mail.port}` };
  [a, b] = await Promise.all([startGatehouse(env), startGatehouse(env)]);
  cipA = anon(a.url);
  cipB = anon(b.url);
  // Created on A only; every test then uses it through both.
  ({ poolId, clientId } = await createPoolAndClient(a));
});
after(async () => {
  cipA?.destroy();
  cipB?.destroy();
  await Promise.all([a?.stop(), b?.stop()]);
  await mail?.close();
  await ns?.drop();
});

async function err(p: Promise<unknown>) {
  try { await p; } catch (e) { return e as Error; }
  return undefined;
}

/** A confirmed user with a verified email and a permanent password, made through `via`. */
async function confirmedUser(via: Gatehouse) {
  const email = uniqueEmail('mp');
  await via.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: email, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }] }));
  await via.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: email, Password: PASSWORD, Permanent: true }));
  return email;
}

const passwordAuth = (cip: CognitoIdentityProviderClient, username: string, password: string, client = clientId) =>
  cip.send(new InitiateAuthCommand({ ClientId: client, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: username, PASSWORD: password } }));

test('three processes starting at once on a fresh database migrate it once and all serve', { skip }, async () => {
  const fresh = await createPostgresNamespace();
  const env = { GATEHOUSE_DATABASE_URL: fresh.url, GATEHOUSE_MASTER_KEY: MASTER_KEY };
  const started = await Promise.allSettled([startGatehouse(env), startGatehouse(env), startGatehouse(env)]);
  const servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  try {
    assert.deepEqual(started.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled'], String(started.find((r) => r.status === 'rejected') && (started.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason));
    const { poolId: shared } = await createPoolAndClient(servers[0]);
    // Besides it, the console's system pool, which the three made once between them.
    const consolePool = (await (await fetch(`${servers[0].url}/console/config.json`)).json()).userPoolId;
    for (const s of servers) {
      assert.equal((await fetch(`${s.url}/health`)).status, 200);
      assert.deepEqual((await s.admin.send(new ListUserPoolsCommand({ MaxResults: 10 }))).UserPools!.map((p) => p.Id).sort(), [shared, consolePool].sort());
    }
    const migrations = await queryDatabase<{ name: string }>(servers[0], 'select name from kysely_migration order by name');
    assert.deepEqual(migrations.map((m) => m.name), migrationNames(), 'every migration ran, each once');
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await fresh.drop();
  }
});

test('a pool made on A serves on B; SRP started on A is answered on B, the new-password challenge on A', { skip }, async () => {
  const email = uniqueEmail('srp');
  await b.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: email, TemporaryPassword: 'Temp-Passw0rd!', MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: email }] }));
  const { a: ephemeral, A } = clientEphemeral();
  const start = await cipA.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_SRP_AUTH', AuthParameters: { USERNAME: email, SRP_A: A.toString('hex') } }));
  assert.equal(start.ChallengeName, 'PASSWORD_VERIFIER');
  const p = start.ChallengeParameters!;
  const key = clientSessionKey({ poolName: poolNameOf(poolId), userId: p.USER_ID_FOR_SRP, password: 'Temp-Passw0rd!', salt: fromHex(p.SALT), A, a: ephemeral, B: fromHex(p.SRP_B) });
  const timestamp = formatTimestamp(new Date());
  const signature = passwordClaimSignature({ key, poolName: poolNameOf(poolId), userId: p.USER_ID_FOR_SRP, secretBlock: Buffer.from(p.SECRET_BLOCK, 'base64'), timestamp });
  const verified = await cipB.send(new RespondToAuthChallengeCommand({
    ClientId: clientId, ChallengeName: 'PASSWORD_VERIFIER', Session: start.Session,
    ChallengeResponses: { USERNAME: p.USER_ID_FOR_SRP, PASSWORD_CLAIM_SECRET_BLOCK: p.SECRET_BLOCK, TIMESTAMP: timestamp, PASSWORD_CLAIM_SIGNATURE: signature },
  }));
  assert.equal(verified.ChallengeName, 'NEW_PASSWORD_REQUIRED');
  const done = await cipA.send(new RespondToAuthChallengeCommand({
    ClientId: clientId, ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: verified.Session, ChallengeResponses: { USERNAME: p.USER_ID_FOR_SRP, NEW_PASSWORD: PASSWORD },
  }));
  const tokens = done.AuthenticationResult!;
  assert.ok(tokens.AccessToken);
  // Tokens signed by A's use of the pool key verify on B, and the new password works on B.
  assert.equal((await cipB.send(new GetUserCommand({ AccessToken: tokens.AccessToken }))).Username, p.USER_ID_FOR_SRP);
  assert.ok((await passwordAuth(cipB, email, PASSWORD)).AuthenticationResult);
  // The PASSWORD_VERIFIER session was used on B: A refuses it now.
  assert.equal((await err(cipA.send(new RespondToAuthChallengeCommand({
    ClientId: clientId, ChallengeName: 'PASSWORD_VERIFIER', Session: start.Session,
    ChallengeResponses: { USERNAME: p.USER_ID_FOR_SRP, PASSWORD_CLAIM_SECRET_BLOCK: p.SECRET_BLOCK, TIMESTAMP: timestamp, PASSWORD_CLAIM_SIGNATURE: signature },
  }))))?.name, 'NotAuthorizedException');
});

test('race: one SECRET_BLOCK answered without a Session on both processes at once signs in exactly once', { skip }, async () => {
  const email = await confirmedUser(a);
  const { a: ephemeral, A } = clientEphemeral();
  const start = await cipA.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_SRP_AUTH', AuthParameters: { USERNAME: email, SRP_A: A.toString('hex') } }));
  const p = start.ChallengeParameters!;
  const key = clientSessionKey({ poolName: poolNameOf(poolId), userId: p.USER_ID_FOR_SRP, password: PASSWORD, salt: fromHex(p.SALT), A, a: ephemeral, B: fromHex(p.SRP_B) });
  const timestamp = formatTimestamp(new Date());
  const signature = passwordClaimSignature({ key, poolName: poolNameOf(poolId), userId: p.USER_ID_FOR_SRP, secretBlock: Buffer.from(p.SECRET_BLOCK, 'base64'), timestamp });
  // As pycognito answers: no Session, the SECRET_BLOCK carries the attempt.
  const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => (i % 2 ? cipB : cipA).send(new RespondToAuthChallengeCommand({
    ClientId: clientId, ChallengeName: 'PASSWORD_VERIFIER',
    ChallengeResponses: { USERNAME: p.USER_ID_FOR_SRP, PASSWORD_CLAIM_SECRET_BLOCK: p.SECRET_BLOCK, TIMESTAMP: timestamp, PASSWORD_CLAIM_SIGNATURE: signature },
  }))));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as Error).name, 'NotAuthorizedException');
});

test('race: one reset code used at once on both processes, exactly one use succeeds', { skip }, async () => {
  const email = await confirmedUser(a);
  const since = Date.now();
  await cipB.send(new ForgotPasswordCommand({ ClientId: clientId, Username: email }));
  const code = await mail.code(email, since);
  const results = await Promise.allSettled(Array.from({ length: 16 }, (_, i) =>
    (i % 2 ? cipB : cipA).send(new ConfirmForgotPasswordCommand({ ClientId: clientId, Username: email, ConfirmationCode: code, Password: `Raced-Passw0rd-${i}` }))));
  const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
  assert.equal(won.length, 1, `successes: ${won.join(', ')}`);
  for (const r of results) if (r.status === 'rejected') assert.match((r.reason as Error).name, /ExpiredCodeException|CodeMismatchException/);
  // The winner's password is the one that stands, on both processes.
  assert.ok((await passwordAuth(cipA, email, `Raced-Passw0rd-${won[0]}`)).AuthenticationResult);
  assert.ok((await passwordAuth(cipB, email, `Raced-Passw0rd-${won[0]}`)).AuthenticationResult);
});

test('race: one refresh token used at once on both processes, with rotation and no grace, exactly one use succeeds', { skip }, async () => {
  // A client of its own, switched to rotation before A has read it: each process caches client rows for a moment.
  const own = await createPoolAndClient(b);
  await b.admin.send(new UpdateUserPoolClientCommand({
    UserPoolId: own.poolId, ClientId: own.clientId, ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    RefreshTokenRotation: { Feature: 'ENABLED', RetryGracePeriodSeconds: 0 },
  }));
  const email = uniqueEmail('rot');
  await a.admin.send(new AdminCreateUserCommand({ UserPoolId: own.poolId, Username: email, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: email }] }));
  await a.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: own.poolId, Username: email, Password: PASSWORD, Permanent: true }));
  const refresh = (await passwordAuth(cipA, email, PASSWORD, own.clientId)).AuthenticationResult!.RefreshToken!;
  const results = await Promise.allSettled(Array.from({ length: 16 }, (_, i) =>
    (i % 2 ? cipB : cipA).send(new GetTokensFromRefreshTokenCommand({ ClientId: own.clientId, RefreshToken: refresh }))));
  const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  assert.equal(won.length, 1, `successes: ${won.length}`);
  for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as Error).name, 'NotAuthorizedException');
  // The old token stays dead on both; the one new token works on both, once.
  assert.equal((await err(cipB.send(new GetTokensFromRefreshTokenCommand({ ClientId: own.clientId, RefreshToken: refresh }))))?.name, 'NotAuthorizedException');
  const next = won[0].AuthenticationResult!.RefreshToken!;
  assert.notEqual(next, refresh);
  assert.ok((await cipB.send(new GetTokensFromRefreshTokenCommand({ ClientId: own.clientId, RefreshToken: next }))).AuthenticationResult!.AccessToken);
  assert.equal((await err(cipA.send(new GetTokensFromRefreshTokenCommand({ ClientId: own.clientId, RefreshToken: next }))))?.name, 'NotAuthorizedException');
});

test('lockout counts failures from both processes and holds on both', { skip }, async () => {
  const email = await confirmedUser(b);
  for (let i = 0; i < 6; i++) {
    const e = await err(passwordAuth(i % 2 ? cipB : cipA, email, `Wrong-${i}-Passw0rd`));
    assert.equal(e?.name, 'NotAuthorizedException');
  }
  const [row] = await queryDatabase<{ failed_attempts: number; locked_until: string | number }>(a, 'select failed_attempts, locked_until from users where attributes like ?', [`%${email}%`]);
  assert.ok(row.failed_attempts >= 5, `failures counted across processes: ${row.failed_attempts}`);
  const lockedUntil = Number(row.locked_until);
  assert.ok(lockedUntil > Date.now(), 'the user is locked');
  for (const cip of [cipA, cipB]) {
    const locked = await err(passwordAuth(cip, email, PASSWORD));
    assert.equal(locked?.name, 'NotAuthorizedException', 'the right password is refused while locked');
    assert.equal(locked?.message, 'Incorrect username or password.');
  }
  await new Promise((r) => setTimeout(r, Math.max(0, lockedUntil - Date.now()) + 100));
  assert.ok((await passwordAuth(cipB, email, PASSWORD)).AuthenticationResult, 'the lock lifts after its time');
  assert.ok((await passwordAuth(cipA, email, PASSWORD)).AuthenticationResult);
});

test('revocation on one process is honoured by the other: RevokeToken on A, GlobalSignOut on B', { skip }, async () => {
  const email = await confirmedUser(a);
  // RevokeToken on A: the refresh token and the access tokens of that sign-in die on B.
  const first = (await passwordAuth(cipA, email, PASSWORD)).AuthenticationResult!;
  assert.ok((await cipB.send(new GetUserCommand({ AccessToken: first.AccessToken }))).Username);
  await cipA.send(new RevokeTokenCommand({ ClientId: clientId, Token: first.RefreshToken }));
  assert.equal((await err(cipB.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: first.RefreshToken! } }))))?.name, 'NotAuthorizedException');
  assert.equal((await err(cipB.send(new GetUserCommand({ AccessToken: first.AccessToken }))))?.name, 'NotAuthorizedException');
  // GlobalSignOut on B: access and refresh tokens from a sign-in on A are refused on A.
  const second = (await passwordAuth(cipA, email, PASSWORD)).AuthenticationResult!;
  const third = (await passwordAuth(cipB, email, PASSWORD)).AuthenticationResult!;
  assert.ok((await cipA.send(new GetUserCommand({ AccessToken: second.AccessToken }))).Username);
  await cipB.send(new GlobalSignOutCommand({ AccessToken: third.AccessToken }));
  for (const t of [second, third]) {
    assert.equal((await err(cipA.send(new GetUserCommand({ AccessToken: t.AccessToken }))))?.name, 'NotAuthorizedException');
    assert.equal((await err(cipA.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: t.RefreshToken! } }))))?.name, 'NotAuthorizedException');
  }
  // Signing in again still works, on either.
  assert.ok((await cipA.send(new GetUserCommand({ AccessToken: (await passwordAuth(cipB, email, PASSWORD)).AuthenticationResult!.AccessToken }))).Username);
});

test('sign-out undone: 60 rotating refreshes (grace period on) on both processes racing GlobalSignOut on B leave no live refresh or access token', { skip }, async () => {
  const { UserPoolClient } = await a.admin.send(new CreateUserPoolClientCommand({
    UserPoolId: poolId, ClientName: 'rotating', ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    RefreshTokenRotation: { Feature: 'ENABLED', RetryGracePeriodSeconds: 60 },
  }));
  const rotating = UserPoolClient!.ClientId!;
  const email = await confirmedUser(a);
  const first = (await passwordAuth(cipA, email, PASSWORD, rotating)).AuthenticationResult!;
  // Its own SDK client, so the sign-out queues behind none of the burst's sockets.
  const signOut = anon(b.url);
  try {
    // The sign-out goes out in the middle of the burst (30 requests per process, all in flight at once).
    let revoked: Promise<unknown> | undefined;
    const burst = Array.from({ length: 60 }, (_, i) => {
      if (i === 30) revoked = signOut.send(new GlobalSignOutCommand({ AccessToken: first.AccessToken }));
      return (i % 2 ? cipB : cipA).send(new GetTokensFromRefreshTokenCommand({ ClientId: rotating, RefreshToken: first.RefreshToken }));
    });
    const results = await Promise.allSettled(burst);
    await revoked;
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as Error).name, 'NotAuthorizedException', String(r.reason));
    const issued: AuthenticationResultType[] = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.AuthenticationResult!] : []));
    for (const [i, t] of [first, ...issued].entries()) {
      for (const cip of [cipA, cipB]) {
        assert.equal((await err(cip.send(new GetUserCommand({ AccessToken: t.AccessToken }))))?.name, 'NotAuthorizedException', `access token ${i} still works`);
        assert.equal((await err(cip.send(new GetTokensFromRefreshTokenCommand({ ClientId: rotating, RefreshToken: t.RefreshToken }))))?.name, 'NotAuthorizedException', `refresh token ${i} still refreshes`);
      }
    }
    const live = await queryDatabase<{ n: number | string }>(a, "select count(*) as n from refresh_tokens where user_id = (select id from users where attributes like ?) and revoked_at is null", [`%${email}%`]);
    assert.equal(Number(live[0].n), 0, 'no refresh token of the user is left unrevoked');
  } finally {
    signOut.destroy();
  }
});

test('deleted app client: deleted on A, its access tokens are refused on B at once, though B has the client cached', { skip }, async () => {
  const { UserPoolClient } = await a.admin.send(new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName: 'doomed', ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] }));
  const doomed = UserPoolClient!.ClientId!;
  const email = await confirmedUser(a);
  const tokens = (await passwordAuth(cipB, email, PASSWORD, doomed)).AuthenticationResult!;
  assert.ok((await cipB.send(new GetUserCommand({ AccessToken: tokens.AccessToken }))).Username);
  await a.admin.send(new DeleteUserPoolClientCommand({ UserPoolId: poolId, ClientId: doomed }));
  assert.equal((await err(cipB.send(new GetUserCommand({ AccessToken: tokens.AccessToken }))))?.name, 'NotAuthorizedException');
  assert.equal((await err(cipB.send(new GetTokensFromRefreshTokenCommand({ ClientId: clientId, RefreshToken: tokens.RefreshToken }))))?.name, 'NotAuthorizedException');
});

test('MFA across processes: a TOTP code spent on one process is refused on the other, and a session\'s 3 wrong codes are counted across both', { skip }, async () => {
  const { TOTP, Secret } = await import('otpauth');
  const { SetUserPoolMfaConfigCommand, AssociateSoftwareTokenCommand, VerifySoftwareTokenCommand, SetUserMFAPreferenceCommand } = await import('@aws-sdk/client-cognito-identity-provider');
  const { poolId: mfaPool, clientId: mfaClient } = await createPoolAndClient(a);
  await a.admin.send(new SetUserPoolMfaConfigCommand({ UserPoolId: mfaPool, MfaConfiguration: 'OPTIONAL', SoftwareTokenMfaConfiguration: { Enabled: true } }));
  const email = uniqueEmail('mfa');
  await a.admin.send(new AdminCreateUserCommand({ UserPoolId: mfaPool, Username: email, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }] }));
  await a.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: mfaPool, Username: email, Password: PASSWORD, Permanent: true }));
  const { AccessToken } = (await passwordAuth(cipA, email, PASSWORD, mfaClient)).AuthenticationResult!;
  const { SecretCode } = await cipA.send(new AssociateSoftwareTokenCommand({ AccessToken }));
  const totp = new TOTP({ secret: Secret.fromBase32(SecretCode!) });
  await cipB.send(new VerifySoftwareTokenCommand({ AccessToken, UserCode: totp.generate({ timestamp: Date.now() - 30_000 }) }));
  await cipA.send(new SetUserMFAPreferenceCommand({ AccessToken, SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true } }));
  // Let the pool setting reach B's one-second cache.
  await new Promise((r) => setTimeout(r, 1100));
  const answer = (cip: CognitoIdentityProviderClient, session: string | undefined, code: string) =>
    cip.send(new RespondToAuthChallengeCommand({ ClientId: mfaClient, ChallengeName: 'SOFTWARE_TOKEN_MFA', Session: session, ChallengeResponses: { USERNAME: email, SOFTWARE_TOKEN_MFA_CODE: code } }));
  const [onA, onB] = [await passwordAuth(cipA, email, PASSWORD, mfaClient), await passwordAuth(cipB, email, PASSWORD, mfaClient)];
  assert.equal(onA.ChallengeName, 'SOFTWARE_TOKEN_MFA');
  const code = totp.generate();
  const outcomes = await Promise.all([err(answer(cipA, onA.Session, code)), err(answer(cipB, onB.Session, code))]);
  assert.deepEqual(outcomes.map((e) => e?.name ?? 'ok').sort(), ['CodeMismatchException', 'ok']);
  // One session, wrong codes through both processes: the fourth answer is refused, right or not.
  const s = await passwordAuth(cipB, email, PASSWORD, mfaClient);
  assert.equal((await err(answer(cipA, s.Session, '000000')))?.name, 'CodeMismatchException');
  assert.equal((await err(answer(cipB, s.Session, '000001')))?.name, 'CodeMismatchException');
  assert.equal((await err(answer(cipA, s.Session, '000002')))?.name, 'CodeMismatchException');
  assert.equal((await err(answer(cipB, s.Session, totp.generate({ timestamp: Date.now() + 30_000 }))))?.name, 'NotAuthorizedException');
});
