// The admin console's server side: its system pool of operators (made once, whatever the number
// of processes), the CLI's invitations, bearer-token access to the admin operations for members of
// the operators group only, the CSRF check, the audit log, the activity counts and the CSP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  AdminAddUserToGroupCommand, AdminCreateUserCommand, AdminDisableUserCommand, AdminEnableUserCommand, AdminRemoveUserFromGroupCommand,
  AdminSetUserPasswordCommand, ConfirmSignUpCommand, ForgotPasswordCommand, InitiateAuthCommand, ListUserPoolsCommand, ResendConfirmationCodeCommand,
  RespondToAuthChallengeCommand, SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, startMailSuite, uniqueEmail, queryDatabase, type MailSuite, type Gatehouse } from './support/harness.js';
import { consoleCall, consoleIds, consoleView, inviteOperator, operatorToken, runCli, OPERATOR_PASSWORD } from './support/console.js';

let suite: MailSuite;
let gh: Gatehouse;
let operator: string, token: string;

before(async () => {
  suite = await startMailSuite();
  gh = suite.gh;
  operator = uniqueEmail('operator');
  token = await operatorToken(gh, operator, await inviteOperator(gh, suite.mail, operator));
});
after(async () => { await suite?.stop(); });

async function operatorPools(g: Gatehouse) {
  const { UserPools } = await g.admin.send(new ListUserPoolsCommand({ MaxResults: 60 }));
  return UserPools!.filter((p) => p.Name === 'gatehouse-operators');
}

/** A user of the console's pool with a permanent password, in no group. */
async function consolePoolUser(email = uniqueEmail('staff')) {
  const { userPoolId } = await consoleIds(gh);
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: userPoolId, Username: email, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }] }));
  await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: userPoolId, Username: email, Password: OPERATOR_PASSWORD, Permanent: true }));
  return email;
}

test('the system pool is made once: by racing processes at first start, and not again by a second server on the same store', async () => {
  const first = await startGatehouse({ GATEHOUSE_PROCESSES: '3' });
  try {
    const second = await startGatehouse({ GATEHOUSE_DATA_DIR: first.dataDir, GATEHOUSE_DATABASE_URL: first.env.GATEHOUSE_DATABASE_URL });
    try {
      const pools = await operatorPools(first);
      assert.equal(pools.length, 1);
      const a = await consoleIds(first), b = await consoleIds(second);
      assert.deepEqual(a, b);
      assert.equal(a.userPoolId, pools[0].Id);
    } finally { await second.stop(); }
  } finally { await first.stop(); }
});

test('add-operator mails an invitation through the outbox; the operator signs in with SRP and reaches the admin operations with the access token', async () => {
  const created = await consoleCall(gh, token, 'CreateUserPool', { PoolName: 'made-by-console' });
  assert.equal(created.status, 200, JSON.stringify(created.json));
  const listed = await consoleCall(gh, token, 'ListUserPools', { MaxResults: 60 });
  assert.ok(listed.json.UserPools.some((p: { Id: string }) => p.Id === created.json.UserPool.Id));
  const { json } = await consoleView(gh, token, 'audit?limit=200');
  const mine = json.entries.filter((e: { operator: string }) => e.operator === operator);
  const create = mine.find((e: { operation: string }) => e.operation === 'CreateUserPool');
  assert.deepEqual({ ...create, id: undefined, at: undefined, operator_sub: undefined, ip: undefined }, {
    id: undefined, at: undefined, operator_sub: undefined, ip: undefined, operator, operation: 'CreateUserPool', kind: 'write', pool_id: created.json.UserPool.Id, target: 'PoolName=made-by-console', outcome: 'ok',
  });
  assert.ok(Math.abs(create.at - Date.now()) < 60_000);
  assert.ok(mine.some((e: { operation: string; kind: string }) => e.operation === 'ListUserPools' && e.kind === 'read'));
  // The CLI's own calls are in the log too.
  assert.ok(json.entries.some((e: { operator_sub: string; operation: string; target: string }) => e.operator_sub === 'cli' && e.operation === 'AdminCreateUser' && e.target === `Username=${operator}`));
});

test('audit: a refused console call is logged with the error\'s name, and nothing else changed', async () => {
  const bad = await consoleCall(gh, token, 'CreateUserPool', { PoolName: 'bad/name' });
  assert.equal(bad.type, 'InvalidParameterException');
  assert.match(bad.json.message, /^1 validation error detected: Value 'bad\/name' at 'poolName' failed to satisfy constraint/);
  const missing = await consoleCall(gh, token, 'DescribeUserPool', { UserPoolId: 'local_nothere1' });
  assert.equal(missing.type, 'ResourceNotFoundException');
  const { json } = await consoleView(gh, token, 'audit?limit=20');
  const outcomes = json.entries.filter((e: { operator: string }) => e.operator === operator).map((e: { operation: string; outcome: string; pool_id: string | null }) => `${e.operation}:${e.outcome}:${e.pool_id}`);
  assert.ok(outcomes.includes('CreateUserPool:InvalidParameterException:null'), outcomes.join('\n'));
  assert.ok(outcomes.includes('DescribeUserPool:ResourceNotFoundException:local_nothere1'), outcomes.join('\n'));
  // Writes only: reads are left out.
  const writes = await consoleView(gh, token, 'audit?writes=1&limit=200');
  assert.ok(writes.json.entries.length > 0 && writes.json.entries.every((e: { kind: string }) => e.kind === 'write'));
});

test('add-operator again sends a new temporary password to one who never signed in, and leaves a signed-in operator\'s password alone', async () => {
  const never = uniqueEmail('late');
  const first = await inviteOperator(gh, suite.mail, never);
  const second = await inviteOperator(gh, suite.mail, never);
  assert.notEqual(first, second);
  await assert.rejects(operatorToken(gh, never, first));
  assert.ok(await operatorToken(gh, never, second));
  const again = await runCli(gh, ['console', 'add-operator', operator]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /already had an account/);
  assert.ok(await operatorToken(gh, operator, OPERATOR_PASSWORD));
});

test('CSRF: a console call without the console\'s header, from another origin, or sent cross-site is refused before any operation', async () => {
  for (const headers of [{ 'x-gatehouse-console': undefined }, { origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }, { origin: 'null' }]) {
    const r = await consoleCall(gh, token, 'CreateUserPool', { PoolName: 'csrf' }, headers);
    assert.equal(r.status, 403, JSON.stringify(headers));
    assert.equal(r.type, 'AccessDeniedException');
  }
  assert.equal((await operatorPools(gh)).length, 1);
  const { UserPools } = await gh.admin.send(new ListUserPoolsCommand({ MaxResults: 60 }));
  assert.ok(!UserPools!.some((p) => p.Name === 'csrf'));
  // Same-origin requests from a browser (Sec-Fetch-Site: same-origin) and callers that send no Origin pass.
  assert.equal((await consoleCall(gh, token, 'ListUserPools', { MaxResults: 1 }, { 'sec-fetch-site': 'same-origin' })).status, 200);
  assert.equal((await consoleCall(gh, token, 'ListUserPools', { MaxResults: 1 }, { origin: undefined })).status, 200);
});

test('privilege escalation: users of the console\'s pool outside the operators group, and app users, reach no admin operation', async () => {
  const staff = await consolePoolUser();
  const staffToken = await operatorToken(gh, staff, OPERATOR_PASSWORD);
  const r = await consoleCall(gh, staffToken, 'ListUserPools', { MaxResults: 60 });
  assert.equal(r.status, 403);
  assert.equal(r.type, 'AccessDeniedException');
  assert.match(r.json.message, /is not a member of the operators group/);
  // A member of the app's own pool, even in a group named operators there.
  const email = uniqueEmail('app');
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: suite.poolId, Username: email, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: email }] }));
  await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: suite.poolId, Username: email, Password: OPERATOR_PASSWORD, Permanent: true }));
  const auth = await suite.cip.send(new InitiateAuthCommand({ ClientId: suite.clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: OPERATOR_PASSWORD } }));
  const app = await consoleCall(gh, auth.AuthenticationResult!.AccessToken!, 'ListUserPools', { MaxResults: 60 });
  assert.equal(app.status, 403);
  assert.equal(app.type, 'AccessDeniedException');
  for (const view of ['audit', `activity?pool=${suite.poolId}`]) assert.equal((await consoleView(gh, staffToken, view)).status, 403);
  assert.equal((await consoleView(gh, 'not-a-token', 'audit')).status, 400);
  assert.equal((await fetch(`${gh.url}/console/api/audit`, { headers: { 'x-gatehouse-console': '1' } })).status, 403);
  // Refused calls are not operators' actions: nothing of theirs is in the audit log.
  const { json } = await consoleView(gh, token, 'audit?limit=200');
  assert.ok(!json.entries.some((e: { operator: string }) => e.operator === staff || e.operator === email));
});

test('an operator taken out of the group, disabled, or signed out everywhere is refused at once', async () => {
  const { userPoolId } = await consoleIds(gh);
  const other = await consolePoolUser();
  await gh.admin.send(new AdminAddUserToGroupCommand({ UserPoolId: userPoolId, Username: other, GroupName: 'operators' }));
  const t = await operatorToken(gh, other, OPERATOR_PASSWORD);
  assert.equal((await consoleCall(gh, t, 'ListUserPools', { MaxResults: 1 })).status, 200);
  await gh.admin.send(new AdminRemoveUserFromGroupCommand({ UserPoolId: userPoolId, Username: other, GroupName: 'operators' }));
  assert.equal((await consoleCall(gh, t, 'ListUserPools', { MaxResults: 1 })).type, 'AccessDeniedException');
  await gh.admin.send(new AdminAddUserToGroupCommand({ UserPoolId: userPoolId, Username: other, GroupName: 'operators' }));
  await gh.admin.send(new AdminDisableUserCommand({ UserPoolId: userPoolId, Username: other }));
  const disabled = await consoleCall(gh, t, 'ListUserPools', { MaxResults: 1 });
  assert.equal(disabled.type, 'NotAuthorizedException');
  assert.equal(disabled.wwwAuthenticate, 'Bearer error="invalid_token"', 'the console tells a dead session from an operation\'s refusal');
  await gh.admin.send(new AdminEnableUserCommand({ UserPoolId: userPoolId, Username: other }));
  const t2 = await operatorToken(gh, other, OPERATOR_PASSWORD);
  assert.equal((await consoleCall(gh, t2, 'AdminUserGlobalSignOut', { UserPoolId: userPoolId, Username: other })).status, 200);
  const out = await consoleCall(gh, t2, 'ListUserPools', { MaxResults: 1 });
  assert.equal(out.type, 'NotAuthorizedException');
  assert.match(out.json.message, /revoked/);
});

test('the console cannot change or delete its own app client or delete the operators group', async () => {
  const { userPoolId, userPoolClientId } = await consoleIds(gh);
  for (const [op, input] of [
    ['DeleteUserPoolClient', { UserPoolId: userPoolId, ClientId: userPoolClientId }],
    ['UpdateUserPoolClient', { UserPoolId: userPoolId, ClientId: userPoolClientId, ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'] }],
    ['DeleteGroup', { UserPoolId: userPoolId, GroupName: 'operators' }],
  ] as const) {
    const r = await consoleCall(gh, token, op, input);
    assert.equal(r.type, 'InvalidParameterException', op);
  }
  assert.equal((await consoleCall(gh, token, 'DescribeUserPoolClient', { UserPoolId: userPoolId, ClientId: userPoolClientId })).status, 200);
  // Nor delete the pool itself while its deletion protection is on.
  assert.equal((await consoleCall(gh, token, 'DeleteUserPool', { UserPoolId: userPoolId })).type, 'InvalidParameterException');
});

test('activity counts a pool\'s sign-ins succeeded, failed and challenged, lockouts, sign-ups and codes sent', async () => {
  const { cip, clientId, poolId, mail } = suite;
  const before = (await consoleView(gh, token, `activity?pool=${poolId}&range=hour`)).json.totals;
  const email = uniqueEmail('active');
  const t0 = Date.now();
  await cip.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: OPERATOR_PASSWORD, UserAttributes: [{ Name: 'email', Value: email }] }));
  await cip.send(new ResendConfirmationCodeCommand({ ClientId: clientId, Username: email }));
  await cip.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: await mail.code(email, t0) }));
  const signIn = (password: string) => cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: password } }));
  await signIn(OPERATOR_PASSWORD);
  for (let i = 0; i < 5; i++) await assert.rejects(signIn('Wrong-Passw0rd-1'));
  await assert.rejects(signIn('Wrong-Passw0rd-1')); // refused while locked
  await cip.send(new ForgotPasswordCommand({ ClientId: clientId, Username: email }));
  const invited = uniqueEmail('invited');
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: invited, TemporaryPassword: 'Temp-Passw0rd-1', MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: invited }] }));
  const r = await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: invited, PASSWORD: 'Temp-Passw0rd-1' } }));
  assert.equal(r.ChallengeName, 'NEW_PASSWORD_REQUIRED');
  await cip.send(new RespondToAuthChallengeCommand({ ClientId: clientId, ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: r.Session, ChallengeResponses: { USERNAME: invited, NEW_PASSWORD: OPERATOR_PASSWORD } }));

  const { status, json } = await consoleView(gh, token, `activity?pool=${poolId}&range=hour`);
  assert.equal(status, 200);
  const delta = Object.fromEntries(Object.entries(json.totals as Record<string, number>).map(([k, v]) => [k, v - before[k]]));
  assert.deepEqual(delta, { signInSucceeded: 2, signInFailed: 6, signInChallenged: 1, lockouts: 2, signUps: 1, codeSends: 2 });
  assert.equal(json.starts.length, 60);
  assert.equal(json.series.signInFailed.reduce((a: number, b: number) => a + b, 0), json.totals.signInFailed);
  for (const range of ['day', 'week']) {
    const other = (await consoleView(gh, token, `activity?pool=${poolId}&range=${range}`)).json;
    assert.equal(other.starts.length, range === 'day' ? 96 : 168);
    assert.ok(other.totals.signInSucceeded >= 2);
  }
  // The week's closed quarter-hours were counted once and stored; later loads read them.
  const [{ n }] = await queryDatabase<{ n: number | string }>(gh, 'select count(*) as n from activity_rollups where pool_id = ?', [poolId]);
  assert.ok(Number(n) >= 660 && Number(n) <= 672, String(n));
  assert.equal((await consoleView(gh, token, `activity?pool=${poolId}&range=year`)).type, 'InvalidParameterException');
  assert.equal((await consoleView(gh, token, 'activity?pool=local_nothere1')).type, 'ResourceNotFoundException');
});

test('the console is served with a strict CSP, and answers only its own origin', async () => {
  const page = await fetch(`${gh.url}/console/`, { headers: { origin: 'https://evil.example' } });
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type')!, /^text\/html/);
  const csp = page.headers.get('content-security-policy')!;
  for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "require-trusted-types-for 'script'"]) assert.ok(csp.includes(d), d);
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(page.headers.get('x-frame-options'), 'DENY');
  assert.equal(page.headers.get('access-control-allow-origin'), null);
  const html = await page.text();
  assert.doesNotMatch(html, /<script>|<style|\sstyle=|\son[a-z]+=/i, 'nothing inline');
  const js = await fetch(`${gh.url}/console/app.js`);
  assert.match(js.headers.get('content-type')!, /^text\/javascript/);
  const etag = js.headers.get('etag')!;
  assert.equal((await fetch(`${gh.url}/console/app.js`, { headers: { 'if-none-match': etag } })).status, 304);
  assert.equal((await fetch(`${gh.url}/console/nothing.js`)).status, 404);
  assert.equal((await fetch(`${gh.url}/console`, { redirect: 'manual' })).headers.get('location'), '/console/');
});

test('GATEHOUSE_CONSOLE=off: no console, no system pool, and no bearer token reaches an admin operation', async () => {
  const off = await startGatehouse({ GATEHOUSE_CONSOLE: 'off' });
  try {
    for (const path of ['/console/', '/console/config.json', '/console/api/audit']) {
      const res = await fetch(off.url + path);
      assert.equal(res.headers.get('x-amzn-errortype'), 'ResourceNotFoundException', path);
    }
    assert.deepEqual(await operatorPools(off), []);
    const r = await consoleCall(off, token, 'ListUserPools', { MaxResults: 1 });
    assert.equal(r.type, 'InvalidSignatureException');
    const cli = await runCli(off, ['console', 'add-operator', uniqueEmail('nobody')]);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /GATEHOUSE_CONSOLE=off/);
    assert.deepEqual(await operatorPools(off), []);
  } finally { await off.stop(); }
});
