// MFA_SETUP: MFA is required and the user has no factor to meet it with, so they set one up during
// sign-in. TOTP: AssociateSoftwareToken and VerifySoftwareToken with this challenge's Session, then
// MFA_SETUP with the Session VerifySoftwareToken returned. Email (for a user with no email address):
// MFA_SETUP with an EMAIL, answered by an EMAIL_OTP challenge to it (message-code.ts).
import { EnableSoftwareTokenMFAException, InvalidParameterException } from '../../errors.js';
import type { Ctx } from '../context.js';
import { loadClient } from '../pools.js';
import { emailPattern, type User } from '../users.js';
import { newTotpSecret, sealTotpSecret, totpStep } from '../totp.js';
import { saveMfa } from '../mfa.js';
import { openSessionOfAnyClient } from '../sessions.js';
import {
  carried, consumeSession, createSession, invalidSession, proved, userOf,
  type ChallengeAnswer, type ChallengeModule, type OpenSession, type SessionState, type SignIn,
} from './base.js';

export interface MfaSetupState extends SessionState {
  challenge: 'MFA_SETUP';
  userId: string;
  options: string[];
  /** The TOTP secret AssociateSoftwareToken handed out (the state is sealed), and whether VerifySoftwareToken proved it. */
  secret?: string;
  verified?: boolean;
}

const WRONG_CODES_PER_SESSION = 3;

export async function startMfaSetup(sc: SignIn, user: User, options: string[]): Promise<ChallengeAnswer> {
  const state: MfaSetupState = { challenge: 'MFA_SETUP', ...carried(sc), userId: user.id, options };
  return {
    ChallengeName: 'MFA_SETUP',
    Session: await createSession(sc.ctx, sc.pool, sc.client, state),
    ChallengeParameters: { MFAS_CAN_SETUP: JSON.stringify(options) },
  };
}

/** An open MFA_SETUP session that offers TOTP, with its place (these operations carry no ClientId). */
async function setupSession(ctx: Ctx, token: string | undefined) {
  const s = await openSessionOfAnyClient(ctx, token);
  if (s.state.challenge !== 'MFA_SETUP' || !(s.state as MfaSetupState).options.includes('SOFTWARE_TOKEN_MFA')) throw invalidSession();
  const { pool, client } = await loadClient(ctx, s.clientId);
  const sc: SignIn = { ctx, pool, client, flow: s.state.flow, device: s.state.device };
  return { s: s as unknown as OpenSession<MfaSetupState>, sc };
}

/** AssociateSoftwareToken with a Session: a new secret, kept in the next session of this sign-in. */
export async function associateInSession(ctx: Ctx, token: string | undefined): Promise<{ SecretCode: string; Session: string }> {
  const { s, sc } = await setupSession(ctx, token);
  await consumeSession(ctx, s);
  const secret = newTotpSecret();
  const state: MfaSetupState = { ...s.state, secret, verified: false };
  return { SecretCode: secret, Session: await createSession(ctx, sc.pool, sc.client, state) };
}

/**
 * VerifySoftwareToken with a Session: a code of the associated secret enrols it (stored sealed,
 * enabled and, if the user prefers none, preferred), and its time step is spent. At most 3 wrong
 * codes per session.
 */
export async function verifyInSession(ctx: Ctx, token: string | undefined, code: string, name: string | undefined): Promise<{ Status: 'SUCCESS'; Session: string }> {
  const { s, sc } = await setupSession(ctx, token);
  const { secret } = s.state;
  if (!secret) throw new InvalidParameterException('Call AssociateSoftwareToken with this session first.');
  const user = await userOf(sc, s.state.userId);
  if (!user) throw invalidSession();
  const step = totpStep(secret, code, ctx.now());
  const matched = step !== undefined && (await ctx.repo.claimTotpStep(sc.pool.id, user.id, step));
  const outcome = await ctx.repo.answerSession(s.id, matched, WRONG_CODES_PER_SESSION, ctx.now());
  if (outcome === 'refused') throw invalidSession();
  if (outcome === 'wrong') throw new EnableSoftwareTokenMFAException('Code mismatch and fail enable Software Token MFA');
  const enabled = [...new Set([...(user.mfa.enabled ?? []), 'SOFTWARE_TOKEN_MFA'])];
  const { pendingTotp: _, ...mfa } = user.mfa;
  await saveMfa(ctx, sc.pool, user, {
    ...mfa, totpSecret: sealTotpSecret(ctx, sc.pool.id, user.id, secret), enabled, preferred: user.mfa.preferred ?? 'SOFTWARE_TOKEN_MFA',
    ...(name ? { totpName: name } : {}),
  });
  const state: MfaSetupState = { ...s.state, secret: undefined, verified: true };
  return { Status: 'SUCCESS', Session: await createSession(ctx, sc.pool, sc.client, state) };
}

export const mfaSetup: ChallengeModule<MfaSetupState> = {
  name: 'MFA_SETUP',

  async answer(sc, s, r) {
    const user = await userOf(sc, s.state.userId);
    if (!user) throw invalidSession();
    if (r.EMAIL !== undefined) {
      if (!s.state.options.includes('EMAIL_OTP')) throw new InvalidParameterException('Email MFA cannot be set up for this user.');
      if (!emailPattern.test(r.EMAIL)) throw new InvalidParameterException('Invalid email address format.');
      if (user.attributes.email && user.attributes.email.toLowerCase() !== r.EMAIL.toLowerCase()) {
        throw new InvalidParameterException('The user already has an email address; email MFA uses it.');
      }
      await consumeSession(sc.ctx, s);
      return { kind: 'next', user, challenge: 'EMAIL_OTP', params: { EMAIL: user.attributes.email ?? r.EMAIL } };
    }
    if (!s.state.verified) throw new InvalidParameterException('Software token MFA has not been verified in this session (VerifySoftwareToken).');
    await consumeSession(sc.ctx, s);
    return proved(user, 'mfa');
  },
};
