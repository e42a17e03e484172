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

test('lockout bypass: 50 parallel password guesses meet the same limit as serial ones, and the right password among them fails', async () => {
  const email = uniqueEmail('burst');
  await servers[0].admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: email, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }] }));
  await servers[0].admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: email, Password: PASSWORD, Permanent: true }));
  // 50 wrong guesses first, then the right password 10 times, all in flight together.
  const results = await burst(60, (cip, i) => cip.send(new InitiateAuthCommand({
    ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: i < 50 ? `Wrong-${i}-Passw0rd` : PASSWORD },
  })));
  const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
  assert.deepEqual(won, [], 'no guess in the burst got tokens');
  for (const r of results) {
    assert.equal((r as PromiseRejectedResult).reason.name, 'NotAuthorizedException');
    assert.equal((r as PromiseRejectedResult).reason.message, 'Incorrect username or password.');
  }
  // Only the five attempts a serial attacker gets were counted (and so compared); the rest met the lock.
  const [row] = await queryDatabase<{ failed_attempts: number; locked_until: string | number }>(servers[0], 'select failed_attempts, locked_until from users where email_key = ?', [email]);
  assert.equal(Number(row.failed_attempts), 5);
  assert.ok(Number(row.locked_until) > Date.now() - 1000, 'the fifth failure locked the user');
});

test('code brute force race: 50 parallel wrong codes get at most 5 compared, and the right code sent among them is refused', async () => {
  const email = uniqueEmail('codes');
  const since = Date.now();
  await clients[0].send(new SignUpCommand({ ClientId: legacyClientId, Username: email, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: email }] }));
  const code = await mail.code(email, since);
  const wrongs = new Set<string>();
  while (wrongs.size < 50) {
    const guess = String(crypto.randomInt(0, 1e6)).padStart(6, '0');
    if (guess !== code) wrongs.add(guess);
  }
  const guesses = [...wrongs, ...Array(5).fill(code)];
  const results = await burst(guesses.length, (cip, i) => cip.send(new ConfirmSignUpCommand({ ClientId: legacyClientId, Username: email, ConfirmationCode: guesses[i] })));
  const names = results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as Error).name));
  assert.equal(names.filter((n) => n === 'ok').length, 0, 'the right code did not confirm the user');
  assert.equal(names.filter((n) => n === 'CodeMismatchException').length, 5, `compared guesses: ${names.join(' ')}`);
  assert.equal(names.filter((n) => n === 'ExpiredCodeException').length, guesses.length - 5);
  const [row] = await queryDatabase<{ attempts: number }>(servers[0], "select attempts from codes where purpose = 'signUp:email' and user_id = (select id from users where email_key = ?)", [email]);
  assert.equal(Number(row.attempts), 5);
});
