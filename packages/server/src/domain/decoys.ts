import crypto from 'node:crypto';
import type { Insertable } from 'kysely';
import type { DecoyTable } from '../storage/schema.js';
import type { Ctx } from './context.js';
import { randomDigits } from './secrets.js';
import { limitCodes } from './limits.js';
import { usernameKey, type LoadedPool } from './pools.js';
import { AUTH_EVENTS_KEPT, AUTH_EVENTS_SLACK, type AuthEventKind, type AuthEventResponse } from './events.js';

// With PreventUserExistenceErrors, a code request for a user who does not exist must cost what a
// real one costs, or its timing tells. So it does the same work: the per-user cap, a code and its
// HMAC, a sealed message and one transaction of the same statements, and an auth event, written to
// decoy rows (the decoys table, outbox state `decoy`) that nothing reads or sends, swept once expired.

const DECOY_TTL_MS = 15 * 60_000;

export interface DecoyCode { code: string; row: Insertable<DecoyTable> }

/** Who a decoy stands for: the login as the pool matches it, keyed so the table holds no logins. */
function subject(ctx: Ctx, pool: LoadedPool, login: string) {
  return ctx.secrets.mac('decoy', pool.id, usernameKey(pool, login));
}

/** issueCode for a login nobody holds: the same cap (so it is met alike), the same code work. */
export async function issueDecoyCode(ctx: Ctx, pool: LoadedPool, login: string, purpose: string): Promise<DecoyCode> {
  await limitCodes(ctx, `nobody:${pool.id}:${login.toLowerCase()}`, purpose);
  const code = randomDigits(6);
  const now = ctx.now();
  const who = subject(ctx, pool, login);
  const row = {
    id: crypto.randomUUID(), pool_id: pool.id, subject: who, kind: `code:${purpose}`,
    data: ctx.secrets.mac('code', who, purpose, login, code), expires_at: now + DECOY_TTL_MS, created_at: now,
  };
  return { code, row };
}

/** recordAuthEvent for a login nobody holds. Never fails the operation, as that one does not. */
export async function recordDecoyEvent(ctx: Ctx, pool: LoadedPool, login: string, kind: AuthEventKind, response: AuthEventResponse) {
  const now = ctx.now();
  try {
    await ctx.repo.addDecoyEvent({
      id: crypto.randomUUID(), pool_id: pool.id, subject: subject(ctx, pool, login), kind: `event:${kind}`,
      data: JSON.stringify({ response, challenges: [], ip: ctx.ip ?? null }), expires_at: now + DECOY_TTL_MS, created_at: now,
    }, AUTH_EVENTS_KEPT, AUTH_EVENTS_SLACK);
  } catch (e) {
    ctx.log.warn('decoy not recorded', { kind, error: String((e as Error)?.message ?? e) });
  }
}

const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const phonePattern = /^\+[0-9]{4,15}$/;
const letters = 'abcdefghijklmnopqrstuvwxyz';
// First letters of mail domains lean heavily to a few large providers.
const domainLetters = 'ggggggggghhhoooyyyiiaabcdefklmnprstuvwz';

/**
 * Where a code for `login` would go by `medium`, had it an account: the login itself when it is an
 * address of that medium, else an address derived from the login under the master key, so the
 * same login always shows the same masked destination, and no two requests can be told apart.
 */
export function simulatedDestination(ctx: Ctx, pool: LoadedPool, login: string, medium: 'EMAIL' | 'SMS'): string {
  if (medium === 'EMAIL' && emailPattern.test(login)) return login.toLowerCase();
  if (medium === 'SMS' && phonePattern.test(login)) return login;
  const b = ctx.secrets.macBytes('simulated-destination', pool.id, usernameKey(pool, login));
  if (medium === 'EMAIL') return `${letters[b[0] % letters.length]}${b.subarray(4, 8).toString('hex')}@${domainLetters[b[1] % domainLetters.length]}mail.com`;
  // Most numbers are +1 and ten digits; some are longer or shorter.
  const length = [12, 12, 12, 12, 12, 13, 13, 11][b[2] % 8];
  let digits = '';
  for (let i = 0; digits.length < length - 1; i++) digits += String(b[3 + i] % 10);
  return `+${digits}`;
}
