// Older apps built on amazon-cognito-identity-js turn SMS MFA on and off with the legacy
// SetUserSettings (enableMFA / disableMFA) and read it from GetUser's MFAOptions (getMFAOptions).
// Driven here by that library itself, unmodified, and by the AWS SDK for AdminSetUserSettings.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AuthenticationDetails, CognitoUser, CognitoUserPool, type CognitoUserSession } from 'amazon-cognito-identity-js';
import {
  AdminCreateUserCommand, AdminGetUserCommand, AdminSetUserPasswordCommand, AdminSetUserSettingsCommand, SetUserPoolMfaConfigCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, createPoolAndClient, errorOf, type Gatehouse } from './support/harness.js';
import { SmsCatcher } from './support/sms.js';

let gh: Gatehouse, sms: SmsCatcher, poolId: string, clientId: string;
const PASSWORD = 'Correct-Horse-9';
const SMS = { DeliveryMedium: 'SMS', AttributeName: 'phone_number' } as const;
let n = 0;

before(async () => {
  sms = await new SmsCatcher().start();
  gh = await startGatehouse({ GATEHOUSE_SMS_WEBHOOK_URL: sms.url });
  ({ poolId, clientId } = await createPoolAndClient(gh, { UsernameAttributes: undefined, AutoVerifiedAttributes: undefined, Schema: undefined }));
  await gh.admin.send(new SetUserPoolMfaConfigCommand({
    UserPoolId: poolId, MfaConfiguration: 'OPTIONAL',
    SmsMfaConfiguration: { SmsConfiguration: { SnsCallerArn: 'arn:aws:iam::123456789012:role/sms', ExternalId: 'gatehouse' } },
  }));
});
after(async () => { await gh?.stop(); await sms?.close(); });

async function user(attrs: Record<string, string>) {
  const username = `legacy${process.pid}x${n++}`;
  await gh.admin.send(new AdminCreateUserCommand({
    UserPoolId: poolId, Username: username, MessageAction: 'SUPPRESS',
    UserAttributes: Object.entries(attrs).map(([Name, Value]) => ({ Name, Value })),
  }));
  await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: username, Password: PASSWORD, Permanent: true }));
  return username;
}

const cognitoUser = (username: string) =>
  new CognitoUser({ Username: username, Pool: new CognitoUserPool({ UserPoolId: poolId, ClientId: clientId, endpoint: `${gh.url}/` }) });

/** An SRP sign-in with the library; an SMS MFA challenge is answered with the code the webhook got. */
function signIn(u: CognitoUser, phone: string): Promise<{ session: CognitoUserSession; askedForSms: boolean }> {
  const since = Date.now();
  let askedForSms = false;
  return new Promise((resolve, reject) => {
    const callbacks = {
      onSuccess: (session: CognitoUserSession) => resolve({ session, askedForSms }),
      onFailure: reject,
      mfaRequired: (challenge: string) => {
        askedForSms = challenge === 'SMS_MFA';
        sms.code(phone, since).then((code) => u.sendMFACode(code, callbacks), reject);
      },
    };
    u.authenticateUser(new AuthenticationDetails({ Username: u.getUsername(), Password: PASSWORD }), callbacks);
  });
}

const call = <T>(f: (cb: (err: Error | undefined | null, result?: T) => void) => void) =>
  new Promise<T | undefined>((resolve, reject) => f((err, result) => (err ? reject(err) : resolve(result))));

test('amazon-cognito-identity-js enableMFA turns SMS MFA on through SetUserSettings, getMFAOptions shows it, and disableMFA turns it off', async () => {
  const phone = `+1555010${String(1000 + n).slice(-4)}`;
  const u = cognitoUser(await user({ phone_number: phone, phone_number_verified: 'true' }));
  assert.equal((await signIn(u, phone)).askedForSms, false, 'OPTIONAL MFA, nothing enabled: no challenge');
  assert.equal(await call((cb) => u.getMFAOptions(cb)), undefined);

  assert.equal(await call<string>((cb) => u.enableMFA(cb)), 'SUCCESS');
  assert.deepEqual(await call((cb) => u.getMFAOptions(cb)), [SMS]);
  assert.deepEqual((await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: u.getUsername() }))).UserMFASettingList, ['SMS_MFA']);
  const withMfa = await signIn(cognitoUser(u.getUsername()), phone);
  assert.equal(withMfa.askedForSms, true, 'the next sign-in meets an SMS code');
  assert.ok(withMfa.session.isValid());

  assert.equal(await call<string>((cb) => u.disableMFA(cb)), 'SUCCESS');
  assert.equal(await call((cb) => u.getMFAOptions(cb)), undefined);
  assert.equal((await signIn(cognitoUser(u.getUsername()), phone)).askedForSms, false);
});

test('AdminSetUserSettings sets SMS MFA only, and only for a user with a phone number', async () => {
  const username = await user({ phone_number: '+15550109999' });
  await gh.admin.send(new AdminSetUserSettingsCommand({ UserPoolId: poolId, Username: username, MFAOptions: [SMS] }));
  const got = await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: username }));
  assert.deepEqual(got.MFAOptions, [SMS]);
  assert.deepEqual(got.UserMFASettingList, ['SMS_MFA']);
  for (const MFAOptions of [[{ DeliveryMedium: 'EMAIL' as const, AttributeName: 'email' }], [SMS, SMS], [{ DeliveryMedium: 'SMS' as const, AttributeName: 'email' }]]) {
    assert.equal((await errorOf(gh.admin.send(new AdminSetUserSettingsCommand({ UserPoolId: poolId, Username: username, MFAOptions }))))?.name, 'InvalidParameterException', JSON.stringify(MFAOptions));
  }
  await gh.admin.send(new AdminSetUserSettingsCommand({ UserPoolId: poolId, Username: username, MFAOptions: [] }));
  const off = await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: username }));
  assert.equal(off.MFAOptions, undefined);
  assert.equal(off.UserMFASettingList, undefined);

  const phoneless = await user({});
  assert.equal((await errorOf(gh.admin.send(new AdminSetUserSettingsCommand({ UserPoolId: poolId, Username: phoneless, MFAOptions: [SMS] }))))?.name, 'InvalidParameterException');
});
