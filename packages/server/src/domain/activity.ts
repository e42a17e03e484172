// The console's activity charts: a pool's auth events counted per time bucket over the last hour
// (1-minute buckets), day (15 minutes) or week (1 hour). Counted from the covering index
// (pool_id, created_at, event_type, response, detail). A quarter-hour that has closed does not
// change: its counts are stored the first time any process needs them (activity_rollups), so the
// day and week views count again only the quarter-hours still open.
import type { Ctx } from './context.js';
import type { ActivityCount } from '../storage/repository.js';

const MINUTE = 60_000;
const QUARTER = 15 * MINUTE;
export const ACTIVITY_RANGES = {
  hour: { bucketMs: MINUTE, buckets: 60 },
  day: { bucketMs: QUARTER, buckets: 96 },
  week: { bucketMs: 4 * QUARTER, buckets: 168 },
} as const;
export type ActivityRange = keyof typeof ACTIVITY_RANGES;

export const ACTIVITY_SERIES = ['signInSucceeded', 'signInFailed', 'signInChallenged', 'lockouts', 'signUps', 'codeSends'] as const;
export type ActivitySeries = (typeof ACTIVITY_SERIES)[number];
type Counts = number[]; // one per ACTIVITY_SERIES
const zero = (): Counts => ACTIVITY_SERIES.map(() => 0);

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
 * began, so one may land in a bucket just closed, and processes' clocks differ a little.
 */
export const SETTLE_MS = 30_000;

export interface Activity {
  range: ActivityRange; bucketMs: number;
  /** Start of each bucket, epoch ms, oldest first. */
  starts: number[];
  series: Record<ActivitySeries, number[]>;
  totals: Record<ActivitySeries, number>;
}

/** Counts per bucket (epoch ms / widthMs) of a pool's events from bucket `from` up to (not including) `to`, straight from the events. */
async function countEvents(ctx: Ctx, poolId: string, widthMs: number, from: number, to: number): Promise<Map<number, Counts>> {
  const out = new Map<number, Counts>();
  if (from >= to) return out;
  for (const row of await ctx.repo.countActivity(poolId, from * widthMs, to * widthMs, widthMs)) {
    let counts = out.get(row.bucket);
    if (!counts) out.set(row.bucket, (counts = zero()));
    for (const s of seriesOf(row)) counts[ACTIVITY_SERIES.indexOf(s)] += row.n;
  }
  return out;
}

/** Quarter-hour counts from `from` to `to` (bucket numbers): stored ones for closed quarters (storing those missing), counted ones for the rest. */
async function quarters(ctx: Ctx, poolId: string, from: number, to: number): Promise<Map<number, Counts>> {
  const closed = Math.min(to, Math.floor((ctx.now() - SETTLE_MS) / QUARTER)); // quarters before this one are closed
  const out = new Map<number, Counts>();
  for (const r of await ctx.repo.listActivityRollups(poolId, QUARTER, from, closed)) out.set(r.bucket, JSON.parse(r.counts) as Counts);
  let missing = from;
  while (missing < closed && out.has(missing)) missing++;
  if (missing < closed) {
    const counted = await countEvents(ctx, poolId, QUARTER, missing, closed);
    const rows = [];
    for (let b = missing; b < closed; b++) {
      if (out.has(b)) continue;
      const counts = counted.get(b) ?? zero();
      out.set(b, counts);
      rows.push({ pool_id: poolId, width_ms: QUARTER, bucket: b, counts: JSON.stringify(counts) });
    }
    await ctx.repo.putActivityRollups(rows);
  }
  for (const [b, counts] of await countEvents(ctx, poolId, QUARTER, Math.max(from, closed), to)) out.set(b, counts);
  return out;
}

/** The activity of a pool over a range, bucket by bucket, and its totals. */
export async function poolActivity(ctx: Ctx, poolId: string, range: ActivityRange): Promise<Activity> {
  const { bucketMs, buckets } = ACTIVITY_RANGES[range];
  const last = Math.floor(ctx.now() / bucketMs);
  const first = last - buckets + 1;
  let counts: Map<number, Counts>;
  if (bucketMs === MINUTE) counts = await countEvents(ctx, poolId, MINUTE, first, last + 1);
  else {
    // Quarter-hours, added up into the range's buckets.
    const per = bucketMs / QUARTER;
    counts = new Map();
    for (const [q, c] of await quarters(ctx, poolId, first * per, (last + 1) * per)) {
      const b = Math.floor(q / per);
      const sum = counts.get(b) ?? zero();
      c.forEach((n, i) => { sum[i] += n; });
      counts.set(b, sum);
    }
  }
  const starts: number[] = [];
  const series = Object.fromEntries(ACTIVITY_SERIES.map((s) => [s, [] as number[]])) as Record<ActivitySeries, number[]>;
  for (let b = first; b <= last; b++) {
    starts.push(b * bucketMs);
    const c = counts.get(b) ?? zero();
    ACTIVITY_SERIES.forEach((s, i) => series[s].push(c[i]));
  }
  const totals = Object.fromEntries(ACTIVITY_SERIES.map((s) => [s, series[s].reduce((a, b) => a + b, 0)])) as Record<ActivitySeries, number>;
  return { range, bucketMs, starts, series, totals };
}
