import { NotAuthorizedException } from '../errors.js';
import type { Ctx } from './context.js';
import type { LoadedClient, LoadedPool } from './pools.js';
import { randomToken, sha256 } from './secrets.js';

/** What a challenge session remembers between calls; kept server-side, sealed, keyed by the token's hash. */
export type SessionState =
  | { challenge: 'PASSWORD_VERIFIER'; flow: string; userId?: string; login: string; srpUserId: string; A: string; B: string; b: string; secretBlock: string }
  | { challenge: 'NEW_PASSWORD_REQUIRED'; flow: string; userId: string }
  | { challenge: 'SELECT_CHALLENGE'; flow: string; login: string; options: string[] }
  | { challenge: 'SIGN_UP_CONFIRMED'; flow: string; userId: string };

export interface OpenSession { id: string; state: SessionState }

export async function createSession(ctx: Ctx, pool: LoadedPool, client: LoadedClient, state: SessionState, ttlMs?: number): Promise<string> {
  const token = randomToken(64);
  const id = sha256(token);
  const now = ctx.now();
  await ctx.repo.createSession({
    id, pool_id: pool.id, client_id: client.id, user_id: 'userId' in state ? state.userId ?? null : null,
    state: ctx.secrets.encrypt(JSON.stringify(state), `session:${id}`), attempts: 0,
    expires_at: now + (ttlMs ?? client.config.AuthSessionValidity * 60e3), consumed_at: null, created_at: now,
  });
  return token;
}

const invalid = () => new NotAuthorizedException('Invalid session for the user, session is expired.');

export async function openSession(ctx: Ctx, client: LoadedClient, token: string | undefined): Promise<OpenSession> {
  if (!token || token.length > 512) throw invalid();
  const id = sha256(token);
  const row = await ctx.repo.getSession(id);
  if (!row || row.client_id !== client.id || row.consumed_at !== null || row.expires_at < ctx.now()) throw invalid();
  const state = JSON.parse(ctx.secrets.decrypt(row.state, `session:${id}`).toString('utf8')) as SessionState;
  return { id, state };
}

/** Ends a session; only one caller can win, so a replayed or raced answer is refused. */
export async function consumeSession(ctx: Ctx, s: OpenSession) {
  if (!(await ctx.repo.consumeSession(s.id, ctx.now()))) throw invalid();
}
