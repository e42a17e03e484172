/**
 * @gatehouse/srp — Amazon Cognito's SRP-6a variant (3072-bit group, SHA-256,
 * "Caldera Derived Key" HKDF), shared by the server and a future TS client.
 *
 * Server flow: serverEphemeral(v) -> send padHex(B) as SRP_B; on
 * PASSWORD_VERIFIER: K = serverSessionKey({ A: fromHex(SRP_A), B, b, verifier }),
 * then verifyClaim(passwordClaimSignature({ key: K, ... }), PASSWORD_CLAIM_SIGNATURE).
 */
export {
  N,
  N_BYTES,
  N_HEX,
  g,
  k,
  SrpError,
  fromHex,
  padBytes,
  padHex,
  sha256,
  toBigInt,
  toBuffer,
} from './group.js';
export { modPow, modPowBigInt } from './modpow.js';
export {
  checkPublic,
  clientEphemeral,
  clientSessionKey,
  computeU,
  computeVerifier,
  computeX,
  deriveKey,
  generateSalt,
  poolNameOf,
  serverEphemeral,
  serverSessionKey,
} from './srp.js';
export { formatTimestamp, passwordClaimSignature, verifyClaim } from './claim.js';
