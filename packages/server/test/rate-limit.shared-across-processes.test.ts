// Limits live in the store, so separate server processes sharing it enforce one limit between them:
// an attacker spreading a flood over several instances behind a balancer gains nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { CognitoIdentityProviderClient, InitiateAuthCommand, SignUpCommand, ResendConfirmationCodeCommand } from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, createPoolAndClient, testDatabase, createPostgresNamespace, type Gatehouse } from './support/harness.js';

async function outcome(p: Promise<unknown>): Promise<string> {
  try { await p; return 'ok'; } catch (e) { return (e as Error).name; }
}

test('two processes on one store: the per-IP sign-in limit and the per-user code cap hold across them', async () => {
  // One store for both: the same SQLite file (same data directory), or the same PostgreSQL schema.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-shared-'));
  const namespace = testDatabase === 'postgres' ? await createPostgresNamespace() : undefined;
  const env = {
    GATEHOUSE_RATE_LIMITS: 'on', GATEHOUSE_LIMIT_SIGN_IN_PER_IP: '6/24h',
    GATEHOUSE_MASTER_KEY: crypto.randomBytes(32).toString('base64'),
    ...(namespace ? { GATEHOUSE_DATABASE_URL: namespace.url } : { GATEHOUSE_DATA_DIR: dataDir }),
  };
  const servers: Gatehouse[] = [];
  const clients: CognitoIdentityProviderClient[] = [];
  try {
    servers.push(await startGatehouse(env), await startGatehouse(env));
    assert.notEqual(servers[0].proc.pid, servers[1].proc.pid);
    const { clientId } = await createPoolAndClient(servers[0], { UsernameAttributes: undefined, Schema: undefined, AutoVerifiedAttributes: ['email'] });
    for (const gh of servers) clients.push(new CognitoIdentityProviderClient({ endpoint: gh.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 }));
    const [a, b] = clients;

    const attempt = (c: CognitoIdentityProviderClient) => outcome(c.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'nobody', PASSWORD: 'Guess-Passw0rd!' } })));
    const spread = [];
    for (let i = 0; i < 6; i++) spread.push(await attempt(i % 2 ? b : a));
    assert.deepEqual(spread, Array(6).fill('NotAuthorizedException'), 'six attempts, three on each process');
    assert.equal(await attempt(a), 'TooManyRequestsException');
    assert.equal(await attempt(b), 'TooManyRequestsException');

    // Racing requests on both processes: of 10 at once, exactly as many pass as the per-user cap allows.
    await a.send(new SignUpCommand({ ClientId: clientId, Username: 'racer', Password: 'Racer-Passw0rd!', UserAttributes: [{ Name: 'email', Value: 'racer@example.com' }] }));
    const raced = await Promise.all(Array.from({ length: 10 }, (_, i) => outcome((i % 2 ? b : a).send(new ResendConfirmationCodeCommand({ ClientId: clientId, Username: 'racer' })))));
    assert.equal(raced.filter((r) => r === 'ok').length, 4, `sign-up code + 4 resends = the cap of 5 codes, not 5 per process: ${raced.join(',')}`);
    assert.equal(raced.filter((r) => r === 'LimitExceededException').length, 6);
  } finally {
    for (const c of clients) c.destroy();
    for (const gh of servers) await gh.stop();
    await namespace?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
