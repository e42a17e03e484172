// The pool's MFA settings, users' MFA preferences and devices through the AWS SDK, and what a failing
// SMS transport answers during sign-in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TOTP, Secret } from 'otpauth';
import { clientEphemeral, clientSessionKey, computeVerifier, formatTimestamp, generateSalt, padHex, passwordClaimSignature, fromHex } from '@gatehouse/srp';
import {
  AdminCreateUserCommand, AdminSetUserPasswordCommand, AdminSetUserMFAPreferenceCommand, AdminGetUserCommand,
  AdminListDevicesCommand, AdminGetDeviceCommand, AdminUpdateDeviceStatusCommand, AdminForgetDeviceCommand,
  AssociateSoftwareTokenCommand, VerifySoftwareTokenCommand, ConfirmDeviceCommand, CreateUserPoolCommand, DescribeUserPoolCommand,
  GetDeviceCommand, GetUserCommand, GetUserPoolMfaConfigCommand, InitiateAuthCommand, ListDevicesCommand, RespondToAuthChallengeCommand,
  SetUserMFAPreferenceCommand, SetUserPoolMfaConfigCommand, UpdateDeviceStatusCommand, UpdateUserPoolCommand,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { MailCatcher, startGatehouse, createPoolAndClient, userClient, queryDatabase, type Gatehouse } from './support/harness.js';
import { SmsCatcher } from './support/sms.js';

let gh: Gatehouse, mail: MailCatcher, sms: SmsCatcher, cip: CognitoIdentityProviderClient;
const PASSWORD = 'Correct-Horse-9';
const SMS_CONFIG = { SnsCallerArn: 'arn:aws:iam::123456789012:role/sms', ExternalId: 'gatehouse' };
let n = 0;

before(async () => {
  mail = await new MailCatcher().start();
  sms = await new SmsCatcher().start();
  gh = await startGatehouse({ GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${mail.port}`, GATEHOUSE_SMS_WEBHOOK_URL: sms.url });
  cip = userClient(gh.url);
});
after(async () => { cip?.destroy(); await gh?.stop(); await mail?.close(); await sms?.close(); });

const plainPool = (extra: Record<string, unknown> = {}) => createPoolAndClient(gh, { UsernameAttributes: undefined, AutoVerifiedAttributes: undefined, Schema: undefined, ...extra });

async function user(poolId: string, attrs: Record<string, string> = {}) {
  const username = `d${process.pid}x${n++}`;
  await gh.admin.send(new AdminCreateUserCommand({
    UserPoolId: poolId, Username: username, MessageAction: 'SUPPRESS', TemporaryPassword: 'Temp-Passw0rd!',
    UserAttributes: Object.entries(attrs).map(([Name, Value]) => ({ Name, Value })),
  }));
  await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: username, Password: PASSWORD, Permanent: true }));
  return username;
}

async function nameOf(p: Promise<unknown>): Promise<string> {
  try { await p; } catch (e) { return (e as Error).name; }
  return 'ok';
}

const signIn = (clientId: string, username: string, extra: Record<string, string> = {}) =>
  cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: username, PASSWORD, ...extra } }));

test('SetUserPoolMfaConfig and GetUserPoolMfaConfig: the factors are set whole, and DescribeUserPool shows MfaConfiguration', async () => {
  const { poolId } = await plainPool();
  assert.deepEqual((await gh.admin.send(new GetUserPoolMfaConfigCommand({ UserPoolId: poolId }))).MfaConfiguration, 'OFF');
  const set = await gh.admin.send(new SetUserPoolMfaConfigCommand({
    UserPoolId: poolId, MfaConfiguration: 'ON', SmsMfaConfiguration: { SmsAuthenticationMessage: 'Code: {####}', SmsConfiguration: SMS_CONFIG },
    SoftwareTokenMfaConfiguration: { Enabled: true }, EmailMfaConfiguration: { Message: 'Code {####}', Subject: 'Your code' },
  }));
  const got = await gh.admin.send(new GetUserPoolMfaConfigCommand({ UserPoolId: poolId }));
  for (const r of [set, got]) {
    assert.equal(r.MfaConfiguration, 'ON');
    assert.deepEqual(r.SmsMfaConfiguration, { SmsAuthenticationMessage: 'Code: {####}', SmsConfiguration: SMS_CONFIG });
    assert.deepEqual(r.SoftwareTokenMfaConfiguration, { Enabled: true });
    assert.deepEqual(r.EmailMfaConfiguration, { Message: 'Code {####}', Subject: 'Your code' });
  }
  const { UserPool } = await gh.admin.send(new DescribeUserPoolCommand({ UserPoolId: poolId }));
  assert.equal(UserPool?.MfaConfiguration, 'ON');
  assert.equal(UserPool?.SmsAuthenticationMessage, 'Code: {####}');
  // A factor left out is turned off; MfaConfiguration left out stays.
  const only = await gh.admin.send(new SetUserPoolMfaConfigCommand({ UserPoolId: poolId, SoftwareTokenMfaConfiguration: { Enabled: true } }));
  assert.equal(only.MfaConfiguration, 'ON');
  assert.equal(only.SmsMfaConfiguration, undefined);
  assert.equal(only.EmailMfaConfiguration, undefined);
  // UpdateUserPool leaves TOTP as SetUserPoolMfaConfig set it.
  await gh.admin.send(new UpdateUserPoolCommand({ UserPoolId: poolId, MfaConfiguration: 'OPTIONAL' }));
  const after = await gh.admin.send(new GetUserPoolMfaConfigCommand({ UserPoolId: poolId }));
  assert.equal(after.MfaConfiguration, 'OPTIONAL');
  assert.deepEqual(after.SoftwareTokenMfaConfiguration, { Enabled: true });
});

test('MFA ON or OPTIONAL needs a factor: refused without one, taken with an SMS configuration; email MFA is refused on the LITE tier', async () => {
  const refused = await nameOf(gh.admin.send(new CreateUserPoolCommand({ PoolName: 'mfa', MfaConfiguration: 'ON' })));
  assert.equal(refused, 'InvalidParameterException');
  const { UserPool } = await gh.admin.send(new CreateUserPoolCommand({ PoolName: 'mfa', MfaConfiguration: 'OPTIONAL', SmsConfiguration: SMS_CONFIG }));
  assert.equal(UserPool?.MfaConfiguration, 'OPTIONAL');
  const config = await gh.admin.send(new GetUserPoolMfaConfigCommand({ UserPoolId: UserPool!.Id }));
  assert.deepEqual(config.SmsMfaConfiguration?.SmsConfiguration, SMS_CONFIG);
  assert.equal(await nameOf(gh.admin.send(new SetUserPoolMfaConfigCommand({ UserPoolId: UserPool!.Id, MfaConfiguration: 'ON' }))), 'InvalidParameterException');
  assert.equal(await nameOf(gh.admin.send(new UpdateUserPoolCommand({ UserPoolId: UserPool!.Id, MfaConfiguration: 'ON' }))), 'InvalidParameterException');
  const { UserPool: lite } = await gh.admin.send(new CreateUserPoolCommand({ PoolName: 'lite', UserPoolTier: 'LITE' }));
  assert.equal(await nameOf(gh.admin.send(new SetUserPoolMfaConfigCommand({ UserPoolId: lite!.Id, EmailMfaConfiguration: { Message: 'Code {####}' } }))), 'FeatureUnavailableInTierException');
});

test('AdminSetUserMFAPreference, SetUserMFAPreference and GetUser / AdminGetUser: factors a user cannot use are refused', async () => {
  const { poolId, clientId } = await plainPool();
  await gh.admin.send(new SetUserPoolMfaConfigCommand({
    UserPoolId: poolId, MfaConfiguration: 'OPTIONAL', SmsMfaConfiguration: { SmsConfiguration: SMS_CONFIG },
    SoftwareTokenMfaConfiguration: { Enabled: true },
  }));
  const username = await user(poolId, { email: `p${process.pid}x${n}@example.com` });
  const set = (s: Record<string, unknown>) => gh.admin.send(new AdminSetUserMFAPreferenceCommand({ UserPoolId: poolId, Username: username, ...s }));
  assert.equal(await nameOf(set({ SMSMfaSettings: { Enabled: true } })), 'InvalidParameterException', 'no phone number');
  assert.equal(await nameOf(set({ SoftwareTokenMfaSettings: { Enabled: true } })), 'InvalidParameterException', 'no verified token');
  assert.equal(await nameOf(set({ EmailMfaSettings: { Enabled: true } })), 'InvalidParameterException', 'the pool offers no email MFA');
  const before = await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: username }));
  assert.equal(before.PreferredMfaSetting, undefined);
  assert.equal(before.UserMFASettingList, undefined);

  const { AuthenticationResult } = await signIn(clientId, username);
  const AccessToken = AuthenticationResult!.AccessToken!;
  const { SecretCode } = await cip.send(new AssociateSoftwareTokenCommand({ AccessToken }));
  assert.match(SecretCode!, /^[A-Z2-7]{32}$/);
  const totp = new TOTP({ secret: Secret.fromBase32(SecretCode!) });
  assert.equal(await nameOf(cip.send(new VerifySoftwareTokenCommand({ AccessToken, UserCode: '000000' }))), 'EnableSoftwareTokenMFAException');
  assert.equal((await cip.send(new VerifySoftwareTokenCommand({ AccessToken, UserCode: totp.generate(), FriendlyDeviceName: 'phone' }))).Status, 'SUCCESS');
  await cip.send(new SetUserMFAPreferenceCommand({ AccessToken, SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true } }));
  const mine = await cip.send(new GetUserCommand({ AccessToken }));
  assert.equal(mine.PreferredMfaSetting, 'SOFTWARE_TOKEN_MFA');
  assert.deepEqual(mine.UserMFASettingList, ['SOFTWARE_TOKEN_MFA']);
  // Two preferred factors at once are refused; disabling the preferred one clears the preference.
  await set({ SoftwareTokenMfaSettings: { Enabled: false } });
  const cleared = await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: username }));
  assert.equal(cleared.PreferredMfaSetting, undefined);
  assert.equal(cleared.UserMFASettingList, undefined);
  assert.equal(await nameOf(set({ SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true }, SMSMfaSettings: { Enabled: true, PreferredMfa: true } })), 'InvalidParameterException');
});

/** Device SRP as a client does it, with the random password it kept at ConfirmDevice. */
async function proveDevice(clientId: string, session: string, username: string, device: { key: string; group: string; password: string }) {
  const { a, A } = clientEphemeral();
  const r = await cip.send(new RespondToAuthChallengeCommand({ ClientId: clientId, ChallengeName: 'DEVICE_SRP_AUTH', Session: session, ChallengeResponses: { USERNAME: username, DEVICE_KEY: device.key, SRP_A: A.toString('hex') } }));
  assert.equal(r.ChallengeName, 'DEVICE_PASSWORD_VERIFIER');
  const p = r.ChallengeParameters!;
  const key = clientSessionKey({ poolName: device.group, userId: device.key, password: device.password, salt: fromHex(p.SALT), A, a, B: fromHex(p.SRP_B) });
  const timestamp = formatTimestamp(new Date());
  const signature = passwordClaimSignature({ key, poolName: device.group, userId: device.key, secretBlock: Buffer.from(p.SECRET_BLOCK, 'base64'), timestamp });
  return cip.send(new RespondToAuthChallengeCommand({
    ClientId: clientId, ChallengeName: 'DEVICE_PASSWORD_VERIFIER', Session: r.Session,
    ChallengeResponses: { USERNAME: p.USERNAME, DEVICE_KEY: device.key, PASSWORD_CLAIM_SECRET_BLOCK: p.SECRET_BLOCK, TIMESTAMP: timestamp, PASSWORD_CLAIM_SIGNATURE: signature },
  }));
}

test('devices: a device remembered only on the user\'s say-so does not skip MFA until UpdateDeviceStatus; user and admin views; AdminForgetDevice', async () => {
  const { poolId, clientId } = await plainPool({ DeviceConfiguration: { ChallengeRequiredOnNewDevice: true, DeviceOnlyRememberedOnUserPrompt: true } });
  await gh.admin.send(new SetUserPoolMfaConfigCommand({ UserPoolId: poolId, MfaConfiguration: 'ON', SmsMfaConfiguration: { SmsConfiguration: SMS_CONFIG } }));
  const phone = `+1555020${String(n).padStart(4, '0')}`;
  const username = await user(poolId, { phone_number: phone });
  const mfa = async (r: { Session?: string }, extra: Record<string, string> = {}, since = 0) => cip.send(new RespondToAuthChallengeCommand({
    ClientId: clientId, ChallengeName: 'SMS_MFA', Session: r.Session, ChallengeResponses: { USERNAME: username, SMS_MFA_CODE: await sms.code(phone, since), ...extra },
  }));
  let since = Date.now();
  const first = await signIn(clientId, username);
  assert.equal(first.ChallengeName, 'SMS_MFA');
  const done = await mfa(first, {}, since);
  const meta = done.AuthenticationResult!.NewDeviceMetadata!;
  assert.match(meta.DeviceKey!, /^local_[0-9a-f-]{36}$/);
  const AccessToken = done.AuthenticationResult!.AccessToken!;
  const device = { key: meta.DeviceKey!, group: meta.DeviceGroupKey!, password: 'device-random-password' };
  const salt = generateSalt();
  const verifier = computeVerifier(device.group, device.key, device.password, salt);
  const confirmed = await cip.send(new ConfirmDeviceCommand({
    AccessToken, DeviceKey: device.key, DeviceName: 'laptop',
    DeviceSecretVerifierConfig: { PasswordVerifier: Buffer.from(padHex(verifier), 'hex').toString('base64'), Salt: Buffer.from(padHex(salt), 'hex').toString('base64') },
  }));
  assert.equal(confirmed.UserConfirmationNecessary, true);
  assert.equal(await nameOf(cip.send(new ConfirmDeviceCommand({ AccessToken, DeviceKey: device.key, DeviceSecretVerifierConfig: { PasswordVerifier: 'AA==', Salt: 'AA==' } }))), 'NotAuthorizedException', 'confirmed once');

  // Not remembered: MFA first, then the device proves itself.
  since = Date.now();
  const second = await signIn(clientId, username, { DEVICE_KEY: device.key });
  assert.equal(second.ChallengeName, 'SMS_MFA');
  const afterMfa = await mfa(second, { DEVICE_KEY: device.key }, since);
  assert.equal(afterMfa.ChallengeName, 'DEVICE_SRP_AUTH');
  const proved = await proveDevice(clientId, afterMfa.Session!, username, device);
  assert.ok(proved.AuthenticationResult?.AccessToken);
  assert.equal(proved.AuthenticationResult?.NewDeviceMetadata, undefined);

  const listed = await cip.send(new ListDevicesCommand({ AccessToken }));
  assert.equal(listed.Devices?.length, 1);
  const attrs = Object.fromEntries(listed.Devices![0].DeviceAttributes!.map((a) => [a.Name, a.Value]));
  assert.deepEqual([attrs.device_name, attrs['dev:device_remembered_status'], attrs.device_status], ['laptop', 'not_remembered', 'valid']);
  await cip.send(new UpdateDeviceStatusCommand({ AccessToken, DeviceKey: device.key, DeviceRememberedStatus: 'remembered' }));
  const got = await cip.send(new GetDeviceCommand({ AccessToken, DeviceKey: device.key }));
  assert.ok(got.Device?.DeviceAttributes?.some((a) => a.Name === 'dev:device_remembered_status' && a.Value === 'remembered'));

  // Remembered: the device stands in for MFA, once it proves itself.
  const third = await signIn(clientId, username, { DEVICE_KEY: device.key });
  assert.equal(third.ChallengeName, 'DEVICE_SRP_AUTH');
  assert.ok((await proveDevice(clientId, third.Session!, username, device)).AuthenticationResult?.AccessToken);

  const adminList = await gh.admin.send(new AdminListDevicesCommand({ UserPoolId: poolId, Username: username }));
  assert.deepEqual(adminList.Devices?.map((d) => d.DeviceKey), [device.key]);
  assert.equal((await gh.admin.send(new AdminGetDeviceCommand({ UserPoolId: poolId, Username: username, DeviceKey: device.key }))).Device?.DeviceKey, device.key);
  await gh.admin.send(new AdminUpdateDeviceStatusCommand({ UserPoolId: poolId, Username: username, DeviceKey: device.key, DeviceRememberedStatus: 'not_remembered' }));
  assert.equal((await signIn(clientId, username, { DEVICE_KEY: device.key })).ChallengeName, 'SMS_MFA');
  await gh.admin.send(new AdminForgetDeviceCommand({ UserPoolId: poolId, Username: username, DeviceKey: device.key }));
  assert.equal(await nameOf(cip.send(new GetDeviceCommand({ AccessToken, DeviceKey: device.key }))), 'ResourceNotFoundException');
  assert.equal((await gh.admin.send(new AdminListDevicesCommand({ UserPoolId: poolId, Username: username }))).Devices?.length, 0);
  // Another user's device key is nobody's device for this user.
  const other = await user(poolId, { phone_number: `+1555030${String(n).padStart(4, '0')}` });
  assert.equal(await nameOf(gh.admin.send(new AdminGetDeviceCommand({ UserPoolId: poolId, Username: other, DeviceKey: device.key }))), 'ResourceNotFoundException');
});

test('a failing SMS webhook answers CodeDeliveryFailureException at once, with no session to answer', async () => {
  const { poolId, clientId } = await plainPool({ MfaConfiguration: 'ON', SmsConfiguration: SMS_CONFIG });
  const username = await user(poolId, { phone_number: '+15550409999' });
  sms.failing = true;
  try {
    const started = Date.now();
    assert.equal(await nameOf(signIn(clientId, username)), 'CodeDeliveryFailureException');
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  } finally {
    sms.failing = false;
  }
  const r = await signIn(clientId, username);
  assert.equal(r.ChallengeName, 'SMS_MFA');
});

test('a slow SMS webhook: the challenge goes out at the sign-in deadline, and the text arrives once', async () => {
  const { poolId, clientId } = await plainPool({ MfaConfiguration: 'ON', SmsConfiguration: SMS_CONFIG });
  const phone = '+15550408888';
  const username = await user(poolId, { phone_number: phone });
  sms.delayMs = 4500;
  try {
    const started = Date.now();
    const r = await signIn(clientId, username);
    assert.equal(r.ChallengeName, 'SMS_MFA');
    assert.ok(Date.now() - started < 4500, `took ${Date.now() - started} ms`);
    const code = await sms.code(phone, started, 8000);
    const done = await cip.send(new RespondToAuthChallengeCommand({ ClientId: clientId, ChallengeName: 'SMS_MFA', Session: r.Session, ChallengeResponses: { USERNAME: username, SMS_MFA_CODE: code } }));
    assert.ok(done.AuthenticationResult?.AccessToken);
    // The outbox held the message while the first send was under way, and let it go once it landed.
    await new Promise((res) => setTimeout(res, 500));
    assert.equal((await queryDatabase(gh, 'select id from outbox')).length, 0);
    await new Promise((res) => setTimeout(res, 2000));
    assert.equal(sms.sentTo(phone), 1);
  } finally {
    sms.delayMs = 0;
  }
});
