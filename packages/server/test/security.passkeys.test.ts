// Attacks on passkey sign-in and registration, each refused: assertions phished for another RP ID
// or origin, replayed (once, in a race, in a new session), made with another user's credential or
// a cloned authenticator, and registrations completed by someone else.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CompleteWebAuthnRegistrationCommand, StartWebAuthnRegistrationCommand, type CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, userClient, type Gatehouse } from './support/harness.js';
import { ORIGIN, answerPasskey, errorOf, passkeyChallenge, passkeyPool, registerPasskey, signedInUser, type SignedIn } from './support/passkeys.js';

let gh: Gatehouse, cip: CognitoIdentityProviderClient, pool: { poolId: string; clientId: string };

before(async () => {
  gh = await startGatehouse();
  cip = userClient(gh.url);
  pool = await passkeyPool(gh);
});
after(async () => { cip?.destroy(); await gh?.stop(); });

async function userWithPasskey(): Promise<SignedIn & { credentialId: string }> {
  const user = await signedInUser(gh, cip, pool);
  return { ...user, credentialId: await registerPasskey(cip, user) };
}

/** A fresh WEB_AUTHN challenge for the user, answered with what `make` builds from its options. */
async function attempt(user: SignedIn, make: (options: any) => object) {
  const c = await passkeyChallenge(cip, pool.clientId, user.email);
  return answerPasskey(cip, pool.clientId, user.email, c.Session, make(c.options));
}

test('passkey phishing: an assertion made for another RP ID, or sent from an origin the RP ID does not cover, is refused', async () => {
  const user = await userWithPasskey();
  const phished = [
    { rpId: 'evil.example', origin: 'https://evil.example' },
    { origin: 'https://evil.example' },
    { origin: 'http://localhost.evil.example' },
    { origin: 'http://evil.localhost.example:5173' },
    { origin: 'https://localhost:5173/path' },
    { origin: 'null' },
  ];
  for (const p of phished) {
    const e = await errorOf(attempt(user, (o) => user.authenticator.get(o, p)));
    assert.equal(e.name, 'NotAuthorizedException', JSON.stringify(p));
  }
  // The same passkey from the real page still signs in: the refusals were about RP ID and origin.
  assert.ok((await attempt(user, (o) => user.authenticator.get(o, { origin: ORIGIN }))).AuthenticationResult?.AccessToken);
  assert.ok((await attempt(user, (o) => user.authenticator.get(o, { origin: 'https://app.localhost' }))).AuthenticationResult?.AccessToken);
});

test('passkey replay: an assertion that signed in once is refused in its own session and in a new one', async () => {
  const user = await userWithPasskey();
  const c = await passkeyChallenge(cip, pool.clientId, user.email);
  const assertion = user.authenticator.get(c.options, { origin: ORIGIN });
  assert.ok((await answerPasskey(cip, pool.clientId, user.email, c.Session, assertion)).AuthenticationResult);
  assert.equal((await errorOf(answerPasskey(cip, pool.clientId, user.email, c.Session, assertion))).name, 'NotAuthorizedException');
  const next = await passkeyChallenge(cip, pool.clientId, user.email);
  assert.equal((await errorOf(answerPasskey(cip, pool.clientId, user.email, next.Session, assertion))).name, 'NotAuthorizedException');
});

test('passkey replay race: one assertion sent 10 times at once signs in once', async () => {
  const user = await userWithPasskey();
  const c = await passkeyChallenge(cip, pool.clientId, user.email);
  const assertion = user.authenticator.get(c.options, { origin: ORIGIN });
  const results = await Promise.allSettled(Array.from({ length: 10 }, () => answerPasskey(cip, pool.clientId, user.email, c.Session, assertion)));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as Error).name, 'NotAuthorizedException');
});

test('credential substitution: another user\'s passkey, or another user\'s credential id over one\'s own key, does not sign a user in', async () => {
  const alice = await userWithPasskey();
  const mallory = await userWithPasskey();
  // Mallory answers Alice's challenge with her own, valid, passkey.
  const own = await errorOf(attempt(alice, (o) => mallory.authenticator.get(o, { origin: ORIGIN, credentialId: mallory.credentialId })));
  assert.equal(own.name, 'NotAuthorizedException');
  // Mallory signs with her key but names Alice's credential.
  const forged = await errorOf(attempt(alice, (o) => ({ ...mallory.authenticator.get(o, { origin: ORIGIN, credentialId: mallory.credentialId }), id: alice.credentialId, rawId: alice.credentialId })));
  assert.equal(forged.name, 'NotAuthorizedException');
  // Alice's own passkey still works.
  assert.ok((await attempt(alice, (o) => alice.authenticator.get(o, { origin: ORIGIN }))).AuthenticationResult);
});

test('cloned authenticator: an assertion whose signature counter did not move on is refused', async () => {
  const user = await userWithPasskey();
  assert.ok((await attempt(user, (o) => user.authenticator.get(o, { origin: ORIGIN, counter: 5 }))).AuthenticationResult);
  assert.equal((await errorOf(attempt(user, (o) => user.authenticator.get(o, { origin: ORIGIN, counter: 5 })))).name, 'NotAuthorizedException');
  assert.equal((await errorOf(attempt(user, (o) => user.authenticator.get(o, { origin: ORIGIN, counter: 3 })))).name, 'NotAuthorizedException');
  assert.ok((await attempt(user, (o) => user.authenticator.get(o, { origin: ORIGIN, counter: 6 }))).AuthenticationResult);
});

test('registration hijack: a registration one user started cannot be completed by another, nor twice', async () => {
  const alice = await signedInUser(gh, cip, pool);
  const mallory = await signedInUser(gh, cip, pool);
  const { CredentialCreationOptions } = await cip.send(new StartWebAuthnRegistrationCommand({ AccessToken: alice.accessToken }));
  const credential = mallory.authenticator.create(CredentialCreationOptions, { origin: ORIGIN });
  const complete = (accessToken: string) => cip.send(new CompleteWebAuthnRegistrationCommand({ AccessToken: accessToken, Credential: credential as never }));
  assert.equal((await errorOf(complete(mallory.accessToken))).name, 'WebAuthnChallengeNotFoundException');
  await complete(alice.accessToken);
  assert.equal((await errorOf(complete(alice.accessToken))).name, 'WebAuthnChallengeNotFoundException');
});
