import type { CircuitBreaker } from '@checkout/breaker';

/**
 * In-memory recorders of the dashboard: checkout's own answers over the last minute, and
 * each circuit's recent outcomes and latency, one bucket per second. No timers: old entries
 * are dropped when something is recorded or read.
 */

export interface AnswerSample {
  at: number;
  status: number;
  ms: number;
}

export type AnswerClass = '201' | '202' | '4xx' | '503' | 'other';

export interface AnswerSummary {
  windowSeconds: number;
  total: number;
  /** Answers by class over the window. */
  counts: Record<AnswerClass, number>;
  /** Answers per second by class (counts / window). */
  rates: Record<AnswerClass, number>;
  p50Ms: number | null;
  p99Ms: number | null;
}

export function classOf(status: number): AnswerClass {
  if (status === 201) return '201';
  if (status === 202) return '202';
  if (status === 503) return '503';
  if (status >= 400 && status < 500) return '4xx';
  return 'other';
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** The answers of `POST /checkout` over the last `windowMs` (at most `maxSamples` kept). */
export class AnswerRecorder {
  private samples: AnswerSample[] = [];
  private head = 0;

  constructor(
    private readonly windowMs = 60_000,
    private readonly clock: () => number = Date.now,
    private readonly maxSamples = 100_000,
  ) {}

  record(status: number, ms: number): void {
    const at = this.clock();
    this.samples.push({ at, status, ms });
    this.prune(at);
    if (this.samples.length - this.head > this.maxSamples) this.head = this.samples.length - this.maxSamples;
  }

  private prune(now: number): void {
    const from = now - this.windowMs;
    while (this.head < this.samples.length && this.samples[this.head]!.at < from) this.head++;
    if (this.head > 1_024 && this.head * 2 > this.samples.length) {
      this.samples = this.samples.slice(this.head);
      this.head = 0;
    }
  }

  summary(): AnswerSummary {
    this.prune(this.clock());
    const live = this.samples.slice(this.head);
    const counts: Record<AnswerClass, number> = { '201': 0, '202': 0, '4xx': 0, '503': 0, other: 0 };
    for (const sample of live) counts[classOf(sample.status)]++;
    const seconds = this.windowMs / 1_000;
    const rates = Object.fromEntries(Object.entries(counts).map(([key, count]) => [key, count / seconds])) as Record<AnswerClass, number>;
    const sorted = live.map((sample) => sample.ms).sort((a, b) => a - b);
    return { windowSeconds: seconds, total: live.length, counts, rates, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) };
  }
}

export interface CircuitBucket {
  /** Start of the second (epoch ms). */
  t: number;
  success: number;
  failure: number;
  timeout: number;
  rejected: number;
  fallback: number;
  /** Calls with a measured duration, their sum and the largest (ms). */
  timed: number;
  latencySumMs: number;
  latencyMaxMs: number;
}

export interface Transition {
  at: number;
  from: string;
  to: string;
  reason: string;
}

export interface CircuitHistoryView {
  seconds: number;
  buckets: CircuitBucket[];
  transitions: Transition[];
}

/** What the history needs from a breaker. */
export type BreakerEventSource = Pick<CircuitBreaker, 'on'>;

type Outcome = 'success' | 'failure' | 'timeout' | 'rejected' | 'fallback';

/** One circuit's last `seconds` of outcomes and latency, fed by the breaker's events. */
export class CircuitHistory {
  private buckets: CircuitBucket[] = [];
  private transitions: Transition[] = [];

  constructor(
    private readonly seconds = 180,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Subscribes to the breaker's events; returns the unsubscribe. */
  attach(breaker: BreakerEventSource): () => void {
    const offs = [
      breaker.on('success', (e) => this.record('success', num(e.durationMs))),
      breaker.on('failure', (e) => this.record('failure', num(e.durationMs))),
      breaker.on('timeout', (e) => this.record('timeout', num(e.timeoutMs))),
      breaker.on('rejected', () => this.record('rejected')),
      breaker.on('fallback', () => this.record('fallback')),
      breaker.on('stateChange', (e) => this.transition({ at: num(e.at) ?? this.clock(), from: e.from, to: e.to, reason: String(e.reason) })),
    ];
    return () => {
      for (const off of offs) off();
    };
  }

  record(outcome: Outcome, durationMs?: number): void {
    const bucket = this.current();
    bucket[outcome]++;
    if (durationMs !== undefined) {
      bucket.timed++;
      bucket.latencySumMs += durationMs;
      bucket.latencyMaxMs = Math.max(bucket.latencyMaxMs, durationMs);
    }
  }

  transition(event: Transition): void {
    this.transitions.push(event);
    this.prune();
    if (this.transitions.length > 100) this.transitions.splice(0, this.transitions.length - 100);
  }

  view(): CircuitHistoryView {
    this.prune();
    return { seconds: this.seconds, buckets: this.buckets.map((b) => ({ ...b })), transitions: [...this.transitions] };
  }

  private current(): CircuitBucket {
    const t = Math.floor(this.clock() / 1_000) * 1_000;
    const last = this.buckets[this.buckets.length - 1];
    if (last !== undefined && last.t === t) return last;
    const bucket: CircuitBucket = { t, success: 0, failure: 0, timeout: 0, rejected: 0, fallback: 0, timed: 0, latencySumMs: 0, latencyMaxMs: 0 };
    this.buckets.push(bucket);
    this.prune();
    return bucket;
  }

  private prune(): void {
    const from = this.clock() - this.seconds * 1_000;
    let drop = 0;
    while (drop < this.buckets.length && this.buckets[drop]!.t < from) drop++;
    if (drop > 0) this.buckets.splice(0, drop);
    let dropT = 0;
    while (dropT < this.transitions.length && this.transitions[dropT]!.at < from) dropT++;
    if (dropT > 0) this.transitions.splice(0, dropT);
  }
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
