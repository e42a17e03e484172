import type { Cluster } from 'node:cluster';

// Prometheus metrics, kept by hand: recording is a map lookup and a number increment (label values
// come from small fixed sets: operation names, flows, error type names), and the text format is
// built only when scraped. With several processes (GATEHOUSE_PROCESSES) a scrape reaches one
// worker, which asks the primary to gather every worker's figures, so the answer covers them all.

/** Upper bounds of the latency buckets, in seconds. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Latency { buckets: number[]; sum: number; count: number }
/** One process's figures as plain data, so workers can send them to the primary. */
export interface MetricsSnapshot {
  requests: Record<string, Record<string, number>>;
  latency: Record<string, Latency>;
  signIns: Record<string, Record<string, number>>;
  rateLimited: Record<string, number>;
  process: { residentBytes: number; heapUsedBytes: number; cpuSeconds: number; startTimeSeconds: number };
}

type Counts = Map<string, number>;
const bump = (m: Counts, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
function nested(m: Map<string, Counts>, k: string): Counts {
  let inner = m.get(k);
  if (!inner) m.set(k, (inner = new Map()));
  return inner;
}
const toObject = <V, W>(m: Map<string, V>, f: (v: V) => W) => Object.fromEntries([...m].map(([k, v]) => [k, f(v)]));

export class Metrics {
  private readonly requests = new Map<string, Counts>();
  private readonly latency = new Map<string, { buckets: Float64Array; sum: number; count: number }>();
  private readonly signIns = new Map<string, Counts>();
  private readonly limited: Counts = new Map();
  private readonly started = Date.now() / 1000;

  /** One finished request: `outcome` is 'ok' or the error type; `seconds` its duration. */
  request(operation: string, outcome: string, seconds: number) {
    bump(nested(this.requests, operation), outcome);
    let h = this.latency.get(operation);
    if (!h) this.latency.set(operation, (h = { buckets: new Float64Array(LATENCY_BUCKETS.length + 1), sum: 0, count: 0 }));
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) i++;
    h.buckets[i]++;
    h.sum += seconds;
    h.count++;
  }

  /** One sign-in step: `outcome` is 'tokens', the challenge name answered, or the error type. */
  signIn(flow: string, outcome: string) { bump(nested(this.signIns, flow), outcome); }

  /** One request or code refused by the limit named (signIn.ip, codes.user, ...). */
  rateLimited(limit: string) { bump(this.limited, limit); }

  snapshot(): MetricsSnapshot {
    const mem = process.memoryUsage(), cpu = process.cpuUsage();
    return {
      requests: toObject(this.requests, (m) => Object.fromEntries(m)),
      latency: toObject(this.latency, (h) => ({ buckets: [...h.buckets], sum: h.sum, count: h.count })),
      signIns: toObject(this.signIns, (m) => Object.fromEntries(m)),
      rateLimited: Object.fromEntries(this.limited),
      process: { residentBytes: mem.rss, heapUsedBytes: mem.heapUsed, cpuSeconds: (cpu.user + cpu.system) / 1e6, startTimeSeconds: this.started },
    };
  }
}

/** Adds several processes' figures together. */
export function mergeSnapshots(all: MetricsSnapshot[]): MetricsSnapshot {
  const out: MetricsSnapshot = { requests: {}, latency: {}, signIns: {}, rateLimited: {}, process: { residentBytes: 0, heapUsedBytes: 0, cpuSeconds: 0, startTimeSeconds: Infinity } };
  const add2 = (into: Record<string, Record<string, number>>, from: Record<string, Record<string, number>>) => {
    for (const [k, inner] of Object.entries(from)) for (const [k2, n] of Object.entries(inner)) (into[k] ??= {})[k2] = (into[k]?.[k2] ?? 0) + n;
  };
  for (const s of all) {
    add2(out.requests, s.requests);
    add2(out.signIns, s.signIns);
    for (const [k, n] of Object.entries(s.rateLimited)) out.rateLimited[k] = (out.rateLimited[k] ?? 0) + n;
    for (const [op, h] of Object.entries(s.latency)) {
      const o = (out.latency[op] ??= { buckets: h.buckets.map(() => 0), sum: 0, count: 0 });
      h.buckets.forEach((n, i) => (o.buckets[i] += n));
      o.sum += h.sum;
      o.count += h.count;
    }
    out.process.residentBytes += s.process.residentBytes;
    out.process.heapUsedBytes += s.process.heapUsedBytes;
    out.process.cpuSeconds += s.process.cpuSeconds;
    out.process.startTimeSeconds = Math.min(out.process.startTimeSeconds, s.process.startTimeSeconds);
  }
  return out;
}

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Prometheus text exposition format 0.0.4. */
export function renderMetrics(s: MetricsSnapshot, processes = 1): string {
  const lines: string[] = [];
  const head = (name: string, type: string, help: string) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  const labelled = (name: string, a: string, b: string, data: Record<string, Record<string, number>>) => {
    for (const [x, inner] of Object.entries(data)) for (const [y, n] of Object.entries(inner)) lines.push(`${name}{${a}="${esc(x)}",${b}="${esc(y)}"} ${n}`);
  };
  head('gatehouse_requests_total', 'counter', "Cognito API requests by operation and outcome ('ok' or the error type).");
  labelled('gatehouse_requests_total', 'operation', 'outcome', s.requests);
  head('gatehouse_request_duration_seconds', 'histogram', 'Cognito API request latency by operation.');
  for (const [op, h] of Object.entries(s.latency)) {
    const o = esc(op);
    let cumulative = 0;
    LATENCY_BUCKETS.forEach((le, i) => {
      cumulative += h.buckets[i];
      lines.push(`gatehouse_request_duration_seconds_bucket{operation="${o}",le="${le}"} ${cumulative}`);
    });
    lines.push(`gatehouse_request_duration_seconds_bucket{operation="${o}",le="+Inf"} ${h.count}`);
    lines.push(`gatehouse_request_duration_seconds_sum{operation="${o}"} ${h.sum}`);
    lines.push(`gatehouse_request_duration_seconds_count{operation="${o}"} ${h.count}`);
  }
  head('gatehouse_sign_ins_total', 'counter', "Sign-in steps by flow (InitiateAuth's AuthFlow, or the ChallengeName answered) and outcome ('tokens', the next challenge, or the error type).");
  labelled('gatehouse_sign_ins_total', 'flow', 'outcome', s.signIns);
  head('gatehouse_rate_limited_total', 'counter', 'Requests refused by a rate limit (TooManyRequestsException) or codes refused by the per-user cap (LimitExceededException), by limit.');
  for (const [k, n] of Object.entries(s.rateLimited)) lines.push(`gatehouse_rate_limited_total{limit="${esc(k)}"} ${n}`);
  head('gatehouse_processes', 'gauge', 'Server processes whose figures this answer adds up.');
  lines.push(`gatehouse_processes ${processes}`);
  head('process_resident_memory_bytes', 'gauge', 'Resident memory of the server processes.');
  lines.push(`process_resident_memory_bytes ${s.process.residentBytes}`);
  head('nodejs_heap_used_bytes', 'gauge', 'V8 heap in use in the server processes.');
  lines.push(`nodejs_heap_used_bytes ${s.process.heapUsedBytes}`);
  head('process_cpu_seconds_total', 'counter', 'CPU time (user and system) of the server processes.');
  lines.push(`process_cpu_seconds_total ${s.process.cpuSeconds}`);
  head('process_start_time_seconds', 'gauge', 'Start time of the oldest server process, in seconds since the epoch.');
  lines.push(`process_start_time_seconds ${s.process.startTimeSeconds}`);
  return lines.join('\n') + '\n';
}

// Cluster gathering. Messages carry a `gatehouseMetrics` tag so they never mix with others.
type Msg = { gatehouseMetrics: 'gather'; id: number } | { gatehouseMetrics: 'gathered'; id: number; snapshots: MetricsSnapshot[] }
  | { gatehouseMetrics: 'snapshot?'; id: number } | { gatehouseMetrics: 'snapshot'; id: number; snapshot: MetricsSnapshot };
const GATHER_TIMEOUT_MS = 2000;

/** In the primary: answers a worker's 'gather' with a snapshot of every live worker (those that answer in time). */
export function serveClusterMetrics(cluster: Cluster) {
  let nextId = 0;
  const waiting = new Map<number, (s: MetricsSnapshot) => void>();
  cluster.on('message', (worker, msg: Msg) => {
    if (msg?.gatehouseMetrics === 'snapshot') waiting.get(msg.id)?.(msg.snapshot);
    if (msg?.gatehouseMetrics !== 'gather') return;
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w?.isConnected());
    const snapshots: MetricsSnapshot[] = [];
    const id = ++nextId;
    const done = () => {
      clearTimeout(timer);
      waiting.delete(id);
      if (worker.isConnected()) worker.send({ gatehouseMetrics: 'gathered', id: msg.id, snapshots } satisfies Msg);
    };
    const timer = setTimeout(done, GATHER_TIMEOUT_MS);
    waiting.set(id, (s) => { snapshots.push(s); if (snapshots.length === workers.length) done(); });
    for (const w of workers) w!.send({ gatehouseMetrics: 'snapshot?', id } satisfies Msg);
  });
}

/**
 * In a worker: answers the primary's snapshot requests, and returns a function that gathers the
 * figures of all workers (its own alone if the primary does not answer in time).
 */
export function clusterWorkerMetrics(metrics: Metrics): () => Promise<MetricsSnapshot[]> {
  let nextId = 0;
  const waiting = new Map<number, (s: MetricsSnapshot[]) => void>();
  process.on('message', (msg: Msg) => {
    if (msg?.gatehouseMetrics === 'snapshot?') process.send?.({ gatehouseMetrics: 'snapshot', id: msg.id, snapshot: metrics.snapshot() } satisfies Msg);
    if (msg?.gatehouseMetrics === 'gathered') waiting.get(msg.id)?.(msg.snapshots);
  });
  return () => new Promise((resolve) => {
    const id = ++nextId;
    const timer = setTimeout(() => { waiting.delete(id); resolve([metrics.snapshot()]); }, GATHER_TIMEOUT_MS + 500);
    waiting.set(id, (s) => { clearTimeout(timer); waiting.delete(id); resolve(s.length ? s : [metrics.snapshot()]); });
    process.send!({ gatehouseMetrics: 'gather', id } satisfies Msg);
  });
}
