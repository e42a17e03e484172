// Security regressions, each named after the attack it stops. Real server process, real SMTP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { clientEphemeral, clientSessionKey, passwordClaimSignature, formatTimestamp, fromHex, poolNameOf } from '@gatehouse/srp';
import {
  CognitoIdentityProviderClient, SignUpCommand, ConfirmSignUpCommand, InitiateAuthCommand, RespondToAuthChallengeCommand,
  ForgotPasswordCommand, ConfirmForgotPasswordCommand, GetUserCommand, AdminConfirmSignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { startMailSuite, createPoolAndClient, uniqueEmail, rawCall, queryDatabase, type MailCatcher, type MailSuite, type Gatehouse } from './support/harness.js';

let gh: Gatehouse, mail: MailCatcher, poolId: string, clientId: string, cip: CognitoIdentityProviderClient;
const PASSWORD = 'Sturdy-Passw0rd!';

let suite: MailSuite | undefined;
before(async () => {
  suite = await startMailSuite();
  ({ gh, mail, poolId, clientId, cip } = suite);
});
after(async () => { await suite?.stop(); });

async function err(p: Promise<unknown>) {
  try { await p; } catch (e) { return e as Error; }
  return undefined;
}

async function confirmedUser() {
  const email = uniqueEmail('sec');
  await cip.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: email }] }));
  await gh.admin.send(new AdminConfirmSignUpCommand({ UserPoolId: poolId, Username: email }));
  return email;
}

/** Runs the SRP exchange by hand with our client math: the server must hold up against a protocol-level client. */
async function srpSignIn(username: string, password: string) {
  const { a, A } = clientEphemeral();
  const start = await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_SRP_AUTH', AuthParameters: { USERNAME: username, SRP_A: A.toString('hex') } }));
  const p = start.ChallengeParameters!;
  const key = clientSessionKey({ poolName: poolNameOf(poolId), userId: p.USER_ID_FOR_SRP, password, salt: fromHex(p.SALT), A, a, B: fromHex(p.SRP_B) });
  const timestamp = formatTimestamp(new Date());
  const signature = passwordClaimSignature({ key, poolName: poolNameOf(poolId), userId: p.USER_ID_FOR_SRP, secretBlock: Buffer.from(p.SECRET_BLOCK, 'base64'), timestamp });
  const answer = { ClientId: clientId, ChallengeName: 'PASSWORD_VERIFIER' as const, Session: start.Session, ChallengeResponses: { USERNAME: p.USER_ID_FOR_SRP, PASSWORD_CLAIM_SECRET_BLOCK: p.SECRET_BLOCK, TIMESTAMP: timestamp, PASSWORD_CLAIM_SIGNATURE: signature } };
  return { start, answer };
}

test('user enumeration: unknown users get a stable, real-looking SRP challenge and the same final answer', async () => {
  const ghost = uniqueEmail('ghost');
  const one = await srpSignIn(ghost, 'whatever');
  const two = await srpSignIn(ghost, 'whatever');
  assert.equal(one.start.ChallengeName, 'PASSWORD_VERIFIER');
  assert.equal(one.start.ChallengeParameters!.SALT, two.start.ChallengeParameters!.SALT, 'the fake salt is stable per username');
  assert.match(one.start.ChallengeParameters!.USER_ID_FOR_SRP, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const ghostErr = await err(cip.send(new RespondToAuthChallengeCommand(one.answer)));
  const real = await confirmedUser();
  const wrong = await srpSignIn(real, 'Wrong-Passw0rd!');
  const realErr = await err(cip.send(new RespondToAuthChallengeCommand(wrong.answer)));
  assert.equal(ghostErr?.name, 'NotAuthorizedException');
  assert.equal(ghostErr?.name, realErr?.name);
  assert.equal(ghostErr?.message, realErr?.message);
  // Recovery does not tell either.
  const fp = await cip.send(new ForgotPasswordCommand({ ClientId: clientId, Username: ghost }));
  assert.equal(fp.CodeDeliveryDetails?.DeliveryMedium, 'EMAIL');
  assert.equal((await err(cip.send(new ConfirmForgotPasswordCommand({ ClientId: clientId, Username: ghost, ConfirmationCode: '123456', Password: PASSWORD }))))?.name, 'CodeMismatchException');
});

test('SRP sign-in with a hand-rolled client succeeds, and its session cannot be replayed', async () => {
  const email = await confirmedUser();
  const { answer } = await srpSignIn(email, PASSWORD);
  const ok = await cip.send(new RespondToAuthChallengeCommand(answer));
  assert.ok(ok.AuthenticationResult?.AccessToken);
  assert.equal((await err(cip.send(new RespondToAuthChallengeCommand(answer))))?.name, 'NotAuthorizedException');
});

test('SRP claim with a stale timestamp is refused', async () => {
  const email = await confirmedUser();
  const { answer } = await srpSignIn(email, PASSWORD);
  answer.ChallengeResponses.TIMESTAMP = formatTimestamp(new Date(Date.now() - 3600e3));
  assert.equal((await err(cip.send(new RespondToAuthChallengeCommand(answer))))?.name, 'NotAuthorizedException');
});

test('password brute force: after 5 failures the account locks, even against the right password', async () => {
  const email = await confirmedUser();
  const attempt = (password: string) => cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: password } }));
  for (let i = 0; i < 6; i++) assert.equal((await err(attempt(`Wrong-${i}-Passw0rd`)))?.name, 'NotAuthorizedException');
  const locked = await err(attempt(PASSWORD));
  assert.equal(locked?.name, 'NotAuthorizedException', 'the right password is refused while locked');
  assert.equal(locked?.message, 'Incorrect username or password.');
  await new Promise((r) => setTimeout(r, 2100)); // 2^(6-5) s
  assert.ok((await attempt(PASSWORD)).AuthenticationResult, 'the lock lifts after its time');
});

test('code brute force: a confirmation code dies after 5 wrong guesses', async () => {
  const email = uniqueEmail('brute');
  const since = Date.now();
  await cip.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: email }] }));
  const code = await mail.code(email, since);
  const wrong = code === '000000' ? '111111' : '000000';
  for (let i = 0; i < 5; i++) assert.equal((await err(cip.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: wrong }))))?.name, 'CodeMismatchException');
  const late = await err(cip.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: code })));
  // This client hides which users exist: a dead code answers as a wrong one, all an unknown login can get.
  assert.equal(late?.name, 'CodeMismatchException', 'the right code no longer works after the cap');
});

test('replayed code: racing uses of one reset code, exactly one succeeds', async () => {
  const email = await confirmedUser();
  await gh.admin.send(new (await import('@aws-sdk/client-cognito-identity-provider')).AdminUpdateUserAttributesCommand({ UserPoolId: poolId, Username: email, UserAttributes: [{ Name: 'email_verified', Value: 'true' }] }));
  const since = Date.now();
  await cip.send(new ForgotPasswordCommand({ ClientId: clientId, Username: email }));
  const code = await mail.code(email, since);
  const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) =>
    cip.send(new ConfirmForgotPasswordCommand({ ClientId: clientId, Username: email, ConfirmationCode: code, Password: `Raced-Passw0rd-${i}` }))));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
});

test('tampered tokens: edited claims, a foreign signature and alg=none are refused', async () => {
  const email = await confirmedUser();
  const r = await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD } }));
  const token = r.AuthenticationResult!.AccessToken!;
  assert.ok((await cip.send(new GetUserCommand({ AccessToken: token }))).Username);
  const [h, p, s] = token.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  const edited = Buffer.from(JSON.stringify({ ...claims, sub: '00000000-0000-4000-8000-000000000000' })).toString('base64url');
  const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
  const other = await createPoolAndClient(gh);
  const otherUser = uniqueEmail('other');
  await cip.send(new SignUpCommand({ ClientId: other.clientId, Username: otherUser, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: otherUser }] }));
  await gh.admin.send(new AdminConfirmSignUpCommand({ UserPoolId: other.poolId, Username: otherUser }));
  const foreign = (await cip.send(new InitiateAuthCommand({ ClientId: other.clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: otherUser, PASSWORD } }))).AuthenticationResult!.AccessToken!;
  const foreignSig = foreign.split('.')[2];
  // The ID token is not an access token.
  for (const bad of [`${h}.${edited}.${s}`, `${none}.${p}.`, `${h}.${p}.${foreignSig}`, r.AuthenticationResult!.IdToken!]) {
    const res = await rawCall(gh.url, 'GetUser', JSON.stringify({ AccessToken: bad }));
    assert.equal(res.type, 'NotAuthorizedException', bad.slice(0, 40));
  }
});

test('secrets at rest: no verifier, code or refresh token is stored in the clear', async () => {
  const email = uniqueEmail('rest');
  const since = Date.now();
  await cip.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: email }] }));
  const code = await mail.code(email, since);
  await gh.admin.send(new AdminConfirmSignUpCommand({ UserPoolId: poolId, Username: email }));
  const refresh = (await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD } }))).AuthenticationResult!.RefreshToken!;
  // Straight from the database, SQLite file or PostgreSQL, whichever this run uses.
  const [user] = await queryDatabase<{ password: string }>(gh, 'select password from users where attributes like ?', [`%${email}%`]);
  assert.match(user.password, /^v1\./);
  const codes = await queryDatabase<{ code_hmac: string }>(gh, 'select code_hmac from codes');
  assert.ok(codes.length > 0 && codes.every((c) => !c.code_hmac.includes(code)));
  const [{ n }] = await queryDatabase<{ n: number | string }>(gh, 'select count(*) as n from refresh_tokens where token_hash = ?', [refresh]);
  assert.equal(Number(n), 0);
  const keys = await queryDatabase<{ private_key: string }>(gh, 'select private_key from pool_keys');
  assert.ok(keys.length > 0 && keys.every((k) => k.private_key.startsWith('v1.') && !k.private_key.includes('PRIVATE KEY')));
  assert.equal((fs.statSync(path.join(gh.dataDir, 'master.key')).mode & 0o077), 0, 'the master key file is private');
});

test('replayed refresh token: with rotation and no grace, of racing refreshes exactly one succeeds', async () => {
  const { UpdateUserPoolClientCommand, GetTokensFromRefreshTokenCommand } = await import('@aws-sdk/client-cognito-identity-provider');
  const rotating = await createPoolAndClient(gh);
  await gh.admin.send(new UpdateUserPoolClientCommand({ UserPoolId: rotating.poolId, ClientId: rotating.clientId, ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'], RefreshTokenRotation: { Feature: 'ENABLED', RetryGracePeriodSeconds: 0 } }));
  const email = uniqueEmail('rotate');
  await cip.send(new SignUpCommand({ ClientId: rotating.clientId, Username: email, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: email }] }));
  await gh.admin.send(new AdminConfirmSignUpCommand({ UserPoolId: rotating.poolId, Username: email }));
  const refresh = (await cip.send(new InitiateAuthCommand({ ClientId: rotating.clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD } }))).AuthenticationResult!.RefreshToken!;
  const results = await Promise.allSettled(Array.from({ length: 8 }, () => cip.send(new GetTokensFromRefreshTokenCommand({ ClientId: rotating.clientId, RefreshToken: refresh }))));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
});

test('email takeover: a code mailed to the old address cannot verify a new one', async () => {
  const { AdminCreateUserCommand, AdminSetUserPasswordCommand, GetUserAttributeVerificationCodeCommand, UpdateUserAttributesCommand, VerifyUserAttributeCommand } = await import('@aws-sdk/client-cognito-identity-provider');
  // No auto-verification: changing the email sends no new code, so the old one stays out.
  const alias = await createPoolAndClient(gh, { UsernameAttributes: undefined, AliasAttributes: ['email'], AutoVerifiedAttributes: [], Schema: undefined });
  const own = uniqueEmail('attacker'), victim = uniqueEmail('victim');
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: alias.poolId, Username: 'taker', MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: own }] }));
  await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: alias.poolId, Username: 'taker', Password: PASSWORD, Permanent: true }));
  const token = (await cip.send(new InitiateAuthCommand({ ClientId: alias.clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'taker', PASSWORD } }))).AuthenticationResult!.AccessToken!;
  const since = Date.now();
  await cip.send(new GetUserAttributeVerificationCodeCommand({ AccessToken: token, AttributeName: 'email' }));
  const code = await mail.code(own, since);
  await cip.send(new UpdateUserAttributesCommand({ AccessToken: token, UserAttributes: [{ Name: 'email', Value: victim }] }));
  assert.equal((await err(cip.send(new VerifyUserAttributeCommand({ AccessToken: token, AttributeName: 'email', Code: code }))))?.name, 'CodeMismatchException');
  const attrs = (await cip.send(new GetUserCommand({ AccessToken: token }))).UserAttributes!;
  assert.equal(attrs.find((a) => a.Name === 'email')?.Value, victim);
  assert.equal(attrs.find((a) => a.Name === 'email_verified')?.Value, 'false');
  // The victim's address is not an alias of the attacker's account.
  assert.equal((await err(cip.send(new InitiateAuthCommand({ ClientId: alias.clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: victim, PASSWORD } }))))?.name, 'NotAuthorizedException');
});

test('user enumeration through recovery: a real user with no code out and an unknown user answer alike, weak passwords too', async () => {
  const real = await confirmedUser();
  const ghost = uniqueEmail('ghost');
  const confirm = (Username: string, Password: string) => err(cip.send(new ConfirmForgotPasswordCommand({ ClientId: clientId, Username, ConfirmationCode: '123456', Password })));
  for (const password of [PASSWORD, 'weak']) {
    const a = await confirm(real, password), b = await confirm(ghost, password);
    assert.equal(a?.name, b?.name, password);
    assert.equal(a?.message, b?.message, password);
  }
  assert.equal((await confirm(ghost, 'weak'))?.name, 'InvalidPasswordException');
});
