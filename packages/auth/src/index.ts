/**
 * @gatehouse/auth — aws-amplify/auth's API for Gatehouse (and Amazon Cognito) user pools.
 *
 * Two ways in: the module-level functions after `configure(...)`, exactly as with Amplify, or
 * `createAuth(config)` for independent clients (one per user on a server, several pools in one app).
 * Each module-level function is a thin wrapper, so a bundler keeps only the ones an app imports.
 */
import * as A from './account.js';
import type { AuthConfig } from './config.js';
import { resolveConfig } from './config.js';
import type { Ctx, Listener, HubCapsule } from './core.js';
import { fail } from './errors.js';
import * as O from './oauth.js';
import * as S from './signin.js';
import { cookieStorage, defaultStorage, type CookieOptions, type KeyValueStorage } from './storage.js';

export { AuthError } from './errors.js';
export { decodeJWT } from './core.js';
export type { AuthTokens, AuthUser, JWT, JwtPayload, SignInDetails, HubCapsule, AuthHubEvent } from './core.js';
export type { AuthConfig, CognitoConfig, OAuthConfig } from './config.js';
export type { SignInInput, SignInOutput, SignInNextStep, ConfirmSignInInput, AuthFlowType, AuthFactorType, MfaType, CodeDeliveryDetails, TotpSetupDetails } from './signin.js';
export type { SignUpInput, SignUpOutput, AuthSession, MFAPreference, AuthDevice, AuthWebAuthnCredential, UpdateAttributeResult } from './account.js';
export type { SignInWithRedirectInput } from './oauth.js';
export { memoryStorage, cookieStorage, defaultStorage, type KeyValueStorage, type CookieOptions } from './storage.js';
export { verifyToken, createVerifier, nodeMiddleware, fetchMiddleware, type VerifyOptions, type VerifiedToken } from './verify.js';

export interface AuthOptions {
  /** Token storage; default localStorage in browsers, memory elsewhere. */
  storage?: KeyValueStorage;
  /** The fetch to call the server with (a proxy's, a test's, a runtime's own). */
  fetch?: typeof fetch;
  /** Opens the hosted sign-in and sign-out pages; default `location.assign`. */
  navigate?: (url: string) => unknown;
}

function makeCtx(config: AuthConfig, options: AuthOptions, listeners: Set<Listener>, previous?: Ctx): Ctx {
  const ctx: Ctx = {
    cfg: resolveConfig(config),
    storage: options.storage ?? previous?.storage ?? defaultStorage(),
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    listeners,
    navigate: options.navigate ?? ((url) => (globalThis as { location?: Location }).location?.assign(url)),
    redirect: previous?.redirect,
  };
  // A page that is the answer to signInWithRedirect completes before anything reads tokens.
  if (ctx.cfg.oauth && (globalThis as { location?: Location }).location) O.completeRedirect(ctx).catch(() => {});
  return ctx;
}

const hub = (listeners: Set<Listener>) => ({
  listen(channel: 'auth', callback: (capsule: HubCapsule) => void): () => void {
    if (channel !== 'auth') return () => {};
    listeners.add(callback);
    return () => void listeners.delete(callback);
  },
});

/** An independent client: its own configuration, storage, session and listeners. */
export function createAuth(config: AuthConfig, options: AuthOptions = {}) {
  const listeners = new Set<Listener>();
  const ctx = makeCtx(config, options, listeners);
  return {
    signIn: (input: S.SignInInput) => S.signIn(ctx, input),
    confirmSignIn: (input: S.ConfirmSignInInput) => S.confirmSignIn(ctx, input),
    autoSignIn: () => S.autoSignIn(ctx),
    signInWithRedirect: (input?: O.SignInWithRedirectInput) => O.signInWithRedirect(ctx, input),
    /** Finishes a redirect sign-in from a URL (server-side or custom routing); browsers do it by themselves. */
    completeSignInWithRedirect: (url?: string) => O.completeRedirect(ctx, url),
    signUp: (input: A.SignUpInput) => A.signUp(ctx, input),
    confirmSignUp: (input: Parameters<typeof A.confirmSignUp>[1]) => A.confirmSignUp(ctx, input),
    resendSignUpCode: (input: Parameters<typeof A.resendSignUpCode>[1]) => A.resendSignUpCode(ctx, input),
    signOut: (input?: { global?: boolean }) => A.signOut(ctx, input),
    fetchAuthSession: (options?: { forceRefresh?: boolean }) => A.fetchAuthSession(ctx, options),
    getCurrentUser: () => A.getCurrentUser(ctx),
    resetPassword: (input: Parameters<typeof A.resetPassword>[1]) => A.resetPassword(ctx, input),
    confirmResetPassword: (input: Parameters<typeof A.confirmResetPassword>[1]) => A.confirmResetPassword(ctx, input),
    updatePassword: (input: Parameters<typeof A.updatePassword>[1]) => A.updatePassword(ctx, input),
    fetchUserAttributes: () => A.fetchUserAttributes(ctx),
    updateUserAttributes: (input: Parameters<typeof A.updateUserAttributes>[1]) => A.updateUserAttributes(ctx, input),
    updateUserAttribute: (input: Parameters<typeof A.updateUserAttribute>[1]) => A.updateUserAttribute(ctx, input),
    sendUserAttributeVerificationCode: (input: Parameters<typeof A.sendUserAttributeVerificationCode>[1]) => A.sendUserAttributeVerificationCode(ctx, input),
    confirmUserAttribute: (input: Parameters<typeof A.confirmUserAttribute>[1]) => A.confirmUserAttribute(ctx, input),
    deleteUserAttributes: (input: Parameters<typeof A.deleteUserAttributes>[1]) => A.deleteUserAttributes(ctx, input),
    deleteUser: () => A.deleteUser(ctx),
    setUpTOTP: () => A.setUpTOTP(ctx),
    verifyTOTPSetup: (input: Parameters<typeof A.verifyTOTPSetup>[1]) => A.verifyTOTPSetup(ctx, input),
    updateMFAPreference: (input: Parameters<typeof A.updateMFAPreference>[1]) => A.updateMFAPreference(ctx, input),
    fetchMFAPreference: () => A.fetchMFAPreference(ctx),
    associateWebAuthnCredential: () => A.associateWebAuthnCredential(ctx),
    listWebAuthnCredentials: (input?: Parameters<typeof A.listWebAuthnCredentials>[1]) => A.listWebAuthnCredentials(ctx, input),
    deleteWebAuthnCredential: (input: Parameters<typeof A.deleteWebAuthnCredential>[1]) => A.deleteWebAuthnCredential(ctx, input),
    rememberDevice: () => A.rememberDevice(ctx),
    forgetDevice: (input?: Parameters<typeof A.forgetDevice>[1]) => A.forgetDevice(ctx, input),
    fetchDevices: () => A.fetchDevices(ctx),
    Hub: hub(listeners),
  };
}
export type Auth = ReturnType<typeof createAuth>;

// ---- the module-level client, as aws-amplify/auth has it ----

const listeners = new Set<Listener>();
let current: Ctx | undefined;
let storageOverride: KeyValueStorage | undefined;

/** Amplify.configure's shape: `{ Auth: { Cognito: { userPoolId, userPoolClientId, userPoolEndpoint, loginWith } } }`. */
export function configure(config: AuthConfig, options: AuthOptions = {}): void {
  current = makeCtx(config, { storage: storageOverride, ...options }, listeners, current);
}
const ctx = (): Ctx => current ?? fail('AuthUserPoolException', 'Auth UserPool not configured.', 'Call configure (or Amplify.configure) first.');

/** Drop-in for `import { Amplify } from 'aws-amplify'`. */
export const Amplify = { configure };
/** Drop-in for `import { Hub } from 'aws-amplify/utils'`, channel 'auth'. */
export const Hub = hub(listeners);
/** Drop-in for `cognitoUserPoolsTokenProvider.setKeyValueStorage(...)` from 'aws-amplify/auth/cognito'. */
export const cognitoUserPoolsTokenProvider = {
  setKeyValueStorage(storage: KeyValueStorage) {
    storageOverride = storage;
    if (current) current.storage = storage;
  },
};
/** Drop-in for Amplify's `new CookieStorage(options)`. */
export const CookieStorage = function CookieStorage(options?: CookieOptions) { return cookieStorage(options); } as unknown as new (options?: CookieOptions) => KeyValueStorage;

export const signIn = (input: S.SignInInput) => S.signIn(ctx(), input);
export const confirmSignIn = (input: S.ConfirmSignInInput) => S.confirmSignIn(ctx(), input);
export const autoSignIn = () => S.autoSignIn(ctx());
export const signInWithRedirect = (input?: O.SignInWithRedirectInput) => O.signInWithRedirect(ctx(), input);
export const completeSignInWithRedirect = (url?: string) => O.completeRedirect(ctx(), url);
export const signUp = (input: A.SignUpInput) => A.signUp(ctx(), input);
export const confirmSignUp = (input: Parameters<typeof A.confirmSignUp>[1]) => A.confirmSignUp(ctx(), input);
export const resendSignUpCode = (input: Parameters<typeof A.resendSignUpCode>[1]) => A.resendSignUpCode(ctx(), input);
export const signOut = (input?: { global?: boolean }) => A.signOut(ctx(), input);
export const fetchAuthSession = (options?: { forceRefresh?: boolean }) => A.fetchAuthSession(ctx(), options);
export const getCurrentUser = () => A.getCurrentUser(ctx());
export const resetPassword = (input: Parameters<typeof A.resetPassword>[1]) => A.resetPassword(ctx(), input);
export const confirmResetPassword = (input: Parameters<typeof A.confirmResetPassword>[1]) => A.confirmResetPassword(ctx(), input);
export const updatePassword = (input: Parameters<typeof A.updatePassword>[1]) => A.updatePassword(ctx(), input);
export const fetchUserAttributes = () => A.fetchUserAttributes(ctx());
export const updateUserAttributes = (input: Parameters<typeof A.updateUserAttributes>[1]) => A.updateUserAttributes(ctx(), input);
export const updateUserAttribute = (input: Parameters<typeof A.updateUserAttribute>[1]) => A.updateUserAttribute(ctx(), input);
export const sendUserAttributeVerificationCode = (input: Parameters<typeof A.sendUserAttributeVerificationCode>[1]) => A.sendUserAttributeVerificationCode(ctx(), input);
export const confirmUserAttribute = (input: Parameters<typeof A.confirmUserAttribute>[1]) => A.confirmUserAttribute(ctx(), input);
export const deleteUserAttributes = (input: Parameters<typeof A.deleteUserAttributes>[1]) => A.deleteUserAttributes(ctx(), input);
export const deleteUser = () => A.deleteUser(ctx());
export const setUpTOTP = () => A.setUpTOTP(ctx());
export const verifyTOTPSetup = (input: Parameters<typeof A.verifyTOTPSetup>[1]) => A.verifyTOTPSetup(ctx(), input);
export const updateMFAPreference = (input: Parameters<typeof A.updateMFAPreference>[1]) => A.updateMFAPreference(ctx(), input);
export const fetchMFAPreference = () => A.fetchMFAPreference(ctx());
export const associateWebAuthnCredential = () => A.associateWebAuthnCredential(ctx());
export const listWebAuthnCredentials = (input?: Parameters<typeof A.listWebAuthnCredentials>[1]) => A.listWebAuthnCredentials(ctx(), input);
export const deleteWebAuthnCredential = (input: Parameters<typeof A.deleteWebAuthnCredential>[1]) => A.deleteWebAuthnCredential(ctx(), input);
export const rememberDevice = () => A.rememberDevice(ctx());
export const forgetDevice = (input?: Parameters<typeof A.forgetDevice>[1]) => A.forgetDevice(ctx(), input);
export const fetchDevices = () => A.fetchDevices(ctx());
