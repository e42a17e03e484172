// Passkey test helpers over the AWS SDK: a pool that allows passkeys, users signed in with a
// password, registration and sign-in ceremonies run by the software authenticator.
import {
  AdminConfirmSignUpCommand, CompleteWebAuthnRegistrationCommand, InitiateAuthCommand, RespondToAuthChallengeCommand,
  SetUserPoolMfaConfigCommand, SignUpCommand, StartWebAuthnRegistrationCommand, type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { createPoolAndClient, uniqueEmail, type Gatehouse } from './harness.js';
import { SoftAuthenticator, type CeremonyOptions } from './webauthn.js';

export const PASSWORD = 'Correct-Horse-9';
/** A page on localhost: WebAuthn works there without TLS. */
export const ORIGIN = 'http://localhost:5173';

/** A pool allowing passwords and passkeys, RP ID localhost, with an app client. */
export async function passkeyPool(gh: Gatehouse, userVerification: 'required' | 'preferred' = 'preferred') {
  const ids = await createPoolAndClient(gh, { Policies: { SignInPolicy: { AllowedFirstAuthFactors: ['PASSWORD', 'WEB_AUTHN'] } } });
  await gh.admin.send(new SetUserPoolMfaConfigCommand({ UserPoolId: ids.poolId, WebAuthnConfiguration: { RelyingPartyId: 'localhost', UserVerification: userVerification } }));
  return ids;
}

export interface SignedIn { email: string; accessToken: string; authenticator: SoftAuthenticator }

/** A confirmed user, signed in with their password, with an authenticator of their own. */
export async function signedInUser(gh: Gatehouse, cip: CognitoIdentityProviderClient, pool: { poolId: string; clientId: string }): Promise<SignedIn> {
  const email = uniqueEmail('passkey');
  await cip.send(new SignUpCommand({ ClientId: pool.clientId, Username: email, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: email }] }));
  await gh.admin.send(new AdminConfirmSignUpCommand({ UserPoolId: pool.poolId, Username: email }));
  const r = await cip.send(new InitiateAuthCommand({ ClientId: pool.clientId, AuthFlow: 'USER_AUTH', AuthParameters: { USERNAME: email, PREFERRED_CHALLENGE: 'PASSWORD', PASSWORD } }));
  return { email, accessToken: r.AuthenticationResult!.AccessToken!, authenticator: new SoftAuthenticator() };
}

/** StartWebAuthnRegistration, the authenticator's create(), CompleteWebAuthnRegistration. */
export async function registerPasskey(cip: CognitoIdentityProviderClient, user: SignedIn, o: Partial<CeremonyOptions> = {}) {
  const { CredentialCreationOptions } = await cip.send(new StartWebAuthnRegistrationCommand({ AccessToken: user.accessToken }));
  const credential = user.authenticator.create(CredentialCreationOptions, { origin: ORIGIN, ...o });
  await cip.send(new CompleteWebAuthnRegistrationCommand({ AccessToken: user.accessToken, Credential: credential as never }));
  return credential.id;
}

/** USER_AUTH with PREFERRED_CHALLENGE WEB_AUTHN: the challenge, its options and its Session. */
export async function passkeyChallenge(cip: CognitoIdentityProviderClient, clientId: string, username: string) {
  const r = await cip.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_AUTH', AuthParameters: { USERNAME: username, PREFERRED_CHALLENGE: 'WEB_AUTHN' } }));
  return { ...r, options: r.ChallengeParameters?.CREDENTIAL_REQUEST_OPTIONS ? JSON.parse(r.ChallengeParameters.CREDENTIAL_REQUEST_OPTIONS) : undefined };
}

/** Answers a WEB_AUTHN challenge with an assertion (JSON as Amplify sends it). */
export function answerPasskey(cip: CognitoIdentityProviderClient, clientId: string, username: string, session: string | undefined, assertion: object) {
  return cip.send(new RespondToAuthChallengeCommand({
    ClientId: clientId, ChallengeName: 'WEB_AUTHN', Session: session, ChallengeResponses: { USERNAME: username, CREDENTIAL: JSON.stringify(assertion) },
  }));
}

export async function errorOf(p: Promise<unknown>): Promise<Error & { name: string }> {
  try { await p; } catch (e) { return e as Error & { name: string }; }
  throw new Error('expected an error');
}
