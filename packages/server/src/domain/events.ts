import crypto from 'node:crypto';
import type { Ctx } from './context.js';
import type { AuthEvent } from '../storage/repository.js';
import type { AuthEventType, ChallengeResponseType, EventResponseType, EventType } from '../shapes.js';

// Per-user auth events, as Cognito's AdminListUserAuthEvents shows them. Each user keeps the newest
// AUTH_EVENTS_KEPT; they go with the user. No risk scoring is done: every event says NoRisk.

export type AuthEventKind = EventType;
export type AuthEventResponse = EventResponseType;
export const AUTH_EVENTS_KEPT = 100;
/** Older events beyond the kept ones are deleted in batches of up to this many, not one per event. */
export const AUTH_EVENTS_SLACK = 20;

/**
 * Records an event for the user; `password` is how the password check went, when there was one.
 * The address is the request's (for signed calls, the end user's from ContextData). Never fails
 * the operation: a lost event is logged instead.
 */
export async function recordAuthEvent(ctx: Ctx, user: { id: string; pool_id: string }, kind: AuthEventKind, response: AuthEventResponse, password?: 'Success' | 'Failure') {
  await record(ctx, kind, () => ctx.repo.addAuthEvent({ ...eventFields(ctx, kind, response, password), pool_id: user.pool_id, user_id: user.id }, AUTH_EVENTS_KEPT, AUTH_EVENTS_SLACK));
}

/** What a login that names no user is known by (its failures and events): an HMAC of its lookup key, never the login. */
export function unknownLoginKey(ctx: Ctx, poolId: string, lookupKey: string) {
  return ctx.secrets.mac('login-failures', poolId, lookupKey);
}

/**
 * Records a failure of a login that names no user, under `loginKey` (an HMAC of the login): kept as
 * a user's events are, and written by the same statements, so a failure costs the same either way.
 */
export async function recordUnknownLoginEvent(ctx: Ctx, poolId: string, loginKey: string, kind: AuthEventKind, password?: 'Failure') {
  await record(ctx, kind, () => ctx.repo.addLoginEvent({ ...eventFields(ctx, kind, 'Fail', password), pool_id: poolId, login_key: loginKey }, AUTH_EVENTS_KEPT, AUTH_EVENTS_SLACK));
}

function eventFields(ctx: Ctx, kind: AuthEventKind, response: AuthEventResponse, password?: 'Success' | 'Failure') {
  return {
    id: crypto.randomUUID(), event_type: kind, response, ip: ctx.ip ?? null, created_at: ctx.now(),
    challenges: password ? JSON.stringify([{ ChallengeName: 'Password', ChallengeResponse: password }]) : '[]',
  };
}

async function record(ctx: Ctx, kind: AuthEventKind, write: () => Promise<void>) {
  try {
    await write();
  } catch (e) {
    ctx.log.warn('auth event not recorded', { kind, error: String((e as Error)?.message ?? e) });
  }
}

/** Cognito's AuthEventType. CreationDate is epoch seconds on the wire. */
export function authEventType(e: AuthEvent): AuthEventType {
  return {
    EventId: e.id,
    EventType: e.event_type as AuthEventKind,
    CreationDate: e.created_at / 1000,
    EventResponse: e.response as AuthEventResponse,
    EventRisk: { RiskDecision: 'NoRisk', CompromisedCredentialsDetected: false },
    ChallengeResponses: JSON.parse(e.challenges) as ChallengeResponseType[],
    EventContextData: e.ip ? { IpAddress: e.ip } : {},
  };
}
