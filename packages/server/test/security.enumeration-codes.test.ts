// User enumeration through the code-sending operations (ForgotPassword, ResendConfirmationCode) with
// PreventUserExistenceErrors ENABLED: the answer for a login nobody holds must look like a real one
// (the same keys, the same medium, a destination masked the same way and stable per login) and take
// the same time. Mail leaves the request through the outbox, and unknown logins do the same work on
// decoy rows, so neither the answer nor its timing tells.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SMTPServer } from 'smtp-server';
import { AdminCreateUserCommand, AdminSetUserPasswordCommand } from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, createPoolAndClient, uniqueEmail, rawCall, queryDatabase, type Gatehouse } from './support/harness.js';
import { assertSameTiming, type TimingRound } from './support/timing.js';

// Rate limits are off (the harness default); the per-user code cap stays on, raised so that
// hundreds of samples per login stay under it while every request still counts against it.
const env = { GATEHOUSE_LIMIT_CODES_PER_USER: '100000/15m' };
const PASSWORD = 'Sturdy-Passw0rd!';

interface Answer { status: number; body: Record<string, any>; ms: number }

async function call(gh: Gatehouse, target: string, body: object): Promise<Answer> {
  const started = performance.now();
  const res = await rawCall(gh.url, target, JSON.stringify(body));
  return { status: res.status, body: res.json, ms: performance.now() - started };
}

/** The shape of an answer, with the destination reduced to its mask pattern. */
function shape(a: Answer) {
  const d = a.body.CodeDeliveryDetails;
  return {
    status: a.status, keys: Object.keys(a.body).sort(), error: a.body.__type,
    delivery: d && { keys: Object.keys(d).sort(), medium: d.DeliveryMedium, attribute: d.AttributeName, mask: d.Destination.replace(/[a-z0-9]/gi, 'x') },
  };
}

/** A confirmed user with a verified email, as reset requires; or an unconfirmed one, as resend requires. */
async function realUser(gh: Gatehouse, poolId: string, clientId: string, confirmed: boolean) {
  const email = uniqueEmail(confirmed ? 'real' : 'pending');
  if (!confirmed) {
    const up = await call(gh, 'SignUp', { ClientId: clientId, Username: email, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: email }] });
    assert.equal(up.status, 200);
    return email;
  }
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: email, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }] }));
  await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: email, Password: PASSWORD, Permanent: true }));
  return email;
}

/** A round of ForgotPassword or ResendConfirmationCode: every answer, real or not, must have the real shape. */
function codeRound(gh: Gatehouse, target: string, clientId: string, real: string[], unknown: string[]): TimingRound {
  const logins = { real, unknown };
  return {
    pairs: 150,
    async call(kind, i) {
      const a = await call(gh, target, { ClientId: clientId, Username: logins[kind][(i + 20) % logins[kind].length] });
      assert.equal(a.status, 200, `${target} for a ${kind} login: ${JSON.stringify(a.body)}`);
      assert.deepEqual(shape(a), { status: 200, keys: ['CodeDeliveryDetails'], error: undefined, delivery: { keys: ['AttributeName', 'DeliveryMedium', 'Destination'], medium: 'EMAIL', attribute: 'email', mask: 'x***@x***' } });
      return { answer: shape(a), ms: a.ms };
    },
  };
}

test('user enumeration by timing: ForgotPassword and ResendConfirmationCode take as long for unknown logins as for real ones (150 alternating pairs, median difference under 0.25 ms)', async (t) => {
  const gh = await startGatehouse(env);
  try {
    const { poolId, clientId } = await createPoolAndClient(gh);
    const confirmed = [], pending = [];
    for (let i = 0; i < 10; i++) {
      confirmed.push(await realUser(gh, poolId, clientId, true));
      pending.push(await realUser(gh, poolId, clientId, false));
    }
    const unknown = Array.from({ length: 10 }, () => uniqueEmail('ghost'));
    await assertSameTiming(t, 'ForgotPassword', () => codeRound(gh, 'ForgotPassword', clientId, confirmed, unknown));
    await assertSameTiming(t, 'ResendConfirmationCode', () => codeRound(gh, 'ResendConfirmationCode', clientId, pending, unknown));
    // The decoys are never sent, and nothing about them names the login.
    const kept = await queryDatabase<{ state: string; n: number }>(gh, 'select state, count(*) as n from outbox group by state order by state');
    assert.deepEqual(kept.map((r) => r.state), ['decoy', 'kept']);
    const decoys = await queryDatabase<{ subject: string }>(gh, 'select subject from decoys');
    assert.ok(decoys.length > 0 && decoys.every((d) => !d.subject.includes('ghost')));
  } finally {
    await gh.stop();
  }
});

test('user enumeration by a stalled mail server: a real user\'s ForgotPassword answers before the mail is sent', async () => {
  // A mail server that never answers the message: before the outbox, the request waited for it.
  const smtp = new SMTPServer({ authOptional: true, disabledCommands: ['STARTTLS'], logger: false, onData(stream) { stream.resume(); } });
  smtp.on('error', () => {}); // the stopped server drops its connection mid-send
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  const gh = await startGatehouse({ ...env, GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as { port: number }).port}` });
  try {
    const { poolId, clientId } = await createPoolAndClient(gh);
    const real = await realUser(gh, poolId, clientId, true);
    for (let i = 0; i < 3; i++) {
      const a = await call(gh, 'ForgotPassword', { ClientId: clientId, Username: real });
      assert.equal(a.status, 200);
      assert.ok(a.ms < 1000, `answered in ${a.ms.toFixed(0)} ms`);
    }
  } finally {
    await gh.stop();
    await new Promise<void>((r) => smtp.close(() => r()));
  }
});

test('user enumeration by CodeDeliveryDetails: unknown logins get the medium and mask a real user would, derived from the login and stable', async () => {
  const gh = await startGatehouse(env);
  try {
    const forgot = (clientId: string, Username: string) => call(gh, 'ForgotPassword', { ClientId: clientId, Username });
    const resend = (clientId: string, Username: string) => call(gh, 'ResendConfirmationCode', { ClientId: clientId, Username });

    // Email usernames: the login's own initials, as the real user's address shows them.
    const byEmail = await createPoolAndClient(gh);
    const unknownEmail = 'Zed.Nobody@Quiet.example';
    for (const op of [forgot, resend]) {
      const a = await op(byEmail.clientId, unknownEmail);
      assert.deepEqual(a.body, { CodeDeliveryDetails: { AttributeName: 'email', DeliveryMedium: 'EMAIL', Destination: 'z***@q***' } });
    }

    // Phone usernames, phone auto-verified: SMS, masked as a real number is.
    const byPhone = await createPoolAndClient(gh, { UsernameAttributes: ['phone_number'], AutoVerifiedAttributes: ['phone_number'], Schema: undefined });
    const realPhone = '+15555550142';
    assert.equal((await call(gh, 'SignUp', { ClientId: byPhone.clientId, Username: realPhone, Password: PASSWORD })).status, 200);
    const realAnswer = await resend(byPhone.clientId, realPhone);
    const ghostAnswer = await resend(byPhone.clientId, '+15555550199');
    assert.deepEqual(realAnswer.body, { CodeDeliveryDetails: { AttributeName: 'phone_number', DeliveryMedium: 'SMS', Destination: '+*******0142' } });
    assert.deepEqual(ghostAnswer.body, { CodeDeliveryDetails: { AttributeName: 'phone_number', DeliveryMedium: 'SMS', Destination: '+*******0199' } });
    assert.deepEqual(shape(await forgot(byPhone.clientId, '+15555550199')), shape(realAnswer));

    // Plain usernames, email auto-verified: a masked address derived from the login, the same every time.
    const plain = await createPoolAndClient(gh, { UsernameAttributes: [], Schema: [{ Name: 'email', Required: true, Mutable: true, AttributeDataType: 'String' }] });
    assert.equal((await call(gh, 'SignUp', { ClientId: plain.clientId, Username: 'realperson', Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: 'rp@mail.example' }] })).status, 200);
    const realPlain = await resend(plain.clientId, 'realperson');
    assert.equal(realPlain.body.CodeDeliveryDetails.Destination, 'r***@m***');
    const masks = new Set<string>();
    for (const login of ['someone', 'another', 'third-one', 'fourth', 'fifth']) {
      const one = await resend(plain.clientId, login);
      const two = await forgot(plain.clientId, login);
      const again = await resend(plain.clientId, login.toUpperCase()); // usernames are case-insensitive here, as for real users
      assert.deepEqual(shape(one), shape(realPlain));
      assert.equal(one.body.CodeDeliveryDetails.Destination, two.body.CodeDeliveryDetails.Destination, 'stable per login');
      assert.equal(one.body.CodeDeliveryDetails.Destination, again.body.CodeDeliveryDetails.Destination, 'stable per login');
      masks.add(one.body.CodeDeliveryDetails.Destination);
    }
    assert.ok(masks.size >= 3, `not one fixed mask for everyone: ${[...masks].join(', ')}`);

    // Plain usernames, phone auto-verified: SMS, with a derived number.
    const plainSms = await createPoolAndClient(gh, { UsernameAttributes: [], AutoVerifiedAttributes: ['phone_number'], Schema: undefined });
    const sms = await forgot(plainSms.clientId, 'someone');
    assert.equal(sms.body.CodeDeliveryDetails.DeliveryMedium, 'SMS');
    assert.match(sms.body.CodeDeliveryDetails.Destination, /^\+\*{6,8}\d{4}$/);

    // No auto-verification: an unconfirmed real user cannot get a code resent, and neither can nobody.
    const manual = await createPoolAndClient(gh, { AutoVerifiedAttributes: [] });
    const pendingEmail = uniqueEmail('manual');
    assert.equal((await call(gh, 'SignUp', { ClientId: manual.clientId, Username: pendingEmail, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: pendingEmail }] })).status, 200);
    const realRefusal = await resend(manual.clientId, pendingEmail);
    const ghostRefusal = await resend(manual.clientId, uniqueEmail('ghost'));
    assert.equal(realRefusal.body.__type, 'InvalidParameterException');
    assert.deepEqual(ghostRefusal.body, realRefusal.body);
  } finally {
    await gh.stop();
  }
});
