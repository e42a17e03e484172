// User enumeration with PreventUserExistenceErrors ENABLED: a real user and a login that names no
// one must get the same answers, shaped alike, after the same work (timed over alternating samples).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { clientEphemeral, clientSessionKey, passwordClaimSignature, formatTimestamp, fromHex, padHex, poolNameOf } from '@gatehouse/srp';
import {
  AdminCreateUserCommand, AdminSetUserPasswordCommand, ForgotPasswordCommand, SignUpCommand, ConfirmSignUpCommand, ConfirmForgotPasswordCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, createPoolAndClient, uniqueEmail, userClient, rawCall, type Gatehouse } from './support/harness.js';
import { assertSameTiming, timed, type TimingRound } from './support/timing.js';

const PASSWORD = 'Right-Passw0rd!';
const PAIRS = 200, WARMUP = 20;
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

const call = (target: string, body: unknown) => rawCall(gh.url, target, JSON.stringify(body));

/**
 * A timing round over fresh logins (each serves PER_LOGIN calls, before lockout): `prepare` readies a
 * call untimed, `run` is timed; real and unknown answers must be the same error with the same message.
 */
async function loginRound(prepare: (login: string) => Promise<unknown>, run: (prepared: any) => Promise<{ type: string | null; json: any }>, setUp?: (real: string[]) => Promise<void>): Promise<TimingRound> {
  const n = Math.ceil((WARMUP + PAIRS) / PER_LOGIN);
  const logins = { real: await realUsers(n), unknown: Array.from({ length: n }, () => uniqueEmail('ghost')) };
  await setUp?.(logins.real);
  return {
    pairs: PAIRS, warmup: WARMUP,
    async call(kind, i) {
      const prepared = await prepare(logins[kind][Math.floor((i + WARMUP) / PER_LOGIN)]);
      return timed(() => run(prepared));
    },
    same(real: any, unknown: any, i) {
      assert.equal(real.type, unknown.type, `#${i}: error type`);
      assert.equal(real.json?.message, unknown.json?.message, `#${i}: message`);
    },
  };
}

test('user enumeration by timing: a wrong password (USER_PASSWORD_AUTH) costs a real user what it costs an unknown login, same answer', async (t) => {
  await assertSameTiming(t, 'USER_PASSWORD_AUTH', () => loginRound(async (login) => login,
    (login: string) => call('InitiateAuth', { ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: login, PASSWORD: 'Wrong-Passw0rd!' } })));
});

test('user enumeration by timing: a wrong SRP password claim costs a real user what it costs an unknown login, same answer', async (t) => {
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
  await assertSameTiming(t, 'SRP PASSWORD_VERIFIER', () => loginRound(prepare, (body) => call('RespondToAuthChallenge', body)));
});

test('user enumeration by timing: a wrong ConfirmForgotPassword code costs a real user what it costs an unknown login, same answer', async (t) => {
  // Each real user has a code out (as after ForgotPassword), which takes 5 guesses before it dies.
  const codesOut = async (users: string[]) => { for (const email of users) await call('ForgotPassword', { ClientId: clientId, Username: email }); };
  await assertSameTiming(t, 'ConfirmForgotPassword', () => loginRound(async (login) => login,
    (login: string) => call('ConfirmForgotPassword', { ClientId: clientId, Username: login, ConfirmationCode: '000000', Password: 'New-Passw0rd!1' }), codesOut));
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
  // 16 random bytes sent as SRP's PAD(integer): leading zero bytes drop (1 salt in 256), a high bit gains 00.
  const isSalt = (hex: string) => assert.ok(/^[0-9a-f]+$/.test(hex) && BigInt('0x' + hex) < 1n << 128n && hex === padHex(fromHex(hex)), hex);
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
    isSalt(p.SALT);
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
      isSalt(p.SALT);
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
