// Behaviour that depends on the store: ordering, pagination, unique keys, characters a store may
// refuse. Runs on whichever database the suite uses (GATEHOUSE_TEST_DATABASE), and must answer
// the same on both; the last test gives PostgreSQL a database whose default collation is not "C".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  CognitoIdentityProviderClient, AdminCreateUserCommand, AdminUpdateUserAttributesCommand, ListUsersCommand, ListGroupsCommand,
  CreateGroupCommand, AdminAddUserToGroupCommand, ListUsersInGroupCommand, AdminListGroupsForUserCommand, SignUpCommand,
  ListUserPoolsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, createPoolAndClient, rawCall, uniqueEmail, testDatabase, postgresAdmin, postgresUnreachable, testPostgresUrl, type Gatehouse } from './support/harness.js';

let gh: Gatehouse, cip: CognitoIdentityProviderClient;
const PASSWORD = 'Parity-Passw0rd!';

before(async () => {
  gh = await startGatehouse();
  cip = new CognitoIdentityProviderClient({ endpoint: gh.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
});
after(async () => { cip?.destroy(); await gh?.stop(); });

async function errorName(p: Promise<unknown>) {
  try { await p; } catch (e) { return (e as Error).name; }
  return 'no error';
}

/** Binary (code point) order, as SQLite compares text: the order every listing must follow. */
const binary = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

// Names whose binary order differs from any linguistic collation: case, punctuation, accents, symbols.
const NAMES = ['B', 'a', 'Z', '~tilde', 'é-acute', 'e', 'a-c', 'ab', '_under', 'Ω', 'a.b', '0', 'ä'];

/** Case-sensitive usernames and group names that sort differently under a linguistic collation page in binary order. */
async function checkListingOrder(server: Gatehouse) {
  const { poolId } = await createPoolAndClient(server, { UsernameAttributes: undefined, AutoVerifiedAttributes: [], Schema: undefined, UsernameConfiguration: { CaseSensitive: true } });
  for (const name of NAMES) {
    await server.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: name, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'given_name', Value: `G${name}` }] }));
    await server.admin.send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: name }));
    await server.admin.send(new AdminAddUserToGroupCommand({ UserPoolId: poolId, Username: name, GroupName: name }));
    await server.admin.send(new AdminAddUserToGroupCommand({ UserPoolId: poolId, Username: NAMES[0], GroupName: name }));
  }
  const expected = [...NAMES].sort(binary);

  const users: string[] = [];
  let token: string | undefined;
  do {
    const page = await server.admin.send(new ListUsersCommand({ UserPoolId: poolId, Limit: 3, PaginationToken: token }));
    users.push(...page.Users!.map((u) => u.Username!));
    token = page.PaginationToken;
  } while (token);
  assert.deepEqual(users, expected, 'ListUsers pages in binary order');

  const groups: string[] = [];
  let next: string | undefined;
  do {
    const page = await server.admin.send(new ListGroupsCommand({ UserPoolId: poolId, Limit: 4, NextToken: next }));
    groups.push(...page.Groups!.map((g) => g.GroupName!));
    next = page.NextToken;
  } while (next);
  assert.deepEqual(groups, expected, 'ListGroups pages in binary order');

  const memberOf: string[] = [];
  next = undefined;
  do {
    const page = await server.admin.send(new AdminListGroupsForUserCommand({ UserPoolId: poolId, Username: NAMES[0], Limit: 5, NextToken: next }));
    memberOf.push(...page.Groups!.map((g) => g.GroupName!));
    next = page.NextToken;
  } while (next);
  assert.deepEqual(memberOf, expected, 'AdminListGroupsForUser pages in binary order');

  const inGroup = await server.admin.send(new ListUsersInGroupCommand({ UserPoolId: poolId, GroupName: NAMES[1] }));
  assert.deepEqual(inGroup.Users!.map((u) => u.Username).sort(binary), [NAMES[0], NAMES[1]].sort(binary));

  // Prefix filters are binary ranges too, on columns and on attributes alike.
  const filtered = async (Filter: string) => (await server.admin.send(new ListUsersCommand({ UserPoolId: poolId, Filter }))).Users!.map((u) => u.Username!);
  assert.deepEqual(await filtered('username ^= "a"'), ['a', 'a-c', 'a.b', 'ab']);
  assert.deepEqual(await filtered('given_name ^= "Ga"'), ['a', 'a-c', 'a.b', 'ab']);
  assert.deepEqual(await filtered('given_name ^= "Ge"'), ['e']);
  assert.deepEqual(await filtered('given_name = "GΩ"'), ['Ω']);
  assert.deepEqual(await filtered('username ^= "A"'), []);
  assert.deepEqual(await filtered('status = "Enabled"'), expected);
}

test('listings and filters page in binary order, whatever the database collation', async () => {
  await checkListingOrder(gh);
});

test('unique keys answer the same exception on both stores', async () => {
  // Username taken.
  const plain = await createPoolAndClient(gh, { UsernameAttributes: undefined, AliasAttributes: ['email', 'preferred_username'], AutoVerifiedAttributes: [], Schema: undefined });
  await cip.send(new SignUpCommand({ ClientId: plain.clientId, Username: 'taken', Password: PASSWORD }));
  assert.equal(await errorName(cip.send(new SignUpCommand({ ClientId: plain.clientId, Username: 'TAKEN', Password: PASSWORD }))), 'UsernameExistsException');
  // Alias taken: a verified email, a preferred_username.
  const mk = async (Username: string) => gh.admin.send(new AdminCreateUserCommand({ UserPoolId: plain.poolId, Username, MessageAction: 'SUPPRESS' }));
  await mk('first');
  await mk('second');
  const set = (Username: string, attrs: Record<string, string>) => gh.admin.send(new AdminUpdateUserAttributesCommand({
    UserPoolId: plain.poolId, Username, UserAttributes: Object.entries(attrs).map(([Name, Value]) => ({ Name, Value })),
  }));
  await set('first', { email: 'alias@parity.test', email_verified: 'true', preferred_username: 'nick' });
  assert.equal(await errorName(set('second', { email: 'alias@parity.test', email_verified: 'true' })), 'AliasExistsException');
  assert.equal(await errorName(set('second', { preferred_username: 'nick' })), 'AliasExistsException');
  // Email as username.
  const byEmail = await createPoolAndClient(gh);
  const email = uniqueEmail('parity');
  await cip.send(new SignUpCommand({ ClientId: byEmail.clientId, Username: email, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: email }] }));
  let dup: Error | undefined;
  try { await cip.send(new SignUpCommand({ ClientId: byEmail.clientId, Username: email.toUpperCase(), Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: email.toUpperCase() }] })); } catch (e) { dup = e as Error; }
  assert.equal(dup?.name, 'UsernameExistsException');
  assert.equal(dup?.message, 'An account with the given email already exists.');
  // Group name taken.
  await gh.admin.send(new CreateGroupCommand({ UserPoolId: plain.poolId, GroupName: 'g' }));
  assert.equal(await errorName(gh.admin.send(new CreateGroupCommand({ UserPoolId: plain.poolId, GroupName: 'g' }))), 'GroupExistsException');
});

test('U+0000, which PostgreSQL text cannot hold, is refused as a parameter error on both stores', async () => {
  const { poolId, clientId } = await createPoolAndClient(gh);
  const calls: [string, object][] = [
    ['SignUp', { ClientId: clientId, Username: 'nul\u0000@parity.test', Password: PASSWORD }],
    ['InitiateAuth', { ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'a\u0000b', PASSWORD } }],
    ['ForgotPassword', { ClientId: clientId, Username: 'x\u0000' }],
  ];
  for (const [op, body] of calls) {
    const r = await rawCall(gh.url, op, JSON.stringify(body));
    assert.equal(r.status, 400, `${op}: ${r.text}`);
    assert.equal(r.type, 'InvalidParameterException', op);
  }
  // Admin calls, signed: an attribute value, a filter, a group description, a forged pagination token.
  const email = uniqueEmail('nul');
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: email, MessageAction: 'SUPPRESS' }));
  const refused = [
    () => gh.admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId, Username: email, UserAttributes: [{ Name: 'name', Value: 'x\u0000y' }] })),
    () => gh.admin.send(new ListUsersCommand({ UserPoolId: poolId, Filter: 'name = "x\u0000y"' })),
    () => gh.admin.send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: 'g', Description: 'a\u0000' })),
    () => gh.admin.send(new ListUsersCommand({ UserPoolId: poolId, PaginationToken: Buffer.from('a\u0000').toString('base64url') })),
  ];
  for (const call of refused) assert.equal(await errorName(call()), 'InvalidParameterException');
  // The user is still there and unharmed.
  assert.equal((await gh.admin.send(new ListUsersCommand({ UserPoolId: poolId }))).Users!.length, 1);
  // A forged NextToken holding U+0000 is refused, or pages as though cut there; never an internal error.
  for (const g of ['a', 'b']) await gh.admin.send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: g }));
  await forgedNulToken(() => gh.admin.send(new ListGroupsCommand({ UserPoolId: poolId, NextToken: FORGED })));
});

const FORGED = Buffer.from('a\u0000z').toString('base64url');
async function forgedNulToken(call: () => Promise<{ Groups?: { GroupName?: string }[] }>) {
  try {
    assert.ok((await call()).Groups!.every((g) => g.GroupName === 'b'));
  } catch (e) {
    assert.equal((e as Error).name, 'InvalidParameterException');
  }
}

// TODO until repository.listGroupsForUser pages with cursor(after), or pageCursor refuses U+0000: on PostgreSQL it is a 500 now.
test('a forged NextToken holding U+0000 on AdminListGroupsForUser is not an internal error', async () => {
  const { poolId } = await createPoolAndClient(gh, { UsernameAttributes: undefined, AutoVerifiedAttributes: [], Schema: undefined });
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: 'member', MessageAction: 'SUPPRESS' }));
  for (const g of ['a', 'b']) {
    await gh.admin.send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: g }));
    await gh.admin.send(new AdminAddUserToGroupCommand({ UserPoolId: poolId, Username: 'member', GroupName: g }));
  }
  await forgedNulToken(() => gh.admin.send(new AdminListGroupsForUserCommand({ UserPoolId: poolId, Username: 'member', NextToken: FORGED })));
});

test('PostgreSQL: a database whose default collation is linguistic (ICU en-US) still lists in binary order', async (t) => {
  if (testDatabase !== 'postgres') return t.skip('PostgreSQL only (GATEHOUSE_TEST_DATABASE=postgres)');
  const why = await postgresUnreachable();
  if (why) throw new Error(why);
  const admin = postgresAdmin();
  const { rows } = await admin.query("select count(*)::int as n from pg_collation where collprovider = 'i'");
  if (rows[0].n === 0) return t.skip('this PostgreSQL has no ICU collations');
  const name = `gh_icu_${crypto.randomBytes(6).toString('hex')}`;
  await admin.query(`create database ${name} template template0 encoding 'UTF8' locale_provider icu icu_locale 'en-US' locale 'C.UTF-8'`);
  const url = new URL(testPostgresUrl);
  url.pathname = `/${name}`;
  let server: Gatehouse | undefined;
  try {
    // The collation is what the test is about: make sure it would sort differently.
    const probe = new (await import('pg')).default.Client({ connectionString: url.toString() });
    await probe.connect();
    const sorted = (await probe.query("select x from (values ('B'), ('a')) v(x) order by x")).rows.map((r) => r.x);
    await probe.end();
    assert.deepEqual(sorted, ['a', 'B'], 'the database sorts linguistically');
    server = await startGatehouse({ GATEHOUSE_DATABASE_URL: url.toString() });
    await checkListingOrder(server);
    // The pools checkListingOrder made, and the console's system pool.
    assert.equal((await server.admin.send(new ListUserPoolsCommand({ MaxResults: 10 }))).UserPools!.filter((p) => p.Name !== 'gatehouse-operators').length, 1);
  } finally {
    await server?.stop();
    await admin.query(`drop database if exists ${name} with (force)`);
  }
});
