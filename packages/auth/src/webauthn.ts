/**
 * The browser half of passkeys: Cognito's JSON options in, the authenticator's answer out as the
 * JSON Cognito takes (every binary field base64url). Needs navigator.credentials (a browser).
 */
import { AuthError, fail } from './errors.js';

const toB64url = (buf: ArrayBuffer | ArrayBufferView | null | undefined): string | undefined => {
  if (!buf) return undefined;
  const bytes = buf instanceof ArrayBuffer ? new Uint8Array(buf) : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};
const fromB64url = (s: string): ArrayBuffer => {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(s.length / 4) * 4, '='));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
};

function credentials(): CredentialsContainer {
  const c = (globalThis as { navigator?: Navigator }).navigator?.credentials;
  if (!c || typeof PublicKeyCredential === 'undefined') fail('PasskeyNotSupported', 'Passkeys are not supported in this runtime.');
  return c;
}

/**
 * The browser's DOMExceptions under Amplify's PasskeyError names: a dismissed prompt is
 * `Passkey…Canceled`, so an app can offer another factor (the sign-in stays open for it).
 */
async function ceremony<T>(run: () => Promise<T>, registering: boolean): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof AuthError) throw e;
    const n = (e as Error)?.name;
    const [name, message] =
      n === 'NotAllowedError' ? [registering ? 'PasskeyRegistrationCanceled' : 'PasskeyAuthenticationCanceled', `Passkey ${registering ? 'registration' : 'authentication'} ceremony has been canceled.`]
      : n === 'InvalidStateError' && registering ? ['PasskeyAlreadyExists', 'Passkey already exists in authenticator.']
      : n === 'AbortError' ? ['PasskeyOperationAborted', 'Passkey operation has been aborted.']
      : n === 'SecurityError' ? ['RelyingPartyMismatch', 'Relying party does not match current domain.']
      : ['Unknown', 'An unknown error has occurred.'];
    throw new AuthError({ name, message, underlyingError: e });
  }
}

const ids = (list?: Array<{ id: string; type?: string; transports?: string[] }>) =>
  list?.map((c) => ({ ...c, type: 'public-key' as const, id: fromB64url(c.id), transports: c.transports as AuthenticatorTransport[] | undefined }));

function common(cred: PublicKeyCredential) {
  return { id: cred.id, rawId: toB64url(cred.rawId), type: cred.type, clientExtensionResults: cred.getClientExtensionResults(), authenticatorAttachment: cred.authenticatorAttachment ?? undefined };
}

/** Sign-in: CREDENTIAL_REQUEST_OPTIONS -> the assertion Cognito's WEB_AUTHN challenge takes as CREDENTIAL. */
export async function getPasskey(options: any): Promise<object> {
  if (!options?.challenge) fail('InvalidPasskeyAuthenticationOptions', 'The server sent no passkey request options.');
  const cred = (await ceremony(() => credentials().get({ publicKey: { ...options, challenge: fromB64url(options.challenge), allowCredentials: ids(options.allowCredentials) } }), false)) as PublicKeyCredential | null;
  if (!cred) fail('PasskeyRetrievalFailed', 'No passkey was returned.');
  const r = cred.response as AuthenticatorAssertionResponse;
  return { ...common(cred), response: { clientDataJSON: toB64url(r.clientDataJSON), authenticatorData: toB64url(r.authenticatorData), signature: toB64url(r.signature), userHandle: toB64url(r.userHandle) } };
}

/** Registration: StartWebAuthnRegistration's CredentialCreationOptions -> what CompleteWebAuthnRegistration takes. */
export async function createPasskey(options: any): Promise<object> {
  if (!options?.challenge || !options.user?.id) fail('InvalidPasskeyRegistrationOptions', 'The server sent no passkey creation options.');
  const cred = (await ceremony(() => credentials().create({
    publicKey: { ...options, challenge: fromB64url(options.challenge), user: { ...options.user, id: fromB64url(options.user.id) }, excludeCredentials: ids(options.excludeCredentials) },
  }), true)) as PublicKeyCredential | null;
  if (!cred) fail('PasskeyRegistrationFailed', 'No passkey was created.');
  const r = cred.response as AuthenticatorAttestationResponse;
  return {
    ...common(cred),
    response: {
      clientDataJSON: toB64url(r.clientDataJSON), attestationObject: toB64url(r.attestationObject), transports: r.getTransports?.(),
      publicKey: toB64url(r.getPublicKey?.()), publicKeyAlgorithm: r.getPublicKeyAlgorithm?.(), authenticatorData: toB64url(r.getAuthenticatorData?.()),
    },
  };
}
