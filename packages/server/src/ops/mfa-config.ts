// SetUserPoolMfaConfig / GetUserPoolMfaConfig, for now their passkey part (WebAuthnConfiguration)
// and the messages of sign-in codes: MFA itself is not implemented, so MfaConfiguration stays OFF
// and TOTP cannot be turned on.
import { op } from '../wire/operations.js';
import { InvalidParameterException } from '../errors.js';
import { parsePool, type LoadedPool, type PoolConfig } from '../domain/pools.js';
import { webAuthnConfiguration, webAuthnConfigurationFrom } from '../domain/webauthn.js';
import type { GetUserPoolMfaConfigResponse } from '../shapes.js';
import { poolOf } from './common.js';

function mfaConfig(pool: LoadedPool): GetUserPoolMfaConfigResponse {
  const c = pool.config;
  return {
    MfaConfiguration: c.MfaConfiguration ?? 'OFF',
    ...(c.SmsAuthenticationMessage ? { SmsMfaConfiguration: { SmsAuthenticationMessage: c.SmsAuthenticationMessage } } : {}),
    SoftwareTokenMfaConfiguration: { Enabled: false },
    ...(c.EmailMfaConfiguration ? { EmailMfaConfiguration: c.EmailMfaConfiguration } : {}),
    WebAuthnConfiguration: { ...webAuthnConfiguration(pool), FactorConfiguration: 'SINGLE_FACTOR' },
  };
}

op('SetUserPoolMfaConfig', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  if (input.MfaConfiguration && input.MfaConfiguration !== 'OFF') throw new InvalidParameterException(`MfaConfiguration ${input.MfaConfiguration} is not supported yet: multi-factor authentication is not implemented.`);
  if (input.SoftwareTokenMfaConfiguration?.Enabled) throw new InvalidParameterException('Software token MFA is not supported yet.');
  const config: PoolConfig = { ...pool.config };
  if (input.WebAuthnConfiguration) config.WebAuthnConfiguration = webAuthnConfigurationFrom(pool, input.WebAuthnConfiguration);
  // The messages sign-in codes go out with (EMAIL_OTP, SMS_OTP): they must carry the code.
  const email = input.EmailMfaConfiguration;
  if (email) {
    if (email.Message !== undefined && !email.Message.includes('{####}')) throw new InvalidParameterException('EmailMfaConfiguration.Message must contain the code placeholder {####}.');
    config.EmailMfaConfiguration = email;
  }
  const smsMessage = input.SmsMfaConfiguration?.SmsAuthenticationMessage;
  if (smsMessage !== undefined) {
    if (!smsMessage.includes('{####}')) throw new InvalidParameterException('SmsAuthenticationMessage must contain the code placeholder {####}.');
    config.SmsAuthenticationMessage = smsMessage;
  }
  const now = ctx.now();
  await ctx.repo.updatePool(pool.id, { config: JSON.stringify(config), updated_at: now });
  return mfaConfig(parsePool({ ...pool.row, config: JSON.stringify(config), updated_at: now }));
});

op('GetUserPoolMfaConfig', async (ctx, input) => mfaConfig(await poolOf(ctx, input)));
