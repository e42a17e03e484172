// Races against the sign-in and code limits: bursts of parallel guesses must meet the limits a
// serial attacker meets. On PostgreSQL the burst is spread across two server processes on one
// schema (as behind a load balancer); on SQLite one process serves it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  CognitoIdentityProviderClient, AdminCreateUserCommand, AdminSetUserPasswordCommand, InitiateAuthCommand, SignUpCommand, ConfirmSignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  MailCatcher, startGatehouse, createPoolAndClient, uniqueEmail, queryDatabase, createPostgresNamespace, userClient, testDatabase,
  type Gatehouse, type PostgresNamespace,
} from './support/harness.js';

const PASSWORD = 'Right-Passw0rd!';
let ns: PostgresNamespace | undefined, mail: MailCatcher, servers: Gatehouse[] = [], clients: CognitoIdentityProviderClient[] = [];
let poolId: string, clientId: string, legacyClientId: string;

before(async () => {
  mail = await new MailCatcher().start();
  const env: Record<string, string> = { GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${mail.port}`, GATEHOUSE_MASTER_KEY: crypto.randomBytes(32).toString('base64') };
  if (testDatabase === 'postgres') {
    ns = await createPostgresNamespace();
    servers = await Promise.all([startGatehouse({ ...env, GATEHOUSE_DATABASE_URL: ns.url }), startGatehouse({ ...env, GATEHOUSE_DATABASE_URL: ns.url })]);
  } else {
    servers = [await startGatehouse(env)];
  }
  clients = servers.map((s) => userClient(s.url));
  ({ poolId, clientId } = await createPoolAndClient(servers[0]));
  // A client that does not hide users answers a dead code with ExpiredCodeException, so the test can
  // tell a compared guess (CodeMismatchException) from a refused one.
  legacyClientId = (await createPoolAndClient(servers[0], {}, { PreventUserExistenceErrors: 'LEGACY' })).clientId;
});
after(async () => {
  for (const c of clients) c.destroy();
  await Promise.all(servers.map((s) => s.stop()));
  await mail?.close();
  await ns?.drop();
});

/** Sends the calls all at once, alternating between the processes. */
function burst<T>(n: number, call: (cip: CognitoIdentityProviderClient, i: number) => Promise<T>) {
  return Promise.allSettled(Array.from({ length: n }, (_, i) => call(clients[i % clients.length], i)));
}

test('lockout bypass: 50 parallel wrong passwords are counted as a serial attacker\'s would be, and the lock holds against the right one', async () => {
  const email = uniqueEmail('burst');
  await servers[0].admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: email, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }] }));
  await servers[0].admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: email, Password: PASSWORD, Permanent: true }));
  // Nine failures already: the next one locks for 2^5 s, long enough to outlast the burst on a slow machine.
  await queryDatabase(servers[0], 'update users set failed_attempts = 9 where email_key = ?', [email]);
  const results = await burst(50, (cip, i) => cip.send(new InitiateAuthCommand({
    ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: `Wrong-${i}-Passw0rd` },
  })));
  for (const r of results) {
    assert.equal((r as PromiseRejectedResult).reason.name, 'NotAuthorizedException');
    assert.equal((r as PromiseRejectedResult).reason.message, 'Incorrect username or password.');
  }
  // One guess was counted (and so compared), as for a serial attacker; the other 49 met its lock.
  const [row] = await queryDatabase<{ failed_attempts: number; locked_until: string | number }>(servers[0], 'select failed_attempts, locked_until from users where email_key = ?', [email]);
  assert.equal(Number(row.failed_attempts), 10);
  assert.ok(Number(row.locked_until) > Date.now() + 20_000, 'the tenth failure locked the user for 32 s');
  // The right password now fails too, on either process, and is not even counted.
  for (const cip of clients) {
    await assert.rejects(cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD } })), { name: 'NotAuthorizedException' });
  }
  const [after] = await queryDatabase<{ failed_attempts: number }>(servers[0], 'select failed_attempts from users where email_key = ?', [email]);
  assert.equal(Number(after.failed_attempts), 10);
});

test('code brute force race: of 50 parallel wrong codes at most 5 are compared, and the right code is refused after them', async () => {
  const email = uniqueEmail('codes');
  const since = Date.now();
  await clients[0].send(new SignUpCommand({ ClientId: legacyClientId, Username: email, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: email }] }));
  const code = await mail.code(email, since);
  const wrongs = new Set<string>();
  while (wrongs.size < 50) {
    const guess = String(crypto.randomInt(0, 1e6)).padStart(6, '0');
    if (guess !== code) wrongs.add(guess);
  }
  const guesses = [...wrongs];
  const results = await burst(guesses.length, (cip, i) => cip.send(new ConfirmSignUpCommand({ ClientId: legacyClientId, Username: email, ConfirmationCode: guesses[i] })));
  const names = results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as Error).name));
  assert.equal(names.filter((n) => n === 'CodeMismatchException').length, 5, `compared guesses: ${names.join(' ')}`);
  assert.equal(names.filter((n) => n === 'ExpiredCodeException').length, guesses.length - 5);
  const [row] = await queryDatabase<{ attempts: number }>(servers[0], "select attempts from codes where purpose = 'signUp:email' and user_id = (select id from users where email_key = ?)", [email]);
  assert.equal(Number(row.attempts), 5);
  // The code is dead: the right one no longer confirms the user, on either process.
  for (const cip of clients) {
    await assert.rejects(cip.send(new ConfirmSignUpCommand({ ClientId: legacyClientId, Username: email, ConfirmationCode: code })), { name: 'ExpiredCodeException' });
  }
});
