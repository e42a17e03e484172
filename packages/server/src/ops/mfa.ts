// MFA: the pool's MFA settings, a user's MFA preferences, and TOTP enrolment (after sign-in with an
// AccessToken, or during it with the MFA_SETUP Session).
import { op } from '../wire/operations.js';
import { EnableSoftwareTokenMFAException, InvalidParameterException, SoftwareTokenMFANotFoundException } from '../errors.js';
import type { SMSMfaSettingsType, SoftwareTokenMfaSettingsType, EmailMfaSettingsType, MFAOptionType } from '../shapes.js';
import { adminFindUser } from '../domain/users.js';
import { applyMfaPreference, saveMfa, type FactorSetting, type MfaFactor } from '../domain/mfa.js';
import { describeMfaConfig, setMfaConfig } from '../domain/mfa-config.js';
import { countTotpEnrolmentGuess, newTotpSecret, openTotpSecret, sealTotpSecret, startTotpEnrolment, useTotpCode } from '../domain/totp.js';
import { parsePool } from '../domain/pools.js';
import { associateInSession, verifyInSession } from '../domain/signin/index.js';
import { authenticated, poolOf } from './common.js';
import { webAuthnConfigurationFrom } from '../domain/webauthn.js';

op('GetUserPoolMfaConfig', async (ctx, input) => describeMfaConfig(await poolOf(ctx, input)));

op('SetUserPoolMfaConfig', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const config = setMfaConfig(pool.config, input);
  // The passkey settings stay as they are unless the request names them.
  if (input.WebAuthnConfiguration) config.WebAuthnConfiguration = webAuthnConfigurationFrom(pool, input.WebAuthnConfiguration);
  const now = ctx.now();
  await ctx.repo.updatePool(pool.id, { config: JSON.stringify(config), updated_at: now });
  return describeMfaConfig(parsePool({ ...pool.row, config: JSON.stringify(config), updated_at: now }));
});

/** SetUserMFAPreference's and AdminSetUserMFAPreference's settings, by factor. */
function preferenceSettings(input: { SMSMfaSettings?: SMSMfaSettingsType; SoftwareTokenMfaSettings?: SoftwareTokenMfaSettingsType; EmailMfaSettings?: EmailMfaSettingsType }): Partial<Record<MfaFactor, FactorSetting | undefined>> {
  return { SMS_MFA: input.SMSMfaSettings, SOFTWARE_TOKEN_MFA: input.SoftwareTokenMfaSettings, EMAIL_OTP: input.EmailMfaSettings };
}

op('SetUserMFAPreference', async (ctx, input) => {
  const { pool, user } = await authenticated(ctx, input);
  await saveMfa(ctx, pool, user, applyMfaPreference(pool, user, preferenceSettings(input)));
  return {};
});

op('AdminSetUserMFAPreference', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const user = await adminFindUser(ctx, pool, input.Username);
  await saveMfa(ctx, pool, user, applyMfaPreference(pool, user, preferenceSettings(input)));
  return {};
});

/**
 * The legacy MFAOptions of SetUserSettings / AdminSetUserSettings (amazon-cognito-identity-js's
 * enableMFA and disableMFA still send them). As in Cognito they reach SMS MFA only: one SMS option
 * for phone_number turns it on, an empty list turns it off.
 */
function legacySmsSetting(options: MFAOptionType[]): FactorSetting {
  if (options.length === 0) return { Enabled: false };
  const [only] = options;
  if (options.length > 1 || only?.DeliveryMedium !== 'SMS' || only.AttributeName !== 'phone_number') {
    throw new InvalidParameterException('MFAOptions can only turn SMS MFA to phone_number on or off; use SetUserMFAPreference for other factors.');
  }
  return { Enabled: true };
}

op('SetUserSettings', async (ctx, input) => {
  const { pool, user } = await authenticated(ctx, input);
  await saveMfa(ctx, pool, user, applyMfaPreference(pool, user, { SMS_MFA: legacySmsSetting(input.MFAOptions) }));
  return {};
});

op('AdminSetUserSettings', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const user = await adminFindUser(ctx, pool, input.Username);
  await saveMfa(ctx, pool, user, applyMfaPreference(pool, user, { SMS_MFA: legacySmsSetting(input.MFAOptions) }));
  return {};
});

/** Exactly one of AccessToken (a signed-in user) and Session (a sign-in setting up MFA). */
function accessTokenOr(input: { AccessToken?: string; Session?: string }): string | undefined {
  if ((input.AccessToken === undefined) === (input.Session === undefined)) throw new InvalidParameterException('Either AccessToken or Session must be given, not both.');
  return input.AccessToken;
}

op('AssociateSoftwareToken', async (ctx, input) => {
  const AccessToken = accessTokenOr(input);
  if (AccessToken === undefined) return associateInSession(ctx, input.Session);
  const { pool, user } = await authenticated(ctx, { AccessToken });
  // The secret waits, sealed, until VerifySoftwareToken proves the app has it; a verified one stays until then.
  const secret = newTotpSecret();
  await startTotpEnrolment(ctx, pool.id, user.id);
  await saveMfa(ctx, pool, user, { ...user.mfa, pendingTotp: sealTotpSecret(ctx, pool.id, user.id, secret) });
  return { SecretCode: secret };
});

op('VerifySoftwareToken', async (ctx, input) => {
  const AccessToken = accessTokenOr(input);
  if (AccessToken === undefined) return verifyInSession(ctx, input.Session, input.UserCode, input.FriendlyDeviceName);
  const { pool, user } = await authenticated(ctx, { AccessToken });
  const pending = user.mfa.pendingTotp;
  if (!pending) throw new SoftwareTokenMFANotFoundException('Software Token MFA has not been associated with this user (AssociateSoftwareToken).');
  if (!(await countTotpEnrolmentGuess(ctx, user.id))) {
    throw new EnableSoftwareTokenMFAException('Too many wrong codes for this secret; call AssociateSoftwareToken for a new one.');
  }
  if (!(await useTotpCode(ctx, pool.id, user.id, openTotpSecret(ctx, pool.id, user.id, pending), input.UserCode))) {
    throw new EnableSoftwareTokenMFAException('Code mismatch and fail enable Software Token MFA');
  }
  const { pendingTotp: _, ...mfa } = user.mfa;
  // Verified, not enabled: SetUserMFAPreference turns it on, as in Cognito.
  await saveMfa(ctx, pool, user, { ...mfa, totpSecret: pending, ...(input.FriendlyDeviceName ? { totpName: input.FriendlyDeviceName } : {}) });
  return { Status: 'SUCCESS' as const };
});
