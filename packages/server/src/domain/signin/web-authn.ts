// WEB_AUTHN: sign-in with a passkey. The challenge hands out CREDENTIAL_REQUEST_OPTIONS (a fresh
// challenge, the pool's RP ID, the user's credentials); the answer (CREDENTIAL) is checked by
// domain/webauthn.ts against them. Like a sign-in code, a passkey proves what MFA would.
import { NotAuthorizedException, UserNotFoundException } from '../../errors.js';
import { hidesUsers, lookupKey } from '../pools.js';
import { findUser } from '../users.js';
import { recordAuthEvent } from '../events.js';
import { recordDecoyEvent } from '../decoys.js';
import { assertionProves, relyingParty, requestOptions, standInCredentials, usableCredentials, type AssertionCheck } from '../webauthn.js';
import {
  answered, carried, consumeSession, createSession, proved, required, standInHas, userOf,
  type ChallengeModule, type FirstFactor, type SessionState,
} from './base.js';

export interface WebAuthnState extends SessionState { challenge: 'WEB_AUTHN'; login: string; check: AssertionCheck }

/** The one answer to every refused assertion, whatever was wrong with it and whoever it named. */
const refused = () => new NotAuthorizedException('The passkey could not be verified.');

export const webAuthnFactor: FirstFactor = {
  name: 'WEB_AUTHN',
  poolFactor: 'WEB_AUTHN',
  async availableTo(sc, user, login) {
    let rpId: string;
    try {
      rpId = relyingParty(sc.ctx, sc.pool).rpId;
    } catch {
      return false; // no RP ID can be had: nobody signs in with a passkey
    }
    // The same lookup either way; a stand-in has passkeys as often as not.
    const credentials = await usableCredentials(sc.ctx, user?.id ?? '', rpId);
    return user ? credentials.length > 0 : standInHas(sc, login, 'WEB_AUTHN', 50);
  },
  async start(sc, login) {
    const { ctx, pool, client } = sc;
    const user = await findUser(ctx, pool, login);
    if (!user && !hidesUsers(client)) throw new UserNotFoundException('User does not exist.');
    const rp = relyingParty(ctx, pool);
    const credentials = await usableCredentials(ctx, user?.id ?? '', rp.rpId);
    const real = user && credentials.length ? user : undefined;
    const allow = real
      ? credentials.map((c) => ({ id: c.credential_id, transports: JSON.parse(c.transports) as string[] }))
      : standInCredentials(ctx, pool, lookupKey(pool, login));
    const options = await requestOptions(rp, allow, client.config.AuthSessionValidity * 60e3);
    const state: WebAuthnState = {
      challenge: 'WEB_AUTHN', ...carried(sc), userId: real?.id, login,
      check: { userId: real?.id, challenge: options.challenge, rpId: rp.rpId, userVerification: rp.userVerification },
    };
    return answered({ ChallengeName: 'WEB_AUTHN', Session: await createSession(ctx, pool, client, state), ChallengeParameters: { CREDENTIAL_REQUEST_OPTIONS: JSON.stringify(options) } });
  },
};

export const webAuthnChallenge: ChallengeModule<WebAuthnState> = {
  name: 'WEB_AUTHN',
  async answer(sc, s, r) {
    const { ctx, pool } = sc;
    required(r, 'CREDENTIAL');
    // One answer per challenge, spent before it is checked: a replayed or raced assertion finds it gone.
    await consumeSession(ctx, s);
    const user = (await assertionProves(ctx, pool, s.state.check, r.CREDENTIAL)) ? await userOf(sc, s.state.userId) : undefined;
    if (!user) {
      const named = await userOf(sc, s.state.userId);
      if (named) await recordAuthEvent(ctx, named, 'SignIn', 'Fail');
      else await recordDecoyEvent(ctx, pool, s.state.login, 'SignIn', 'Fail');
      throw refused();
    }
    return proved(user, 'mfa');
  },
};
