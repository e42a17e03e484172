// Bulk user import (Cognito's user import jobs) through the AWS SDK against a real Gatehouse process:
// the CSV header, the upload to the PreSignedUrl, the background run and its progress, what
// imported users can do, stopping, pagination, and a job surviving the death of its process.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {
  CognitoIdentityProviderClient, GetCSVHeaderCommand, CreateUserImportJobCommand, StartUserImportJobCommand, StopUserImportJobCommand,
  ListUserImportJobsCommand, AdminGetUserCommand, AdminCreateUserCommand, InitiateAuthCommand, ForgotPasswordCommand, ConfirmForgotPasswordCommand,
  DescribeUserImportJobCommand, CreateUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  MailCatcher, startGatehouse, createPoolAndClient, queryDatabase, createPostgresNamespace, testDatabase, type Gatehouse, type PostgresNamespace,
} from './support/harness.js';
import { ROLE_ARN, buildCsv, csvField, describeJob, uploadCsv, waitForJob } from './support/user-import.js';
import { CsvError, MAX_RECORD_BYTES, parseCsv, readCsv, type CsvRecord } from '../src/domain/csv.js';

const STANDARD_HEADER = [
  'name', 'given_name', 'family_name', 'middle_name', 'nickname', 'preferred_username', 'profile', 'picture', 'website', 'email',
  'email_verified', 'gender', 'birthdate', 'zoneinfo', 'locale', 'phone_number', 'phone_number_verified', 'address', 'updated_at',
  'cognito:mfa_enabled', 'cognito:username',
];

let gh: Gatehouse, mail: MailCatcher, cip: CognitoIdentityProviderClient;

before(async () => {
  mail = await new MailCatcher().start();
  gh = await startGatehouse({ GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${mail.port}` });
  cip = new CognitoIdentityProviderClient({ endpoint: gh.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
});
after(async () => {
  cip?.destroy();
  await gh?.stop();
  await mail?.close();
});

async function errorOf(p: Promise<unknown>) {
  try { await p; } catch (e) { return e as Error; }
  return undefined;
}

async function createJob(g: Gatehouse, poolId: string, name = 'import') {
  return (await g.admin.send(new CreateUserImportJobCommand({ UserPoolId: poolId, JobName: name, CloudWatchLogsRoleArn: ROLE_ARN }))).UserImportJob!;
}

const email = (name: string) => `${name}.${crypto.randomBytes(4).toString('hex')}@example.com`;

/** Reads `bytes` fed to the reader in pieces of `size` bytes (or of random sizes up to 8). */
async function readInPieces(input: string | Buffer, size?: number): Promise<CsvRecord[]> {
  const bytes = Buffer.from(input);
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length;) { const n = size ?? 1 + crypto.randomInt(8); pieces.push(bytes.subarray(i, i + n)); i += n; }
  const out: CsvRecord[] = [];
  for await (const r of readCsv((async function* () { yield* pieces; })())) out.push(r);
  return out;
}

test('the CSV reader follows RFC 4180 whatever the pieces the text arrives in', async () => {
  const text = 'a,b,c\r\n"x, y","say ""hi""","two\r\nlines"\n,,\r\n"",plain,"\n"\rlast,row,here';
  const whole = await parseCsv(text);
  assert.deepEqual(whole, [
    { line: 1, fields: ['a', 'b', 'c'] },
    { line: 2, fields: ['x, y', 'say "hi"', 'two\r\nlines'] },
    { line: 4, fields: ['', '', ''] },
    { line: 5, fields: ['', 'plain', '\n'] },
    { line: 7, fields: ['last', 'row', 'here'] },
  ]);
  // Pieces split CRLF pairs and, since they are bytes, UTF-8 sequences.
  for (const size of [1, 2, 3, 7]) assert.deepEqual(await readInPieces(text, size), whole, `pieces of ${size}`);
  assert.deepEqual(await readInPieces('é,"ü\r\nß"\r\nx', 1), [{ line: 1, fields: ['é', 'ü\r\nß'] }, { line: 3, fields: ['x'] }]);
  await assert.rejects(parseCsv('a,b\n"open'), { message: 'Line 2: a quoted field is not closed before the end of the file' });
  await assert.rejects(parseCsv('a,b\nc,d"e\n'), { message: 'Line 2: a quote inside an unquoted field (quote the field and double the quote)' });
  await assert.rejects(parseCsv('"a"b,c\n'), { message: 'Line 1: unexpected text after a closing quote' });
  await assert.rejects(parseCsv('"secret-value"x\n'), (e: Error) => e instanceof CsvError && !e.message.includes('secret'), 'errors do not echo the field');
  // A quote left open would make the rest of the file one field: a record is cut off past 1 MiB, whole or in pieces.
  const open = 'a\n"' + 'x'.repeat(MAX_RECORD_BYTES + 1) + '"\n';
  await assert.rejects(parseCsv(open), { message: /^Line 2: a record longer than/ });
  await assert.rejects(readInPieces(open, 65536), { message: /^Line 2: a record longer than/ });
  await assert.rejects(readInPieces('a\n' + 'x'.repeat(MAX_RECORD_BYTES + 1) + '\n', 65536), { message: /^Line 2: a record longer than/ });
  await assert.rejects(readInPieces(Buffer.from([0x61, 0x2c, 0xc3, 0x0a]), 1), { code: 'ERR_ENCODING_INVALID_ENCODED_DATA' });
  assert.deepEqual((await parseCsv('a\n\nb\n')).map((r) => r.fields), [['a'], [''], ['b']]);
  assert.deepEqual(await parseCsv('\uFEFFa,b\n'), [{ line: 1, fields: ['a', 'b'] }], 'a byte order mark is not part of the first field');

  // Random records written as RFC 4180 read back the same, fed whole or in random pieces.
  const chars = ['a', 'é', ',', '"', '\r', '\n', ' ', '\r\n'];
  for (let round = 0; round < 300; round++) {
    const records = Array.from({ length: 1 + crypto.randomInt(5) }, () => Array.from({ length: 1 + crypto.randomInt(4) }, () =>
      Array.from({ length: crypto.randomInt(6) }, () => chars[crypto.randomInt(chars.length)]).join('')));
    const eol = ['\n', '\r\n', '\r'][round % 3];
    const text = records.map((r) => r.map(csvField).join(',')).join(eol) + (round % 2 ? eol : '');
    const expected = records.filter((r) => !(r.length === 1 && r[0] === ''));
    const out = await readInPieces(text);
    assert.deepEqual(out.filter((r) => !(r.fields.length === 1 && r.fields[0] === '')).map((r) => r.fields), expected, JSON.stringify(text));
    assert.deepEqual(await parseCsv(text), out);
  }
});

test('GetCSVHeader lists the standard columns, the custom attributes and the cognito: columns', async () => {
  const { poolId } = await createPoolAndClient(gh);
  const plain = await gh.admin.send(new GetCSVHeaderCommand({ UserPoolId: poolId }));
  assert.equal(plain.UserPoolId, poolId);
  assert.deepEqual(plain.CSVHeader, STANDARD_HEADER);
  const { poolId: custom } = await createPoolAndClient(gh, { Schema: [{ Name: 'tier', AttributeDataType: 'String', Mutable: true }, { Name: 'email', Required: true, Mutable: true, AttributeDataType: 'String' }] });
  const withCustom = await gh.admin.send(new GetCSVHeaderCommand({ UserPoolId: custom }));
  assert.deepEqual(withCustom.CSVHeader, [...STANDARD_HEADER.slice(0, -2), 'custom:tier', 'cognito:mfa_enabled', 'cognito:username']);
  assert.equal((await errorOf(gh.admin.send(new GetCSVHeaderCommand({ UserPoolId: 'local_nope' }))))?.name, 'ResourceNotFoundException');
});

test('a CSV import: upload, start, progress to Succeeded; imported users reset their password by email, then sign in', async () => {
  const { poolId, clientId } = await createPoolAndClient(gh);
  const { CSVHeader } = await gh.admin.send(new GetCSVHeaderCommand({ UserPoolId: poolId }));
  const alice = email('alice'), bob = email('bob'), carol = email('carol');
  const rows: Record<string, string>[] = [
    // line 2; its address spans two lines, so the next row starts on line 4
    { 'cognito:username': alice, email: alice, email_verified: 'true', name: 'Smith, "Al" Alice', address: '1 Main St\nSpringfield', 'cognito:mfa_enabled': 'false' },
    { 'cognito:username': bob, email: bob, email_verified: 'TRUE', given_name: 'Bob', 'cognito:mfa_enabled': 'false', phone_number: '+15555550100' }, // line 4
    { 'cognito:username': 'carol@bad', email: 'carol@bad', email_verified: 'true', 'cognito:mfa_enabled': 'false' }, // line 5: bad email
    { 'cognito:username': alice.toUpperCase(), email: alice.toUpperCase(), email_verified: 'true', 'cognito:mfa_enabled': 'false' }, // line 6: alice again
    { 'cognito:username': carol, email: carol, email_verified: 'false', 'cognito:mfa_enabled': 'false' }, // line 7: nothing auto-verified
  ];
  const job = await createJob(gh, poolId, 'first import');
  assert.equal(job.Status, 'Created');
  assert.equal(job.CloudWatchLogsRoleArn, ROLE_ARN);
  assert.equal(job.JobName, 'first import');
  assert.match(job.JobId!, /^import-[0-9a-zA-Z-]+$/);
  assert.ok(job.CreationDate instanceof Date && Math.abs(job.CreationDate.getTime() - Date.now()) < 60_000);
  assert.deepEqual([job.ImportedUsers, job.SkippedUsers, job.FailedUsers], [0, 0, 0]);
  // On this server, at GATEHOUSE_PUBLIC_URL (which, with PORT=0, gets the port it listens on).
  const url = new URL(job.PreSignedUrl!);
  assert.equal(`${url.protocol}//${url.hostname}`, 'http://localhost');
  assert.equal(url.port, new URL(gh.url).port);
  assert.match(url.pathname, new RegExp(`^/import/${job.JobId}$`));
  assert.ok(url.searchParams.get('token'));

  // Starting before the file is there is refused; the job stays Created.
  assert.equal((await errorOf(gh.admin.send(new StartUserImportJobCommand({ UserPoolId: poolId, JobId: job.JobId }))))?.name, 'InvalidParameterException');

  // A wrong token, or none, is refused; the right one takes the file (with an S3-style ETag).
  const wrong = new URL(job.PreSignedUrl!);
  wrong.searchParams.set('token', 'A'.repeat(43));
  assert.equal((await fetch(wrong, { method: 'PUT', body: 'x' })).status, 403);
  wrong.searchParams.delete('token');
  assert.equal((await fetch(wrong, { method: 'PUT', body: 'x' })).status, 403);
  const csv = buildCsv(CSVHeader!, rows);
  const up = await uploadCsv(job.PreSignedUrl!, csv);
  assert.equal(up.status, 200, up.text);
  assert.equal(up.etag, `"${crypto.createHash('md5').update(csv).digest('hex')}"`);

  const started = (await gh.admin.send(new StartUserImportJobCommand({ UserPoolId: poolId, JobId: job.JobId }))).UserImportJob!;
  assert.equal(started.Status, 'Pending');
  assert.ok(started.StartDate instanceof Date);
  // Once started, the upload URL no longer takes a file, and the job cannot be started again.
  assert.equal((await uploadCsv(job.PreSignedUrl!, csv)).status, 409);
  assert.equal((await errorOf(gh.admin.send(new StartUserImportJobCommand({ UserPoolId: poolId, JobId: job.JobId }))))?.name, 'InvalidParameterException');

  const done = await waitForJob(gh, poolId, job.JobId!);
  assert.equal(done.Status, 'Succeeded', done.CompletionMessage);
  assert.deepEqual([done.ImportedUsers, done.SkippedUsers, done.FailedUsers], [2, 1, 2]);
  assert.ok(done.CompletionDate instanceof Date);
  assert.match(done.CompletionMessage!, /Line 5: Invalid email address format/);
  assert.match(done.CompletionMessage!, /Line 7: The User Record does not set any of the auto verified attributes to true/);
  // Once finished, the job cannot be stopped.
  assert.equal((await errorOf(gh.admin.send(new StopUserImportJobCommand({ UserPoolId: poolId, JobId: job.JobId }))))?.name, 'InvalidParameterException');

  const a = await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: alice }));
  assert.equal(a.UserStatus, 'RESET_REQUIRED');
  const attr = (n: string) => a.UserAttributes!.find((x) => x.Name === n)?.Value;
  assert.equal(attr('name'), 'Smith, "Al" Alice');
  assert.equal(attr('address'), '1 Main St\nSpringfield');
  assert.equal(attr('email_verified'), 'true');
  assert.match(attr('sub')!, /^[0-9a-f-]{36}$/);
  const b = await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: bob }));
  assert.equal(b.UserAttributes!.find((x) => x.Name === 'email_verified')?.Value, 'true');
  assert.equal(b.UserAttributes!.find((x) => x.Name === 'phone_number')?.Value, '+15555550100');
  assert.equal((await errorOf(gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: carol }))))?.name, 'UserNotFoundException');

  // Imported users have no password: sign-in says to reset it (a client that hides users hears what
  // an unknown login hears, as Cognito answers it), and the emailed code does.
  const signIn = (password: string, client = clientId) => cip.send(new InitiateAuthCommand({ ClientId: client, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: alice, PASSWORD: password } }));
  const hiding = await errorOf(signIn('Anything-1234!'));
  assert.equal(hiding?.name, 'NotAuthorizedException');
  assert.equal(hiding?.message, 'Incorrect username or password.');
  const { UserPoolClient: legacy } = await gh.admin.send(new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName: 'legacy', ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'], PreventUserExistenceErrors: 'LEGACY' }));
  assert.equal((await errorOf(signIn('Anything-1234!', legacy!.ClientId!)))?.name, 'PasswordResetRequiredException');
  const since = Date.now();
  const forgot = await cip.send(new ForgotPasswordCommand({ ClientId: clientId, Username: alice }));
  assert.equal(forgot.CodeDeliveryDetails?.DeliveryMedium, 'EMAIL');
  const code = await mail.code(alice, since);
  await cip.send(new ConfirmForgotPasswordCommand({ ClientId: clientId, Username: alice, ConfirmationCode: code, Password: 'Imported-Passw0rd!' }));
  const r = await signIn('Imported-Passw0rd!');
  assert.ok(r.AuthenticationResult?.AccessToken);
  assert.equal((await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: alice }))).UserStatus, 'CONFIRMED');
});

test('a username pool: columns in any order, a byte order mark, custom attributes, alias and username clashes', async () => {
  const { poolId } = await createPoolAndClient(gh, {
    UsernameAttributes: undefined, AliasAttributes: ['email'], AutoVerifiedAttributes: ['email'],
    Schema: [{ Name: 'tier', AttributeDataType: 'String', Mutable: true }],
  });
  const taken = email('taken');
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: 'existing', MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: taken }, { Name: 'email_verified', Value: 'true' }] }));
  const dave = email('dave');
  const header = ['cognito:username', 'email', 'email_verified', 'custom:tier', 'cognito:mfa_enabled', 'phone_number'];
  const rows: Record<string, string>[] = [
    { 'cognito:username': 'dave', email: dave, email_verified: 'true', 'custom:tier': 'gold, "plus"', 'cognito:mfa_enabled': 'true', phone_number: '+15555550101' },
    { 'cognito:username': 'Existing', email: email('x'), email_verified: 'true' }, // the username exists (case-insensitive pool): skipped
    { 'cognito:username': 'erin', email: taken, email_verified: 'true' }, // another user's alias: failed
    { 'cognito:username': 'frank', email: email('frank'), email_verified: 'true', 'cognito:mfa_enabled': 'maybe' }, // failed
    { 'cognito:username': 'gina', email: email('gina'), email_verified: 'true', 'custom:nope': 'x' }, // fine: the column is not in the header
    { 'cognito:username': '', email: email('nobody'), email_verified: 'true' }, // failed: no username
  ];
  const job = await createJob(gh, poolId);
  const csv = '\uFEFF' + buildCsv(header, rows).replace('\r\n', '\r\n\r\n'); // and a blank line after the header
  assert.equal((await uploadCsv(job.PreSignedUrl!, csv)).status, 200);
  await gh.admin.send(new StartUserImportJobCommand({ UserPoolId: poolId, JobId: job.JobId }));
  const done = await waitForJob(gh, poolId, job.JobId!);
  assert.equal(done.Status, 'Succeeded', done.CompletionMessage);
  assert.deepEqual([done.ImportedUsers, done.SkippedUsers, done.FailedUsers], [2, 1, 3], done.CompletionMessage);
  assert.match(done.CompletionMessage!, /An account with the given email already exists/);
  const d = await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'dave' }));
  assert.equal(d.UserAttributes!.find((x) => x.Name === 'custom:tier')?.Value, 'gold, "plus"');
  assert.equal(d.UserStatus, 'RESET_REQUIRED');
  // The verified email is an alias: the user is found by it.
  assert.equal((await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: dave }))).Username, 'dave');
});

test("alias hijack by import: a row whose alias is another user's username, or another row's, fails", async () => {
  const { poolId } = await createPoolAndClient(gh, {
    UsernameAttributes: undefined, AliasAttributes: ['email', 'preferred_username'], AutoVerifiedAttributes: ['email'], Schema: undefined,
  });
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: 'owner', MessageAction: 'SUPPRESS' }));
  const header = ['cognito:username', 'email', 'email_verified', 'preferred_username'];
  const rows: Record<string, string>[] = [
    { 'cognito:username': 'squatter', email: email('squatter'), email_verified: 'true', preferred_username: 'Owner' }, // the existing user's username
    { 'cognito:username': 'first', email: email('first'), email_verified: 'true', preferred_username: 'nick' },
    { 'cognito:username': 'Nick', email: email('nick'), email_verified: 'true' }, // the row before's alias
  ];
  const job = await createJob(gh, poolId);
  assert.equal((await uploadCsv(job.PreSignedUrl!, buildCsv(header, rows))).status, 200);
  await gh.admin.send(new StartUserImportJobCommand({ UserPoolId: poolId, JobId: job.JobId }));
  const done = await waitForJob(gh, poolId, job.JobId!);
  assert.deepEqual([done.ImportedUsers, done.SkippedUsers, done.FailedUsers], [1, 0, 2], done.CompletionMessage);
  assert.match(done.CompletionMessage!, /given preferred_username already exists/);
  assert.equal((await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'owner' }))).Username, 'owner');
  assert.equal((await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'nick' }))).Username, 'first');
});

test('files that cannot be imported fail the job with a message: bad header, unterminated quote, not UTF-8', async () => {
  const { poolId } = await createPoolAndClient(gh);
  const cases: [string | Uint8Array, RegExp][] = [
    ['cognito:username,email,shoe_size\r\na@example.com,a@example.com,42\r\n', /not an attribute of the user pool: shoe_size/],
    ['email,email_verified\r\na@example.com,true\r\n', /no cognito:username column/],
    ['cognito:username,email,email_verified\r\n"a@example.com,a@example.com,true\r\n', /cannot be parsed.*not closed/],
    [new Uint8Array([...Buffer.from('cognito:username,name\r\nx,'), 0xff, 0xfe, 13, 10]), /not valid UTF-8/],
    ['', /empty/],
  ];
  for (const [body, message] of cases) {
    const job = await createJob(gh, poolId);
    assert.equal((await uploadCsv(job.PreSignedUrl!, body)).status, 200);
    await gh.admin.send(new StartUserImportJobCommand({ UserPoolId: poolId, JobId: job.JobId }));
    const done = await waitForJob(gh, poolId, job.JobId!);
    assert.equal(done.Status, 'Failed');
    assert.match(done.CompletionMessage!, message);
    assert.equal(done.ImportedUsers, 0);
  }
});

test('uploads: the last complete upload before the start wins; a too large body is refused at once', async () => {
  const { poolId } = await createPoolAndClient(gh);
  const { CSVHeader } = await gh.admin.send(new GetCSVHeaderCommand({ UserPoolId: poolId }));
  const job = await createJob(gh, poolId);
  const first = email('first'), second = email('second');
  assert.equal((await uploadCsv(job.PreSignedUrl!, buildCsv(CSVHeader!, [{ 'cognito:username': first, email: first, email_verified: 'true' }]))).status, 200);
  assert.equal((await uploadCsv(job.PreSignedUrl!, buildCsv(CSVHeader!, [{ 'cognito:username': second, email: second, email_verified: 'true' }]))).status, 200);
  await gh.admin.send(new StartUserImportJobCommand({ UserPoolId: poolId, JobId: job.JobId }));
  const done = await waitForJob(gh, poolId, job.JobId!);
  assert.equal(done.ImportedUsers, 1);
  await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: second }));
  assert.equal((await errorOf(gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: first }))))?.name, 'UserNotFoundException');
  // Finished jobs keep no file.
  const [{ n }] = await queryDatabase<{ n: number | string }>(gh, 'select count(*) as n from import_chunks where job_id = ?', [job.JobId]);
  assert.equal(Number(n), 0);

  // Two uploads at once, each several chunks long: the job gets one whole file, never a mix.
  const racing = await createJob(gh, poolId);
  const fileOf = (tag: string) => buildCsv(CSVHeader!, Array.from({ length: 1200 }, (_, i) => ({ 'cognito:username': `${tag}-${i}@example.com`, email: `${tag}-${i}@example.com`, email_verified: 'true', name: tag.repeat(2000) })));
  const statuses = await Promise.all(['a', 'b'].map(async (tag) => (await uploadCsv(racing.PreSignedUrl!, fileOf(tag))).status));
  assert.deepEqual(statuses, [200, 200]);
  await gh.admin.send(new StartUserImportJobCommand({ UserPoolId: poolId, JobId: racing.JobId }));
  const raced = await waitForJob(gh, poolId, racing.JobId!);
  assert.deepEqual([raced.Status, raced.ImportedUsers, raced.FailedUsers], ['Succeeded', 1200, 0], raced.CompletionMessage);
  const exists = async (u: string) => !(await errorOf(gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: u }))));
  const winner = (await exists('a-0@example.com')) ? 'a' : 'b';
  for (const u of ['0', '599', '1199']) {
    assert.equal(await exists(`${winner}-${u}@example.com`), true);
    assert.equal(await exists(`${winner === 'a' ? 'b' : 'a'}-${u}@example.com`), false);
  }

  const big = await createJob(gh, poolId);
  const target = new URL(big.PreSignedUrl!);
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.request(target, { method: 'PUT', headers: { 'content-length': String(200 * 1024 * 1024) } }, (res) => { res.resume(); resolve(res.statusCode!); });
    req.on('error', reject);
    req.write('cognito:username\r\n');
  });
  assert.equal(status, 413);
  assert.equal((await describeJob(gh, poolId, big.JobId!)).Status, 'Created');
});

test('ListUserImportJobs pages through a pool\'s jobs in creation order', async () => {
  const { poolId } = await createPoolAndClient(gh);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await createJob(gh, poolId, `job ${i}`)).JobId!);
  const seen: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const r = await gh.admin.send(new ListUserImportJobsCommand({ UserPoolId: poolId, MaxResults: 2, PaginationToken: token }));
    assert.ok(r.UserImportJobs!.length <= 2);
    for (const j of r.UserImportJobs!) {
      assert.equal(j.UserPoolId, poolId);
      assert.equal(j.Status, 'Created');
      seen.push(j.JobId!);
    }
    token = r.PaginationToken;
    pages++;
  } while (token);
  assert.equal(pages, 3);
  assert.deepEqual(seen, ids);
  assert.equal((await errorOf(gh.admin.send(new ListUserImportJobsCommand({ UserPoolId: poolId, MaxResults: 2, PaginationToken: 'garbage' }))))?.name, 'InvalidParameterException');
  assert.equal((await errorOf(gh.admin.send(new ListUserImportJobsCommand({ UserPoolId: poolId, MaxResults: 61 }))))?.name, 'InvalidParameterException');
  // Another pool's job is not found through this one.
  const { poolId: other } = await createPoolAndClient(gh);
  assert.equal((await errorOf(gh.admin.send(new DescribeUserImportJobCommand({ UserPoolId: other, JobId: ids[0] }))))?.name, 'ResourceNotFoundException');
  assert.deepEqual((await gh.admin.send(new ListUserImportJobsCommand({ UserPoolId: other, MaxResults: 60 }))).UserImportJobs, []);
});

/** Rows of users with verified emails. */
function manyRows(n: number, tag: string) {
  return Array.from({ length: n }, (_, i) => {
    const e = `${tag}-${i}@example.com`;
    return { 'cognito:username': e, email: e, email_verified: 'true', given_name: `User ${i}` };
  });
}

async function usersInPool(g: Gatehouse, poolId: string) {
  const [{ n }] = await queryDatabase<{ n: number | string }>(g, 'select count(*) as n from users where pool_id = ?', [poolId]);
  return Number(n);
}

test('StopUserImportJob stops a running job after its current batch (Stopping, then Stopped)', async () => {
  const slow = await startGatehouse({ GATEHOUSE_IMPORT_BATCH_SIZE: '10' });
  try {
    const { poolId } = await createPoolAndClient(slow);
    const { CSVHeader } = await slow.admin.send(new GetCSVHeaderCommand({ UserPoolId: poolId }));
    const job = await createJob(slow, poolId);
    assert.equal((await uploadCsv(job.PreSignedUrl!, buildCsv(CSVHeader!, manyRows(3000, 'stop')))).status, 200);
    await slow.admin.send(new StartUserImportJobCommand({ UserPoolId: poolId, JobId: job.JobId }));
    await waitForJob(slow, poolId, job.JobId!, ['InProgress']);
    const stopping = (await slow.admin.send(new StopUserImportJobCommand({ UserPoolId: poolId, JobId: job.JobId }))).UserImportJob!;
    assert.ok(['Stopping', 'Stopped'].includes(stopping.Status!), stopping.Status);
    const done = await waitForJob(slow, poolId, job.JobId!);
    assert.equal(done.Status, 'Stopped');
    assert.ok(done.ImportedUsers! > 0 && done.ImportedUsers! < 3000, String(done.ImportedUsers));
    assert.equal(await usersInPool(slow, poolId), done.ImportedUsers);
    // A stopped job cannot be stopped (or started) again.
    assert.equal((await errorOf(slow.admin.send(new StartUserImportJobCommand({ UserPoolId: poolId, JobId: job.JobId }))))?.name, 'InvalidParameterException');
    assert.equal((await errorOf(slow.admin.send(new StopUserImportJobCommand({ UserPoolId: poolId, JobId: job.JobId }))))?.name, 'InvalidParameterException');
  } finally {
    await slow.stop();
  }
});

test('a job whose process dies mid-import is taken over by another process and finishes exactly once', async () => {
  // Two processes on one store (one SQLite file, or one PostgreSQL schema); short leases, small batches.
  let ns: PostgresNamespace | undefined;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-import-'));
  const env: Record<string, string> = {
    GATEHOUSE_IMPORT_BATCH_SIZE: '20', GATEHOUSE_IMPORT_LEASE_SECONDS: '1', GATEHOUSE_MASTER_KEY: crypto.randomBytes(32).toString('base64'),
  };
  if (testDatabase === 'postgres') {
    ns = await createPostgresNamespace();
    env.GATEHOUSE_DATABASE_URL = ns.url;
  } else {
    env.GATEHOUSE_DATA_DIR = dataDir;
  }
  const servers = [await startGatehouse(env), await startGatehouse(env)];
  // The store both use (the harness only knows the data directory it made itself).
  const store = testDatabase === 'postgres' ? servers[0] : { ...servers[0], database: { kind: 'sqlite' as const, file: path.join(dataDir, 'gatehouse.db') } };
  try {
    const [first] = servers;
    const { poolId } = await createPoolAndClient(first);
    const { CSVHeader } = await first.admin.send(new GetCSVHeaderCommand({ UserPoolId: poolId }));
    const job = await createJob(first, poolId);
    const N = 10_000;
    const rows = manyRows(N, 'crash');
    rows.splice(N / 2, 0, rows[10]); // one duplicate, so the resumed run must still skip exactly one
    assert.equal((await uploadCsv(job.PreSignedUrl!, buildCsv(CSVHeader!, rows))).status, 200);
    await first.admin.send(new StartUserImportJobCommand({ UserPoolId: poolId, JobId: job.JobId }));
    // Some batches committed, not all.
    await waitForJob(first, poolId, job.JobId!, ['InProgress', 'Succeeded', 'Failed'], 60_000, () => {});
    for (let j = await describeJob(first, poolId, job.JobId!); j.Status === 'InProgress' && j.ImportedUsers! < 200; j = await describeJob(first, poolId, job.JobId!)) {
      await new Promise((r) => setTimeout(r, 10));
    }
    // Kill whichever process holds the job.
    const [{ owner }] = await queryDatabase<{ owner: string }>(store, 'select owner from import_jobs where id = ?', [job.JobId]);
    const victim = servers.find((s) => owner?.split(':')[1] === String(s.proc.pid));
    assert.ok(victim, `owner ${owner}`);
    const survivor = servers.find((s) => s !== victim)!;
    const before = await describeJob(survivor, poolId, job.JobId!);
    const exited = new Promise((r) => victim.proc.once('exit', r));
    victim.proc.kill('SIGKILL');
    await exited;
    assert.equal(before.Status, 'InProgress');
    assert.ok(before.ImportedUsers! > 0 && before.ImportedUsers! < N, `the job was not midway at the kill: ${before.ImportedUsers}`);
    const done = await waitForJob(survivor, poolId, job.JobId!, undefined, 120_000);
    assert.equal(done.Status, 'Succeeded', done.CompletionMessage);
    assert.deepEqual([done.ImportedUsers, done.SkippedUsers, done.FailedUsers], [N, 1, 0]);
    assert.equal(await usersInPool(store, poolId), N);
  } finally {
    for (const s of servers) {
      if (s.proc.exitCode === null && s.proc.signalCode === null) await s.stop();
      else { s.admin.destroy(); fs.rmSync(s.dataDir, { recursive: true, force: true }); }
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
    await ns?.drop();
  }
});

test('a server shut down mid-import hands its job back: restarted, it resumes at once and finishes exactly once', async () => {
  let ns: PostgresNamespace | undefined;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-import-'));
  // The default 30 s lease: resuming sooner than that shows the job was handed back, not timed out.
  const env: Record<string, string> = { GATEHOUSE_IMPORT_BATCH_SIZE: '20', GATEHOUSE_MASTER_KEY: crypto.randomBytes(32).toString('base64') };
  if (testDatabase === 'postgres') {
    ns = await createPostgresNamespace();
    env.GATEHOUSE_DATABASE_URL = ns.url;
  } else {
    env.GATEHOUSE_DATA_DIR = dataDir;
  }
  let server: Gatehouse | undefined = await startGatehouse(env);
  try {
    const { poolId } = await createPoolAndClient(server);
    const { CSVHeader } = await server.admin.send(new GetCSVHeaderCommand({ UserPoolId: poolId }));
    const job = await createJob(server, poolId);
    const N = 10_000;
    assert.equal((await uploadCsv(job.PreSignedUrl!, buildCsv(CSVHeader!, manyRows(N, 'restart')))).status, 200);
    await server.admin.send(new StartUserImportJobCommand({ UserPoolId: poolId, JobId: job.JobId }));
    for (let j = await describeJob(server, poolId, job.JobId!); j.Status !== 'Succeeded' && j.ImportedUsers! < 200; j = await describeJob(server, poolId, job.JobId!)) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await server.stop();
    server = await startGatehouse(env);
    const resumed = await describeJob(server, poolId, job.JobId!);
    assert.ok(resumed.ImportedUsers! < N, 'the job finished before the shutdown; make it bigger');
    const t0 = Date.now();
    const done = await waitForJob(server, poolId, job.JobId!, undefined, 25_000);
    assert.ok(Date.now() - t0 < 25_000);
    assert.deepEqual([done.Status, done.ImportedUsers, done.SkippedUsers, done.FailedUsers], ['Succeeded', N, 0, 0]);
    const store = testDatabase === 'postgres' ? server : { ...server, database: { kind: 'sqlite' as const, file: path.join(dataDir, 'gatehouse.db') } };
    assert.equal(await usersInPool(store, poolId), N);
    assert.ok(server.logs.some((l) => l.includes('user import job resumed')));
  } finally {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    await ns?.drop();
  }
});
