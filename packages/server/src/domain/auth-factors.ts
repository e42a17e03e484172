// GetUserAuthFactors / AdminGetUserAuthFactors: what a user can sign in with through USER_AUTH,
// and their MFA settings.
import type { Ctx } from './context.js';
import { allowedFirstFactors, type LoadedPool } from './pools.js';
import type { User } from './users.js';
import { verifiedChannel } from './otp.js';
import { relyingParty, usableCredentials } from './webauthn.js';
import type { AuthFactorType, GetUserAuthFactorsResponse } from '../shapes.js';

/** The first factors the user has set up, among those the pool allows (a password counts wherever it is). */
export async function configuredAuthFactors(ctx: Ctx, pool: LoadedPool, user: User): Promise<AuthFactorType[]> {
  const allowed = allowedFirstFactors(pool);
  const out: AuthFactorType[] = [];
  if (user.password) out.push('PASSWORD');
  if (allowed.includes('EMAIL_OTP') && verifiedChannel(user, 'EMAIL')) out.push('EMAIL_OTP');
  if (allowed.includes('SMS_OTP') && verifiedChannel(user, 'SMS')) out.push('SMS_OTP');
  if (allowed.includes('WEB_AUTHN')) {
    let rpId: string | undefined;
    try { rpId = relyingParty(ctx, pool).rpId; } catch { rpId = undefined; }
    if (rpId && (await usableCredentials(ctx, user.id, rpId)).length) out.push('WEB_AUTHN');
  }
  return out;
}

/** GetUserAuthFactors' answer. */
export async function userAuthFactors(ctx: Ctx, pool: LoadedPool, user: User): Promise<GetUserAuthFactorsResponse> {
  const mfa = user.mfa ?? {};
  return {
    Username: user.username,
    ...(mfa.preferred ? { PreferredMfaSetting: mfa.preferred } : {}),
    ...(mfa.enabled?.length ? { UserMFASettingList: mfa.enabled } : {}),
    ConfiguredUserAuthFactors: await configuredAuthFactors(ctx, pool, user),
  };
}
