// GATEHOUSE_PROCESSES=N runs N processes on one port and one store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { clientEphemeral, clientSessionKey, passwordClaimSignature, formatTimestamp, fromHex, poolNameOf } from '@gatehouse/srp';
import { AdminCreateUserCommand, AdminSetUserPasswordCommand } from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, createPoolAndClient } from './support/harness.js';

/** One request on a fresh connection, so the cluster may hand it to any worker. */
function post(url: string, op: string, body: object): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSCognitoIdentityProviderService.${op}`, connection: 'close' } }, (res) => {
      let data = '';
      res.on('data', (d) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(data) }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

test('two processes share the port and the SQLite store; SRP sign-ins span them', async () => {
  const gh = await startGatehouse({ GATEHOUSE_PROCESSES: '2' });
  try {
    const { poolId, clientId } = await createPoolAndClient(gh, { UsernameAttributes: undefined, Schema: undefined, AutoVerifiedAttributes: [] });
    await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: 'clustered', MessageAction: 'SUPPRESS' }));
    await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: 'clustered', Password: 'Cluster-Passw0rd!', Permanent: true }));
    for (let i = 0; i < 20; i++) {
      const { a, A } = clientEphemeral();
      const start = await post(gh.url, 'InitiateAuth', { ClientId: clientId, AuthFlow: 'USER_SRP_AUTH', AuthParameters: { USERNAME: 'clustered', SRP_A: A.toString('hex') } });
      assert.equal(start.status, 200, JSON.stringify(start.json));
      const p = start.json.ChallengeParameters;
      const key = clientSessionKey({ poolName: poolNameOf(poolId), userId: p.USER_ID_FOR_SRP, password: 'Cluster-Passw0rd!', salt: fromHex(p.SALT), A, a, B: fromHex(p.SRP_B) });
      const timestamp = formatTimestamp(new Date());
      const sig = passwordClaimSignature({ key, poolName: poolNameOf(poolId), userId: p.USER_ID_FOR_SRP, secretBlock: Buffer.from(p.SECRET_BLOCK, 'base64'), timestamp });
      const done = await post(gh.url, 'RespondToAuthChallenge', { ClientId: clientId, ChallengeName: 'PASSWORD_VERIFIER', Session: start.json.Session, ChallengeResponses: { USERNAME: p.USER_ID_FOR_SRP, PASSWORD_CLAIM_SECRET_BLOCK: p.SECRET_BLOCK, TIMESTAMP: timestamp, PASSWORD_CLAIM_SIGNATURE: sig } });
      assert.equal(done.status, 200, JSON.stringify(done.json));
      assert.ok(done.json.AuthenticationResult.AccessToken);
    }
    const pids = new Set(gh.logs.filter((l) => l.includes('gatehouse listening')).map((l) => JSON.parse(l).pid));
    assert.equal(pids.size, 2);
  } finally {
    await gh.stop();
  }
});
