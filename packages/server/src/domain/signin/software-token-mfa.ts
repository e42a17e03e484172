// SOFTWARE_TOKEN_MFA: a code from the user's authenticator app (domain/totp.ts). Each time step is
// good once per user, so a code seen over someone's shoulder (or replayed) does not sign in again.
import { openTotpSecret, useTotpCode } from '../totp.js';
import type { User } from '../users.js';
import {
  carried, createSession, invalidSession, proved, required, userOf,
  type ChallengeAnswer, type ChallengeModule, type SessionState, type SignIn,
} from './base.js';
import { settleCodeCheck } from './password.js';

export interface SoftwareTokenState extends SessionState { challenge: 'SOFTWARE_TOKEN_MFA'; userId: string }

export async function startSoftwareToken(sc: SignIn, user: User): Promise<ChallengeAnswer> {
  const state: SoftwareTokenState = { challenge: 'SOFTWARE_TOKEN_MFA', ...carried(sc), userId: user.id };
  return {
    ChallengeName: 'SOFTWARE_TOKEN_MFA',
    Session: await createSession(sc.ctx, sc.pool, sc.client, state),
    ChallengeParameters: user.mfa.totpName ? { FRIENDLY_DEVICE_NAME: user.mfa.totpName } : {},
  };
}

export const softwareTokenMfa: ChallengeModule<SoftwareTokenState> = {
  name: 'SOFTWARE_TOKEN_MFA',

  async answer(sc, s, r) {
    const { ctx, pool } = sc;
    required(r, 'SOFTWARE_TOKEN_MFA_CODE');
    const user = await userOf(sc, s.state.userId);
    if (!user) throw invalidSession();
    const sealed = user.mfa.totpSecret;
    await settleCodeCheck(ctx, pool, user, s.id, async () => !!sealed && useTotpCode(ctx, pool.id, user.id, openTotpSecret(ctx, pool.id, user.id, sealed), r.SOFTWARE_TOKEN_MFA_CODE));
    return proved(user, 'mfa');
  },
};
