// User enumeration with PreventUserExistenceErrors ENABLED: a real user and a login that names no
// one must get the same answers, shaped alike, after the same work (timed over alternating samples).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { clientEphemeral, clientSessionKey, passwordClaimSignature, formatTimestamp, fromHex, poolNameOf } from '@gatehouse/srp';
import {
  AdminCreateUserCommand, AdminSetUserPasswordCommand, ForgotPasswordCommand, SignUpCommand, ConfirmSignUpCommand, ConfirmForgotPasswordCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, createPoolAndClient, uniqueEmail, userClient, rawCall, type Gatehouse } from './support/harness.js';

const PASSWORD = 'Right-Passw0rd!';
const SAMPLES = Number(process.env.TIMING_SAMPLES ?? 200);
// Untimed rounds first, so compiled code and cached statements serve both kinds alike.
const WARMUP = 20;
// Lockout engages at the 5th failure; each real user and unknown login gives at most that many samples.
const PER_LOGIN = 5;
let gh: Gatehouse, poolId: string, clientId: string;

before(async () => {
  gh = await startGatehouse({ GATEHOUSE_RATE_LIMITS: 'off', GATEHOUSE_LIMIT_CODES_PER_USER: 'off' });
  ({ poolId, clientId } = await createPoolAndClient(gh));
});
after(async () => { await gh?.stop(); });

async function realUsers(n: number, pool = poolId) {
  const emails = Array.from({ length: n }, () => uniqueEmail('real'));
  for (const email of emails) {
    await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: pool, Username: email, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }] }));
    await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: pool, Username: email, Password: PASSWORD, Permanent: true }));
  }
  return emails;
}

/** Logins enough for the warm-up and the samples. */
const LOGINS = Math.ceil((WARMUP + SAMPLES) / PER_LOGIN);
/** Each login `PER_LOGIN` times, in order. */
const spread = (logins: string[]) => Array.from({ length: WARMUP + SAMPLES }, (_, i) => logins[Math.floor(i / PER_LOGIN)]);

const call = (target: string, body: unknown) => rawCall(gh.url, target, JSON.stringify(body));

/** Times `run` for real and unknown alternately (which goes first alternates too); answers must be equal. */
async function compare(what: string, prepare: (login: string) => Promise<unknown>, run: (prepared: any) => Promise<{ type: string | null; json: any }>, real: string[], ghosts: string[]) {
  const times = { real: [] as number[], ghost: [] as number[] };
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    const order = i % 2 ? (['ghost', 'real'] as const) : (['real', 'ghost'] as const);
    const answers: Record<string, { type: string | null; json: any }> = {};
    for (const kind of order) {
      const prepared = await prepare(kind === 'real' ? real[i] : ghosts[i]);
      const t = performance.now();
      answers[kind] = await run(prepared);
      if (i >= WARMUP) times[kind].push(performance.now() - t);
    }
    assert.equal(answers.real.type, answers.ghost.type, `${what} #${i}: error type`);
    assert.equal(answers.real.json?.message, answers.ghost.json?.message, `${what} #${i}: message`);
  }
  const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
  // The median of the differences within each pair: the two calls of a pair run back to back, so
  // the machine's drift (other work, frequency changes) cancels out of it.
  const diff = median(times.real.map((t, i) => t - times.ghost[i]));
  console.log(`${what}: median real ${median(times.real).toFixed(3)} ms, unknown ${median(times.ghost).toFixed(3)} ms, median difference ${diff.toFixed(3)} ms`);
  assert.ok(Math.abs(diff) < 0.25, `${what}: median time differs by ${diff.toFixed(3)} ms`);
}

test('user enumeration by timing: a wrong password (USER_PASSWORD_AUTH) costs a real user what it costs an unknown login, same answer', async () => {
  const real = spread(await realUsers(LOGINS));
  const ghosts = spread(Array.from({ length: LOGINS }, () => uniqueEmail('ghost')));
  await compare('USER_PASSWORD_AUTH', async (login) => login,
    (login: string) => call('InitiateAuth', { ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: login, PASSWORD: 'Wrong-Passw0rd!' } }),
    real, ghosts);
});

test('user enumeration by timing: a wrong SRP password claim costs a real user what it costs an unknown login, same answer', async () => {
  const real = spread(await realUsers(LOGINS));
  const ghosts = spread(Array.from({ length: LOGINS }, () => uniqueEmail('ghost')));
  // The challenge and the client's math happen before the clock starts; only the answer is timed.
  const prepare = async (login: string) => {
    const { a, A } = clientEphemeral();
    const start = await call('InitiateAuth', { ClientId: clientId, AuthFlow: 'USER_SRP_AUTH', AuthParameters: { USERNAME: login, SRP_A: A.toString('hex') } });
    const p = start.json.ChallengeParameters;
    const key = clientSessionKey({ poolName: poolNameOf(poolId), userId: p.USER_ID_FOR_SRP, password: 'Wrong-Passw0rd!', salt: fromHex(p.SALT), A, a, B: fromHex(p.SRP_B) });
    const timestamp = formatTimestamp(new Date());
    const signature = passwordClaimSignature({ key, poolName: poolNameOf(poolId), userId: p.USER_ID_FOR_SRP, secretBlock: Buffer.from(p.SECRET_BLOCK, 'base64'), timestamp });
    return { ClientId: clientId, ChallengeName: 'PASSWORD_VERIFIER', Session: start.json.Session, ChallengeResponses: { USERNAME: p.USER_ID_FOR_SRP, PASSWORD_CLAIM_SECRET_BLOCK: p.SECRET_BLOCK, TIMESTAMP: timestamp, PASSWORD_CLAIM_SIGNATURE: signature } };
  };
  await compare('SRP PASSWORD_VERIFIER', prepare, (body) => call('RespondToAuthChallenge', body), real, ghosts);
});

test('user enumeration by timing: a wrong ConfirmForgotPassword code costs a real user what it costs an unknown login, same answer', async () => {
  const users = await realUsers(LOGINS);
  // Each real user has a code out (as after ForgotPassword), which takes 5 guesses before it dies.
  for (const email of users) await call('ForgotPassword', { ClientId: clientId, Username: email });
  const real = spread(users);
  const ghosts = spread(Array.from({ length: LOGINS }, () => uniqueEmail('ghost')));
  await compare('ConfirmForgotPassword', async (login) => login,
    (login: string) => call('ConfirmForgotPassword', { ClientId: clientId, Username: login, ConfirmationCode: '000000', Password: 'New-Passw0rd!1' }),
    real, ghosts);
});

test('user enumeration by answers: once 5 wrong codes have spent a real code, real and unknown logins still answer alike (ConfirmSignUp, ConfirmForgotPassword)', async () => {
  const cip = userClient(gh.url);
  try {
    const [real] = await realUsers(1);
    await cip.send(new ForgotPasswordCommand({ ClientId: clientId, Username: real }));
    const unconfirmed = uniqueEmail('unconfirmed');
    await cip.send(new SignUpCommand({ ClientId: clientId, Username: unconfirmed, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: unconfirmed }] }));
    const ghost = uniqueEmail('ghost');
    const answer = async (p: Promise<unknown>) => p.then(() => 'ok', (e: Error) => `${e.name}: ${e.message}`);
    for (let i = 0; i < 7; i++) {
      const reset = (u: string) => answer(cip.send(new ConfirmForgotPasswordCommand({ ClientId: clientId, Username: u, ConfirmationCode: '000000', Password: 'New-Passw0rd!1' })));
      assert.equal(await reset(real), await reset(ghost), `ConfirmForgotPassword, guess ${i + 1}`);
      const confirm = (u: string) => answer(cip.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: u, ConfirmationCode: '000000' })));
      assert.equal(await confirm(unconfirmed), await confirm(ghost), `ConfirmSignUp, guess ${i + 1}`);
    }
  } finally {
    cip.destroy();
  }
});

test('user enumeration by SRP challenge shape: real and unknown logins answer alike in every case spelling, in case-insensitive and case-sensitive pools', async () => {
  const salt = /^(00)?[0-9a-f]{32}$/; // 16 bytes, padded as SRP pads
  const challenge = async (client: string, login: string) => {
    const r = await call('InitiateAuth', { ClientId: client, AuthFlow: 'USER_SRP_AUTH', AuthParameters: { USERNAME: login, SRP_A: clientEphemeral().A.toString('hex') } });
    assert.equal(r.json.ChallengeName, 'PASSWORD_VERIFIER', `${login}: ${r.text}`);
    return r.json.ChallengeParameters as Record<string, string>;
  };
  // Email as username: USER_ID_FOR_SRP is a sub, for real users and unknown ones alike.
  const [email] = await realUsers(1);
  const ghost = uniqueEmail('ghost');
  for (const login of [email, email.toUpperCase(), ghost, ghost.toUpperCase()]) {
    const p = await challenge(clientId, login);
    assert.match(p.USER_ID_FOR_SRP, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, login);
    assert.equal(p.USERNAME, p.USER_ID_FOR_SRP);
    assert.match(p.SALT, salt);
  }
  assert.equal((await challenge(clientId, ghost)).SALT, (await challenge(clientId, ghost.toUpperCase())).SALT, 'one unknown email, one salt in any case');
  assert.equal((await challenge(clientId, ghost)).USER_ID_FOR_SRP, (await challenge(clientId, ghost.toUpperCase())).USER_ID_FOR_SRP);

  for (const caseSensitive of [false, true]) {
    const own = await createPoolAndClient(gh, { UsernameAttributes: undefined, AutoVerifiedAttributes: [], Schema: undefined, UsernameConfiguration: { CaseSensitive: caseSensitive } });
    const name = `alice${Date.now()}`;
    await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: own.poolId, Username: name, MessageAction: 'SUPPRESS' }));
    await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: own.poolId, Username: name, Password: PASSWORD, Permanent: true }));
    const nobody = `bob${Date.now()}`;
    const lower = { real: await challenge(own.clientId, name), ghost: await challenge(own.clientId, nobody) };
    const upper = { real: await challenge(own.clientId, name.toUpperCase()), ghost: await challenge(own.clientId, nobody.toUpperCase()) };
    for (const p of [lower.real, lower.ghost, upper.real, upper.ghost]) {
      assert.match(p.SALT, salt);
      assert.equal(p.USERNAME, p.USER_ID_FOR_SRP);
    }
    assert.equal(lower.real.USER_ID_FOR_SRP, name);
    assert.equal(lower.ghost.USER_ID_FOR_SRP, nobody);
    if (!caseSensitive) {
      // ALICE finds alice and answers alice; BOB must answer bob, with bob's salt.
      assert.equal(upper.real.USER_ID_FOR_SRP, name);
      assert.equal(upper.ghost.USER_ID_FOR_SRP, nobody);
      assert.equal(upper.real.SALT, lower.real.SALT);
      assert.equal(upper.ghost.SALT, lower.ghost.SALT);
    } else {
      // ALICE is another (unknown) name: echoed as typed, with a salt of its own, as BOB is.
      assert.equal(upper.real.USER_ID_FOR_SRP, name.toUpperCase());
      assert.equal(upper.ghost.USER_ID_FOR_SRP, nobody.toUpperCase());
      assert.notEqual(upper.real.SALT, lower.real.SALT);
      assert.notEqual(upper.ghost.SALT, lower.ghost.SALT, 'an unknown name and its other spelling get different salts, as a real user and another name do');
    }
  }
});
