// The pool's MFA settings: MfaConfiguration and the factors it offers (SetUserPoolMfaConfig,
// GetUserPoolMfaConfig, and MfaConfiguration through CreateUserPool / UpdateUserPool). Stored in
// the pool's config: SMS MFA is on with an SmsConfiguration (its message SmsAuthenticationMessage),
// TOTP with SoftwareTokenMfaConfiguration.Enabled, email with an EmailMfaConfiguration.
import { FeatureUnavailableInTierException, InvalidParameterException } from '../errors.js';
import type { GetUserPoolMfaConfigResponse, SetUserPoolMfaConfigRequest } from '../shapes.js';
import type { LoadedPool, PoolConfig } from './pools.js';
import { poolFactors } from './mfa.js';
import { webAuthnConfiguration } from './webauthn.js';

/** What SetUserPoolMfaConfig sets here (WebAuthnConfiguration is the passkeys' own). */
export type MfaConfigRequest = Pick<SetUserPoolMfaConfigRequest, 'MfaConfiguration' | 'SmsMfaConfiguration' | 'SoftwareTokenMfaConfiguration' | 'EmailMfaConfiguration'>;

/**
 * MFA ON or OPTIONAL needs a factor to meet it with; email MFA needs the Essentials tier or above,
 * as in Cognito. Checked on every config that can change either.
 */
export function checkMfaConfiguration(config: PoolConfig) {
  const mode = config.MfaConfiguration ?? 'OFF';
  const factors = poolFactors({ config } as LoadedPool);
  if (mode !== 'OFF' && !factors.length) {
    throw new InvalidParameterException(`MfaConfiguration ${mode} needs an MFA factor: an SmsConfiguration for SMS, or TOTP or email MFA through SetUserPoolMfaConfig.`);
  }
  if (config.EmailMfaConfiguration && config.UserPoolTier === 'LITE') {
    throw new FeatureUnavailableInTierException('Email MFA is not available in the LITE tier of user pools.');
  }
}

/**
 * SetUserPoolMfaConfig: the request describes the factors whole, as Cognito takes it: a factor it
 * leaves out is turned off (SMS MFA keeps the pool's SmsConfiguration if the request gives only a
 * message). MfaConfiguration left out stays.
 */
export function setMfaConfig(old: PoolConfig, req: MfaConfigRequest): PoolConfig {
  const next: PoolConfig = { ...old };
  if (req.MfaConfiguration) next.MfaConfiguration = req.MfaConfiguration;
  delete next.SmsAuthenticationMessage;
  if (req.SmsMfaConfiguration) {
    next.SmsConfiguration = req.SmsMfaConfiguration.SmsConfiguration ?? old.SmsConfiguration ?? {};
    if (req.SmsMfaConfiguration.SmsAuthenticationMessage) next.SmsAuthenticationMessage = req.SmsMfaConfiguration.SmsAuthenticationMessage;
  } else {
    delete next.SmsConfiguration;
  }
  next.SoftwareTokenMfaConfiguration = { Enabled: req.SoftwareTokenMfaConfiguration?.Enabled ?? false };
  if (req.EmailMfaConfiguration) next.EmailMfaConfiguration = { ...req.EmailMfaConfiguration };
  else delete next.EmailMfaConfiguration;
  checkMfaConfiguration(next);
  return next;
}

/** GetUserPoolMfaConfig's answer (also SetUserPoolMfaConfig's). */
export function describeMfaConfig(pool: LoadedPool): GetUserPoolMfaConfigResponse {
  const c = pool.config;
  const out: GetUserPoolMfaConfigResponse = { MfaConfiguration: c.MfaConfiguration ?? 'OFF' };
  if (c.SmsConfiguration) {
    out.SmsMfaConfiguration = { SmsConfiguration: c.SmsConfiguration, ...(c.SmsAuthenticationMessage ? { SmsAuthenticationMessage: c.SmsAuthenticationMessage } : {}) };
  }
  out.SoftwareTokenMfaConfiguration = { Enabled: c.SoftwareTokenMfaConfiguration?.Enabled ?? false };
  if (c.EmailMfaConfiguration) out.EmailMfaConfiguration = c.EmailMfaConfiguration;
  out.WebAuthnConfiguration = { ...webAuthnConfiguration(pool), FactorConfiguration: 'SINGLE_FACTOR' };
  return out;
}
