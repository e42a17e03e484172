// PASSWORD_VERIFIER without a Session, as pycognito and other SRP clients answer it: the SECRET_BLOCK
// carries the SRP state, sealed by the server. Each regression is named after the attack it stops.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { clientEphemeral, clientSessionKey, passwordClaimSignature, formatTimestamp, fromHex, poolNameOf } from '@gatehouse/srp';
import {
  AdminCreateUserCommand, AdminSetUserPasswordCommand, CreateUserPoolClientCommand, InitiateAuthCommand, RespondToAuthChallengeCommand,
  GetUserCommand, AdminListUserAuthEventsCommand, type CognitoIdentityProviderClient, type RespondToAuthChallengeCommandInput,
} from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, createPoolAndClient, uniqueEmail, userClient, queryDatabase, type Gatehouse } from './support/harness.js';

let gh: Gatehouse, cip: CognitoIdentityProviderClient, poolId: string, clientId: string, otherClientId: string;
const PASSWORD = 'Sealed-Passw0rd!';

before(async () => {
  gh = await startGatehouse();
  ({ poolId, clientId } = await createPoolAndClient(gh));
  const other = await gh.admin.send(new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName: 'other', ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] }));
  otherClientId = other.UserPoolClient!.ClientId!;
  cip = userClient(gh.url);
});
after(async () => { cip?.destroy(); await gh?.stop(); });

async function err(p: Promise<unknown>) {
  try { await p; } catch (e) { return e as Error; }
  return undefined;
}

async function confirmedUser() {
  const email = uniqueEmail('sealed');
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: email, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }] }));
  await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: email, Password: PASSWORD, Permanent: true }));
  return email;
}

/**
 * A hand-rolled SRP client: starts USER_SRP_AUTH and computes the claim over `block` (the server's
 * SECRET_BLOCK unless given). The answer carries no Session; `withSession` adds the one handed out.
 */
async function srpAttempt(username: string, opts: { client?: string; password?: string } = {}) {
  const client = opts.client ?? clientId;
  const { a, A } = clientEphemeral();
  const start = await cip.send(new InitiateAuthCommand({ ClientId: client, AuthFlow: 'USER_SRP_AUTH', AuthParameters: { USERNAME: username, SRP_A: A.toString('hex') } }));
  const p = start.ChallengeParameters!;
  const key = clientSessionKey({ poolName: poolNameOf(poolId), userId: p.USER_ID_FOR_SRP, password: opts.password ?? PASSWORD, salt: fromHex(p.SALT), A, a, B: fromHex(p.SRP_B) });
  const answer = (block = p.SECRET_BLOCK, answerClient = client): RespondToAuthChallengeCommandInput => {
    const timestamp = formatTimestamp(new Date());
    const signature = passwordClaimSignature({ key, poolName: poolNameOf(poolId), userId: p.USER_ID_FOR_SRP, secretBlock: Buffer.from(block, 'base64'), timestamp });
    return { ClientId: answerClient, ChallengeName: 'PASSWORD_VERIFIER', ChallengeResponses: { USERNAME: p.USER_ID_FOR_SRP, PASSWORD_CLAIM_SECRET_BLOCK: block, TIMESTAMP: timestamp, PASSWORD_CLAIM_SIGNATURE: signature } };
  };
  const withSession = (input: RespondToAuthChallengeCommandInput) => ({ ...input, Session: start.Session });
  return { start, block: p.SECRET_BLOCK, answer, withSession };
}

const respond = (input: RespondToAuthChallengeCommandInput) => cip.send(new RespondToAuthChallengeCommand(input));

test('SRP without a Session (pycognito): PASSWORD_VERIFIER answered with the SECRET_BLOCK alone signs in', async () => {
  const email = await confirmedUser();
  const attempt = await srpAttempt(email);
  assert.ok(attempt.start.Session, 'a Session is still handed out, for Amplify');
  const done = await respond(attempt.answer());
  assert.ok(done.AuthenticationResult?.AccessToken);
  assert.equal((await cip.send(new GetUserCommand({ AccessToken: done.AuthenticationResult!.AccessToken }))).Username, attempt.start.ChallengeParameters!.USER_ID_FOR_SRP);
  // A wrong password without a Session fails as it does with one, and counts as a failure.
  const wrong = await srpAttempt(email, { password: 'Wrong-Passw0rd!' });
  const refused = await err(respond(wrong.answer()));
  assert.equal(refused?.name, 'NotAuthorizedException');
  assert.equal(refused?.message, 'Incorrect username or password.');
  const events = await gh.admin.send(new AdminListUserAuthEventsCommand({ UserPoolId: poolId, Username: email, MaxResults: 10 }));
  assert.deepEqual(events.AuthEvents!.map((e) => e.EventResponse), ['Fail', 'Pass']);
});

test('replayed SECRET_BLOCK: each attempt answers once, with the Session or without, in either order', async () => {
  const email = await confirmedUser();
  const one = await srpAttempt(email);
  assert.ok((await respond(one.answer())).AuthenticationResult);
  assert.equal((await err(respond(one.answer())))?.name, 'NotAuthorizedException', 'sessionless replay');
  assert.equal((await err(respond(one.withSession(one.answer()))))?.name, 'NotAuthorizedException', 'the Session of a block already used');
  const two = await srpAttempt(email);
  assert.ok((await respond(two.withSession(two.answer()))).AuthenticationResult);
  assert.equal((await err(respond(two.answer())))?.name, 'NotAuthorizedException', 'the block of a Session already used');
});

test('replayed SECRET_BLOCK: of 8 racing answers without a Session, exactly one signs in', async () => {
  const email = await confirmedUser();
  const attempt = await srpAttempt(email);
  const results = await Promise.allSettled(Array.from({ length: 8 }, () => respond(attempt.answer())));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as Error).name, 'NotAuthorizedException');
});

test('SECRET_BLOCK from another client: refused by the client it was not handed to', async () => {
  const email = await confirmedUser();
  const attempt = await srpAttempt(email, { client: otherClientId });
  const refused = await err(respond(attempt.answer(attempt.block, clientId)));
  assert.equal(refused?.name, 'NotAuthorizedException');
  // Refused before it was spent: the client it belongs to may still use it.
  assert.ok((await respond(attempt.answer())).AuthenticationResult);
});

test('expired SECRET_BLOCK: an answer after the attempt has expired is refused, with the Session or without', async () => {
  const email = await confirmedUser();
  const attempt = await srpAttempt(email);
  const sessionId = crypto.createHash('sha256').update(attempt.start.Session!).digest('base64url');
  // As the clock would: the attempt's validity (AuthSessionValidity) has run out.
  await queryDatabase(gh, 'update auth_sessions set expires_at = ? where id = ?', [Date.now() - 1000, sessionId]);
  assert.equal((await err(respond(attempt.answer())))?.name, 'NotAuthorizedException');
  assert.equal((await err(respond(attempt.withSession(attempt.answer()))))?.name, 'NotAuthorizedException');
});

test('tampered SECRET_BLOCK: a changed block, or another attempt\'s block under this Session, is refused', async () => {
  const email = await confirmedUser();
  const attempt = await srpAttempt(email);
  const raw = Buffer.from(attempt.block, 'base64');
  for (const at of [0, 20, raw.length >> 1, raw.length - 1]) {
    const bent = Buffer.from(raw);
    bent[at] ^= 0x01;
    // The claim is signed over the tampered bytes, so only the block's seal can refuse it.
    assert.equal((await err(respond(attempt.answer(bent.toString('base64')))))?.name, 'NotAuthorizedException', `bit flipped at byte ${at}`);
  }
  assert.equal((await err(respond(attempt.answer(raw.subarray(0, 40).toString('base64')))))?.name, 'NotAuthorizedException', 'truncated');
  assert.equal((await err(respond(attempt.answer('not a block'))))?.name, 'NotAuthorizedException', 'garbage');
  // The untouched block still works: forgeries spend nothing.
  assert.ok((await respond(attempt.answer())).AuthenticationResult);
  // A block of one attempt cannot ride on another attempt's Session.
  const first = await srpAttempt(email), second = await srpAttempt(email);
  assert.equal((await err(respond(first.withSession(second.answer()))))?.name, 'NotAuthorizedException');
});
