// Slow-body attack: a client sends a request's headers, then its body a byte at a time, to hold a
// connection for as long as the server waits. API bodies must arrive within GATEHOUSE_BODY_TIMEOUT_MS
// (10 s by default; 1.5 s here); CSV uploads to a PreSignedUrl keep their own, long timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { CreateUserImportJobCommand, GetCSVHeaderCommand } from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, createPoolAndClient, rawCall } from './support/harness.js';
import { ROLE_ARN, buildCsv, describeJob } from './support/user-import.js';

const TIMEOUT_MS = 1500;

test('slow-body attack: a client that sends headers and then one byte per second is cut off within the body timeout', async () => {
  const gh = await startGatehouse({ GATEHOUSE_BODY_TIMEOUT_MS: String(TIMEOUT_MS) });
  const { port } = new URL(gh.url);
  const socket = net.connect(Number(port), '127.0.0.1');
  let trickle: NodeJS.Timeout | undefined;
  try {
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const started = Date.now();
    socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n' +
      'X-Amz-Target: AWSCognitoIdentityProviderService.InitiateAuth\r\nContent-Length: 1000\r\n\r\n{');
    trickle = setInterval(() => { if (socket.writable) socket.write(' '); }, 1000);
    let answer = '';
    socket.on('data', (d) => (answer += d));
    socket.on('error', () => {}); // a reset after the answer is fine
    // Without a body timeout the server would wait for the whole body (minutes): give up well before.
    const closed = await Promise.race([new Promise((resolve) => socket.once('close', () => resolve(true))), new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS + 3000, false))]);
    const elapsed = Date.now() - started;
    assert.ok(closed, `the connection is still open after ${elapsed} ms`);
    assert.match(answer, /^HTTP\/1\.1 408 /, 'the server answers 408');
    assert.match(answer, /RequestTimeoutException/);
    assert.ok(elapsed >= TIMEOUT_MS - 100 && elapsed < TIMEOUT_MS + 1500, `cut off after ${elapsed} ms`);
    // Others are served meanwhile and after.
    assert.equal((await fetch(`${gh.url}/health`)).status, 200);
    const ok = await rawCall(gh.url, 'InitiateAuth', '{}');
    assert.equal(ok.status, 400, 'an API body that arrives in time is read as usual');
    assert.ok(!gh.logs.some((l) => /"level":"(warn|error)"/.test(l)), 'the cut-off is not logged as a fault');
  } finally {
    clearInterval(trickle);
    socket.destroy();
    await gh.stop();
  }
});

test('a CSV upload that takes longer than the body timeout still succeeds', async () => {
  const gh = await startGatehouse({ GATEHOUSE_BODY_TIMEOUT_MS: String(TIMEOUT_MS) });
  try {
    const { poolId } = await createPoolAndClient(gh);
    const { CSVHeader } = await gh.admin.send(new GetCSVHeaderCommand({ UserPoolId: poolId }));
    const job = (await gh.admin.send(new CreateUserImportJobCommand({ UserPoolId: poolId, JobName: 'slow', CloudWatchLogsRoleArn: ROLE_ARN }))).UserImportJob!;
    const rows = Array.from({ length: 4 }, (_, i) => ({ 'cognito:username': `slow${i}@example.com`, email: `slow${i}@example.com`, email_verified: 'true', 'cognito:mfa_enabled': 'false' }));
    const csv = Buffer.from(buildCsv(CSVHeader!, rows));
    // Four pieces, 800 ms apart: the upload takes about twice the API body timeout.
    const started = Date.now();
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(job.PreSignedUrl!, { method: 'PUT', headers: { 'content-length': csv.length } }, (res) => { res.resume(); resolve(res.statusCode!); });
      req.on('error', reject);
      const quarter = Math.ceil(csv.length / 4);
      let i = 0;
      const next = () => {
        const piece = csv.subarray(i * quarter, (i + 1) * quarter);
        i++;
        if (i === 4) req.end(piece);
        else { req.write(piece); setTimeout(next, 800); }
      };
      next();
    });
    assert.ok(Date.now() - started > TIMEOUT_MS, 'the upload outlasted the API body timeout');
    assert.equal(status, 200);
    assert.equal((await describeJob(gh, poolId, job.JobId!)).Status, 'Created');
  } finally {
    await gh.stop();
  }
});
