// autoSignIn: USER_AUTH carrying the Session ConfirmSignUp handed out (ops/signup.ts writes it).
import { NotAuthorizedException } from '../../errors.js';
import { findUser } from '../users.js';
import { consumeSession, openSession, proved, userOf, type Outcome, type SessionState, type SignIn } from './base.js';

export interface SignUpConfirmedState extends SessionState { challenge: 'SIGN_UP_CONFIRMED'; userId: string }

/** The session stands in for the first factor, for exactly the user it was issued to, once. */
export async function proveBySignUpSession(sc: SignIn, login: string, token: string): Promise<Outcome> {
  const { ctx, pool, client } = sc;
  const s = await openSession(ctx, client, token);
  const user = s.state.challenge === 'SIGN_UP_CONFIRMED' ? await userOf(sc, (s.state as SignUpConfirmedState).userId) : undefined;
  const same = user && (await findUser(ctx, pool, login))?.id === user.id;
  if (!user || !same) throw new NotAuthorizedException('Invalid session for the user.');
  await consumeSession(ctx, s);
  return proved(user, 'firstFactor');
}
