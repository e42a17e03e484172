// NEW_PASSWORD_REQUIRED: a user signing in with a temporary password sets their own.
import { InvalidParameterException, NotAuthorizedException } from '../../errors.js';
import { missingRequired, validateAttributes, type User } from '../users.js';
import { checkUserWrites, planAttributeChange, storeAttributes } from '../attribute-updates.js';
import { sealPassword } from '../passwords.js';
import {
  carried, consumeSession, createSession, proved, required, userOf,
  type ChallengeAnswer, type ChallengeModule, type SessionState, type SignIn,
} from './base.js';

export interface NewPasswordState extends SessionState { challenge: 'NEW_PASSWORD_REQUIRED'; userId: string }

export async function startNewPasswordRequired(sc: SignIn, user: User): Promise<ChallengeAnswer> {
  const { ctx, pool, client } = sc;
  if (user.temp_password_expires_at && user.temp_password_expires_at < ctx.now()) {
    throw new NotAuthorizedException('Temporary password has expired and must be reset by an administrator.');
  }
  const shown = Object.fromEntries(Object.entries(user.attributes).filter(([k]) => k !== 'sub'));
  const state: NewPasswordState = { challenge: 'NEW_PASSWORD_REQUIRED', ...carried(sc), userId: user.id };
  return {
    ChallengeName: 'NEW_PASSWORD_REQUIRED',
    Session: await createSession(ctx, pool, client, state),
    ChallengeParameters: {
      USER_ID_FOR_SRP: user.username,
      requiredAttributes: JSON.stringify(missingRequired(pool, user.attributes).map((n) => `userAttributes.${n}`)),
      userAttributes: JSON.stringify(shown),
    },
  };
}

export const newPasswordRequired: ChallengeModule<NewPasswordState> = {
  name: 'NEW_PASSWORD_REQUIRED',

  async answer(sc, s, r) {
    const { ctx, pool, client } = sc;
    required(r, 'NEW_PASSWORD');
    const user = await userOf(sc, s.state.userId);
    if (!user) throw new NotAuthorizedException('Invalid session for the user.');
    const given = Object.entries(r).filter(([k]) => k.startsWith('userAttributes.')).map(([k, v]) => ({ Name: k.slice('userAttributes.'.length), Value: v }));
    // The invited user writes as any user does: what the client may write, never `*_verified`,
    // and a changed email or phone is unverified (or held), so it cannot become a verified alias.
    checkUserWrites(pool, client, user, given, { firstValue: true });
    const change = planAttributeChange(pool, user, validateAttributes(pool, given), { admin: false, sendCodes: false });
    const { attributes } = change;
    const missing = missingRequired(pool, attributes);
    if (missing.length) throw new InvalidParameterException(`Missing required attributes: ${missing.join(', ')}`);
    const password = sealPassword(ctx, pool, user, r.NEW_PASSWORD);
    await consumeSession(ctx, s);
    const now = ctx.now();
    await storeAttributes(ctx, pool, user, change, { password, password_changed_at: now, temp_password_expires_at: null, status: 'CONFIRMED', updated_at: now });
    return proved({ ...user, attributes, status: 'CONFIRMED', temp_password_expires_at: null }, 'newPassword');
  },
};
