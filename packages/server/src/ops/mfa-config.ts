// SetUserPoolMfaConfig / GetUserPoolMfaConfig, for now their passkey part (WebAuthnConfiguration):
// MFA itself is not implemented, so MfaConfiguration stays OFF and TOTP cannot be turned on.
import { adminOp } from '../wire/operations.js';
import { FeatureUnavailableInTierException, InvalidParameterException } from '../errors.js';
import type { LoadedPool, PoolConfig } from '../domain/pools.js';
import { parsePool } from '../domain/pools.js';
import { webAuthnConfiguration, webAuthnConfigurationFrom } from '../domain/webauthn.js';
import { poolOf } from './common.js';

function mfaConfig(pool: LoadedPool) {
  const c = pool.config;
  return {
    MfaConfiguration: c.MfaConfiguration ?? 'OFF',
    ...(c.SmsAuthenticationMessage ? { SmsMfaConfiguration: { SmsAuthenticationMessage: c.SmsAuthenticationMessage as string } } : {}),
    SoftwareTokenMfaConfiguration: { Enabled: false },
    ...(c.EmailMfaConfiguration ? { EmailMfaConfiguration: c.EmailMfaConfiguration } : {}),
    WebAuthnConfiguration: { ...webAuthnConfiguration(pool), FactorConfiguration: 'SINGLE_FACTOR' },
  };
}

adminOp('SetUserPoolMfaConfig', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const mfa = input.optStr('MfaConfiguration', { oneOf: ['OFF', 'ON', 'OPTIONAL'] });
  if (mfa && mfa !== 'OFF') throw new InvalidParameterException(`MfaConfiguration ${mfa} is not supported yet: multi-factor authentication is not implemented.`);
  if (input.optObj('SoftwareTokenMfaConfiguration')?.optBool('Enabled')) throw new InvalidParameterException('Software token MFA is not supported yet.');
  const config: PoolConfig = { ...pool.config };
  const w = input.optObj('WebAuthnConfiguration');
  if (w) {
    if (pool.config.UserPoolTier === 'LITE') throw new FeatureUnavailableInTierException('Passkeys need the Essentials tier or above: set UserPoolTier with UpdateUserPool.');
    config.WebAuthnConfiguration = webAuthnConfigurationFrom({
      RelyingPartyId: w.optStr('RelyingPartyId', { min: 1, max: 127 }),
      UserVerification: w.optStr('UserVerification', { oneOf: ['required', 'preferred'] }),
      FactorConfiguration: w.optStr('FactorConfiguration', { oneOf: ['SINGLE_FACTOR', 'MULTI_FACTOR_WITH_USER_VERIFICATION'] }),
    });
  }
  // The messages sign-in codes go out with (EMAIL_OTP, SMS_OTP): they must carry the code.
  const email = input.optObj('EmailMfaConfiguration');
  if (email) {
    const Message = email.optStr('Message'), Subject = email.optStr('Subject');
    if (Message !== undefined && !Message.includes('{####}')) throw new InvalidParameterException('EmailMfaConfiguration.Message must contain the code placeholder {####}.');
    config.EmailMfaConfiguration = { ...(Message !== undefined ? { Message } : {}), ...(Subject !== undefined ? { Subject } : {}) };
  }
  const sms = input.optObj('SmsMfaConfiguration');
  const smsMessage = sms?.optStr('SmsAuthenticationMessage');
  if (smsMessage !== undefined) {
    if (!smsMessage.includes('{####}')) throw new InvalidParameterException('SmsAuthenticationMessage must contain the code placeholder {####}.');
    config.SmsAuthenticationMessage = smsMessage;
  }
  const now = ctx.now();
  await ctx.repo.updatePool(pool.id, { config: JSON.stringify(config), updated_at: now });
  return mfaConfig(parsePool({ ...pool.row, config: JSON.stringify(config), updated_at: now }));
});

adminOp('GetUserPoolMfaConfig', async (ctx, input) => mfaConfig(await poolOf(ctx, input)));
