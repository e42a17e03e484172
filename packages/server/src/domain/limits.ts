import net from 'node:net';
import { LimitExceededException, TooManyRequestsException } from '../errors.js';
import type { Ctx } from './context.js';

// Abuse protection shared by every process on one store: each limit is a counter in the database,
// bumped by one atomic upsert, so N processes enforce one limit between them, not N. A window opens
// at a counter's first hit, not at a clock boundary: a burst straddling 12:15:00 cannot spend two
// windows' worth at once.
// Answers are Cognito's: TooManyRequestsException for request rates, LimitExceededException for
// codes sent to one user. Both are HTTP 400 as in Cognito (AWS SDKs and Amplify still retry them by
// name, up to their attempt limit; each retry counts).

/** What a request spends: sign-in steps, sign-ups, codes sent, account-recovery steps. */
export type Action = 'signIn' | 'signUp' | 'codes' | 'recovery';
export interface Rate { max: number; windowMs: number }
export interface Limits {
  /** Off: no per-IP or per-client limits (the per-user code cap stays). */
  enabled: boolean;
  perIp: Record<Action, Rate | undefined>;
  perClient: Record<Action, Rate | undefined>;
  /** Codes sent to one user for one purpose. */
  codesPerUser: Rate | undefined;
  /** SMS pumping: texts sent to one phone number, and texts asked for from one address (any number). */
  smsPerNumber: Rate | undefined;
  smsPerIp: Rate | undefined;
}

const actions: Action[] = ['signIn', 'signUp', 'codes', 'recovery'];
const envName: Record<Action, string> = { signIn: 'SIGN_IN', signUp: 'SIGN_UP', codes: 'CODES', recovery: 'RECOVERY' };
export const defaultLimits = {
  perIp: { signIn: '120/1m', signUp: '20/10m', codes: '30/10m', recovery: '30/10m' },
  perClient: { signIn: '12000/1m', signUp: '1200/10m', codes: '1200/10m', recovery: '1200/10m' },
  codesPerUser: '5/15m',
  smsPerNumber: '10/1h',
  smsPerIp: '50/1h',
} as const;

const units: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `max/window` (`120/1m`, `5/15m`, `20/30s`, `100/1h`); `off` or `0` turns the limit off. */
export function parseRate(name: string, value: string): Rate | undefined {
  const v = value.trim().toLowerCase();
  if (v === 'off' || v === '0') return undefined;
  const m = /^(\d+)\s*\/\s*(\d*)\s*([smh])$/.exec(v);
  const max = Number(m?.[1]), windowMs = Number(m?.[2] || 1) * (units[m?.[3] ?? ''] ?? NaN);
  if (!m || !(max > 0) || !(windowMs > 0)) throw new Error(`${name} must look like 120/1m (count per window of s, m or h) or off; got ${JSON.stringify(value)}`);
  return { max, windowMs };
}

/** Reads GATEHOUSE_RATE_LIMITS and GATEHOUSE_LIMIT_<ACTION>_PER_<IP|CLIENT|USER>; see the README for defaults. */
export function loadLimits(get: (name: string) => string | undefined): Limits {
  const rate = (name: string, fallback: string) => parseRate(name, get(name) || fallback);
  const switchValue = (get('GATEHOUSE_RATE_LIMITS') || 'on').toLowerCase();
  if (switchValue !== 'on' && switchValue !== 'off') throw new Error('GATEHOUSE_RATE_LIMITS must be on or off');
  const per = (scope: 'IP' | 'CLIENT', defaults: Record<Action, string>) =>
    Object.fromEntries(actions.map((a) => [a, rate(`GATEHOUSE_LIMIT_${envName[a]}_PER_${scope}`, defaults[a])])) as Record<Action, Rate | undefined>;
  return {
    enabled: switchValue === 'on',
    perIp: per('IP', defaultLimits.perIp),
    perClient: per('CLIENT', defaultLimits.perClient),
    codesPerUser: rate('GATEHOUSE_LIMIT_CODES_PER_USER', defaultLimits.codesPerUser),
    smsPerNumber: rate('GATEHOUSE_LIMIT_SMS_PER_NUMBER', defaultLimits.smsPerNumber),
    smsPerIp: rate('GATEHOUSE_LIMIT_SMS_PER_IP', defaultLimits.smsPerIp),
  };
}

/**
 * The key an address is counted under: IPv4 as is, IPv6 by its /64 (what one subscriber usually
 * holds, so rotating addresses inside it gains nothing), IPv4-mapped IPv6 as IPv4.
 */
export function ipKey(ip: string): string {
  const a = ip.split('%')[0];
  const mapped = /^(?:::|(?:0{1,4}:){5})ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped) return mapped[1];
  if (net.isIPv6(a)) {
    const [head, tail] = a.split('::');
    const h = head ? head.split(':') : [];
    const t = tail === undefined ? [] : tail ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
    return groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':') + '::/64';
  }
  return a;
}

interface Counter { key: string; windowMs: number; max: number; name: string }

function counter(name: string, subject: string, rate: Rate): Counter {
  return { key: `${name}|${subject}|${rate.windowMs}`, windowMs: rate.windowMs, max: rate.max, name };
}

/** Bumps the counters in one statement; their new counts, in order. */
function hit(ctx: Ctx, counters: Counter[]): Promise<number[]> {
  return ctx.repo.hitCounters(counters.map((c) => ({ key: c.key, windowMs: c.windowMs })), ctx.now());
}

/**
 * Counts this request against the per-IP and per-app-client limits of each action;
 * TooManyRequestsException past any. A request refused by its IP's limit gives back what it took
 * from the client's, so one noisy address cannot lock everyone else out. The IP is the caller's
 * (for signed calls: the end user's, from ContextData, or none).
 */
export async function throttle(ctx: Ctx, clientId: string, spends: readonly Action[]): Promise<void> {
  const limits = ctx.config.limits;
  if (!limits.enabled) return;
  const ip = ctx.ip === undefined ? undefined : ipKey(ctx.ip);
  const counters: Counter[] = [];
  for (const a of spends) {
    const perIp = limits.perIp[a];
    if (ip !== undefined && perIp) counters.push(counter(`${a}.ip`, ip, perIp));
  }
  const ipCounters = counters.length;
  for (const a of spends) {
    const perClient = limits.perClient[a];
    if (perClient) counters.push(counter(`${a}.client`, clientId, perClient));
  }
  if (!counters.length) return;
  // One statement for all: the usual case, nothing over, costs a single round trip.
  const hits = await hit(ctx, counters);
  const over = counters.findIndex((c, i) => hits[i] > c.max);
  if (over < 0) return;
  ctx.metrics.rateLimited(counters[over].name);
  if (over < ipCounters && counters.length > ipCounters) await ctx.repo.releaseCounters(counters.slice(ipCounters).map((c) => c.key));
  throw new TooManyRequestsException('Too many requests, please try after some time.');
}

/**
 * Counts one code about to be sent to `subject` (a user id, or a stand-in for a user who does not
 * exist, so both answer alike) for `purpose`; LimitExceededException past the per-user cap.
 */
export async function limitCodes(ctx: Ctx, subject: string, purpose: string): Promise<void> {
  const rate = ctx.config.limits.codesPerUser;
  if (!rate) return;
  const c = counter('codes.user', `${subject}|${purpose}`, rate);
  const [hits] = await hit(ctx, [c]);
  if (hits > c.max) {
    ctx.metrics.rateLimited(c.name);
    throw new LimitExceededException('Attempt limit exceeded, please try after some time.');
  }
}

/**
 * SMS pumping (toll fraud: getting us to text premium numbers): counts one text about to go to
 * `phone`. Past the per-address cap, TooManyRequestsException (not counted against the number); past
 * the per-number cap, LimitExceededException. The per-number cap holds with GATEHOUSE_RATE_LIMITS=off,
 * as the per-user code cap does: it protects the bill, not the server.
 */
export async function limitSms(ctx: Ctx, phone: string): Promise<void> {
  const { enabled, smsPerIp, smsPerNumber } = ctx.config.limits;
  const counters: Counter[] = [];
  if (enabled && smsPerIp && ctx.ip !== undefined) counters.push(counter('sms.ip', ipKey(ctx.ip), smsPerIp));
  const byIp = counters.length;
  if (smsPerNumber) counters.push(counter('sms.number', phone, smsPerNumber));
  if (!counters.length) return;
  const hits = await hit(ctx, counters);
  const over = counters.findIndex((c, i) => hits[i] > c.max);
  if (over < 0) return;
  ctx.metrics.rateLimited(counters[over].name);
  if (over < byIp) {
    if (counters.length > byIp) await ctx.repo.releaseCounters(counters.slice(byIp).map((c) => c.key));
    throw new TooManyRequestsException('Too many requests, please try after some time.');
  }
  throw new LimitExceededException('Attempt limit exceeded, please try after some time.');
}
