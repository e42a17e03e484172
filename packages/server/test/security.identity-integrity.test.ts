// Identity integrity: who may vouch for an address, which attributes a user may write, and that
// every login names exactly one user. Each test is named after the attack it stops.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CognitoIdentityProviderClient, AdminCreateUserCommand, AdminSetUserPasswordCommand, AdminUpdateUserAttributesCommand, AdminDeleteUserAttributesCommand,
  AdminGetUserCommand, InitiateAuthCommand, RespondToAuthChallengeCommand, UpdateUserAttributesCommand, DeleteUserAttributesCommand,
  VerifyUserAttributeCommand, GetUserCommand, ListUsersCommand, SignUpCommand, CreateUserPoolCommand, UpdateUserPoolCommand, ForgotPasswordCommand,
  type AttributeType,
} from '@aws-sdk/client-cognito-identity-provider';
import { startMailSuite, createPoolAndClient, uniqueEmail, type MailCatcher, type MailSuite, type Gatehouse } from './support/harness.js';

let gh: Gatehouse, mail: MailCatcher, cip: CognitoIdentityProviderClient;
const PASSWORD = 'Sturdy-Passw0rd!';
const TEMP = 'Temp-Passw0rd!1';

let suite: MailSuite | undefined;
before(async () => {
  suite = await startMailSuite();
  ({ gh, mail, cip } = suite);
});
after(async () => { await suite?.stop(); });

async function err(p: Promise<unknown>) {
  try { await p; } catch (e) { return e as Error; }
  return undefined;
}

const attr = (list: AttributeType[] | undefined, name: string) => list?.find((a) => a.Name === name)?.Value;
const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));

/** A username pool where email and preferred_username are aliases, email auto-verified. */
async function aliasPool(pool: Record<string, unknown> = {}, client: Record<string, unknown> = {}) {
  return createPoolAndClient(gh, { UsernameAttributes: undefined, AliasAttributes: ['email', 'preferred_username'], AutoVerifiedAttributes: ['email'], Schema: undefined, ...pool }, client);
}

async function user(poolId: string, username: string, attributes: Record<string, string> = {}, permanent = true) {
  await gh.admin.send(new AdminCreateUserCommand({
    UserPoolId: poolId, Username: username, MessageAction: 'SUPPRESS', TemporaryPassword: TEMP,
    UserAttributes: Object.entries(attributes).map(([Name, Value]) => ({ Name, Value })),
  }));
  if (permanent) await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: username, Password: PASSWORD, Permanent: true }));
}

function signIn(clientId: string, login: string, password = PASSWORD) {
  return cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: login, PASSWORD: password } }));
}

async function tokens(clientId: string, login: string) {
  return (await signIn(clientId, login)).AuthenticationResult!;
}

test('verified-email forgery: an invited user cannot vouch for an email in the new-password step, nor make it an alias', async () => {
  const { poolId, clientId } = await aliasPool();
  const victim = uniqueEmail('victim');
  await user(poolId, 'invitee', {}, false);
  const challenge = await signIn(clientId, 'invitee', TEMP);
  assert.equal(challenge.ChallengeName, 'NEW_PASSWORD_REQUIRED');
  const answer = (responses: Record<string, string>) => cip.send(new RespondToAuthChallengeCommand({
    ClientId: clientId, ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: challenge.Session,
    ChallengeResponses: { USERNAME: 'invitee', NEW_PASSWORD: PASSWORD, ...responses },
  }));
  const forged = await err(answer({ 'userAttributes.email': victim, 'userAttributes.email_verified': 'true' }));
  assert.equal(forged?.name, 'NotAuthorizedException');
  // The session survives a refused answer; the email alone is taken, unverified.
  const done = await answer({ 'userAttributes.email': victim });
  const id = claims(done.AuthenticationResult!.IdToken!);
  assert.equal(id.email, victim);
  assert.equal(id.email_verified, false);
  assert.equal((await err(signIn(clientId, victim)))?.name, 'NotAuthorizedException', 'an unverified email is no alias');
  // Nor does password recovery go to an address nobody proved.
  const got = await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'invitee' }));
  assert.equal(attr(got.UserAttributes, 'email_verified'), 'false');
});

test('verified-email forgery: the new-password step writes only what the app client may write', async () => {
  const { poolId, clientId } = await aliasPool({ Schema: [{ Name: 'tenant', AttributeDataType: 'String', Mutable: false }] }, { WriteAttributes: ['name', 'email', 'custom:tenant'] });
  await user(poolId, 'limited', { 'custom:tenant': 'blue' }, false);
  const challenge = await signIn(clientId, 'limited', TEMP);
  const answer = (responses: Record<string, string>) => cip.send(new RespondToAuthChallengeCommand({
    ClientId: clientId, ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: challenge.Session,
    ChallengeResponses: { USERNAME: 'limited', NEW_PASSWORD: PASSWORD, ...responses },
  }));
  assert.equal((await err(answer({ 'userAttributes.nickname': 'x' })))?.name, 'NotAuthorizedException', 'not in WriteAttributes');
  assert.equal((await err(answer({ 'userAttributes.custom:tenant': 'red' })))?.name, 'InvalidParameterException', 'immutable and already set');
  const done = await answer({ 'userAttributes.name': 'Limited User', 'userAttributes.custom:tenant': 'blue' });
  assert.ok(done.AuthenticationResult?.AccessToken);
  const got = await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'limited' }));
  assert.equal(attr(got.UserAttributes, 'custom:tenant'), 'blue');
  assert.equal(attr(got.UserAttributes, 'name'), 'Limited User');
});

test('unverified takeover: a held email change keeps the old address as login and shown value until the code sent to the new one is verified', async () => {
  const { poolId, clientId } = await aliasPool({ UserAttributeUpdateSettings: { AttributesRequireVerificationBeforeUpdate: ['email'] } });
  const old = uniqueEmail('old'), next = uniqueEmail('next');
  await user(poolId, 'holder', { email: old, email_verified: 'true' });
  const { AccessToken } = await tokens(clientId, 'holder');
  const since = Date.now();
  const update = await cip.send(new UpdateUserAttributesCommand({ AccessToken, UserAttributes: [{ Name: 'email', Value: next }, { Name: 'name', Value: 'Holder' }] }));
  assert.equal(update.CodeDeliveryDetailsList?.[0]?.AttributeName, 'email');
  const code = await mail.code(next, since);
  // Held: shown, signed in and in tokens as before; the other attribute changed at once.
  const shown = (await cip.send(new GetUserCommand({ AccessToken }))).UserAttributes;
  assert.equal(attr(shown, 'email'), old);
  assert.equal(attr(shown, 'email_verified'), 'true');
  assert.equal(attr(shown, 'name'), 'Holder');
  const listed = await gh.admin.send(new ListUsersCommand({ UserPoolId: poolId, Filter: 'username = "holder"' }));
  assert.equal(attr(listed.Users?.[0]?.Attributes, 'email'), old);
  assert.equal(claims((await tokens(clientId, old)).IdToken!).email, old);
  assert.equal((await err(signIn(clientId, next)))?.name, 'NotAuthorizedException');
  // A wrong code changes nothing; the right one swaps the new address in, verified.
  assert.equal((await err(cip.send(new VerifyUserAttributeCommand({ AccessToken, AttributeName: 'email', Code: code === '000000' ? '111111' : '000000' }))))?.name, 'CodeMismatchException');
  await cip.send(new VerifyUserAttributeCommand({ AccessToken, AttributeName: 'email', Code: code }));
  const after = (await cip.send(new GetUserCommand({ AccessToken }))).UserAttributes;
  assert.equal(attr(after, 'email'), next);
  assert.equal(attr(after, 'email_verified'), 'true');
  const id = claims((await tokens(clientId, next)).IdToken!);
  assert.deepEqual([id.email, id.email_verified], [next, true]);
  assert.equal((await err(signIn(clientId, old)))?.name, 'NotAuthorizedException');
});

test('unverified takeover: an admin change is held too unless the admin vouches for the address in the same call', async () => {
  const { poolId, clientId } = await aliasPool({ UserAttributeUpdateSettings: { AttributesRequireVerificationBeforeUpdate: ['email'] } });
  const old = uniqueEmail('old'), held = uniqueEmail('held'), vouched = uniqueEmail('vouched');
  await user(poolId, 'managed', { email: old, email_verified: 'true' });
  const since = Date.now();
  await gh.admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId, Username: 'managed', UserAttributes: [{ Name: 'email', Value: held }] }));
  await mail.next(held, since); // the code goes to the new address
  let got = await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'managed' }));
  assert.deepEqual([attr(got.UserAttributes, 'email'), attr(got.UserAttributes, 'email_verified')], [old, 'true']);
  assert.ok((await tokens(clientId, old)).AccessToken);
  await gh.admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId, Username: 'managed', UserAttributes: [{ Name: 'email', Value: vouched }, { Name: 'email_verified', Value: 'true' }] }));
  got = await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'managed' }));
  assert.deepEqual([attr(got.UserAttributes, 'email'), attr(got.UserAttributes, 'email_verified')], [vouched, 'true']);
  assert.ok((await tokens(clientId, vouched)).AccessToken);
  assert.equal((await err(signIn(clientId, held)))?.name, 'NotAuthorizedException', 'the replaced held value is gone');
});

test('unverified takeover: without the setting, a changed email stops being verified for users and admins alike, and is no alias', async () => {
  const { poolId, clientId } = await aliasPool();
  const old = uniqueEmail('old'), mine = uniqueEmail('mine'), theirs = uniqueEmail('theirs');
  await user(poolId, 'changer', { email: old, email_verified: 'true' });
  const { AccessToken } = await tokens(clientId, 'changer');
  // A user cannot vouch for an address at all.
  assert.equal((await err(cip.send(new UpdateUserAttributesCommand({ AccessToken, UserAttributes: [{ Name: 'email', Value: mine }, { Name: 'email_verified', Value: 'true' }] }))))?.name, 'NotAuthorizedException');
  await cip.send(new UpdateUserAttributesCommand({ AccessToken, UserAttributes: [{ Name: 'email', Value: mine }] }));
  assert.equal(attr((await cip.send(new GetUserCommand({ AccessToken }))).UserAttributes, 'email_verified'), 'false');
  assert.equal((await err(signIn(clientId, mine)))?.name, 'NotAuthorizedException');
  await gh.admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId, Username: 'changer', UserAttributes: [{ Name: 'email_verified', Value: 'true' }] }));
  await gh.admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId, Username: 'changer', UserAttributes: [{ Name: 'email', Value: theirs }] }));
  const got = await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'changer' }));
  assert.deepEqual([attr(got.UserAttributes, 'email'), attr(got.UserAttributes, 'email_verified')], [theirs, 'false']);
  assert.equal((await err(signIn(clientId, theirs)))?.name, 'NotAuthorizedException');
});

test('immutable attribute rewrite: Mutable:false attributes cannot be changed or deleted once set, by users or admins', async () => {
  const { poolId, clientId } = await aliasPool({ Schema: [{ Name: 'tenant', AttributeDataType: 'String', Mutable: false }] });
  await user(poolId, 'tenant-a', { 'custom:tenant': 'a' });
  await user(poolId, 'tenant-less');
  const { AccessToken } = await tokens(clientId, 'tenant-a');
  const refused = [
    await err(cip.send(new UpdateUserAttributesCommand({ AccessToken, UserAttributes: [{ Name: 'custom:tenant', Value: 'b' }] }))),
    await err(cip.send(new DeleteUserAttributesCommand({ AccessToken, UserAttributeNames: ['custom:tenant'] }))),
    await err(gh.admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId, Username: 'tenant-a', UserAttributes: [{ Name: 'custom:tenant', Value: 'b' }] }))),
    await err(gh.admin.send(new AdminDeleteUserAttributesCommand({ UserPoolId: poolId, Username: 'tenant-a', UserAttributeNames: ['custom:tenant'] }))),
  ];
  assert.deepEqual(refused.map((e) => e?.name), Array(4).fill('InvalidParameterException'));
  assert.equal(refused[0]?.message, 'user.custom:tenant: Attribute cannot be updated.');
  // A user cannot give it a first value either; an admin can, once.
  const other = (await tokens(clientId, 'tenant-less')).AccessToken;
  assert.equal((await err(cip.send(new UpdateUserAttributesCommand({ AccessToken: other, UserAttributes: [{ Name: 'custom:tenant', Value: 'a' }] }))))?.name, 'InvalidParameterException');
  await gh.admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId, Username: 'tenant-less', UserAttributes: [{ Name: 'custom:tenant', Value: 'c' }] }));
  const got = await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'tenant-a' }));
  assert.equal(attr(got.UserAttributes, 'custom:tenant'), 'a');
});

test('attribute deletion past the client: DeleteUserAttributes honours WriteAttributes and never touches *_verified', async () => {
  const { poolId, clientId } = await aliasPool({}, { WriteAttributes: ['name', 'email'] });
  await user(poolId, 'deleter', { nickname: 'kept', name: 'gone', email: uniqueEmail('del'), email_verified: 'true' });
  const { AccessToken } = await tokens(clientId, 'deleter');
  assert.equal((await err(cip.send(new DeleteUserAttributesCommand({ AccessToken, UserAttributeNames: ['nickname'] }))))?.name, 'NotAuthorizedException');
  assert.equal((await err(cip.send(new DeleteUserAttributesCommand({ AccessToken, UserAttributeNames: ['email_verified'] }))))?.name, 'NotAuthorizedException');
  await cip.send(new DeleteUserAttributesCommand({ AccessToken, UserAttributeNames: ['name'] }));
  const got = (await cip.send(new GetUserCommand({ AccessToken }))).UserAttributes;
  assert.equal(attr(got, 'nickname'), 'kept');
  assert.equal(attr(got, 'name'), undefined);
});

test("alias hijack: no alias may equal another user's username, email or phone, so nobody signs in or resets as someone else", async () => {
  const { poolId, clientId } = await aliasPool({ AliasAttributes: ['email', 'phone_number', 'preferred_username'], AutoVerifiedAttributes: ['email'] });
  const victimEmail = uniqueEmail('victim');
  await user(poolId, 'victim', { email: victimEmail, email_verified: 'true', phone_number: '+15550000001', phone_number_verified: 'true' });
  await user(poolId, 'attacker');
  const { AccessToken } = await tokens(clientId, 'attacker');
  for (const taken of ['victim', 'VICTIM', victimEmail, '+15550000001']) {
    const viaUser = await err(cip.send(new UpdateUserAttributesCommand({ AccessToken, UserAttributes: [{ Name: 'preferred_username', Value: taken }] })));
    const viaAdmin = await err(gh.admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId, Username: 'attacker', UserAttributes: [{ Name: 'preferred_username', Value: taken }] })));
    assert.equal(viaUser?.name, 'AliasExistsException', taken);
    assert.equal(viaAdmin?.name, 'AliasExistsException', taken);
  }
  // The other way round: a new username equal to someone's alias.
  await gh.admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId, Username: 'attacker', UserAttributes: [{ Name: 'preferred_username', Value: 'boss' }] }));
  assert.equal((await err(user(poolId, 'Boss')))?.name, 'UsernameExistsException');
  // Every login still names its owner.
  assert.equal((await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'victim' }))).Username, 'victim');
  assert.equal(claims((await tokens(clientId, 'boss')).IdToken!)['cognito:username'], 'attacker');
  assert.equal((await err(signIn(clientId, 'victim')))?.name, undefined);
  const reset = await cip.send(new ForgotPasswordCommand({ ClientId: clientId, Username: 'victim' }));
  assert.equal(reset.CodeDeliveryDetails?.DeliveryMedium, 'EMAIL');
});

test('alias hijack race: 50 writers racing for one login key, as usernames and as aliases, leave exactly one holder', async () => {
  const { poolId } = await aliasPool();
  const racers = Array.from({ length: 25 }, (_, i) => `racer-${i}`);
  for (const r of racers) await user(poolId, r, {}, false);
  const results = await Promise.allSettled([
    ...racers.map((r) => gh.admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId, Username: r, UserAttributes: [{ Name: 'preferred_username', Value: 'prize' }] }))),
    ...racers.map(() => gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: 'prize', MessageAction: 'SUPPRESS', TemporaryPassword: TEMP }))),
  ]);
  const won = results.filter((r) => r.status === 'fulfilled');
  const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => (r.reason as Error).name);
  assert.equal(won.length, 1, lost.join(','));
  assert.ok(lost.every((n) => n === 'AliasExistsException' || n === 'UsernameExistsException'), lost.join(','));
  const holders = (await gh.admin.send(new ListUsersCommand({ UserPoolId: poolId }))).Users!
    .filter((u) => u.Username === 'prize' || attr(u.Attributes, 'preferred_username') === 'prize');
  assert.equal(holders.length, 1);
});

test('email comments: an address with a comment or display name is refused, so the verified address is the one the code went to', async () => {
  const { poolId, clientId } = await createPoolAndClient(gh);
  const { poolId: aliasId, clientId: aliasClient } = await aliasPool();
  for (const bad of ['attacker@evil.test(x.corp.test', 'Victim <attacker@evil.test>', '"a b"@evil.test', 'a@[127.0.0.1]']) {
    assert.equal((await err(cip.send(new SignUpCommand({ ClientId: clientId, Username: bad, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: bad }] }))))?.name, 'InvalidParameterException', bad);
    assert.equal((await err(gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: bad, MessageAction: 'SUPPRESS' }))))?.name, 'InvalidParameterException', bad);
    assert.equal((await err(gh.admin.send(new AdminCreateUserCommand({ UserPoolId: aliasId, Username: 'commented', MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: bad }] }))))?.name, 'InvalidParameterException', bad);
  }
  await user(aliasId, 'plain', { email: uniqueEmail('plain'), email_verified: 'true' });
  const { AccessToken } = await tokens(aliasClient, 'plain');
  assert.equal((await err(cip.send(new UpdateUserAttributesCommand({ AccessToken, UserAttributes: [{ Name: 'email', Value: 'attacker@evil.test(x.corp.test' }] }))))?.name, 'InvalidParameterException');
});

test('unenforced settings: MFA with no factor to meet it is refused at CreateUserPool and UpdateUserPool instead of silently ignored', async () => {
  const create = (input: Record<string, unknown>) => err(gh.admin.send(new CreateUserPoolCommand({ PoolName: 'unenforced', ...input })));
  for (const MfaConfiguration of ['ON', 'OPTIONAL'] as const) {
    const e = await create({ MfaConfiguration });
    assert.equal(e?.name, 'InvalidParameterException');
    assert.match(e!.message, /needs an MFA factor/);
  }
  assert.equal(await create({ MfaConfiguration: 'OFF' }), undefined);
  const { poolId } = await createPoolAndClient(gh);
  assert.equal((await err(gh.admin.send(new UpdateUserPoolCommand({ UserPoolId: poolId, MfaConfiguration: 'OPTIONAL' }))))?.name, 'InvalidParameterException');
});
