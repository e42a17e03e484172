// A software passkey authenticator for protocol-level tests: ES256 keys, "none" attestation, and
// ceremonies for whatever RP ID and origin a test names, so tests can act as a phishing page or a
// replaying attacker would. (The browser tests use Chromium's own virtual authenticator.)
import crypto, { type KeyObject } from 'node:crypto';

const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const sha256 = (b: Uint8Array | string) => crypto.createHash('sha256').update(b).digest();

/** Just enough CBOR for attestation objects and COSE keys: maps, integers, byte and text strings. */
function cbor(v: unknown): Buffer {
  const head = (major: number, n: number) => {
    if (n < 24) return Buffer.from([(major << 5) | n]);
    if (n < 256) return Buffer.from([(major << 5) | 24, n]);
    if (n < 65536) return Buffer.from([(major << 5) | 25, n >> 8, n & 255]);
    const b = Buffer.alloc(5);
    b[0] = (major << 5) | 26;
    b.writeUInt32BE(n, 1);
    return b;
  };
  if (typeof v === 'number') return v >= 0 ? head(0, v) : head(1, -1 - v);
  if (typeof v === 'string') return Buffer.concat([head(3, Buffer.byteLength(v)), Buffer.from(v)]);
  if (v instanceof Uint8Array) return Buffer.concat([head(2, v.length), Buffer.from(v)]);
  const entries = v instanceof Map ? [...v.entries()] : Object.entries(v as object);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, x]) => [cbor(k), cbor(x)])]);
}

interface Credential { id: Buffer; key: KeyObject; rpId: string; userHandle: string; counter: number }

export interface CeremonyOptions {
  /** The RP ID the authenticator signs for (default: the one the options name). */
  rpId?: string;
  /** The page's origin, as the browser would report it. */
  origin: string;
  /** Whether the user was verified (PIN, biometrics). */
  uv?: boolean;
  /** For assertions: the credential to use (default: the first the options allow that this authenticator has). */
  credentialId?: string;
  /** For assertions: the signature counter to report instead of the next one. */
  counter?: number;
}

export class SoftAuthenticator {
  readonly credentials: Credential[] = [];

  /** navigator.credentials.create(), as RegistrationResponseJSON. */
  create(options: any, o: CeremonyOptions) {
    const rpId = o.rpId ?? options.rp.id;
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' }) as { x: string; y: string };
    const id = crypto.randomBytes(32);
    const cose = cbor(new Map<number, unknown>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x, 'base64url')], [-3, Buffer.from(jwk.y, 'base64url')]]));
    const flags = 0x01 | (o.uv === false ? 0 : 0x04) | 0x40;
    const length = Buffer.alloc(2);
    length.writeUInt16BE(id.length);
    const authData = Buffer.concat([sha256(rpId), Buffer.from([flags]), Buffer.alloc(4), Buffer.alloc(16), length, id, cose]);
    const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin: o.origin, crossOrigin: false }));
    this.credentials.push({ id, key: privateKey, rpId, userHandle: options.user.id, counter: 0 });
    return {
      id: b64url(id), rawId: b64url(id), type: 'public-key', authenticatorAttachment: 'platform', clientExtensionResults: {},
      response: { clientDataJSON: b64url(clientDataJSON), attestationObject: b64url(cbor({ fmt: 'none', attStmt: {}, authData })), transports: ['internal', 'hybrid'] },
    };
  }

  /** navigator.credentials.get(), as AuthenticationResponseJSON. */
  get(options: any, o: CeremonyOptions) {
    const allowed = new Set((options.allowCredentials ?? []).map((c: { id: string }) => c.id));
    const cred = this.credentials.find((c) => (o.credentialId ? b64url(c.id) === o.credentialId : allowed.has(b64url(c.id))));
    if (!cred) throw new Error('no credential of this authenticator is allowed');
    const rpId = o.rpId ?? options.rpId;
    cred.counter = o.counter ?? cred.counter + 1;
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(cred.counter);
    const authData = Buffer.concat([sha256(rpId), Buffer.from([0x01 | (o.uv === false ? 0 : 0x04)]), counter]);
    const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: options.challenge, origin: o.origin, crossOrigin: false }));
    const signature = crypto.sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), cred.key);
    return {
      id: b64url(cred.id), rawId: b64url(cred.id), type: 'public-key', authenticatorAttachment: 'platform', clientExtensionResults: {},
      response: { clientDataJSON: b64url(clientDataJSON), authenticatorData: b64url(authData), signature: b64url(signature), userHandle: cred.userHandle },
    };
  }
}
