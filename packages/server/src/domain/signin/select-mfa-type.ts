// SELECT_MFA_TYPE: a user with several MFA factors (and none preferred) chooses one; the pipeline starts it.
import {
  carried, consumeSession, createSession, invalidSession, required, unavailableChallenge, userOf,
  type ChallengeAnswer, type ChallengeModule, type SessionState, type SignIn,
} from './base.js';
import type { User } from '../users.js';

export interface SelectMfaTypeState extends SessionState { challenge: 'SELECT_MFA_TYPE'; userId: string; options: string[] }

export async function startSelectMfaType(sc: SignIn, user: User, options: string[]): Promise<ChallengeAnswer> {
  const state: SelectMfaTypeState = { challenge: 'SELECT_MFA_TYPE', ...carried(sc), userId: user.id, options };
  return {
    ChallengeName: 'SELECT_MFA_TYPE',
    Session: await createSession(sc.ctx, sc.pool, sc.client, state),
    ChallengeParameters: { MFAS_CAN_CHOOSE: JSON.stringify(options) },
  };
}

export const selectMfaType: ChallengeModule<SelectMfaTypeState> = {
  name: 'SELECT_MFA_TYPE',

  async answer(sc, s, r) {
    required(r, 'ANSWER');
    if (!s.state.options.includes(r.ANSWER)) throw unavailableChallenge(r.ANSWER);
    const user = await userOf(sc, s.state.userId);
    if (!user) throw invalidSession();
    await consumeSession(sc.ctx, s);
    return { kind: 'next', user, challenge: r.ANSWER };
  },
};
