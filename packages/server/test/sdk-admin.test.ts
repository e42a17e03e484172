// The AWS SDK v3 against a real Gatehouse process: admin operations, signatures, malformed input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CognitoIdentityProviderClient, ListUsersCommand, AdminCreateUserCommand, AdminGetUserCommand, AdminInitiateAuthCommand,
  AdminRespondToAuthChallengeCommand, AdminSetUserPasswordCommand, AdminDisableUserCommand, AdminEnableUserCommand, AdminDeleteUserCommand,
  AdminConfirmSignUpCommand, AdminUpdateUserAttributesCommand, AdminDeleteUserAttributesCommand, InitiateAuthCommand, SignUpCommand,
  DescribeUserPoolCommand, ListUserPoolsCommand, DescribeUserPoolClientCommand, GetUserCommand, AdminUserGlobalSignOutCommand,
  GetTokensFromRefreshTokenCommand, ListGroupsCommand, CreateGroupCommand, AdminListGroupsForUserCommand, AdminAddUserToGroupCommand,
  ListUsersInGroupCommand, AdminRemoveUserFromGroupCommand, DeleteGroupCommand, UpdateUserPoolClientCommand, DeleteUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, createPoolAndClient, rawCall, uniqueEmail, queryDatabase, ADMIN, type Gatehouse } from './support/harness.js';

let gh: Gatehouse, poolId: string, clientId: string, user: CognitoIdentityProviderClient;

before(async () => {
  gh = await startGatehouse();
  ({ poolId, clientId } = await createPoolAndClient(gh, { UsernameAttributes: undefined, AliasAttributes: ['email'], AutoVerifiedAttributes: [], Schema: undefined }));
  user = new CognitoIdentityProviderClient({ endpoint: gh.url, region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
});
after(async () => { user?.destroy(); await gh?.stop(); });

async function errorName(p: Promise<unknown>) {
  try { await p; } catch (e) { return (e as Error).name; }
  return 'no error';
}

async function makeUser(username: string, attrs: Record<string, string> = {}, password = 'Perm-Passw0rd!') {
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: username, MessageAction: 'SUPPRESS', UserAttributes: Object.entries(attrs).map(([Name, Value]) => ({ Name, Value })) }));
  await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: username, Password: password, Permanent: true }));
}

test('pool and client describe back what was created, with Cognito defaults', async () => {
  const { UserPool } = await gh.admin.send(new DescribeUserPoolCommand({ UserPoolId: poolId }));
  assert.equal(UserPool!.Id, poolId);
  assert.match(poolId, /^local_[0-9A-Za-z]+$/);
  assert.equal(UserPool!.Policies!.PasswordPolicy!.MinimumLength, 8);
  const { UserPoolClient } = await gh.admin.send(new DescribeUserPoolClientCommand({ UserPoolId: poolId, ClientId: clientId }));
  assert.equal(UserPoolClient!.PreventUserExistenceErrors, 'ENABLED');
  const pools = await gh.admin.send(new ListUserPoolsCommand({ MaxResults: 60 }));
  assert.ok(pools.UserPools!.some((p) => p.Id === poolId));
});

test('admin password sign-in, new-password challenge, and enable/disable', async () => {
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: 'temp-user', TemporaryPassword: 'Temp-Passw0rd!', MessageAction: 'SUPPRESS' }));
  const first = await gh.admin.send(new AdminInitiateAuthCommand({ UserPoolId: poolId, ClientId: clientId, AuthFlow: 'ADMIN_USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'temp-user', PASSWORD: 'Temp-Passw0rd!' } }));
  assert.equal(first.ChallengeName, 'NEW_PASSWORD_REQUIRED');
  assert.ok(first.Session);
  const done = await gh.admin.send(new AdminRespondToAuthChallengeCommand({ UserPoolId: poolId, ClientId: clientId, ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: first.Session, ChallengeResponses: { USERNAME: 'temp-user', NEW_PASSWORD: 'Final-Passw0rd!' } }));
  assert.ok(done.AuthenticationResult?.AccessToken);
  // The session was used up: replaying it fails.
  assert.equal(await errorName(gh.admin.send(new AdminRespondToAuthChallengeCommand({ UserPoolId: poolId, ClientId: clientId, ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: first.Session, ChallengeResponses: { USERNAME: 'temp-user', NEW_PASSWORD: 'Other-Passw0rd!' } }))), 'NotAuthorizedException');

  await gh.admin.send(new AdminDisableUserCommand({ UserPoolId: poolId, Username: 'temp-user' }));
  assert.equal(await errorName(user.send(new GetUserCommand({ AccessToken: done.AuthenticationResult!.AccessToken }))), 'NotAuthorizedException');
  const disabled = await errorName(user.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'temp-user', PASSWORD: 'Final-Passw0rd!' } })));
  assert.equal(disabled, 'NotAuthorizedException');
  await gh.admin.send(new AdminEnableUserCommand({ UserPoolId: poolId, Username: 'temp-user' }));
  const again = await user.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'TEMP-USER', PASSWORD: 'Final-Passw0rd!' } }));
  assert.ok(again.AuthenticationResult?.RefreshToken, 'usernames are case-insensitive by default');
});

test('refresh through REFRESH_TOKEN_AUTH and GetTokensFromRefreshToken; AdminUserGlobalSignOut revokes', async () => {
  await makeUser('refresher');
  const r = await user.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'refresher', PASSWORD: 'Perm-Passw0rd!' } }));
  const refresh = r.AuthenticationResult!.RefreshToken!;
  const a = await user.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: refresh } }));
  assert.ok(a.AuthenticationResult!.AccessToken);
  assert.equal(a.AuthenticationResult!.RefreshToken, undefined);
  const b = await user.send(new GetTokensFromRefreshTokenCommand({ ClientId: clientId, RefreshToken: refresh }));
  assert.ok(b.AuthenticationResult!.IdToken);
  await gh.admin.send(new AdminUserGlobalSignOutCommand({ UserPoolId: poolId, Username: 'refresher' }));
  assert.equal(await errorName(user.send(new GetTokensFromRefreshTokenCommand({ ClientId: clientId, RefreshToken: refresh }))), 'NotAuthorizedException');
  assert.equal(await errorName(user.send(new GetUserCommand({ AccessToken: a.AuthenticationResult!.AccessToken }))), 'NotAuthorizedException');
});

test('refresh token rotation hands out a new token and retires the old one', async () => {
  await gh.admin.send(new UpdateUserPoolClientCommand({ UserPoolId: poolId, ClientId: clientId, ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_ADMIN_USER_PASSWORD_AUTH'], RefreshTokenRotation: { Feature: 'ENABLED', RetryGracePeriodSeconds: 0 } }));
  try {
    await makeUser('rotator');
    const r = await user.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'rotator', PASSWORD: 'Perm-Passw0rd!' } }));
    const old = r.AuthenticationResult!.RefreshToken!;
    const next = await user.send(new GetTokensFromRefreshTokenCommand({ ClientId: clientId, RefreshToken: old }));
    assert.ok(next.AuthenticationResult!.RefreshToken && next.AuthenticationResult!.RefreshToken !== old);
    await new Promise((res) => setTimeout(res, 1100));
    assert.equal(await errorName(user.send(new GetTokensFromRefreshTokenCommand({ ClientId: clientId, RefreshToken: old }))), 'NotAuthorizedException');
    assert.ok((await user.send(new GetTokensFromRefreshTokenCommand({ ClientId: clientId, RefreshToken: next.AuthenticationResult!.RefreshToken! }))).AuthenticationResult);
  } finally {
    await gh.admin.send(new UpdateUserPoolClientCommand({ UserPoolId: poolId, ClientId: clientId, ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_USER_AUTH'] }));
  }
});

test('flows not allowed for the client are refused', async () => {
  await gh.admin.send(new UpdateUserPoolClientCommand({ UserPoolId: poolId, ClientId: clientId }));
  try {
    const e = await errorName(user.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'a', PASSWORD: 'b' } })));
    assert.equal(e, 'InvalidParameterException');
  } finally {
    await gh.admin.send(new UpdateUserPoolClientCommand({ UserPoolId: poolId, ClientId: clientId, ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_USER_AUTH'] }));
  }
});

test('ListUsers filters and paginates', async () => {
  for (let i = 0; i < 5; i++) await makeUser(`lister-${i}`, { email: `lister${i}@filter.test`, given_name: i % 2 ? 'Odd' : 'Even' });
  const eq = await gh.admin.send(new ListUsersCommand({ UserPoolId: poolId, Filter: 'email = "lister3@filter.test"' }));
  assert.deepEqual(eq.Users!.map((u) => u.Username), ['lister-3']);
  const prefix = await gh.admin.send(new ListUsersCommand({ UserPoolId: poolId, Filter: 'username ^= "lister-"' }));
  assert.equal(prefix.Users!.length, 5);
  const odd = await gh.admin.send(new ListUsersCommand({ UserPoolId: poolId, Filter: 'given_name = "Odd"' }));
  assert.deepEqual(odd.Users!.map((u) => u.Username).sort(), ['lister-1', 'lister-3']);
  const status = await gh.admin.send(new ListUsersCommand({ UserPoolId: poolId, Filter: 'cognito:user_status = "CONFIRMED"' }));
  assert.ok(status.Users!.length >= 5);
  const seen: string[] = [];
  let token: string | undefined;
  do {
    const page = await gh.admin.send(new ListUsersCommand({ UserPoolId: poolId, Filter: 'username ^= "lister-"', Limit: 2, PaginationToken: token }));
    assert.ok(page.Users!.length <= 2);
    seen.push(...page.Users!.map((u) => u.Username!));
    token = page.PaginationToken;
  } while (token);
  assert.deepEqual(seen, ['lister-0', 'lister-1', 'lister-2', 'lister-3', 'lister-4']);
  assert.equal(await errorName(gh.admin.send(new ListUsersCommand({ UserPoolId: poolId, Filter: 'nickname = "x"' }))), 'InvalidParameterException');
  assert.equal(await errorName(gh.admin.send(new ListUsersCommand({ UserPoolId: poolId, Filter: 'email = unquoted' }))), 'InvalidParameterException');
});

test('attributes, groups and user lifecycle through admin calls', async () => {
  await makeUser('lifecycle', { email: 'life@cycle.test' });
  await gh.admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId, Username: 'lifecycle', UserAttributes: [{ Name: 'email_verified', Value: 'true' }, { Name: 'nickname', Value: 'lc' }] }));
  // A verified email is an alias: the user can sign in with it.
  const viaAlias = await user.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'life@cycle.test', PASSWORD: 'Perm-Passw0rd!' } }));
  assert.ok(viaAlias.AuthenticationResult);
  await gh.admin.send(new AdminDeleteUserAttributesCommand({ UserPoolId: poolId, Username: 'lifecycle', UserAttributeNames: ['nickname'] }));
  const got = await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'lifecycle' }));
  assert.equal(got.UserAttributes!.find((a) => a.Name === 'nickname'), undefined);
  assert.equal(got.UserAttributes!.find((a) => a.Name === 'email_verified')!.Value, 'true');

  await gh.admin.send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: 'admins', Description: 'd' }));
  assert.equal(await errorName(gh.admin.send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: 'admins' }))), 'GroupExistsException');
  await gh.admin.send(new AdminAddUserToGroupCommand({ UserPoolId: poolId, Username: 'lifecycle', GroupName: 'admins' }));
  assert.deepEqual((await gh.admin.send(new AdminListGroupsForUserCommand({ UserPoolId: poolId, Username: 'lifecycle' }))).Groups!.map((g) => g.GroupName), ['admins']);
  assert.deepEqual((await gh.admin.send(new ListUsersInGroupCommand({ UserPoolId: poolId, GroupName: 'admins' }))).Users!.map((u) => u.Username), ['lifecycle']);
  assert.ok((await gh.admin.send(new ListGroupsCommand({ UserPoolId: poolId }))).Groups!.some((g) => g.GroupName === 'admins'));
  await gh.admin.send(new AdminRemoveUserFromGroupCommand({ UserPoolId: poolId, Username: 'lifecycle', GroupName: 'admins' }));
  await gh.admin.send(new DeleteGroupCommand({ UserPoolId: poolId, GroupName: 'admins' }));

  await gh.admin.send(new AdminDeleteUserCommand({ UserPoolId: poolId, Username: 'lifecycle' }));
  assert.equal(await errorName(gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'lifecycle' }))), 'UserNotFoundException');
});

test('AdminConfirmSignUp confirms an unconfirmed user', async () => {
  await user.send(new SignUpCommand({ ClientId: clientId, Username: 'self-signed', Password: 'Self-Passw0rd!' }));
  assert.equal((await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'self-signed' }))).UserStatus, 'UNCONFIRMED');
  await gh.admin.send(new AdminConfirmSignUpCommand({ UserPoolId: poolId, Username: 'self-signed' }));
  assert.equal((await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'self-signed' }))).UserStatus, 'CONFIRMED');
  assert.equal(await errorName(user.send(new SignUpCommand({ ClientId: clientId, Username: 'Self-Signed', Password: 'Self-Passw0rd!' }))), 'UsernameExistsException');
});

test('admin calls without a valid signature are refused', async () => {
  const body = JSON.stringify({ UserPoolId: poolId });
  const unsigned = await rawCall(gh.url, 'ListUsers', body);
  assert.equal(unsigned.status, 400);
  assert.equal(unsigned.type, 'MissingAuthenticationTokenException');
  const wrongKey = new CognitoIdentityProviderClient({ endpoint: gh.url, region: 'us-east-1', credentials: { accessKeyId: ADMIN.accessKeyId, secretAccessKey: 'not-the-secret' }, maxAttempts: 1 });
  assert.equal(await errorName(wrongKey.send(new ListUsersCommand({ UserPoolId: poolId }))), 'InvalidSignatureException');
  const unknownKey = new CognitoIdentityProviderClient({ endpoint: gh.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'x' }, maxAttempts: 1 });
  assert.equal(await errorName(unknownKey.send(new ListUsersCommand({ UserPoolId: poolId }))), 'UnrecognizedClientException');
  // Apps keep their AWS region: a signature scoped to another region is still valid.
  const otherRegion = new CognitoIdentityProviderClient({ endpoint: gh.url, region: 'ap-southeast-2', credentials: ADMIN, maxAttempts: 1 });
  assert.ok((await otherRegion.send(new ListUsersCommand({ UserPoolId: poolId }))).Users);
  for (const c of [wrongKey, unknownKey, otherRegion]) c.destroy();
});

test('malformed requests get 4xx Cognito errors, never 500', async () => {
  const cases: [string | undefined, string | Buffer, string][] = [
    ['InitiateAuth', '{not json', 'SerializationException'],
    ['InitiateAuth', '[]', 'SerializationException'],
    ['InitiateAuth', JSON.stringify({ ClientId: 123, AuthFlow: 'USER_SRP_AUTH' }), 'SerializationException'],
    ['InitiateAuth', JSON.stringify({ AuthFlow: 'USER_SRP_AUTH' }), 'InvalidParameterException'],
    ['InitiateAuth', JSON.stringify({ ClientId: clientId, AuthFlow: 'NOPE' }), 'InvalidParameterException'],
    ['InitiateAuth', JSON.stringify({ ClientId: clientId, AuthFlow: 'USER_SRP_AUTH', AuthParameters: { USERNAME: 'x', SRP_A: 'zz' } }), 'InvalidParameterException'],
    ['InitiateAuth', JSON.stringify({ ClientId: clientId, AuthFlow: 'USER_SRP_AUTH', AuthParameters: { USERNAME: 'x', SRP_A: '00' } }), 'InvalidParameterException'],
    ['InitiateAuth', JSON.stringify({ ClientId: 'doesnotexist', AuthFlow: 'USER_SRP_AUTH', AuthParameters: { USERNAME: 'x', SRP_A: 'ab' } }), 'ResourceNotFoundException'],
    ['RespondToAuthChallenge', JSON.stringify({ ClientId: clientId, ChallengeName: 'PASSWORD_VERIFIER', Session: 'forged-session-'.repeat(3), ChallengeResponses: {} }), 'NotAuthorizedException'],
    ['GetUser', JSON.stringify({ AccessToken: 'not.a.jwt' }), 'NotAuthorizedException'],
    ['SignUp', JSON.stringify({ ClientId: clientId, Username: 'u'.repeat(200), Password: 'Aa1!aaaa' }), 'InvalidParameterException'],
    ['SignUp', JSON.stringify({ ClientId: clientId, Username: 'attr-user', Password: 'Good-Passw0rd!', UserAttributes: [{ Name: 'not_an_attribute', Value: 'x' }] }), 'InvalidParameterException'],
    ['SignUp', JSON.stringify({ ClientId: clientId, Username: 'attr-user', Password: 'Good-Passw0rd!', UserAttributes: 'nope' }), 'SerializationException'],
    ['NoSuchOperation', '{}', 'UnknownOperationException'],
    [undefined, '{}', 'UnknownOperationException'],
    ['SignUp', Buffer.alloc(600 * 1024, 0x61), 'RequestEntityTooLargeException'],
  ];
  for (const [target, body, expected] of cases) {
    const r = await rawCall(gh.url, target, body);
    assert.ok(r.status >= 400 && r.status < 500, `${target} ${String(body).slice(0, 60)} -> ${r.status}`);
    assert.equal(r.type, expected, `${target} ${String(body).slice(0, 60)}`);
    assert.equal(r.json?.__type, expected);
    assert.equal(typeof r.json?.message, 'string');
  }
  // Nothing half-written: the refused sign-up left no user behind.
  assert.equal(await errorName(gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'attr-user' }))), 'UserNotFoundException');
  assert.equal((await fetch(gh.url + '/health')).status, 200);
});

test('CORS preflight allows the Amplify headers', async () => {
  const res = await fetch(gh.url + '/', { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-amz-target,x-amz-user-agent,cache-control,amz-sdk-invocation-id,amz-sdk-request' } });
  assert.ok(res.status < 300);
  assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example');
  assert.match(res.headers.get('access-control-allow-headers')!, /x-amz-target/);
});

test('JWKS and discovery are served per pool', async () => {
  const jwks = await (await fetch(`${gh.url}/${poolId}/.well-known/jwks.json`)).json();
  assert.equal(jwks.keys[0].alg, 'RS256');
  assert.ok(jwks.keys[0].kid && jwks.keys[0].n && !jwks.keys[0].d);
  const oidc = await (await fetch(`${gh.url}/${poolId}/.well-known/openid-configuration`)).json();
  assert.ok(oidc.issuer.endsWith('/' + poolId));
  void uniqueEmail;
});

test('DeleteUserPool removes the pool with its users, sessions, codes, tokens and memberships', async () => {
  const doomed = await createPoolAndClient(gh, { UsernameAttributes: undefined, Schema: undefined, AutoVerifiedAttributes: [] });
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: doomed.poolId, Username: 'doomed', TemporaryPassword: 'Temp-Passw0rd!', MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: 'doomed@pool.test' }, { Name: 'email_verified', Value: 'true' }] }));
  const challenge = await user.send(new InitiateAuthCommand({ ClientId: doomed.clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'doomed', PASSWORD: 'Temp-Passw0rd!' } }));
  assert.equal(challenge.ChallengeName, 'NEW_PASSWORD_REQUIRED');
  await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: doomed.poolId, Username: 'doomed', Password: 'Perm-Passw0rd!', Permanent: true }));
  const refresh = (await user.send(new InitiateAuthCommand({ ClientId: doomed.clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'doomed', PASSWORD: 'Perm-Passw0rd!' } }))).AuthenticationResult!.RefreshToken!;
  await gh.admin.send(new CreateGroupCommand({ UserPoolId: doomed.poolId, GroupName: 'g' }));
  await gh.admin.send(new AdminAddUserToGroupCommand({ UserPoolId: doomed.poolId, Username: 'doomed', GroupName: 'g' }));
  await gh.admin.send(new (await import('@aws-sdk/client-cognito-identity-provider')).AdminResetUserPasswordCommand({ UserPoolId: doomed.poolId, Username: 'doomed' }));
  const counts = async () => {
    const out: Record<string, number> = {};
    for (const table of ['users', 'codes', 'refresh_tokens', 'user_groups', 'auth_sessions', 'groups', 'clients']) {
      out[table] = Number((await queryDatabase<{ n: number }>(gh, `select count(*) as n from ${table} where pool_id = ?`, [doomed.poolId]))[0].n);
    }
    return out;
  };
  const before = await counts();
  for (const table of ['users', 'codes', 'refresh_tokens', 'user_groups', 'auth_sessions']) assert.ok(before[table] > 0, `${table} had rows`);
  await gh.admin.send(new DeleteUserPoolCommand({ UserPoolId: doomed.poolId }));
  assert.deepEqual(Object.values(await counts()), [0, 0, 0, 0, 0, 0, 0]);
  assert.equal(await errorName(user.send(new GetTokensFromRefreshTokenCommand({ ClientId: doomed.clientId, RefreshToken: refresh }))), 'ResourceNotFoundException');
});
