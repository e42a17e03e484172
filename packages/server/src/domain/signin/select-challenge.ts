// SELECT_CHALLENGE: USER_AUTH without PREFERRED_CHALLENGE offers the first factors to choose from.
import { consumeSession, createSession, required, unavailableChallenge, type ChallengeAnswer, type ChallengeModule, type SessionState, type SignIn } from './base.js';
import type { ChallengeNameType } from '../../shapes.js';

export interface SelectChallengeState extends SessionState { challenge: 'SELECT_CHALLENGE'; login: string; options: ChallengeNameType[] }

export async function startSelectChallenge(sc: SignIn, login: string, options: ChallengeNameType[]): Promise<ChallengeAnswer> {
  const state: SelectChallengeState = { challenge: 'SELECT_CHALLENGE', flow: sc.flow, login, options };
  return {
    ChallengeName: 'SELECT_CHALLENGE',
    Session: await createSession(sc.ctx, sc.pool, sc.client, state),
    ChallengeParameters: {},
    AvailableChallenges: options,
  };
}

export const selectChallenge: ChallengeModule<SelectChallengeState> = {
  name: 'SELECT_CHALLENGE',

  async answer(sc, s, r) {
    required(r, 'ANSWER');
    if (!(s.state.options as string[]).includes(r.ANSWER)) throw unavailableChallenge(r.ANSWER);
    await consumeSession(sc.ctx, s);
    // The answer may carry the factor's own parameters (PASSWORD, SRP_A); the registry starts it.
    return { kind: 'chose', factor: r.ANSWER, login: s.state.login, params: r };
  },
};
