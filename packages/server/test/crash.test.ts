// Crash safety: kill -9 in the middle of a write load, restart on the same store, and every write
// the server acknowledged is there; the store passes its integrity check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  CognitoIdentityProviderClient, SignUpCommand, AdminConfirmSignUpCommand, InitiateAuthCommand, ChangePasswordCommand,
  RevokeTokenCommand, AdminGetUserCommand, GetTokensFromRefreshTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, createPoolAndClient, createPostgresNamespace, testDatabase, type Gatehouse } from './support/harness.js';

const PASSWORD = 'Crash-Passw0rd!';
const CHANGED = 'Changed-Passw0rd!';

test('kill -9 under load loses no acknowledged sign-up, confirmation, password change or revocation', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-crash-'));
  // The restarted server must find the same store: on PostgreSQL, one schema for both lives.
  const ns = testDatabase === 'postgres' ? await createPostgresNamespace() : undefined;
  const env = { GATEHOUSE_DATA_DIR: dataDir, ...(ns ? { GATEHOUSE_DATABASE_URL: ns.url } : {}) };
  let gh: Gatehouse | undefined = await startGatehouse(env);
  try {
    const { poolId, clientId } = await createPoolAndClient(gh, { UsernameAttributes: undefined, Schema: undefined, AutoVerifiedAttributes: [] });
    const cip = new CognitoIdentityProviderClient({ endpoint: gh.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
    const acked = { signedUp: [] as string[], confirmed: [] as string[], changed: [] as string[], revoked: [] as string[] };
    let running = true;
    const worker = async (w: number) => {
      for (let i = 0; running; i++) {
        const name = `crash-${w}-${i}`;
        try {
          await cip.send(new SignUpCommand({ ClientId: clientId, Username: name, Password: PASSWORD }));
          acked.signedUp.push(name);
          await gh!.admin.send(new AdminConfirmSignUpCommand({ UserPoolId: poolId, Username: name }));
          acked.confirmed.push(name);
          const r = await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: name, PASSWORD } }));
          const tokens = r.AuthenticationResult!;
          if (i % 2 === 0) {
            await cip.send(new ChangePasswordCommand({ AccessToken: tokens.AccessToken, PreviousPassword: PASSWORD, ProposedPassword: CHANGED }));
            acked.changed.push(name);
          } else {
            await cip.send(new RevokeTokenCommand({ ClientId: clientId, Token: tokens.RefreshToken }));
            acked.revoked.push(tokens.RefreshToken!);
          }
        } catch {
          return; // the server went away mid-request: that write was never acknowledged
        }
      }
    };
    const load = Promise.all([0, 1, 2, 3].map(worker));
    await new Promise((r) => setTimeout(r, 1500));
    const exited = new Promise((r) => gh!.proc.once('exit', r));
    gh.proc.kill('SIGKILL');
    await exited;
    running = false;
    await load;
    gh.admin.destroy();
    cip.destroy();
    assert.ok(acked.signedUp.length > 10, `load too small: ${acked.signedUp.length}`);

    gh = await startGatehouse(env);
    const cip2 = new CognitoIdentityProviderClient({ endpoint: gh.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
    for (const name of acked.signedUp) {
      const u = await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: name }));
      if (acked.confirmed.includes(name)) assert.equal(u.UserStatus, 'CONFIRMED', name);
    }
    for (const name of acked.changed) {
      const r = await cip2.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: name, PASSWORD: CHANGED } }));
      assert.ok(r.AuthenticationResult, name);
    }
    for (const token of acked.revoked) {
      await assert.rejects(cip2.send(new GetTokensFromRefreshTokenCommand({ ClientId: clientId, RefreshToken: token })), { name: 'NotAuthorizedException' });
    }
    cip2.destroy();
    await gh.stop();
    gh = undefined;
    if (!ns) {
      const db = new Database(path.join(dataDir, 'gatehouse.db'), { readonly: true });
      assert.equal((db.prepare('pragma integrity_check').get() as { integrity_check: string }).integrity_check, 'ok');
      db.close();
    }
  } finally {
    await gh?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    await ns?.drop();
  }
});
