// Secrets in logs: run sign-up, sign-in (password and SRP), refresh, attribute verification, reset,
// password change, admin invites and failing variants with the most verbose logging, and check that
// the server's output holds none of the passwords, codes, tokens, sessions or keys it handled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { clientEphemeral, clientSessionKey, passwordClaimSignature, formatTimestamp, fromHex, poolNameOf } from '@gatehouse/srp';
import {
  CognitoIdentityProviderClient, SignUpCommand, ConfirmSignUpCommand, InitiateAuthCommand, RespondToAuthChallengeCommand, ForgotPasswordCommand,
  ConfirmForgotPasswordCommand, ChangePasswordCommand, GetTokensFromRefreshTokenCommand, UpdateUserAttributesCommand, VerifyUserAttributeCommand,
  AdminCreateUserCommand, AdminSetUserPasswordCommand, CreateUserPoolClientCommand, GlobalSignOutCommand,
  UpdateUserPoolCommand, StartWebAuthnRegistrationCommand, CompleteWebAuthnRegistrationCommand, AdminUpdateUserAttributesCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { MailCatcher, startGatehouse, createPoolAndClient, uniqueEmail, rawCall, ADMIN, type Gatehouse } from './support/harness.js';
import { ORIGIN, answerPasskey, passkeyChallenge, passkeyPool, signedInUser } from './support/passkeys.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/cli.js');

function assertNoSecrets(gh: Gatehouse, secrets: Map<string, string>) {
  const logs = gh.logs.join('\n');
  assert.ok(logs.includes('"msg":"request"'), 'debug request lines were written, so they were checked too');
  for (const [what, value] of secrets) {
    assert.ok(value.length >= 6, `${what} is a real value`);
    assert.ok(!logs.includes(value), `the logs hold ${what}`);
  }
}

test('no password, code, token, session or key reaches the logs, even at debug level', async () => {
  const mail = await new MailCatcher().start();
  const gh = await startGatehouse({ GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${mail.port}`, GATEHOUSE_LOG_LEVEL: 'debug' });
  const cip = new CognitoIdentityProviderClient({ endpoint: gh.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
  const secrets = new Map<string, string>();
  const keep = (what: string, value: string | undefined) => { assert.ok(value, what); secrets.set(what, value); return value; };
  try {
    const { poolId, clientId } = await createPoolAndClient(gh);
    const email = uniqueEmail('quiet');
    const password = keep('sign-up password', 'Quiet-Passw0rd-1!');
    let since = Date.now();
    await cip.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: password, UserAttributes: [{ Name: 'email', Value: email }] }));
    const signUpCode = keep('sign-up code', await mail.code(email, since));
    const wrongCode = keep('wrong code', signUpCode === '987654' ? '123456' : '987654');
    await assert.rejects(cip.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: wrongCode })));
    await cip.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: signUpCode }));

    await assert.rejects(cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: keep('wrong password', 'Guessed-Passw0rd-9!') } })));
    const tokens = (await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: password } }))).AuthenticationResult!;
    keep('access token', tokens.AccessToken);
    keep('id token', tokens.IdToken);
    keep('refresh token', tokens.RefreshToken);
    keep('refreshed access token', (await cip.send(new GetTokensFromRefreshTokenCommand({ ClientId: clientId, RefreshToken: tokens.RefreshToken }))).AuthenticationResult?.AccessToken);

    // SRP, by hand: the session, the secret block and the claim signature are secrets too.
    const { a, A } = clientEphemeral();
    const start = await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_SRP_AUTH', AuthParameters: { USERNAME: email, SRP_A: A.toString('hex') } }));
    const p = start.ChallengeParameters!;
    keep('SRP session', start.Session);
    keep('SRP secret block', p.SECRET_BLOCK);
    const key = clientSessionKey({ poolName: poolNameOf(poolId), userId: p.USER_ID_FOR_SRP, password, salt: fromHex(p.SALT), A, a, B: fromHex(p.SRP_B) });
    const timestamp = formatTimestamp(new Date());
    const signature = keep('SRP claim signature', passwordClaimSignature({ key, poolName: poolNameOf(poolId), userId: p.USER_ID_FOR_SRP, secretBlock: Buffer.from(p.SECRET_BLOCK, 'base64'), timestamp }));
    const srp = await cip.send(new RespondToAuthChallengeCommand({ ClientId: clientId, ChallengeName: 'PASSWORD_VERIFIER', Session: start.Session, ChallengeResponses: { USERNAME: p.USER_ID_FOR_SRP, PASSWORD_CLAIM_SECRET_BLOCK: p.SECRET_BLOCK, TIMESTAMP: timestamp, PASSWORD_CLAIM_SIGNATURE: signature } }));
    keep('SRP access token', srp.AuthenticationResult!.AccessToken);

    // A new email: a verification code goes out.
    const moved = uniqueEmail('moved');
    since = Date.now();
    await cip.send(new UpdateUserAttributesCommand({ AccessToken: tokens.AccessToken, UserAttributes: [{ Name: 'email', Value: moved }] }));
    await cip.send(new VerifyUserAttributeCommand({ AccessToken: tokens.AccessToken, AttributeName: 'email', Code: keep('attribute code', await mail.code(moved, since)) }));

    since = Date.now();
    await cip.send(new ForgotPasswordCommand({ ClientId: clientId, Username: moved }));
    const resetCode = keep('reset code', await mail.code(moved, since));
    const resetPassword = keep('reset password', 'Reset-Passw0rd-2!');
    await cip.send(new ConfirmForgotPasswordCommand({ ClientId: clientId, Username: moved, ConfirmationCode: resetCode, Password: resetPassword }));
    const fresh = (await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: moved, PASSWORD: resetPassword } }))).AuthenticationResult!;
    keep('access token after reset', fresh.AccessToken);
    await assert.rejects(cip.send(new ChangePasswordCommand({ AccessToken: fresh.AccessToken, PreviousPassword: keep('wrong previous password', 'Not-Mine-Passw0rd-3!'), ProposedPassword: 'Whatever-Passw0rd-4!' })));
    await cip.send(new ChangePasswordCommand({ AccessToken: fresh.AccessToken, PreviousPassword: resetPassword, ProposedPassword: keep('changed password', 'Changed-Passw0rd-5!') }));
    await cip.send(new GlobalSignOutCommand({ AccessToken: fresh.AccessToken }));

    // Admin: an emailed temporary password, a set password; a client secret and SECRET_HASH.
    const invited = uniqueEmail('invited');
    since = Date.now();
    await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: invited, DesiredDeliveryMediums: ['EMAIL'], UserAttributes: [{ Name: 'email', Value: invited }] }));
    keep('emailed temporary password', /temporary password is (\S+?)\.?$/m.exec((await mail.next(invited, since)).text)?.[1]);
    await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: invited, Password: keep('admin-set password', 'Admin-Set-Passw0rd-6!'), Permanent: true }));
    const secretClient = (await gh.admin.send(new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName: 'server', GenerateSecret: true, ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'] }))).UserPoolClient!;
    keep('client secret', secretClient.ClientSecret);
    const secretHash = keep('secret hash', crypto.createHmac('sha256', secretClient.ClientSecret!).update(invited + secretClient.ClientId).digest('base64'));
    await cip.send(new InitiateAuthCommand({ ClientId: secretClient.ClientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: invited, PASSWORD: 'Admin-Set-Passw0rd-6!', SECRET_HASH: secretHash } }));

    // Malformed and invalid requests carrying a password: errors must not echo request content into the logs.
    await rawCall(gh.url, 'SignUp', `{"ClientId":"${clientId}","Password":"${keep('password in bad JSON', 'Broken-Json-Passw0rd-7!')}"`);
    await rawCall(gh.url, 'SignUp', JSON.stringify({ ClientId: clientId, Username: uniqueEmail('x'), Password: keep('over-long password', 'Too-Long-Passw0rd-8!'.repeat(20)) }));

    keep('admin secret access key', ADMIN.secretAccessKey);
    keep('master key', fs.readFileSync(path.join(gh.dataDir, 'master.key'), 'utf8').trim());
    await new Promise((r) => setTimeout(r, 100)); // let the last log lines arrive
    assertNoSecrets(gh, secrets);
  } finally {
    cip.destroy();
    await gh.stop();
    await mail.close();
  }
});

test('no code or password reaches the logs in development-outbox mode, where messages are kept rather than sent', async () => {
  const gh = await startGatehouse({ GATEHOUSE_LOG_LEVEL: 'debug' });
  const cip = new CognitoIdentityProviderClient({ endpoint: gh.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
  try {
    const { clientId } = await createPoolAndClient(gh);
    const email = uniqueEmail('outbox');
    const password = 'Outbox-Passw0rd-1!';
    await cip.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: password, UserAttributes: [{ Name: 'email', Value: email }] }));
    const kept = execFileSync(process.execPath, [cli, 'outbox'], { env: { ...process.env, ...gh.env }, encoding: 'utf8' });
    const code = /Your verification code is (\d{6})/.exec(kept)![1];
    await cip.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: code }));
    assert.ok(gh.logs.some((l) => l.includes('message kept in outbox')), 'the outbox line was written');
    await new Promise((r) => setTimeout(r, 100));
    assertNoSecrets(gh, new Map([['sign-up code', code], ['password', password], ['message text', `Your verification code is ${code}`]]));
  } finally {
    cip.destroy();
    await gh.stop();
  }
});

test('no MFA code, TOTP secret, MFA session or device secret reaches the logs, even at debug level', async () => {
  const { TOTP, Secret } = await import('otpauth');
  const { SetUserPoolMfaConfigCommand, AssociateSoftwareTokenCommand, VerifySoftwareTokenCommand, SetUserMFAPreferenceCommand, ConfirmDeviceCommand, UpdateUserPoolCommand } = await import('@aws-sdk/client-cognito-identity-provider');
  const mail = await new MailCatcher().start();
  const gh = await startGatehouse({ GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${mail.port}`, GATEHOUSE_LOG_LEVEL: 'debug' });
  const cip = new CognitoIdentityProviderClient({ endpoint: gh.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
  const secrets = new Map<string, string>();
  const keep = (what: string, value: string | undefined) => { assert.ok(value, what); secrets.set(what, value); return value; };
  try {
    const { poolId, clientId } = await createPoolAndClient(gh);
    await gh.admin.send(new SetUserPoolMfaConfigCommand({ UserPoolId: poolId, MfaConfiguration: 'ON', SoftwareTokenMfaConfiguration: { Enabled: true }, EmailMfaConfiguration: { Message: 'Code {####}' } }));
    await gh.admin.send(new UpdateUserPoolCommand({ UserPoolId: poolId, MfaConfiguration: 'ON', DeviceConfiguration: { ChallengeRequiredOnNewDevice: true } }));
    const email = uniqueEmail('mfa');
    const password = 'Quiet-Passw0rd-1!';
    await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: email, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: email }] }));
    await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: email, Password: password, Permanent: true }));
    const auth = () => cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: password } }));
    const since = Date.now();
    const first = await auth();
    keep('email MFA session', first.Session);
    const code = keep('email MFA code', await mail.code(email, since));
    await assert.rejects(cip.send(new RespondToAuthChallengeCommand({ ClientId: clientId, ChallengeName: 'EMAIL_OTP', Session: first.Session, ChallengeResponses: { USERNAME: email, EMAIL_OTP_CODE: keep('wrong MFA code', code === '246810' ? '135791' : '246810') } })));
    const done = await cip.send(new RespondToAuthChallengeCommand({ ClientId: clientId, ChallengeName: 'EMAIL_OTP', Session: first.Session, ChallengeResponses: { USERNAME: email, EMAIL_OTP_CODE: code } }));
    const AccessToken = keep('access token', done.AuthenticationResult!.AccessToken);
    const { SecretCode } = await cip.send(new AssociateSoftwareTokenCommand({ AccessToken }));
    keep('TOTP secret', SecretCode);
    const totp = new TOTP({ secret: Secret.fromBase32(SecretCode!) });
    await cip.send(new VerifySoftwareTokenCommand({ AccessToken, UserCode: keep('TOTP setup code', totp.generate({ timestamp: Date.now() - 30_000 })) }));
    await cip.send(new SetUserMFAPreferenceCommand({ AccessToken, SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true } }));
    const second = await auth();
    const signedIn = await cip.send(new RespondToAuthChallengeCommand({ ClientId: clientId, ChallengeName: 'SOFTWARE_TOKEN_MFA', Session: keep('TOTP session', second.Session), ChallengeResponses: { USERNAME: email, SOFTWARE_TOKEN_MFA_CODE: keep('TOTP code', totp.generate()) } }));
    const meta = signedIn.AuthenticationResult!.NewDeviceMetadata!;
    const verifier = keep('device verifier', crypto.randomBytes(384).toString('base64'));
    await cip.send(new ConfirmDeviceCommand({ AccessToken: signedIn.AuthenticationResult!.AccessToken, DeviceKey: meta.DeviceKey, DeviceSecretVerifierConfig: { PasswordVerifier: verifier, Salt: keep('device salt', crypto.randomBytes(16).toString('base64')) } }));
    await new Promise((r) => setTimeout(r, 100));
    assertNoSecrets(gh, secrets);
  } finally {
    cip.destroy();
    await gh.stop();
    await mail.close();
  }
});

test('no sign-in code, passkey challenge, assertion or session of choice-based sign-in reaches the logs', async () => {
  const mail = await new MailCatcher().start();
  const gh = await startGatehouse({ GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${mail.port}`, GATEHOUSE_LOG_LEVEL: 'debug' });
  const cip = new CognitoIdentityProviderClient({ endpoint: gh.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
  const secrets = new Map<string, string>();
  const keep = (what: string, value: string | undefined) => { assert.ok(value, what); secrets.set(what, value); return value; };
  try {
    const pool = await passkeyPool(gh);
    await gh.admin.send(new UpdateUserPoolCommand({ UserPoolId: pool.poolId, AutoVerifiedAttributes: ['email'], Policies: { SignInPolicy: { AllowedFirstAuthFactors: ['PASSWORD', 'EMAIL_OTP', 'WEB_AUTHN'] } } }));
    const user = await signedInUser(gh, cip, pool);
    await gh.admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: pool.poolId, Username: user.email, UserAttributes: [{ Name: 'email_verified', Value: 'true' }] }));
    keep('access token', user.accessToken);
    const { CredentialCreationOptions } = await cip.send(new StartWebAuthnRegistrationCommand({ AccessToken: user.accessToken }));
    keep('registration challenge', (CredentialCreationOptions as { challenge: string }).challenge);
    const credential = user.authenticator.create(CredentialCreationOptions, { origin: ORIGIN });
    keep('attestation object', credential.response.attestationObject);
    await cip.send(new CompleteWebAuthnRegistrationCommand({ AccessToken: user.accessToken, Credential: credential as never }));

    const challenge = await passkeyChallenge(cip, pool.clientId, user.email);
    keep('passkey session', challenge.Session);
    keep('passkey challenge', challenge.options.challenge);
    const assertion = user.authenticator.get(challenge.options, { origin: ORIGIN });
    keep('assertion signature', assertion.response.signature);
    keep('passkey access token', (await answerPasskey(cip, pool.clientId, user.email, challenge.Session, assertion)).AuthenticationResult?.AccessToken);

    const since = Date.now();
    const otp = await cip.send(new InitiateAuthCommand({ ClientId: pool.clientId, AuthFlow: 'USER_AUTH', AuthParameters: { USERNAME: user.email, PREFERRED_CHALLENGE: 'EMAIL_OTP' } }));
    keep('code session', otp.Session);
    const code = keep('sign-in code', await mail.code(user.email, since));
    const answer = (c: string) => cip.send(new RespondToAuthChallengeCommand({ ClientId: pool.clientId, ChallengeName: 'EMAIL_OTP', Session: otp.Session, ChallengeResponses: { USERNAME: user.email, EMAIL_OTP_CODE: c } }));
    await assert.rejects(answer(keep('wrong sign-in code', code === '975310' ? '135790' : '975310')));
    keep('code access token', (await answer(code)).AuthenticationResult?.AccessToken);
    await new Promise((r) => setTimeout(r, 100));
    assertNoSecrets(gh, secrets);
  } finally {
    cip.destroy();
    await gh.stop();
    await mail.close();
  }
});
