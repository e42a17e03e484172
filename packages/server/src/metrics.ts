// Prometheus metrics through prom-client. Label values come from small fixed sets (operation names,
// flows, error type names), so the series stay few. With several processes (GATEHOUSE_PROCESSES) a
// scrape reaches one worker, which asks the primary; the primary's AggregatorRegistry collects every
// worker's registry and adds them up, so the answer covers them all.
import type { Cluster } from 'node:cluster';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Upper bounds of the latency buckets, in seconds. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Metrics {
  /** This process's figures. */
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'gatehouse_requests_total', help: "Cognito API requests by operation and outcome ('ok' or the error type).",
    labelNames: ['operation', 'outcome'] as const, registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'gatehouse_request_duration_seconds', help: 'Cognito API request latency by operation.',
    labelNames: ['operation'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry],
  });
  private readonly signIns = new Counter({
    name: 'gatehouse_sign_ins_total',
    help: "Sign-in steps by flow (InitiateAuth's AuthFlow, or the ChallengeName answered) and outcome ('tokens', the next challenge, or the error type).",
    labelNames: ['flow', 'outcome'] as const, registers: [this.registry],
  });
  private readonly limited = new Counter({
    name: 'gatehouse_rate_limited_total',
    help: 'Requests refused by a rate limit (TooManyRequestsException) or codes refused by the per-user cap (LimitExceededException), by limit.',
    labelNames: ['limit'] as const, registers: [this.registry],
  });

  private readonly triggers = new Counter({
    name: 'gatehouse_trigger_calls_total',
    help: "Lambda trigger calls by trigger and outcome ('ok', or error, timeout, unreachable, malformed).",
    labelNames: ['trigger', 'outcome'] as const, registers: [this.registry],
  });
  private readonly triggerLatency = new Histogram({
    name: 'gatehouse_trigger_duration_seconds', help: 'Lambda trigger call latency by trigger.',
    labelNames: ['trigger'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry],
  });

  constructor() {
    const registers = [this.registry];
    // Each process counts itself once: summed over the workers, this is how many answered the scrape.
    new Gauge({ name: 'gatehouse_processes', help: 'Server processes whose figures this answer adds up.', registers, collect() { this.set(1); } });
    new Gauge({ name: 'process_resident_memory_bytes', help: 'Resident memory of the server processes.', registers, collect() { this.set(process.memoryUsage.rss()); } });
    new Gauge({ name: 'nodejs_heap_used_bytes', help: 'V8 heap in use in the server processes.', registers, collect() { this.set(process.memoryUsage().heapUsed); } });
    let cpuSeen = 0;
    new Counter({
      name: 'process_cpu_seconds_total', help: 'CPU time (user and system) of the server processes.', registers,
      collect() {
        const { user, system } = process.cpuUsage();
        const now = (user + system) / 1e6;
        this.inc(Math.max(0, now - cpuSeen));
        cpuSeen = now;
      },
    });
    const started = Date.now() / 1000;
    new Gauge({
      name: 'process_start_time_seconds', help: 'Start time of the oldest server process, in seconds since the epoch.', registers,
      aggregator: 'min', collect() { this.set(started); },
    });
  }

  /** One finished request: `outcome` is 'ok' or the error type; `seconds` its duration. */
  request(operation: string, outcome: string, seconds: number) {
    this.requests.inc({ operation, outcome });
    this.latency.observe({ operation }, seconds);
  }

  /** One sign-in step: `outcome` is 'tokens', the challenge name answered, or the error type. */
  signIn(flow: string, outcome: string) { this.signIns.inc({ flow, outcome }); }

  /** One request or code refused by the limit named (signIn.ip, codes.user, ...). */
  rateLimited(limit: string) { this.limited.inc({ limit }); }

  /** One trigger call: `outcome` is 'ok' or how it failed. */
  trigger(trigger: string, outcome: string, seconds: number) {
    this.triggers.inc({ trigger, outcome });
    this.triggerLatency.observe({ trigger }, seconds);
  }
}

// Our request from a worker to the primary, tagged so it never mixes with prom-client's own messages.
type Msg = { gatehouseMetrics: 'gather'; id: number } | { gatehouseMetrics: 'gathered'; id: number; text?: string };
const GATHER_TIMEOUT_MS = 6000; // the aggregator gives up on a silent worker after 5 s

/** In the primary: answers a worker's 'gather' with the figures of every live worker, added up by prom-client. */
export function serveClusterMetrics(cluster: Cluster) {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, msg: Msg) => {
    if (msg?.gatehouseMetrics !== 'gather') return;
    const answer = (text?: string) => { if (worker.isConnected()) worker.send({ gatehouseMetrics: 'gathered', id: msg.id, text } satisfies Msg); };
    aggregator.clusterMetrics().then(answer, () => answer(undefined));
  });
}

/**
 * In a worker: lets the primary's aggregator read this process's registry, and returns a function that
 * gathers the figures of all workers (this one's alone if the primary does not answer in time).
 */
export function clusterWorkerMetrics(metrics: Metrics): () => Promise<string> {
  AggregatorRegistry.setRegistries([metrics.registry]);
  new AggregatorRegistry(); // starts answering the primary's requests for this worker's figures
  let nextId = 0;
  const waiting = new Map<number, (text: string | undefined) => void>();
  process.on('message', (msg: Msg) => {
    if (msg?.gatehouseMetrics === 'gathered') waiting.get(msg.id)?.(msg.text);
  });
  return () => new Promise((resolve) => {
    const id = ++nextId;
    const done = (text: string | undefined) => {
      clearTimeout(timer);
      waiting.delete(id);
      if (text) resolve(text);
      else metrics.registry.metrics().then(resolve);
    };
    const timer = setTimeout(() => done(undefined), GATHER_TIMEOUT_MS);
    waiting.set(id, done);
    process.send!({ gatehouseMetrics: 'gather', id } satisfies Msg);
  });
}
