// Passkeys over the AWS SDK with a software authenticator: the pool's WebAuthnConfiguration,
// registration and its Cognito error types, listing (paged) and deleting, and sign-in through
// USER_AUTH's WEB_AUTHN challenge.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompleteWebAuthnRegistrationCommand, CreateUserPoolClientCommand, DeleteWebAuthnCredentialCommand, GetUserAuthFactorsCommand,
  GetUserPoolMfaConfigCommand, InitiateAuthCommand, ListWebAuthnCredentialsCommand, RespondToAuthChallengeCommand, SetUserPoolMfaConfigCommand,
  StartWebAuthnRegistrationCommand,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, createPoolAndClient, userClient, type Gatehouse } from './support/harness.js';
import { ORIGIN, PASSWORD, answerPasskey, errorOf, passkeyChallenge, passkeyPool, registerPasskey, signedInUser } from './support/passkeys.js';

let gh: Gatehouse, cip: CognitoIdentityProviderClient, pool: { poolId: string; clientId: string };

before(async () => {
  gh = await startGatehouse();
  cip = userClient(gh.url);
  pool = await passkeyPool(gh, 'required');
});
after(async () => { cip?.destroy(); await gh?.stop(); });

test('SetUserPoolMfaConfig stores WebAuthnConfiguration and GetUserPoolMfaConfig shows it; a malformed RP ID is refused', async () => {
  const got = await gh.admin.send(new GetUserPoolMfaConfigCommand({ UserPoolId: pool.poolId }));
  assert.deepEqual(got.WebAuthnConfiguration, { RelyingPartyId: 'localhost', UserVerification: 'required', FactorConfiguration: 'SINGLE_FACTOR' });
  assert.equal(got.MfaConfiguration, 'OFF');
  for (const RelyingPartyId of ['https://example.com', 'example.com:443', 'Example.com', '127.0.0.1', 'example.com/path']) {
    const e = await errorOf(gh.admin.send(new SetUserPoolMfaConfigCommand({ UserPoolId: pool.poolId, WebAuthnConfiguration: { RelyingPartyId } })));
    assert.equal(e.name, 'InvalidParameterException', RelyingPartyId);
  }
  const lite = await createPoolAndClient(gh, { UserPoolTier: 'LITE' });
  const e = await errorOf(gh.admin.send(new SetUserPoolMfaConfigCommand({ UserPoolId: lite.poolId, WebAuthnConfiguration: { RelyingPartyId: 'localhost' } })));
  assert.equal(e.name, 'FeatureUnavailableInTierException');
});

test('a registered passkey signs in through USER_AUTH WEB_AUTHN; credentials are listed, paged and deleted', async () => {
  const user = await signedInUser(gh, cip, pool);
  const ids = [await registerPasskey(cip, user), await registerPasskey(cip, user), await registerPasskey(cip, user)];
  const first = await cip.send(new ListWebAuthnCredentialsCommand({ AccessToken: user.accessToken, MaxResults: 2 }));
  assert.equal(first.Credentials!.length, 2);
  assert.ok(first.NextToken);
  const second = await cip.send(new ListWebAuthnCredentialsCommand({ AccessToken: user.accessToken, MaxResults: 2, NextToken: first.NextToken }));
  assert.equal(second.NextToken, undefined);
  const listed = [...first.Credentials!, ...second.Credentials!];
  assert.deepEqual(listed.map((c) => c.CredentialId).sort(), [...ids].sort());
  const c = listed[0];
  assert.equal(c.RelyingPartyId, 'localhost');
  assert.equal(c.AuthenticatorAttachment, 'platform');
  assert.deepEqual(c.AuthenticatorTransports, ['internal', 'hybrid']);
  assert.ok(c.FriendlyCredentialName && c.CreatedAt instanceof Date);

  const choice = await cip.send(new InitiateAuthCommand({ ClientId: pool.clientId, AuthFlow: 'USER_AUTH', AuthParameters: { USERNAME: user.email } }));
  assert.deepEqual(choice.AvailableChallenges, ['PASSWORD', 'PASSWORD_SRP', 'WEB_AUTHN']);
  const challenge = await passkeyChallenge(cip, pool.clientId, user.email);
  assert.equal(challenge.ChallengeName, 'WEB_AUTHN');
  assert.equal(challenge.options.rpId, 'localhost');
  assert.equal(challenge.options.userVerification, 'required');
  assert.deepEqual(challenge.options.allowCredentials.map((a: { id: string }) => a.id).sort(), [...ids].sort());
  const signedIn = await answerPasskey(cip, pool.clientId, user.email, challenge.Session, user.authenticator.get(challenge.options, { origin: ORIGIN }));
  assert.ok(signedIn.AuthenticationResult?.AccessToken);
  const factors = await cip.send(new GetUserAuthFactorsCommand({ AccessToken: signedIn.AuthenticationResult!.AccessToken }));
  // EMAIL_OTP is not among the pool's factors, though the email is verified.
  assert.deepEqual(factors.ConfiguredUserAuthFactors, ['PASSWORD', 'WEB_AUTHN']);

  await cip.send(new DeleteWebAuthnCredentialCommand({ AccessToken: user.accessToken, CredentialId: ids[0] }));
  const left = await cip.send(new ListWebAuthnCredentialsCommand({ AccessToken: user.accessToken }));
  assert.deepEqual(left.Credentials!.map((x) => x.CredentialId).sort(), ids.slice(1).sort());
  assert.equal((await errorOf(cip.send(new DeleteWebAuthnCredentialCommand({ AccessToken: user.accessToken, CredentialId: ids[0] })))).name, 'ResourceNotFoundException');
  // A deleted passkey signs in no more.
  const again = await passkeyChallenge(cip, pool.clientId, user.email);
  const refused = await errorOf(answerPasskey(cip, pool.clientId, user.email, again.Session, user.authenticator.get(again.options, { origin: ORIGIN, credentialId: ids[0] })));
  assert.equal(refused.name, 'NotAuthorizedException');
});

test('registration answers Cognito\'s WebAuthn error types', async () => {
  const user = await signedInUser(gh, cip, pool);
  const start = async () => (await cip.send(new StartWebAuthnRegistrationCommand({ AccessToken: user.accessToken }))).CredentialCreationOptions as any;
  const complete = (credential: object, accessToken = user.accessToken) =>
    errorOf(cip.send(new CompleteWebAuthnRegistrationCommand({ AccessToken: accessToken, Credential: credential as never })));

  const options = await start();
  assert.equal(options.rp.id, 'localhost');
  assert.equal(options.authenticatorSelection.userVerification, 'required');
  assert.ok(options.challenge && options.user.id && options.pubKeyCredParams.length);

  assert.equal((await complete(user.authenticator.create(options, { origin: 'https://evil.example' }))).name, 'WebAuthnOriginNotAllowedException');
  assert.equal((await complete(user.authenticator.create(options, { origin: ORIGIN, rpId: 'evil.example' }))).name, 'WebAuthnRelyingPartyMismatchException');
  assert.equal((await complete(user.authenticator.create(options, { origin: ORIGIN, uv: false }))).name, 'WebAuthnCredentialNotSupportedException');
  // That last answer spent the registration: it was checked through.
  assert.equal((await complete(user.authenticator.create(options, { origin: ORIGIN }))).name, 'WebAuthnChallengeNotFoundException');
  assert.equal((await complete(user.authenticator.create({ ...options, challenge: 'bm90LWlzc3VlZA' }, { origin: ORIGIN }))).name, 'WebAuthnChallengeNotFoundException');

  // Started by one app client, completed with another client's token for the same user.
  const { UserPoolClient } = await gh.admin.send(new CreateUserPoolClientCommand({ UserPoolId: pool.poolId, ClientName: 'other', ExplicitAuthFlows: ['ALLOW_USER_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] }));
  const other = await cip.send(new InitiateAuthCommand({ ClientId: UserPoolClient!.ClientId!, AuthFlow: 'USER_AUTH', AuthParameters: { USERNAME: user.email, PREFERRED_CHALLENGE: 'PASSWORD', PASSWORD } }));
  const fresh = await start();
  assert.equal((await complete(user.authenticator.create(fresh, { origin: ORIGIN }), other.AuthenticationResult!.AccessToken)).name, 'WebAuthnClientMismatchException');

  // A pool that does not allow passkeys refuses to start.
  const noPasskeys = await createPoolAndClient(gh, { Policies: { SignInPolicy: { AllowedFirstAuthFactors: ['PASSWORD'] } } });
  const someone = await signedInUser(gh, cip, noPasskeys);
  assert.equal((await errorOf(cip.send(new StartWebAuthnRegistrationCommand({ AccessToken: someone.accessToken })))).name, 'WebAuthnNotEnabledException');
});

test('with UserVerification required, an assertion without user verification is refused', async () => {
  const user = await signedInUser(gh, cip, pool);
  await registerPasskey(cip, user);
  const challenge = await passkeyChallenge(cip, pool.clientId, user.email);
  const e = await errorOf(answerPasskey(cip, pool.clientId, user.email, challenge.Session, user.authenticator.get(challenge.options, { origin: ORIGIN, uv: false })));
  assert.equal(e.name, 'NotAuthorizedException');
});

test('an unknown login asking for WEB_AUTHN gets request options shaped as a real user\'s, stable per login', async () => {
  const user = await signedInUser(gh, cip, pool);
  await registerPasskey(cip, user);
  const real = await passkeyChallenge(cip, pool.clientId, user.email);
  let seen = 0;
  for (let i = 0; i < 16; i++) {
    const login = `nobody.${i}.${Date.now()}@example.com`;
    const a = await passkeyChallenge(cip, pool.clientId, login);
    const b = await passkeyChallenge(cip, pool.clientId, login);
    assert.equal(a.ChallengeName, b.ChallengeName, 'the same login gets the same answer');
    if (a.ChallengeName === 'SELECT_CHALLENGE') continue; // as a real user without a passkey gets
    seen++;
    assert.deepEqual(Object.keys(a.options).sort(), Object.keys(real.options).sort());
    assert.deepEqual(a.options.allowCredentials, b.options.allowCredentials);
    assert.equal(a.options.allowCredentials[0].id.length, real.options.allowCredentials[0].id.length);
    const e = await errorOf(answerPasskey(cip, pool.clientId, login, a.Session, user.authenticator.get(a.options, { origin: ORIGIN, credentialId: real.options.allowCredentials[0].id })));
    assert.equal(e.name, 'NotAuthorizedException');
  }
  assert.ok(seen > 0 && seen < 16, `some stand-ins have passkeys, some not (${seen} of 16)`);
});

test('after a failed passkey prompt the WEB_AUTHN session may choose another factor (SELECT_CHALLENGE), once', async () => {
  const user = await signedInUser(gh, cip, pool);
  await registerPasskey(cip, user);
  const challenge = await passkeyChallenge(cip, pool.clientId, user.email);
  const choose = (ANSWER: string, extra: Record<string, string> = {}) => cip.send(new RespondToAuthChallengeCommand({
    ClientId: pool.clientId, ChallengeName: 'SELECT_CHALLENGE', Session: challenge.Session, ChallengeResponses: { USERNAME: user.email, ANSWER, ...extra },
  }));
  assert.equal((await errorOf(choose('EMAIL_OTP'))).name, 'InvalidParameterException', 'not a factor of this pool');
  const r = await choose('PASSWORD', { PASSWORD });
  assert.ok(r.AuthenticationResult?.AccessToken);
  assert.equal((await errorOf(choose('PASSWORD', { PASSWORD }))).name, 'NotAuthorizedException', 'the session is spent');
});
