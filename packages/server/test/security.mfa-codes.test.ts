// Attacks on the second factor, each named after what it tries: guessing a code, replaying a TOTP
// code, carrying a code into another session, skipping MFA with a device key, pumping SMS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TOTP, Secret } from 'otpauth';
import { clientEphemeral } from '@gatehouse/srp';
import {
  AdminCreateUserCommand, AdminSetUserPasswordCommand, AdminSetUserMFAPreferenceCommand, AssociateSoftwareTokenCommand, VerifySoftwareTokenCommand,
  InitiateAuthCommand, RespondToAuthChallengeCommand, SetUserMFAPreferenceCommand, SetUserPoolMfaConfigCommand, UpdateUserPoolCommand,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { MailCatcher, startGatehouse, createPoolAndClient, userClient, queryDatabase, type Gatehouse } from './support/harness.js';
import { SmsCatcher } from './support/sms.js';

let gh: Gatehouse, mail: MailCatcher, sms: SmsCatcher, cip: CognitoIdentityProviderClient;
const PASSWORD = 'Correct-Horse-9';
let n = 0;

before(async () => {
  mail = await new MailCatcher().start();
  sms = await new SmsCatcher().start();
  gh = await startGatehouse({ GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${mail.port}`, GATEHOUSE_SMS_WEBHOOK_URL: sms.url });
  cip = userClient(gh.url);
});
after(async () => { cip?.destroy(); await gh?.stop(); await mail?.close(); await sms?.close(); });

const SMS_CONFIG = { SnsCallerArn: 'arn:aws:iam::123456789012:role/sms', ExternalId: 'gatehouse' };

/** A username pool with MFA required: SMS, TOTP and email offered. */
async function mfaPool(extra: Record<string, unknown> = {}) {
  const { poolId, clientId } = await createPoolAndClient(gh, { UsernameAttributes: undefined, AutoVerifiedAttributes: undefined, Schema: undefined, ...extra });
  await gh.admin.send(new SetUserPoolMfaConfigCommand({
    UserPoolId: poolId, MfaConfiguration: 'ON', SmsMfaConfiguration: { SmsConfiguration: SMS_CONFIG },
    SoftwareTokenMfaConfiguration: { Enabled: true }, EmailMfaConfiguration: { Message: 'Your code is {####}', Subject: 'Sign-in code' },
  }));
  return { poolId, clientId };
}

async function user(poolId: string, attrs: Record<string, string>) {
  const username = `u${process.pid}x${n++}`;
  await gh.admin.send(new AdminCreateUserCommand({
    UserPoolId: poolId, Username: username, MessageAction: 'SUPPRESS', TemporaryPassword: 'Temp-Passw0rd!',
    UserAttributes: Object.entries(attrs).map(([Name, Value]) => ({ Name, Value })),
  }));
  await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: username, Password: PASSWORD, Permanent: true }));
  return username;
}

const signIn = (clientId: string, username: string, extra: Record<string, string> = {}) =>
  cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: username, PASSWORD, ...extra } }));

const answer = (clientId: string, name: string, session: string | undefined, responses: Record<string, string>) =>
  cip.send(new RespondToAuthChallengeCommand({ ClientId: clientId, ChallengeName: name as never, Session: session, ChallengeResponses: responses }));

async function nameOf(p: Promise<unknown>): Promise<string> {
  try { await p; } catch (e) { return (e as Error).name; }
  return 'ok';
}

const wrongCode = (right: string) => String((Number(right) + 1) % 1_000_000).padStart(6, '0');

/** A user with an email address, signed in through email MFA, the one factor they can use yet. */
async function emailUserSignedIn(poolId: string, clientId: string) {
  const email = `t${process.pid}x${n}@example.com`;
  const username = await user(poolId, { email });
  const since = Date.now();
  const first = await signIn(clientId, username);
  assert.equal(first.ChallengeName, 'EMAIL_OTP');
  const done = await answer(clientId, 'EMAIL_OTP', first.Session, { USERNAME: username, EMAIL_OTP_CODE: await mail.code(email, since) });
  return { username, AccessToken: done.AuthenticationResult!.AccessToken! };
}

/** A user with TOTP enrolled and preferred (through the API, as an app would), and their authenticator. */
async function totpUser(poolId: string, clientId: string) {
  const { username, AccessToken } = await emailUserSignedIn(poolId, clientId);
  const { SecretCode } = await cip.send(new AssociateSoftwareTokenCommand({ AccessToken }));
  const totp = new TOTP({ secret: Secret.fromBase32(SecretCode!) });
  // Verified with the code of the step before, so that this step's code is still unspent.
  await cip.send(new VerifySoftwareTokenCommand({ AccessToken, UserCode: totp.generate({ timestamp: Date.now() - 30_000 }) }));
  await cip.send(new SetUserMFAPreferenceCommand({ AccessToken, SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true } }));
  return { username, totp, SecretCode: SecretCode! };
}

test('code brute force: after 3 wrong SMS codes the session is dead, and the right code is refused in it', async () => {
  const { poolId, clientId } = await mfaPool();
  const phone = '+15550100' + String(n).padStart(3, '0');
  const username = await user(poolId, { phone_number: phone });
  const since = Date.now();
  const r = await signIn(clientId, username);
  assert.equal(r.ChallengeName, 'SMS_MFA');
  assert.equal(r.ChallengeParameters?.CODE_DELIVERY_DELIVERY_MEDIUM, 'SMS');
  const code = await sms.code(phone, since);
  for (let i = 0; i < 3; i++) {
    assert.equal(await nameOf(answer(clientId, 'SMS_MFA', r.Session, { USERNAME: username, SMS_MFA_CODE: wrongCode(code) })), 'CodeMismatchException');
  }
  assert.equal(await nameOf(answer(clientId, 'SMS_MFA', r.Session, { USERNAME: username, SMS_MFA_CODE: code })), 'NotAuthorizedException');
});

test('code brute force: 20 parallel guesses meet the same 3-per-session limit, and the right code after them is refused', async () => {
  const { poolId, clientId } = await mfaPool();
  const phone = '+15550200' + String(n).padStart(3, '0');
  const username = await user(poolId, { phone_number: phone });
  const since = Date.now();
  const r = await signIn(clientId, username);
  const code = await sms.code(phone, since);
  const guesses = Array.from({ length: 20 }, (_, i) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0'));
  const outcomes = await Promise.all(guesses.map((g) => nameOf(answer(clientId, 'SMS_MFA', r.Session, { USERNAME: username, SMS_MFA_CODE: g }))));
  assert.equal(outcomes.filter((o) => o === 'CodeMismatchException').length, 3, outcomes.join(' '));
  assert.equal(outcomes.filter((o) => o === 'NotAuthorizedException').length, 17);
  assert.equal(await nameOf(answer(clientId, 'SMS_MFA', r.Session, { USERNAME: username, SMS_MFA_CODE: code })), 'NotAuthorizedException');
});

test('a code from one session is refused in another session of the same user', async () => {
  const { poolId, clientId } = await mfaPool();
  const phone = '+15550300' + String(n).padStart(3, '0');
  const username = await user(poolId, { phone_number: phone });
  let since = Date.now();
  const first = await signIn(clientId, username);
  const firstCode = await sms.code(phone, since);
  await new Promise((res) => setTimeout(res, 5));
  since = Date.now();
  const second = await signIn(clientId, username);
  const secondCode = await sms.code(phone, since);
  assert.notEqual(firstCode, secondCode, 'two sign-ins got the same code (1 in a million): run again');
  assert.equal(await nameOf(answer(clientId, 'SMS_MFA', second.Session, { USERNAME: username, SMS_MFA_CODE: firstCode })), 'CodeMismatchException');
  // Each code still works where it was issued, once.
  const ok = await answer(clientId, 'SMS_MFA', first.Session, { USERNAME: username, SMS_MFA_CODE: firstCode });
  assert.ok(ok.AuthenticationResult?.AccessToken);
  assert.equal(await nameOf(answer(clientId, 'SMS_MFA', first.Session, { USERNAME: username, SMS_MFA_CODE: firstCode })), 'NotAuthorizedException');
});

test('replayed TOTP code: a code that signed in once is refused at the next sign-in, and two sign-ins racing with one code get one success', async () => {
  const { poolId, clientId } = await mfaPool();
  const { username, totp } = await totpUser(poolId, clientId);
  const first = await signIn(clientId, username);
  assert.equal(first.ChallengeName, 'SOFTWARE_TOKEN_MFA');
  const code = totp.generate();
  const ok = await answer(clientId, 'SOFTWARE_TOKEN_MFA', first.Session, { USERNAME: username, SOFTWARE_TOKEN_MFA_CODE: code });
  assert.ok(ok.AuthenticationResult?.AccessToken);
  const again = await signIn(clientId, username);
  assert.equal(await nameOf(answer(clientId, 'SOFTWARE_TOKEN_MFA', again.Session, { USERNAME: username, SOFTWARE_TOKEN_MFA_CODE: code })), 'CodeMismatchException');
  // The next step's code is new: it works (the window takes one step ahead), once, across racing sessions.
  const next = totp.generate({ timestamp: Date.now() + 30_000 });
  const racers = await Promise.all([signIn(clientId, username), signIn(clientId, username), signIn(clientId, username)]);
  const outcomes = await Promise.all(racers.map((r) => nameOf(answer(clientId, 'SOFTWARE_TOKEN_MFA', r.Session, { USERNAME: username, SOFTWARE_TOKEN_MFA_CODE: next }))));
  assert.deepEqual(outcomes.sort(), ['CodeMismatchException', 'CodeMismatchException', 'ok']);
  // An older step's code is refused too, once a later one was spent.
  assert.equal(await nameOf(answer(clientId, 'SOFTWARE_TOKEN_MFA', again.Session, { USERNAME: username, SOFTWARE_TOKEN_MFA_CODE: totp.generate({ timestamp: Date.now() - 30_000 }) })), 'CodeMismatchException');
});

test('TOTP enrolment brute force: a signed-in user gets 5 guesses per associated secret, racing or not, then only a new secret', async () => {
  const { poolId, clientId } = await mfaPool();
  const { AccessToken } = await emailUserSignedIn(poolId, clientId);
  const verify = (UserCode: string) => nameOf(cip.send(new VerifySoftwareTokenCommand({ AccessToken, UserCode })));
  const first = new TOTP({ secret: Secret.fromBase32((await cip.send(new AssociateSoftwareTokenCommand({ AccessToken }))).SecretCode!) });
  // 20 wrong guesses at once: exactly 5 are compared (the right code would have been one of them).
  const outcomes = await Promise.all(Array.from({ length: 20 }, () => verify(wrongCode(first.generate()))));
  assert.deepEqual(outcomes, Array(20).fill('EnableSoftwareTokenMFAException'));
  assert.equal(await verify(first.generate()), 'EnableSoftwareTokenMFAException', 'the right code after the cap');
  const attempts = async () => (await queryDatabase<{ attempts: number }>(gh, "select attempts from codes where purpose = 'totp-enrolment' and pool_id = ?", [poolId])).map((r) => Number(r.attempts));
  assert.deepEqual(await attempts(), [5], 'no guess is counted, or compared, past the fifth');
  // A new secret starts a new count; its right code enrols after 4 wrong ones.
  const second = new TOTP({ secret: Secret.fromBase32((await cip.send(new AssociateSoftwareTokenCommand({ AccessToken }))).SecretCode!) });
  for (let i = 0; i < 4; i++) assert.equal(await verify(wrongCode(second.generate())), 'EnableSoftwareTokenMFAException');
  assert.equal(await verify(second.generate()), 'ok');
  assert.deepEqual(await attempts(), [5], 'one count per user: the first secret\'s is gone');
});

test('TOTP secrets are sealed at rest: the stored user holds no secret in the clear', async () => {
  const { poolId, clientId } = await mfaPool();
  const { username, SecretCode } = await totpUser(poolId, clientId);
  const rows = await queryDatabase<{ mfa: string }>(gh, 'select mfa from users where pool_id = ? and username = ?', [poolId, username]);
  assert.equal(rows.length, 1);
  assert.ok(!rows[0].mfa.includes(SecretCode), 'the secret is stored in the clear');
  assert.ok(!rows[0].mfa.toUpperCase().includes(SecretCode.slice(0, 12)));
});

test('lockout: wrong MFA codes count towards the lockout, so a locked user cannot keep guessing in fresh sessions', async () => {
  const { poolId, clientId } = await mfaPool();
  const { username, totp } = await totpUser(poolId, clientId);
  // 5 wrong codes over two sessions (a right password in between does not wipe them) lock the user:
  // the right code is refused next, and so is the password.
  let r;
  for (const wrongs of [3, 2]) {
    r = await signIn(clientId, username);
    for (let i = 0; i < wrongs; i++) {
      assert.equal(await nameOf(answer(clientId, 'SOFTWARE_TOKEN_MFA', r.Session, { USERNAME: username, SOFTWARE_TOKEN_MFA_CODE: '000000' })), 'CodeMismatchException');
    }
  }
  assert.equal(await nameOf(answer(clientId, 'SOFTWARE_TOKEN_MFA', r!.Session, { USERNAME: username, SOFTWARE_TOKEN_MFA_CODE: totp.generate() })), 'CodeMismatchException');
  const locked = await nameOf(signIn(clientId, username));
  assert.equal(locked, 'NotAuthorizedException', 'the password step refuses while locked');
});

test('MFA bypass: naming a remembered device without its secret gets a device challenge, never tokens', async () => {
  const { poolId, clientId } = await mfaPool();
  await gh.admin.send(new UpdateUserPoolCommand({ UserPoolId: poolId, MfaConfiguration: 'ON', SmsConfiguration: SMS_CONFIG, DeviceConfiguration: { ChallengeRequiredOnNewDevice: true } }));
  const { username, totp } = await totpUser(poolId, clientId);
  // The victim signs in and remembers a device (ConfirmDevice with a verifier the attacker lacks).
  const r = await signIn(clientId, username);
  const done = await answer(clientId, 'SOFTWARE_TOKEN_MFA', r.Session, { USERNAME: username, SOFTWARE_TOKEN_MFA_CODE: totp.generate() });
  const meta = done.AuthenticationResult!.NewDeviceMetadata!;
  assert.ok(meta.DeviceKey && meta.DeviceGroupKey);
  const { ConfirmDeviceCommand } = await import('@aws-sdk/client-cognito-identity-provider');
  const verifier = Buffer.alloc(384, 7).toString('base64');
  await cip.send(new ConfirmDeviceCommand({ AccessToken: done.AuthenticationResult!.AccessToken!, DeviceKey: meta.DeviceKey, DeviceSecretVerifierConfig: { PasswordVerifier: verifier, Salt: Buffer.alloc(16, 1).toString('base64') } }));
  // The attacker knows the password and the device key, not the device's secret.
  const attack = await signIn(clientId, username, { DEVICE_KEY: meta.DeviceKey! });
  assert.equal(attack.ChallengeName, 'DEVICE_SRP_AUTH');
  const { A } = clientEphemeral();
  const srp = await answer(clientId, 'DEVICE_SRP_AUTH', attack.Session, { USERNAME: username, DEVICE_KEY: meta.DeviceKey!, SRP_A: A.toString('hex') });
  assert.equal(srp.ChallengeName, 'DEVICE_PASSWORD_VERIFIER');
  const forged = { USERNAME: username, DEVICE_KEY: meta.DeviceKey!, PASSWORD_CLAIM_SECRET_BLOCK: srp.ChallengeParameters!.SECRET_BLOCK, TIMESTAMP: new Date().toUTCString(), PASSWORD_CLAIM_SIGNATURE: Buffer.alloc(32).toString('base64') };
  assert.equal(await nameOf(answer(clientId, 'DEVICE_PASSWORD_VERIFIER', srp.Session, forged)), 'NotAuthorizedException');
  // A device key of nobody's (or another user's) device is no device: MFA as usual.
  const unknown = await signIn(clientId, username, { DEVICE_KEY: 'local_00000000-0000-4000-8000-000000000000' });
  assert.equal(unknown.ChallengeName, 'SOFTWARE_TOKEN_MFA');
});

test('SMS pumping: texts to one number stop at the per-number cap, and texts asked for from one address at the per-IP cap', async () => {
  const pumpSms = await new SmsCatcher().start();
  const pump = await startGatehouse({
    GATEHOUSE_SMS_WEBHOOK_URL: pumpSms.url, GATEHOUSE_RATE_LIMITS: 'on',
    GATEHOUSE_LIMIT_SMS_PER_NUMBER: '3/1h', GATEHOUSE_LIMIT_SMS_PER_IP: '5/1h', GATEHOUSE_LIMIT_CODES_PER_USER: '100/1h',
  });
  const client = userClient(pump.url);
  try {
    const { poolId, clientId } = await createPoolAndClient(pump, { UsernameAttributes: undefined, AutoVerifiedAttributes: undefined, Schema: undefined, MfaConfiguration: 'ON', SmsConfiguration: SMS_CONFIG });
    const mk = async (phone: string) => {
      const username = `p${process.pid}x${n++}`;
      await pump.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: username, MessageAction: 'SUPPRESS', TemporaryPassword: 'Temp-Passw0rd!', UserAttributes: [{ Name: 'phone_number', Value: phone }] }));
      await pump.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: username, Password: PASSWORD, Permanent: true }));
      return username;
    };
    const go = (username: string) => nameOf(client.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: username, PASSWORD } })));
    const premium = '+882000000001';
    const victim = await mk(premium);
    const perNumber = [];
    for (let i = 0; i < 4; i++) perNumber.push(await go(victim));
    assert.deepEqual(perNumber, ['ok', 'ok', 'ok', 'LimitExceededException']);
    assert.equal(pumpSms.sentTo(premium), 3);
    // The address asked for 4 texts (the refused one counts); other numbers from it: one more goes, then none.
    const others = [await mk('+882000000002'), await mk('+882000000003')];
    const perIp = [await go(others[0]), await go(others[1])];
    assert.deepEqual(perIp, ['ok', 'TooManyRequestsException']);
    assert.equal(pumpSms.sentTo('+882000000003'), 0);
  } finally {
    client.destroy();
    await pump.stop();
    await pumpSms.close();
  }
});
