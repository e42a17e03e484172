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
 * Records an event for the user; `password` is how the password check went, when there was one;
 * `detail` marks a failure that found the account locked or locked it (counted by the activity charts).
 * The address is the request's (for signed calls, the end user's from ContextData). Never fails
 * the operation: a lost event is logged instead.
 */
export async function recordAuthEvent(ctx: Ctx, user: { id: string; pool_id: string }, kind: AuthEventKind, response: AuthEventResponse, password?: 'Success' | 'Failure', detail?: 'lockout') {
  try {
    await ctx.repo.addAuthEvent({
      id: crypto.randomUUID(), pool_id: user.pool_id, user_id: user.id, event_type: kind, response,
      challenges: password ? JSON.stringify([{ ChallengeName: 'Password', ChallengeResponse: password }]) : '[]',
      ip: ctx.ip ?? null, detail: detail ?? null, created_at: ctx.now(),
    }, AUTH_EVENTS_KEPT, AUTH_EVENTS_SLACK);
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
