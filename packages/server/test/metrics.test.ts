// GET /metrics: Prometheus text format with requests by operation and outcome, sign-ins by flow and
// outcome, and latency histograms; with several processes, one scrape adds up all of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { clientEphemeral, clientSessionKey, passwordClaimSignature, formatTimestamp, fromHex, poolNameOf } from '@gatehouse/srp';
import {
  CognitoIdentityProviderClient, InitiateAuthCommand, RespondToAuthChallengeCommand, AdminCreateUserCommand, AdminSetUserPasswordCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, createPoolAndClient, rawCall } from './support/harness.js';

const PASSWORD = 'Metric-Passw0rd!';

/** Parses the exposition into sample lines by name+labels, checking every line's syntax and that each metric is declared. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.trimEnd().split('\n')) {
    const t = /^# TYPE ([a-zA-Z_:][\w:]*) (counter|gauge|histogram)$/.exec(line);
    if (t) { typed.add(t[1]); continue; }
    if (line.startsWith('# HELP ') || line === '') continue; // the text format ignores empty lines
    const m = /^([a-zA-Z_:][\w:]*)(\{(?:[a-zA-Z_]\w*="(?:[^"\\\n]|\\.)*",?)*\})? (-?[0-9.e+-]+|\+Inf|NaN)$/.exec(line);
    assert.ok(m, `not a valid sample line: ${line}`);
    const base = m[1].replace(/_(bucket|sum|count)$/, '');
    assert.ok(typed.has(m[1]) || typed.has(base), `no TYPE before ${m[1]}`);
    // Label order does not matter in the format: keys here put a histogram's `le` last.
    const labels = (m[2] ?? '').replace(/^\{(le="[^"]*"),(.+)\}$/, '{$2,$1}');
    samples.set(m[1] + labels, Number(m[3]));
  }
  return samples;
}

test('metrics: requests by operation and outcome, sign-ins by flow and outcome, latency histograms', async () => {
  const gh = await startGatehouse();
  const cip = new CognitoIdentityProviderClient({ endpoint: gh.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
  try {
    const { poolId, clientId } = await createPoolAndClient(gh, { UsernameAttributes: undefined, Schema: undefined, AutoVerifiedAttributes: [] });
    await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: 'meg', MessageAction: 'SUPPRESS' }));
    await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: 'meg', Password: PASSWORD, Permanent: true }));
    await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: 'newbie', TemporaryPassword: 'Temp-Passw0rd!', MessageAction: 'SUPPRESS' }));

    await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'meg', PASSWORD } }));
    await assert.rejects(cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'meg', PASSWORD: 'Wrong-Passw0rd!' } })), { name: 'NotAuthorizedException' });
    await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'newbie', PASSWORD: 'Temp-Passw0rd!' } }));
    const { a, A } = clientEphemeral();
    const start = await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_SRP_AUTH', AuthParameters: { USERNAME: 'meg', SRP_A: A.toString('hex') } }));
    const p = start.ChallengeParameters!;
    const key = clientSessionKey({ poolName: poolNameOf(poolId), userId: p.USER_ID_FOR_SRP, password: PASSWORD, salt: fromHex(p.SALT), A, a, B: fromHex(p.SRP_B) });
    const timestamp = formatTimestamp(new Date());
    const signature = passwordClaimSignature({ key, poolName: poolNameOf(poolId), userId: p.USER_ID_FOR_SRP, secretBlock: Buffer.from(p.SECRET_BLOCK, 'base64'), timestamp });
    await cip.send(new RespondToAuthChallengeCommand({ ClientId: clientId, ChallengeName: 'PASSWORD_VERIFIER', Session: start.Session, ChallengeResponses: { USERNAME: p.USER_ID_FOR_SRP, PASSWORD_CLAIM_SECRET_BLOCK: p.SECRET_BLOCK, TIMESTAMP: timestamp, PASSWORD_CLAIM_SIGNATURE: signature } }));
    // Made-up operation names must not become label values.
    await rawCall(gh.url, 'Totally"BogusOperation', '{}');
    await rawCall(gh.url, 'InitiateAuth', 'not json');

    const res = await fetch(`${gh.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const m = parse(text);
    const get = (k: string) => m.get(k) ?? 0;
    assert.equal(get('gatehouse_requests_total{operation="InitiateAuth",outcome="ok"}'), 3);
    assert.equal(get('gatehouse_requests_total{operation="InitiateAuth",outcome="NotAuthorizedException"}'), 1);
    assert.equal(get('gatehouse_requests_total{operation="InitiateAuth",outcome="SerializationException"}'), 1);
    assert.equal(get('gatehouse_requests_total{operation="RespondToAuthChallenge",outcome="ok"}'), 1);
    assert.equal(get('gatehouse_requests_total{operation="AdminCreateUser",outcome="ok"}'), 2);
    assert.equal(get('gatehouse_requests_total{operation="unknown",outcome="UnknownOperationException"}'), 1);
    assert.doesNotMatch(text, /Bogus/);

    assert.equal(get('gatehouse_sign_ins_total{flow="USER_PASSWORD_AUTH",outcome="tokens"}'), 1);
    assert.equal(get('gatehouse_sign_ins_total{flow="USER_PASSWORD_AUTH",outcome="NotAuthorizedException"}'), 1);
    assert.equal(get('gatehouse_sign_ins_total{flow="USER_PASSWORD_AUTH",outcome="NEW_PASSWORD_REQUIRED"}'), 1);
    assert.equal(get('gatehouse_sign_ins_total{flow="USER_SRP_AUTH",outcome="PASSWORD_VERIFIER"}'), 1);
    assert.equal(get('gatehouse_sign_ins_total{flow="PASSWORD_VERIFIER",outcome="tokens"}'), 1);

    // Histogram: cumulative buckets, +Inf equals _count, which equals the requests counted.
    const op = 'InitiateAuth';
    const buckets = [...m].filter(([k]) => k.startsWith(`gatehouse_request_duration_seconds_bucket{operation="${op}",`)).map(([, v]) => v);
    assert.ok(buckets.length > 5);
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i] >= buckets[i - 1], 'buckets are cumulative');
    assert.equal(get(`gatehouse_request_duration_seconds_bucket{operation="${op}",le="+Inf"}`), 5);
    assert.equal(get(`gatehouse_request_duration_seconds_count{operation="${op}"}`), 5);
    assert.ok(get(`gatehouse_request_duration_seconds_sum{operation="${op}"}`) > 0);
    assert.equal(get('gatehouse_processes'), 1);
    assert.ok(get('process_resident_memory_bytes') > 1e6);
  } finally {
    cip.destroy();
    await gh.stop();
  }
});

/** One request on a fresh connection, so the cluster may hand it to any worker. */
function fresh(url: string, method: string, target?: string, body = '{}'): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false, headers: { connection: 'close', 'content-type': 'application/x-amz-json-1.1', ...(target ? { 'x-amz-target': `AWSCognitoIdentityProviderService.${target}` } : {}) } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? body : undefined);
  });
}

test('metrics with two processes: any worker answers the scrape with the figures of both', async () => {
  const gh = await startGatehouse({ GATEHOUSE_PROCESSES: '2' });
  try {
    const { clientId } = await createPoolAndClient(gh, { UsernameAttributes: undefined, Schema: undefined, AutoVerifiedAttributes: [] });
    const N = 40;
    for (let i = 0; i < N; i++) {
      const r = await fresh(gh.url, 'POST', 'InitiateAuth', JSON.stringify({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: `ghost${i}`, PASSWORD } }));
      assert.equal(r.status, 400);
    }
    for (let i = 0; i < 4; i++) {
      const m = parse((await fresh(gh.url + '/metrics', 'GET')).text);
      assert.equal(m.get('gatehouse_processes'), 2);
      assert.equal(m.get('gatehouse_requests_total{operation="InitiateAuth",outcome="NotAuthorizedException"}'), N, 'every scrape, whichever worker takes it, counts all');
      assert.equal(m.get('gatehouse_sign_ins_total{flow="USER_PASSWORD_AUTH",outcome="NotAuthorizedException"}'), N);
    }
  } finally {
    await gh.stop();
  }
});
