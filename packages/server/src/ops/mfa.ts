// MFA: the pool's MFA settings, a user's MFA preferences, and TOTP enrolment (after sign-in with an
// AccessToken, or during it with the MFA_SETUP Session).
import { adminOp, publicOp } from '../wire/operations.js';
import { EnableSoftwareTokenMFAException, InvalidParameterException, SoftwareTokenMFANotFoundException } from '../errors.js';
import type { Input } from '../wire/input.js';
import { adminFindUser } from '../domain/users.js';
import { applyMfaPreference, saveMfa, type FactorSetting, type MfaFactor } from '../domain/mfa.js';
import { describeMfaConfig, setMfaConfig, type MfaConfigRequest } from '../domain/mfa-config.js';
import { newTotpSecret, openTotpSecret, sealTotpSecret, useTotpCode } from '../domain/totp.js';
import { parsePool } from '../domain/pools.js';
import { associateInSession, verifyInSession } from '../domain/signin/index.js';
import { authenticated, poolOf, usernameRule } from './common.js';

adminOp('GetUserPoolMfaConfig', async (ctx, input) => describeMfaConfig(await poolOf(ctx, input)));

adminOp('SetUserPoolMfaConfig', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  // The model has checked shapes, lengths and patterns (a message must carry {####}).
  const config = setMfaConfig(pool.config, input.raw as MfaConfigRequest);
  const now = ctx.now();
  await ctx.repo.updatePool(pool.id, { config: JSON.stringify(config), updated_at: now });
  return describeMfaConfig(parsePool({ ...pool.row, config: JSON.stringify(config), updated_at: now }));
});

/** SetUserMFAPreference's and AdminSetUserMFAPreference's settings, by factor. */
function preferenceSettings(input: Input): Partial<Record<MfaFactor, FactorSetting | undefined>> {
  const read = (name: string) => input.optObj(name)?.raw as FactorSetting | undefined;
  return { SMS_MFA: read('SMSMfaSettings'), SOFTWARE_TOKEN_MFA: read('SoftwareTokenMfaSettings'), EMAIL_OTP: read('EmailMfaSettings') };
}

publicOp('SetUserMFAPreference', async (ctx, input) => {
  const { pool, user } = await authenticated(ctx, input);
  await saveMfa(ctx, pool, user, applyMfaPreference(pool, user, preferenceSettings(input)));
  return {};
});

adminOp('AdminSetUserMFAPreference', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const user = await adminFindUser(ctx, pool, input.str('Username', usernameRule));
  await saveMfa(ctx, pool, user, applyMfaPreference(pool, user, preferenceSettings(input)));
  return {};
});

/** Exactly one of AccessToken (a signed-in user) and Session (a sign-in setting up MFA). */
function tokenOrSession(input: Input): 'token' | 'session' {
  const token = input.has('AccessToken'), session = input.has('Session');
  if (token === session) throw new InvalidParameterException('Either AccessToken or Session must be given, not both.');
  return token ? 'token' : 'session';
}

publicOp('AssociateSoftwareToken', async (ctx, input) => {
  if (tokenOrSession(input) === 'session') return associateInSession(ctx, input.optStr('Session'));
  const { pool, user } = await authenticated(ctx, input);
  // The secret waits, sealed, until VerifySoftwareToken proves the app has it; a verified one stays until then.
  const secret = newTotpSecret();
  await saveMfa(ctx, pool, user, { ...user.mfa, pendingTotp: sealTotpSecret(ctx, pool.id, user.id, secret) });
  return { SecretCode: secret };
});

publicOp('VerifySoftwareToken', async (ctx, input) => {
  const code = input.str('UserCode');
  const name = input.optStr('FriendlyDeviceName');
  if (tokenOrSession(input) === 'session') return verifyInSession(ctx, input.optStr('Session'), code, name);
  const { pool, user } = await authenticated(ctx, input);
  const pending = user.mfa.pendingTotp;
  if (!pending) throw new SoftwareTokenMFANotFoundException('Software Token MFA has not been associated with this user (AssociateSoftwareToken).');
  if (!(await useTotpCode(ctx, pool.id, user.id, openTotpSecret(ctx, pool.id, user.id, pending), code))) {
    throw new EnableSoftwareTokenMFAException('Code mismatch and fail enable Software Token MFA');
  }
  const { pendingTotp: _, ...mfa } = user.mfa;
  // Verified, not enabled: SetUserMFAPreference turns it on, as in Cognito.
  await saveMfa(ctx, pool, user, { ...mfa, totpSecret: pending, ...(name ? { totpName: name } : {}) });
  return { Status: 'SUCCESS' };
});
