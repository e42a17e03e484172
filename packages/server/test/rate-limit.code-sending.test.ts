// Code sending: the per-user cap (5 codes per purpose per 15 minutes, LimitExceededException, as
// Cognito) against mail bombing one inbox, and per-IP limits on sign-ups, codes and account recovery
// against pumping many. Real SMTP, so every code that goes out is counted where it lands.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CognitoIdentityProviderClient, SignUpCommand, ResendConfirmationCodeCommand, ForgotPasswordCommand, ConfirmForgotPasswordCommand,
  ConfirmSignUpCommand, InitiateAuthCommand, UpdateUserAttributesCommand, GetUserAttributeVerificationCodeCommand, AdminGetUserCommand,
  AdminConfirmSignUpCommand, AdminUpdateUserAttributesCommand, UpdateUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { MailCatcher, startGatehouse, createPoolAndClient, uniqueEmail, rawCall, type Gatehouse } from './support/harness.js';

const PASSWORD = 'Codes-Passw0rd!';
let mail: MailCatcher;
before(async () => { mail = await new MailCatcher().start(); });
after(async () => { await mail?.close(); });

async function withServer(env: Record<string, string>, fn: (gh: Gatehouse, cip: CognitoIdentityProviderClient, ids: { poolId: string; clientId: string }) => Promise<void>) {
  const gh = await startGatehouse({ GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${mail.port}`, ...env });
  const cip = new CognitoIdentityProviderClient({ endpoint: gh.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
  try { await fn(gh, cip, await createPoolAndClient(gh)); } finally { cip.destroy(); await gh.stop(); }
}

async function outcome(p: Promise<unknown>): Promise<string> {
  try { await p; return 'ok'; } catch (e) { return (e as Error).name; }
}
const mailsTo = (to: string) => mail.messages.filter((m) => m.to === to.toLowerCase()).length;
async function settled(to: string, n: number) {
  for (let i = 0; i < 100 && mailsTo(to) < n; i++) await new Promise((r) => setTimeout(r, 20));
  return mailsTo(to);
}

test('mail bombing one user: the sign-up code and four resends go out, the next resend is LimitExceededException', async () => {
  await withServer({}, async (gh, cip, { clientId }) => {
    const email = uniqueEmail('bomb');
    await cip.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: email }] }));
    const resends = [];
    for (let i = 0; i < 5; i++) resends.push(await outcome(cip.send(new ResendConfirmationCodeCommand({ ClientId: clientId, Username: email }))));
    assert.deepEqual(resends, ['ok', 'ok', 'ok', 'ok', 'LimitExceededException']);
    const raw = await rawCall(gh.url, 'ResendConfirmationCode', JSON.stringify({ ClientId: clientId, Username: email }));
    assert.equal(raw.status, 400);
    assert.equal(raw.json.message, 'Attempt limit exceeded, please try after some time.');
    assert.equal(await settled(email, 5), 5, 'exactly five codes reached the inbox');
    // The newest code still confirms: the cap stops sending, not the user.
    await cip.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: await mail.code(email) }));
  });
});

test('user enumeration through the cap: an unknown username meets it exactly as a real one does', async () => {
  await withServer({}, async (gh, cip, { poolId, clientId }) => {
    const real = uniqueEmail('real');
    await cip.send(new SignUpCommand({ ClientId: clientId, Username: real, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: real }] }));
    await gh.admin.send(new AdminConfirmSignUpCommand({ UserPoolId: poolId, Username: real }));
    await gh.admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId, Username: real, UserAttributes: [{ Name: 'email_verified', Value: 'true' }] }));
    const ghost = uniqueEmail('ghost');
    const run = async (who: string) => {
      const out = [];
      for (let i = 0; i < 6; i++) out.push(await outcome(cip.send(new ForgotPasswordCommand({ ClientId: clientId, Username: who }))));
      return out;
    };
    const expected = ['ok', 'ok', 'ok', 'ok', 'ok', 'LimitExceededException'];
    assert.deepEqual(await run(real), expected);
    assert.deepEqual(await run(ghost), expected);
    assert.equal(await settled(real, 6), 6, 'the sign-up code and five reset codes');
  });
});

test('sign-up pumping from one address: past the per-IP sign-up limit, TooManyRequestsException and no account, no mail', async () => {
  await withServer({ GATEHOUSE_RATE_LIMITS: 'on', GATEHOUSE_LIMIT_SIGN_UP_PER_IP: '2/24h' }, async (gh, cip, { poolId, clientId }) => {
    const emails = [uniqueEmail('pump'), uniqueEmail('pump'), uniqueEmail('pump')];
    const out = [];
    for (const e of emails) out.push(await outcome(cip.send(new SignUpCommand({ ClientId: clientId, Username: e, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: e }] }))));
    assert.deepEqual(out, ['ok', 'ok', 'TooManyRequestsException']);
    assert.equal(await outcome(gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: emails[2] }))), 'UserNotFoundException');
    await settled(emails[1], 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(mailsTo(emails[2]), 0);
  });
});

test('code pumping from one address: sign-ups, resends, resets and attribute codes share the per-IP code allowance', async () => {
  await withServer({ GATEHOUSE_RATE_LIMITS: 'on', GATEHOUSE_LIMIT_CODES_PER_IP: '5/24h' }, async (gh, cip, { poolId, clientId }) => {
    const email = uniqueEmail('codes');
    await cip.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: email }] })); // 1
    await cip.send(new ResendConfirmationCodeCommand({ ClientId: clientId, Username: email })); // 2
    await cip.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: await mail.code(email, Date.now() - 60_000) }));
    await gh.admin.send(new UpdateUserPoolClientCommand({ UserPoolId: poolId, ClientId: clientId, ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] }));
    const { AccessToken } = (await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD } }))).AuthenticationResult!;
    // Changing an attribute that needs no code spends nothing.
    await cip.send(new UpdateUserAttributesCommand({ AccessToken, UserAttributes: [{ Name: 'name', Value: 'Pat' }] }));
    await cip.send(new ForgotPasswordCommand({ ClientId: clientId, Username: email })); // 3
    await cip.send(new GetUserAttributeVerificationCodeCommand({ AccessToken, AttributeName: 'email' })); // 4
    const moved = uniqueEmail('moved');
    await cip.send(new UpdateUserAttributesCommand({ AccessToken, UserAttributes: [{ Name: 'email', Value: moved }] })); // 5
    const again = uniqueEmail('again');
    assert.equal(await outcome(cip.send(new UpdateUserAttributesCommand({ AccessToken, UserAttributes: [{ Name: 'email', Value: again }] }))), 'TooManyRequestsException');
    const user = await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: moved }));
    assert.equal(user.UserAttributes!.find((a) => a.Name === 'email')?.Value, moved, 'a refused change is not applied');
    assert.equal(await outcome(cip.send(new GetUserAttributeVerificationCodeCommand({ AccessToken, AttributeName: 'email' }))), 'TooManyRequestsException');
    assert.equal(await outcome(cip.send(new ResendConfirmationCodeCommand({ ClientId: clientId, Username: uniqueEmail('ghost') }))), 'TooManyRequestsException');
  });
});

test('reset-code guessing from one address: ForgotPassword and ConfirmForgotPassword share the per-IP recovery allowance', async () => {
  await withServer({ GATEHOUSE_RATE_LIMITS: 'on', GATEHOUSE_LIMIT_RECOVERY_PER_IP: '4/24h' }, async (gh, cip, { poolId, clientId }) => {
    const email = uniqueEmail('reset');
    await cip.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: email }] }));
    await cip.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: await mail.code(email) }));
    void poolId;
    const since = Date.now();
    await cip.send(new ForgotPasswordCommand({ ClientId: clientId, Username: email }));
    const code = await mail.code(email, since);
    const wrong = code === '000000' ? '111111' : '000000';
    const guesses = [];
    for (let i = 0; i < 3; i++) guesses.push(await outcome(cip.send(new ConfirmForgotPasswordCommand({ ClientId: clientId, Username: email, ConfirmationCode: wrong, Password: 'New-Passw0rd!' }))));
    assert.deepEqual(guesses, ['CodeMismatchException', 'CodeMismatchException', 'CodeMismatchException']);
    assert.equal(await outcome(cip.send(new ConfirmForgotPasswordCommand({ ClientId: clientId, Username: email, ConfirmationCode: code, Password: 'New-Passw0rd!' }))), 'TooManyRequestsException');
  });
});
