// The console's activity charts: a pool's auth events counted per time bucket over the last hour,
// day or week. Counted from the covering index (pool_id, created_at, event_type, response, detail);
// buckets that have closed do not change, so each process keeps them and a refresh counts only
// the newest buckets again.
import type { Ctx } from './context.js';
import type { ActivityCount } from '../storage/repository.js';

export const ACTIVITY_RANGES = {
  hour: { bucketMs: 60_000, buckets: 60 },
  day: { bucketMs: 15 * 60_000, buckets: 96 },
  week: { bucketMs: 3600_000, buckets: 168 },
} as const;
export type ActivityRange = keyof typeof ACTIVITY_RANGES;

export const ACTIVITY_SERIES = ['signInSucceeded', 'signInFailed', 'signInChallenged', 'lockouts', 'signUps', 'codeSends'] as const;
export type ActivitySeries = (typeof ACTIVITY_SERIES)[number];

/** Which series an event counts in: sign-in outcomes; lockouts (a failure that found or left the account locked); sign-ups; codes sent (resends, reset requests). */
function seriesOf(c: ActivityCount): ActivitySeries[] {
  const out: ActivitySeries[] = [];
  if (c.event_type === 'SignIn') out.push(c.response === 'Pass' ? 'signInSucceeded' : c.response === 'Fail' ? 'signInFailed' : 'signInChallenged');
  if (c.detail === 'lockout') out.push('lockouts');
  if (c.event_type === 'SignUp') out.push('signUps');
  if (c.event_type === 'ResendCode' || (c.event_type === 'ForgotPassword' && c.response === 'InProgress')) out.push('codeSends');
  return out;
}

/**
 * A bucket is taken as closed once it ended this long ago: an event is stamped when its request
 * began, so one may land in the bucket just closed, and processes' clocks differ a little.
 */
const SETTLE_MS = 30_000;
const MAX_CACHED = 2000;

type Counts = number[]; // per ACTIVITY_SERIES
interface Cached { closedBefore: number; buckets: Map<number, Counts> }

export interface Activity {
  range: ActivityRange; bucketMs: number;
  /** Start of each bucket, epoch ms, oldest first. */
  starts: number[];
  series: Record<ActivitySeries, number[]>;
  totals: Record<ActivitySeries, number>;
}

export class ActivityCounter {
  private cache = new Map<string, Cached>();

  async count(ctx: Ctx, poolId: string, range: ActivityRange): Promise<Activity> {
    const { bucketMs, buckets } = ACTIVITY_RANGES[range];
    const now = ctx.now();
    const last = Math.floor(now / bucketMs);
    const first = last - buckets + 1;
    const key = `${poolId}:${bucketMs}`;
    let cached = this.cache.get(key);
    if (!cached) {
      if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, (cached = { closedBefore: first, buckets: new Map() }));
    }
    // Count again only what is not kept: from the first bucket not yet closed when last counted.
    const from = Math.max(first, cached.closedBefore);
    const fresh = new Map<number, Counts>();
    for (const row of await ctx.repo.countActivity(poolId, from * bucketMs, (last + 1) * bucketMs, bucketMs)) {
      let counts = fresh.get(row.bucket);
      if (!counts) fresh.set(row.bucket, (counts = ACTIVITY_SERIES.map(() => 0)));
      for (const s of seriesOf(row)) counts[ACTIVITY_SERIES.indexOf(s)] += row.n;
    }
    const closed = Math.floor((now - SETTLE_MS) / bucketMs); // buckets before this one are closed
    for (const b of cached.buckets.keys()) if (b < first || b >= from) cached.buckets.delete(b);
    for (let b = from; b < closed; b++) cached.buckets.set(b, fresh.get(b) ?? ACTIVITY_SERIES.map(() => 0));
    cached.closedBefore = Math.max(from, closed);

    const starts: number[] = [];
    const series = Object.fromEntries(ACTIVITY_SERIES.map((s) => [s, [] as number[]])) as Record<ActivitySeries, number[]>;
    for (let b = first; b <= last; b++) {
      starts.push(b * bucketMs);
      const counts = (b < from ? cached.buckets.get(b) : fresh.get(b)) ?? ACTIVITY_SERIES.map(() => 0);
      ACTIVITY_SERIES.forEach((s, i) => series[s].push(counts[i]));
    }
    const totals = Object.fromEntries(ACTIVITY_SERIES.map((s) => [s, series[s].reduce((a, b) => a + b, 0)])) as Record<ActivitySeries, number>;
    return { range, bucketMs, starts, series, totals };
  }

  /** Forgets a pool's kept buckets (its events were deleted with it). */
  forget(poolId: string) {
    for (const k of this.cache.keys()) if (k.startsWith(`${poolId}:`)) this.cache.delete(k);
  }
}
