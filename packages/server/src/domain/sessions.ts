import { NotAuthorizedException } from '../errors.js';
import type { Ctx } from './context.js';
import type { LoadedClient, LoadedPool } from './pools.js';
import { randomToken, sha256 } from './secrets.js';

/**
 * What every challenge session remembers between calls; each challenge adds fields of its own
 * (domain/signin/). Kept server-side, sealed, keyed by the token's hash.
 */
export interface SessionState { challenge: string; flow: string; userId?: string; device?: string }

export interface OpenSession<S extends SessionState = SessionState> { id: string; state: S }

/** The row id of a session token (only its hash is stored). */
export const sessionIdOf = (token: string) => sha256(token);

export async function createSession(ctx: Ctx, pool: LoadedPool, client: LoadedClient, state: SessionState, ttlMs?: number): Promise<string> {
  const token = randomToken(64);
  const id = sessionIdOf(token);
  const now = ctx.now();
  await ctx.repo.createSession({
    id, pool_id: pool.id, client_id: client.id, user_id: state.userId ?? null,
    state: ctx.secrets.encrypt(JSON.stringify(state), `session:${id}`), attempts: 0,
    expires_at: now + (ttlMs ?? client.config.AuthSessionValidity * 60e3), consumed_at: null, created_at: now,
  });
  return token;
}

export const invalidSession = () => new NotAuthorizedException('Invalid session for the user, session is expired.');

export async function openSession(ctx: Ctx, client: LoadedClient, token: string | undefined): Promise<OpenSession> {
  const s = await openSessionOfAnyClient(ctx, token);
  if (s.clientId !== client.id) throw invalidSession();
  return { id: s.id, state: s.state };
}

/** For operations that take a Session and no ClientId (AssociateSoftwareToken, VerifySoftwareToken): the client is the session's. */
export async function openSessionOfAnyClient(ctx: Ctx, token: string | undefined): Promise<OpenSession & { clientId: string }> {
  if (!token || token.length > 512) throw invalidSession();
  const id = sessionIdOf(token);
  const row = await ctx.repo.getSession(id);
  if (!row || row.consumed_at !== null || row.expires_at < ctx.now()) throw invalidSession();
  const state = JSON.parse(ctx.secrets.decrypt(row.state, `session:${id}`).toString('utf8')) as SessionState;
  return { id, state, clientId: row.client_id };
}

/** Ends a session; only one caller can win, so a replayed or raced answer is refused. */
export async function consumeSession(ctx: Ctx, s: { id: string }) {
  if (!(await ctx.repo.consumeSession(s.id, ctx.now()))) throw invalidSession();
}
