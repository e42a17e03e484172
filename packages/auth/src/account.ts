/** Everything besides signing in: sign-up, recovery, the session, the user's attributes, MFA, passkeys and devices. */
import {
  type Ctx, type AuthTokens, type AuthUser, accessToken, clearTokens, currentTokens, emit, getDevice, loadTokens, decodeJWT, setDevice, toTokens, userOf,
} from './core.js';
import { AuthError, fail, isAuthFailure, need } from './errors.js';
import { armAutoSignIn, totpDetails, type AuthFlowType, type CodeDeliveryDetails, type MfaType, type TotpSetupDetails } from './signin.js';
import { call } from './wire.js';
import { createPasskey } from './webauthn.js';
import { oauthSignOut } from './oauth.js';

type Meta = Record<string, string> | undefined;
const toAttributes = (r?: Record<string, string | undefined>) => r && Object.entries(r).map(([Name, Value]) => ({ Name, Value }));
const fromAttributes = (list: Array<{ Name: string; Value?: string }> = []) => Object.fromEntries(list.map((a) => [a.Name, a.Value]));
const deliveryOf = (d?: { Destination?: string; DeliveryMedium?: string; AttributeName?: string }): CodeDeliveryDetails => ({ destination: d?.Destination, deliveryMedium: d?.DeliveryMedium, attributeName: d?.AttributeName });

export interface SignUpInput {
  username: string;
  password?: string;
  options?: {
    userAttributes?: Record<string, string>;
    validationData?: Record<string, string>;
    clientMetadata?: Record<string, string>;
    autoSignIn?: boolean | { authFlowType?: AuthFlowType; clientMetadata?: Record<string, string> };
  };
}
export type SignUpStep = 'CONFIRM_SIGN_UP' | 'DONE' | 'COMPLETE_AUTO_SIGN_IN';
export interface SignUpOutput { isSignUpComplete: boolean; userId?: string; nextStep: { signUpStep: SignUpStep; codeDeliveryDetails?: CodeDeliveryDetails } }

export async function signUp(ctx: Ctx, input: SignUpInput): Promise<SignUpOutput> {
  const { username, password, options = {} } = input;
  need(username, 'EmptySignUpUsername', 'username is required to signUp');
  const r = await call(ctx, 'SignUp', {
    ClientId: ctx.cfg.clientId, Username: username, Password: password || undefined, UserAttributes: toAttributes(options.userAttributes),
    ValidationData: toAttributes(options.validationData), ClientMetadata: options.clientMetadata,
  });
  const auto = options.autoSignIn;
  if (auto) armAutoSignIn(ctx, username, password, auto === true ? undefined : auto, r.Session);
  else ctx.autoSignIn = undefined;
  const codeDeliveryDetails = deliveryOf(r.CodeDeliveryDetails);
  if (r.UserConfirmed) return { isSignUpComplete: true, userId: r.UserSub, nextStep: { signUpStep: auto ? 'COMPLETE_AUTO_SIGN_IN' : 'DONE' } };
  // Link verification happens elsewhere; autoSignIn then simply tries once (no polling timer).
  if (auto && ctx.cfg.verification === 'link') return { isSignUpComplete: false, userId: r.UserSub, nextStep: { signUpStep: 'COMPLETE_AUTO_SIGN_IN', codeDeliveryDetails } };
  return { isSignUpComplete: false, userId: r.UserSub, nextStep: { signUpStep: 'CONFIRM_SIGN_UP', codeDeliveryDetails } };
}

export async function confirmSignUp(ctx: Ctx, input: { username: string; confirmationCode: string; options?: { clientMetadata?: Meta; forceAliasCreation?: boolean } }): Promise<SignUpOutput> {
  need(input.username, 'EmptyConfirmSignUpUsername', 'username is required to confirmSignUp');
  need(input.confirmationCode, 'EmptyConfirmSignUpCode', 'code is required to confirmSignUp');
  const a = ctx.autoSignIn;
  const r = await call(ctx, 'ConfirmSignUp', {
    ClientId: ctx.cfg.clientId, Username: input.username, ConfirmationCode: input.confirmationCode,
    ForceAliasCreation: input.options?.forceAliasCreation, ClientMetadata: input.options?.clientMetadata,
  });
  if (a && a.username === input.username) {
    a.session = r.Session ?? a.session;
    return { isSignUpComplete: true, nextStep: { signUpStep: 'COMPLETE_AUTO_SIGN_IN' } };
  }
  return { isSignUpComplete: true, nextStep: { signUpStep: 'DONE' } };
}

export async function resendSignUpCode(ctx: Ctx, input: { username: string; options?: { clientMetadata?: Meta } }): Promise<CodeDeliveryDetails> {
  need(input.username, 'EmptySignUpUsername', 'username is required to resendSignUpCode');
  const r = await call(ctx, 'ResendConfirmationCode', { ClientId: ctx.cfg.clientId, Username: input.username, ClientMetadata: input.options?.clientMetadata });
  return deliveryOf(r.CodeDeliveryDetails);
}

export async function resetPassword(ctx: Ctx, input: { username: string; options?: { clientMetadata?: Meta } }) {
  need(input.username, 'EmptyResetPasswordUsername', 'username is required to resetPassword');
  const r = await call(ctx, 'ForgotPassword', { ClientId: ctx.cfg.clientId, Username: input.username, ClientMetadata: input.options?.clientMetadata });
  return { isPasswordReset: false, nextStep: { resetPasswordStep: 'CONFIRM_RESET_PASSWORD_WITH_CODE' as const, codeDeliveryDetails: deliveryOf(r.CodeDeliveryDetails) } };
}

export async function confirmResetPassword(ctx: Ctx, input: { username: string; confirmationCode: string; newPassword: string; options?: { clientMetadata?: Meta } }): Promise<void> {
  need(input.username, 'EmptyConfirmResetPasswordUsername', 'username is required to confirmResetPassword');
  need(input.confirmationCode, 'EmptyConfirmResetPasswordConfirmationCode', 'confirmationCode is required to confirmResetPassword');
  need(input.newPassword, 'EmptyConfirmResetPasswordNewPassword', 'newPassword is required to confirmResetPassword');
  await call(ctx, 'ConfirmForgotPassword', { ClientId: ctx.cfg.clientId, Username: input.username, ConfirmationCode: input.confirmationCode, Password: input.newPassword, ClientMetadata: input.options?.clientMetadata });
}

export interface AuthSession { tokens?: AuthTokens; userSub?: string; credentials?: undefined; identityId?: undefined }

/** The session, refreshed when its access token (nearly) expired. A network error is thrown and the tokens stay. */
export async function fetchAuthSession(ctx: Ctx, options: { forceRefresh?: boolean } = {}): Promise<AuthSession> {
  const s = await currentTokens(ctx, options.forceRefresh);
  if (!s) return {};
  const tokens = toTokens(s);
  return { tokens, userSub: tokens.accessToken.payload.sub };
}

/** Who is signed in. Works offline: if a refresh cannot reach the server, the stored tokens still say who. */
export async function getCurrentUser(ctx: Ctx): Promise<AuthUser> {
  let s;
  try {
    s = await currentTokens(ctx);
  } catch (e) {
    if (isAuthFailure(e)) throw e;
    s = await loadTokens(ctx);
  }
  if (!s) throw new AuthError({ name: 'UserUnAuthenticatedException', message: 'User needs to be authenticated to call this API.', recoverySuggestion: 'Sign in before calling this API again.' });
  return userOf(s);
}

/**
 * Local sign-out revokes the refresh token (when the tokens carry origin_jti, as Cognito requires);
 * global sign-out ends every session of the user. Either way the tokens here are cleared, also
 * when the server cannot be reached.
 */
export async function signOut(ctx: Ctx, input: { global?: boolean } = {}): Promise<void> {
  await ctx.redirect?.catch(() => {});
  const s = await loadTokens(ctx);
  ctx.signIn = undefined;
  ctx.autoSignIn = undefined;
  await ctx.storage.removeItem(`CognitoIdentityServiceProvider.${ctx.cfg.clientId}.signInState`);
  if (s) {
    try {
      if (input.global) await call(ctx, 'GlobalSignOut', { AccessToken: s.access });
      else if (s.refresh && decodeJWT(s.access).payload.origin_jti) await call(ctx, 'RevokeToken', { ClientId: ctx.cfg.clientId, Token: s.refresh });
    } catch { /* best effort: the tokens are cleared below whatever the server said */ }
    await clearTokens(ctx);
  }
  emit(ctx, 'signedOut');
  if (s?.oauth) oauthSignOut(ctx);
}

export async function updatePassword(ctx: Ctx, input: { oldPassword: string; newPassword: string }): Promise<void> {
  need(input.oldPassword, 'EmptyUpdatePassword', 'oldPassword and newPassword are required to updatePassword');
  need(input.newPassword, 'EmptyUpdatePassword', 'oldPassword and newPassword are required to updatePassword');
  await call(ctx, 'ChangePassword', { AccessToken: await accessToken(ctx), PreviousPassword: input.oldPassword, ProposedPassword: input.newPassword });
}

export async function fetchUserAttributes(ctx: Ctx): Promise<Record<string, string | undefined>> {
  const r = await call(ctx, 'GetUser', { AccessToken: await accessToken(ctx) });
  return fromAttributes(r.UserAttributes);
}

export type UpdateAttributeResult = { isUpdated: boolean; nextStep: { updateAttributeStep: 'CONFIRM_ATTRIBUTE_WITH_CODE' | 'DONE'; codeDeliveryDetails?: CodeDeliveryDetails } };

export async function updateUserAttributes(ctx: Ctx, input: { userAttributes: Record<string, string | undefined>; options?: { clientMetadata?: Meta } }): Promise<Record<string, UpdateAttributeResult>> {
  const r = await call(ctx, 'UpdateUserAttributes', { AccessToken: await accessToken(ctx), UserAttributes: toAttributes(input.userAttributes), ClientMetadata: input.options?.clientMetadata });
  const out: Record<string, UpdateAttributeResult> = {};
  for (const name of Object.keys(input.userAttributes)) out[name] = { isUpdated: true, nextStep: { updateAttributeStep: 'DONE' } };
  for (const d of r.CodeDeliveryDetailsList ?? []) out[d.AttributeName] = { isUpdated: false, nextStep: { updateAttributeStep: 'CONFIRM_ATTRIBUTE_WITH_CODE', codeDeliveryDetails: deliveryOf(d) } };
  return out;
}

export async function updateUserAttribute(ctx: Ctx, input: { userAttribute: { attributeKey: string; value: string }; options?: { clientMetadata?: Meta } }): Promise<UpdateAttributeResult> {
  const key = input.userAttribute.attributeKey;
  return (await updateUserAttributes(ctx, { userAttributes: { [key]: input.userAttribute.value }, options: input.options }))[key]!;
}

export async function sendUserAttributeVerificationCode(ctx: Ctx, input: { userAttributeKey: string; options?: { clientMetadata?: Meta } }): Promise<CodeDeliveryDetails> {
  const r = await call(ctx, 'GetUserAttributeVerificationCode', { AccessToken: await accessToken(ctx), AttributeName: input.userAttributeKey, ClientMetadata: input.options?.clientMetadata });
  return deliveryOf(r.CodeDeliveryDetails);
}

export async function confirmUserAttribute(ctx: Ctx, input: { userAttributeKey: string; confirmationCode: string }): Promise<void> {
  need(input.confirmationCode, 'EmptyConfirmUserAttributeCode', 'confirmationCode is required to confirmUserAttribute');
  await call(ctx, 'VerifyUserAttribute', { AccessToken: await accessToken(ctx), AttributeName: input.userAttributeKey, Code: input.confirmationCode });
}

export async function deleteUserAttributes(ctx: Ctx, input: { userAttributeKeys: string[] }): Promise<void> {
  await call(ctx, 'DeleteUserAttributes', { AccessToken: await accessToken(ctx), UserAttributeNames: input.userAttributeKeys });
}

export async function deleteUser(ctx: Ctx): Promise<void> {
  const token = await accessToken(ctx);
  await call(ctx, 'DeleteUser', { AccessToken: token });
  const s = await loadTokens(ctx);
  if (s) await setDevice(ctx, s.username, undefined);
  await clearTokens(ctx);
  emit(ctx, 'signedOut');
}

export async function setUpTOTP(ctx: Ctx): Promise<TotpSetupDetails> {
  const token = await accessToken(ctx);
  const r = await call(ctx, 'AssociateSoftwareToken', { AccessToken: token });
  return totpDetails(r.SecretCode, decodeJWT(token).payload.username ?? '');
}

export async function verifyTOTPSetup(ctx: Ctx, input: { code: string; options?: { friendlyDeviceName?: string } }): Promise<void> {
  need(input.code, 'EmptyVerifyTOTPSetupCode', 'code is required to verifyTotpSetup');
  await call(ctx, 'VerifySoftwareToken', { AccessToken: await accessToken(ctx), UserCode: input.code, FriendlyDeviceName: input.options?.friendlyDeviceName });
}

export type MFAPreference = 'ENABLED' | 'DISABLED' | 'PREFERRED' | 'NOT_PREFERRED';
const mfaSetting = (p?: MFAPreference) => p && { Enabled: p !== 'DISABLED', PreferredMfa: p === 'PREFERRED' ? true : p === 'NOT_PREFERRED' ? false : undefined };

export async function updateMFAPreference(ctx: Ctx, input: { sms?: MFAPreference; totp?: MFAPreference; email?: MFAPreference }): Promise<void> {
  await call(ctx, 'SetUserMFAPreference', { AccessToken: await accessToken(ctx), SMSMfaSettings: mfaSetting(input.sms), SoftwareTokenMfaSettings: mfaSetting(input.totp), EmailMfaSettings: mfaSetting(input.email) });
}

const MFA: Record<string, MfaType> = { SMS_MFA: 'SMS', SOFTWARE_TOKEN_MFA: 'TOTP', EMAIL_OTP: 'EMAIL' };
export async function fetchMFAPreference(ctx: Ctx): Promise<{ preferred?: MfaType; enabled?: MfaType[] }> {
  const r = await call(ctx, 'GetUser', { AccessToken: await accessToken(ctx) });
  return { preferred: MFA[r.PreferredMfaSetting], enabled: r.UserMFASettingList?.map((m: string) => MFA[m]).filter(Boolean) };
}

export async function associateWebAuthnCredential(ctx: Ctx): Promise<void> {
  const token = await accessToken(ctx);
  const { CredentialCreationOptions } = await call(ctx, 'StartWebAuthnRegistration', { AccessToken: token });
  const credential = await createPasskey(CredentialCreationOptions);
  await call(ctx, 'CompleteWebAuthnRegistration', { AccessToken: token, Credential: credential });
}

export interface AuthWebAuthnCredential { credentialId?: string; friendlyCredentialName?: string; relyingPartyId?: string; authenticatorAttachment?: string; authenticatorTransports?: string[]; createdAt?: Date }
export async function listWebAuthnCredentials(ctx: Ctx, input: { pageSize?: number; nextToken?: string } = {}): Promise<{ credentials: AuthWebAuthnCredential[]; nextToken?: string }> {
  const r = await call(ctx, 'ListWebAuthnCredentials', { AccessToken: await accessToken(ctx), MaxResults: input.pageSize, NextToken: input.nextToken });
  return {
    credentials: (r.Credentials ?? []).map((c: any) => ({
      credentialId: c.CredentialId, friendlyCredentialName: c.FriendlyCredentialName, relyingPartyId: c.RelyingPartyId, authenticatorAttachment: c.AuthenticatorAttachment,
      authenticatorTransports: c.AuthenticatorTransports, createdAt: c.CreatedAt === undefined ? undefined : new Date(c.CreatedAt * 1000),
    })),
    nextToken: r.NextToken,
  };
}

export async function deleteWebAuthnCredential(ctx: Ctx, input: { credentialId: string }): Promise<void> {
  await call(ctx, 'DeleteWebAuthnCredential', { AccessToken: await accessToken(ctx), CredentialId: input.credentialId });
}

async function currentDevice(ctx: Ctx) {
  const s = await loadTokens(ctx);
  const d = s && (await getDevice(ctx, s.username));
  return { s, d };
}

export async function rememberDevice(ctx: Ctx): Promise<void> {
  const token = await accessToken(ctx);
  const { d } = await currentDevice(ctx);
  if (!d) fail('DeviceMetadataException', 'This device has no device key; the user pool must track devices.');
  await call(ctx, 'UpdateDeviceStatus', { AccessToken: token, DeviceKey: d.deviceKey, DeviceRememberedStatus: 'remembered' });
}

export async function forgetDevice(ctx: Ctx, input: { device?: { id: string } } = {}): Promise<void> {
  const token = await accessToken(ctx);
  const { s, d } = await currentDevice(ctx);
  const key = input.device?.id ?? d?.deviceKey;
  if (!key) fail('DeviceMetadataException', 'This device has no device key; the user pool must track devices.');
  await call(ctx, 'ForgetDevice', { AccessToken: token, DeviceKey: key });
  if (s && key === d?.deviceKey) await setDevice(ctx, s.username, undefined);
}

export interface AuthDevice { id: string; name?: string; attributes: Record<string, string | undefined>; createDate?: Date; lastAuthenticatedDate?: Date; lastModifiedDate?: Date }
export async function fetchDevices(ctx: Ctx): Promise<AuthDevice[]> {
  const r = await call(ctx, 'ListDevices', { AccessToken: await accessToken(ctx), Limit: 60 });
  const date = (t?: number) => (t === undefined ? undefined : new Date(t * 1000));
  return (r.Devices ?? []).map((d: any) => {
    const attributes = fromAttributes(d.DeviceAttributes);
    return { id: d.DeviceKey, name: attributes.device_name, attributes, createDate: date(d.DeviceCreateDate), lastAuthenticatedDate: date(d.DeviceLastAuthenticatedDate), lastModifiedDate: date(d.DeviceLastModifiedDate) };
  });
}
