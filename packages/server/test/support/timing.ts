// Timing comparisons for the user-enumeration tests: a real user and a login that names nobody must
// cost the same. Each round times them in back-to-back pairs (which goes first alternates) after a
// warm-up, and takes the median of the pairs' differences: both calls of a pair meet the same load,
// so the drift of a shared, busy machine cancels out. A round whose median difference is at or past
// the limit is measured again, up to three rounds in all: a real difference shows in every round.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';

export type Kind = 'real' | 'unknown';
export interface TimingRound {
  /** How many pairs are timed, after `warmup` untimed ones. */
  pairs: number;
  warmup?: number;
  /** Makes one call of the kind for pair i (i < 0 in the warm-up); answers what the call answered and its time. */
  call(kind: Kind, i: number): Promise<{ answer: unknown; ms: number }>;
  /** Checks that the two answers of a pair tell nothing apart. */
  same?(real: unknown, unknown: unknown, i: number): void;
}

const median = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Times `work` alone: what a `call` reports as its `ms`. */
export async function timed<T>(work: () => Promise<T>): Promise<{ answer: T; ms: number }> {
  const started = performance.now();
  const answer = await work();
  return { answer, ms: performance.now() - started };
}

async function round(what: string, r: TimingRound) {
  const diffs: number[] = [], times = { real: [] as number[], unknown: [] as number[] };
  for (let i = -(r.warmup ?? 20); i < r.pairs; i++) {
    const order: Kind[] = i % 2 ? ['unknown', 'real'] : ['real', 'unknown'];
    const got = {} as Record<Kind, { answer: unknown; ms: number }>;
    for (const kind of order) got[kind] = await r.call(kind, i);
    r.same?.(got.real.answer, got.unknown.answer, i);
    if (i < 0) continue;
    diffs.push(got.real.ms - got.unknown.ms);
    times.real.push(got.real.ms);
    times.unknown.push(got.unknown.ms);
  }
  const diff = median(diffs);
  return { diff, report: `${what}: median real ${median(times.real).toFixed(3)} ms, unknown ${median(times.unknown).toFixed(3)} ms, median difference ${diff.toFixed(3)} ms over ${r.pairs} pairs` };
}

/** Fails unless, in one of up to three rounds (each made afresh by `makeRound`), the median pair difference is under `limitMs`. */
export async function assertSameTiming(t: { diagnostic(s: string): void }, what: string, makeRound: () => Promise<TimingRound> | TimingRound, limitMs = 0.25) {
  const reports: string[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const { diff, report } = await round(what, await makeRound());
    t.diagnostic(report);
    reports.push(report);
    if (Math.abs(diff) < limitMs) return;
  }
  assert.fail(`timing tells: ${reports.join('; ')}`);
}
