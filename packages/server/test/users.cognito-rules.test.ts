// User attribute and recovery rules as Cognito applies them, found by trying Gatehouse with boto3 and
// the AWS CLI: booleans in any case, deletes of attributes the schema lacks, admin-only recovery.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  AdminCreateUserCommand, AdminDeleteUserAttributesCommand, AdminGetUserCommand, AdminSetUserPasswordCommand, AdminUpdateUserAttributesCommand,
  DeleteUserAttributesCommand, ForgotPasswordCommand, GetUserCommand, InitiateAuthCommand, type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { createPoolAndClient, queryDatabase, rawCall, startGatehouse, userClient, refusal, type Gatehouse } from './support/harness.js';

let gh: Gatehouse, user: CognitoIdentityProviderClient, poolId: string, clientId: string;

before(async () => {
  gh = await startGatehouse();
  user = userClient(gh.url);
  ({ poolId, clientId } = await createPoolAndClient(gh, {
    UsernameAttributes: undefined, AliasAttributes: ['email'], AutoVerifiedAttributes: ['email'],
    Schema: [{ Name: 'plan', AttributeDataType: 'String' }],
  }));
});
after(async () => { user?.destroy(); await gh?.stop(); });


async function attributes(username: string, pool = poolId) {
  const got = await gh.admin.send(new AdminGetUserCommand({ UserPoolId: pool, Username: username }));
  return Object.fromEntries(got.UserAttributes!.map((a) => [a.Name, a.Value]));
}

async function signedInUser(username: string, attrs: Record<string, string>) {
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: username, MessageAction: 'SUPPRESS', UserAttributes: Object.entries(attrs).map(([Name, Value]) => ({ Name, Value })) }));
  await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: username, Password: 'Perm-Passw0rd!', Permanent: true }));
  const r = await user.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: username, PASSWORD: 'Perm-Passw0rd!' } }));
  return r.AuthenticationResult!.AccessToken!;
}

test('boolean attribute values are case-insensitive: email_verified "True" is accepted and stored as "true"', async () => {
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: 'booleans', MessageAction: 'SUPPRESS', UserAttributes: [
    { Name: 'email', Value: 'booleans@example.com' }, { Name: 'email_verified', Value: 'True' },
  ] }));
  assert.equal((await attributes('booleans')).email_verified, 'true');
  // Stored as "true", the email is a verified alias: the user signs in with it.
  await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: 'booleans', Password: 'Perm-Passw0rd!', Permanent: true }));
  const viaEmail = await user.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'booleans@example.com', PASSWORD: 'Perm-Passw0rd!' } }));
  assert.ok(viaEmail.AuthenticationResult?.AccessToken);
  await gh.admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId, Username: 'booleans', UserAttributes: [
    { Name: 'phone_number', Value: '+15550100' }, { Name: 'phone_number_verified', Value: 'FALSE' }, { Name: 'email_verified', Value: 'tRuE' },
  ] }));
  const after = await attributes('booleans');
  assert.equal(after.phone_number_verified, 'false');
  assert.equal(after.email_verified, 'true');
  assert.match(await refusal(gh.admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId, Username: 'booleans', UserAttributes: [{ Name: 'email_verified', Value: 'yes' }] }))),
    /^InvalidParameterException: /);
});

test('AdminDeleteUserAttributes naming an attribute the schema lacks: InvalidParameterException, nothing deleted', async () => {
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: 'admin-deletes', MessageAction: 'SUPPRESS', UserAttributes: [
    { Name: 'nickname', Value: 'nick' }, { Name: 'custom:plan', Value: 'pro' },
  ] }));
  const del = (names: string[]) => gh.admin.send(new AdminDeleteUserAttributesCommand({ UserPoolId: poolId, Username: 'admin-deletes', UserAttributeNames: names }));
  assert.equal(await refusal(del(['nickname', 'shoe_size'])), 'InvalidParameterException: Invalid user attributes: user.shoe_size: Attribute does not exist in the schema.\n');
  assert.equal(await refusal(del(['custom:undeclared'])), 'InvalidParameterException: Invalid user attributes: user.custom:undeclared: Attribute does not exist in the schema.\n');
  assert.equal((await attributes('admin-deletes')).nickname, 'nick');
  // Declared ones go.
  await del(['nickname', 'custom:plan']);
  const left = await attributes('admin-deletes');
  assert.equal(left.nickname, undefined);
  assert.equal(left['custom:plan'], undefined);
});

test('DeleteUserAttributes naming an attribute the schema lacks: InvalidParameterException, nothing deleted', async () => {
  const token = await signedInUser('self-deletes', { nickname: 'nick', given_name: 'Ann' });
  const del = (names: string[]) => user.send(new DeleteUserAttributesCommand({ AccessToken: token, UserAttributeNames: names }));
  assert.equal(await refusal(del(['given_name', 'shoe_size', 'hat'])),
    'InvalidParameterException: Invalid user attributes: user.shoe_size: Attribute does not exist in the schema.\nuser.hat: Attribute does not exist in the schema.\n');
  // Developer-only names are not the user's to name.
  assert.match(await refusal(del(['dev:custom:plan'])), /^InvalidParameterException: Invalid user attributes: user\.dev:custom:plan: /);
  const mine = async () => Object.fromEntries((await user.send(new GetUserCommand({ AccessToken: token }))).UserAttributes!.map((a) => [a.Name, a.Value]));
  assert.equal((await mine()).given_name, 'Ann');
  await del(['given_name']);
  assert.equal((await mine()).given_name, undefined);
});

test('ForgotPassword on an admin_only pool: "Contact administrator to reset password." for known and unknown usernames alike, no code issued', async () => {
  const adminOnly = await createPoolAndClient(gh, {
    UsernameAttributes: undefined, Schema: undefined, AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'admin_only', Priority: 1 }] },
  });
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: adminOnly.poolId, Username: 'stuck', MessageAction: 'SUPPRESS', UserAttributes: [
    { Name: 'email', Value: 'stuck@example.com' }, { Name: 'email_verified', Value: 'true' },
  ] }));
  for (const Username of ['stuck', 'nobody-here']) {
    assert.equal(await refusal(user.send(new ForgotPasswordCommand({ ClientId: adminOnly.clientId, Username }))),
      'NotAuthorizedException: Contact administrator to reset password.', Username);
  }
  const raw = await rawCall(gh.url, 'ForgotPassword', JSON.stringify({ ClientId: adminOnly.clientId, Username: 'stuck' }));
  assert.equal(raw.status, 400);
  assert.equal(raw.type, 'NotAuthorizedException');
  const codes = await queryDatabase<{ n: number | string }>(gh, 'select count(*) as n from codes where pool_id = ?', [adminOnly.poolId]);
  assert.equal(Number(codes[0].n), 0);
});
