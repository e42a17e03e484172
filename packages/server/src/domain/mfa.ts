// Multi-factor authentication: which factors a pool offers, which a user has and prefers, and what a
// sign-in must meet after its first factor. The challenges themselves are in domain/signin/.
import { InvalidParameterException } from '../errors.js';
import type { Ctx } from './context.js';
import type { LoadedPool } from './pools.js';
import type { MfaSettings, User } from './users.js';
import type { OtpChannel, OtpMessage } from './otp.js';

export type MfaFactor = 'SMS_MFA' | 'SOFTWARE_TOKEN_MFA' | 'EMAIL_OTP';
export const MFA_FACTORS: readonly MfaFactor[] = ['SMS_MFA', 'SOFTWARE_TOKEN_MFA', 'EMAIL_OTP'];

/**
 * The factors a pool offers: SMS once it has an SMS configuration (CreateUserPool, UpdateUserPool or
 * SetUserPoolMfaConfig), TOTP when SetUserPoolMfaConfig enabled it, email with an EmailMfaConfiguration.
 */
export function poolFactors(pool: LoadedPool): MfaFactor[] {
  const c = pool.config;
  const out: MfaFactor[] = [];
  if (c.SmsConfiguration) out.push('SMS_MFA');
  if (c.SoftwareTokenMfaConfiguration?.Enabled) out.push('SOFTWARE_TOKEN_MFA');
  if (c.EmailMfaConfiguration) out.push('EMAIL_OTP');
  return out;
}

/** Whether the user has what a factor needs: a phone number, an email address, a verified TOTP secret. */
export function userHas(user: User, factor: string): boolean {
  if (factor === 'SMS_MFA') return !!user.attributes.phone_number;
  if (factor === 'EMAIL_OTP') return !!user.attributes.email;
  return factor === 'SOFTWARE_TOKEN_MFA' && !!user.mfa.totpSecret;
}

/** What the MFA step of a sign-in asks of the user. */
export type MfaDemand =
  | { kind: 'none' }
  | { kind: 'challenge'; factor: MfaFactor }
  | { kind: 'select'; options: MfaFactor[] }
  | { kind: 'setup'; options: MfaFactor[] };

/**
 * Cognito's rules. OFF: nothing. A user with factors enabled (that the pool still offers and they can
 * still use) meets their preferred one, their only one, or chooses (SELECT_MFA_TYPE). Otherwise,
 * OPTIONAL: nothing; ON: a factor they can use anyway (a phone number, an email address, a verified
 * TOTP secret; one: that one, several: they choose), else they set one up (MFA_SETUP): TOTP, or email
 * (the address given then is proved by a code before it is stored).
 */
export function mfaDemand(pool: LoadedPool, user: User): MfaDemand {
  const mode = pool.config.MfaConfiguration ?? 'OFF';
  if (mode === 'OFF') return { kind: 'none' };
  const offered = poolFactors(pool);
  const enabled = MFA_FACTORS.filter((f) => user.mfa.enabled?.includes(f) && offered.includes(f) && userHas(user, f));
  if (enabled.length) {
    const preferred = enabled.find((f) => f === user.mfa.preferred);
    if (preferred) return { kind: 'challenge', factor: preferred };
    return enabled.length === 1 ? { kind: 'challenge', factor: enabled[0] } : { kind: 'select', options: enabled };
  }
  if (mode === 'OPTIONAL') return { kind: 'none' };
  const usable = offered.filter((f) => userHas(user, f));
  if (usable.length) return usable.length === 1 ? { kind: 'challenge', factor: usable[0] } : { kind: 'select', options: usable };
  return { kind: 'setup', options: offered };
}

/** Where a message factor's code goes. */
export function mfaChannel(user: User, factor: 'SMS_MFA' | 'EMAIL_OTP', email?: string): OtpChannel {
  return factor === 'SMS_MFA'
    ? { medium: 'SMS', attribute: 'phone_number', to: user.attributes.phone_number }
    : { medium: 'EMAIL', attribute: 'email', to: email ?? user.attributes.email };
}

/** The pool's MFA message for a factor (Cognito's defaults where it sets none). */
export function mfaMessage(pool: LoadedPool, factor: 'SMS_MFA' | 'EMAIL_OTP'): OtpMessage {
  if (factor === 'SMS_MFA') return { subject: '', body: pool.config.SmsAuthenticationMessage ?? 'Your authentication code is {####}. ' };
  const e = pool.config.EmailMfaConfiguration ?? {};
  return { subject: e.Subject ?? 'Your sign-in code', body: e.Message ?? 'Your sign-in code is {####}.' };
}

export interface FactorSetting { Enabled?: boolean; PreferredMfa?: boolean }

/**
 * SetUserMFAPreference and AdminSetUserMFAPreference: each factor named is enabled or disabled,
 * preferred or not; those not named stay. A factor the pool does not offer, or the user cannot use
 * (no phone number, no email address, no verified TOTP), cannot be enabled; one preferred factor at most.
 */
export function applyMfaPreference(pool: LoadedPool, user: User, settings: Partial<Record<MfaFactor, FactorSetting | undefined>>): MfaSettings {
  const enabled = new Set(user.mfa.enabled ?? []);
  let preferred = user.mfa.preferred;
  const wanted = MFA_FACTORS.filter((f) => settings[f]?.PreferredMfa);
  if (wanted.length > 1) throw new InvalidParameterException('Only one MFA method can be set as preferred.');
  for (const f of MFA_FACTORS) {
    const s = settings[f];
    if (!s) continue;
    if (s.Enabled === true) {
      if (!poolFactors(pool).includes(f)) throw new InvalidParameterException(`${f} is not enabled for this user pool.`);
      if (!userHas(user, f)) {
        throw new InvalidParameterException(f === 'SOFTWARE_TOKEN_MFA' ? 'User has not verified software token mfa'
          : `User does not have delivery config set to turn on ${f}`);
      }
      enabled.add(f);
    } else if (s.Enabled === false) {
      enabled.delete(f);
      if (preferred === f) preferred = undefined;
    }
    if (s.PreferredMfa === true) {
      if (!enabled.has(f)) throw new InvalidParameterException(`${f} must be enabled to be preferred.`);
      preferred = f;
    } else if (s.PreferredMfa === false && preferred === f) {
      preferred = undefined;
    }
  }
  const out: MfaSettings = { ...user.mfa, enabled: MFA_FACTORS.filter((f) => enabled.has(f)) };
  if (preferred) out.preferred = preferred;
  else delete out.preferred;
  return out;
}

interface MfaFields {
  PreferredMfaSetting?: string; UserMFASettingList?: string[];
  /** The legacy field, which tells of SMS MFA only (older clients read it). */
  MFAOptions?: { DeliveryMedium: 'SMS'; AttributeName: 'phone_number' }[];
}

/** GetUser's and AdminGetUser's MFA fields. */
export function mfaFields(user: User): MfaFields {
  const out: MfaFields = {};
  if (user.mfa.preferred) out.PreferredMfaSetting = user.mfa.preferred;
  if (user.mfa.enabled?.length) out.UserMFASettingList = [...user.mfa.enabled];
  if (user.mfa.enabled?.includes('SMS_MFA')) out.MFAOptions = [{ DeliveryMedium: 'SMS', AttributeName: 'phone_number' }];
  return out;
}

export async function saveMfa(ctx: Ctx, pool: LoadedPool, user: User, mfa: MfaSettings): Promise<void> {
  await ctx.repo.updateUser(pool.id, user.id, { mfa: JSON.stringify(mfa), updated_at: ctx.now() });
}
