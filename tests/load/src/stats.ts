/** Percentiles and aggregation of a run's requests. Pure: tested without processes. */

/** One order sent: when (ms from the start of the run), its answer or none. */
export interface RequestRecord {
  readonly sentAtMs: number;
  /** null: no answer (timed out, connection error, or still open at the end). */
  readonly latencyMs: number | null;
  /** HTTP status; 0 without an answer. */
  readonly status: number;
  readonly orderId: string | null;
  /** The answer's `status` field (SHIPPING_SCHEDULED, PENDING_PAYMENT …). */
  readonly orderStatus: string | null;
  readonly warnings: readonly string[];
  /** `chargeId` of the answer, when there is one (a 201). */
  readonly chargeId: string | null;
  readonly key: string;
}

/** Nearest-rank percentile of values sorted ascending; NaN for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (p <= 0) return sorted[0]!;
  if (p >= 100) return sorted[sorted.length - 1]!;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export function latencySummary(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]! };
}

/** "201", "202", "503", or "none" (no answer). */
export function statusKey(status: number): string {
  return status === 0 ? 'none' : String(status);
}

export type FallbackKind = 'payment-queued' | 'inventory-cache' | 'shipping-deferred' | 'other';

/** Which fallback a warning of checkout's answer reports (see services/checkout/README.md, "Answers"). */
export function fallbackKind(warning: string): FallbackKind {
  if (/^payment:.*(queued|retried)/.test(warning)) return 'payment-queued';
  if (/^inventory:.*from cache/.test(warning)) return 'inventory-cache';
  if (/^shipping:.*(later|not scheduled)/.test(warning)) return 'shipping-deferred';
  return 'other';
}

export interface RunSummary {
  readonly sent: number;
  readonly answered: number;
  readonly byStatus: Readonly<Record<string, number>>;
  readonly byOrderStatus: Readonly<Record<string, number>>;
  readonly latency: LatencySummary;
  /** Answers per second over the run. */
  readonly throughput: number;
  /** 2xx answers (orders taken) per second over the run. */
  readonly goodput: number;
  readonly fallbacks: Readonly<Record<string, number>>;
  readonly fiveXX: number;
}

function increment(map: Record<string, number>, key: string, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}

export function summarize(records: readonly RequestRecord[], durationMs: number): RunSummary {
  const byStatus: Record<string, number> = {};
  const byOrderStatus: Record<string, number> = {};
  const fallbacks: Record<string, number> = {};
  const latencies: number[] = [];
  let fiveXX = 0;
  let twoXX = 0;
  for (const record of records) {
    if (record.status >= 200 && record.status < 300) twoXX += 1;
    increment(byStatus, statusKey(record.status));
    if (record.orderStatus !== null) increment(byOrderStatus, record.orderStatus);
    if (record.latencyMs !== null) latencies.push(record.latencyMs);
    if (record.status >= 500) fiveXX += 1;
    for (const warning of record.warnings) increment(fallbacks, fallbackKind(warning));
  }
  return {
    sent: records.length,
    answered: latencies.length,
    byStatus,
    byOrderStatus,
    latency: latencySummary(latencies),
    throughput: durationMs > 0 ? latencies.length / (durationMs / 1000) : 0,
    goodput: durationMs > 0 ? twoXX / (durationMs / 1000) : 0,
    fallbacks,
    fiveXX,
  };
}

/** Latency over the requests sent in [fromMs, toMs). */
export function windowLatency(records: readonly RequestRecord[], fromMs: number, toMs: number): LatencySummary & { count: number } {
  const values = records.filter((r) => r.latencyMs !== null && r.sentAtMs >= fromMs && r.sentAtMs < toMs).map((r) => r.latencyMs!);
  return { ...latencySummary(values), count: values.length };
}

export interface SecondBucket {
  readonly second: number;
  readonly sent: number;
  /** Answers by status class: "2xx-201", … kept by exact status. */
  readonly byStatus: Readonly<Record<string, number>>;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
  /** Answers that took longer than SLOW_MS. */
  readonly slow: number;
}

/** "Slow" for the charts: a customer waiting more than a second. */
export const SLOW_MS = 1_000;

/** Per second of sending time: requests, answers by status, latency percentiles. */
export function perSecond(records: readonly RequestRecord[], durationMs: number): SecondBucket[] {
  const seconds = Math.max(1, Math.ceil(durationMs / 1000));
  const buckets = Array.from({ length: seconds }, () => ({ sent: 0, byStatus: {} as Record<string, number>, latencies: [] as number[] }));
  for (const record of records) {
    const index = Math.min(seconds - 1, Math.max(0, Math.floor(record.sentAtMs / 1000)));
    const bucket = buckets[index]!;
    bucket.sent += 1;
    increment(bucket.byStatus, statusKey(record.status));
    if (record.latencyMs !== null) bucket.latencies.push(record.latencyMs);
  }
  return buckets.map((bucket, second) => {
    const sorted = bucket.latencies.sort((a, b) => a - b);
    const pick = (p: number): number | null => (sorted.length === 0 ? null : percentile(sorted, p));
    return { second, sent: bucket.sent, byStatus: bucket.byStatus, p50: pick(50), p90: pick(90), p99: pick(99), slow: sorted.filter((v) => v > SLOW_MS).length };
  });
}

/** Circuit state samples → intervals [fromMs, toMs) per state, for the chart's band. */
export interface StateSample {
  readonly atMs: number;
  readonly state: string;
  /** While OPEN: when the circuit lets its next probe through (ms of the run). */
  readonly openUntilMs?: number;
}

/**
 * The open period in force when the dependency came back (`atMs`): the OPEN interval around
 * that time (or the last one before it), how long it was set to last (its probe time − its
 * start), and when its probe was due, as ms after `atMs` (0 when it was already due). null when
 * the circuit was not open then.
 */
export function openPeriodAt(samples: readonly StateSample[], atMs: number): { fromMs: number; untilMs: number; periodMs: number; probeDueAfterMs: number } | null {
  let current: { fromMs: number; untilMs: number } | null = null;
  for (const sample of samples) {
    if (sample.atMs > atMs) break;
    if (sample.state === 'OPEN' && sample.openUntilMs !== undefined) {
      // A new open period (after a failed probe) has a new probe time.
      if (current === null || Math.abs(sample.openUntilMs - current.untilMs) > 50) current = { fromMs: sample.atMs, untilMs: sample.openUntilMs };
    } else if (sample.state === 'CLOSED') current = null;
  }
  if (current === null) return null;
  const { fromMs, untilMs } = current;
  return { fromMs, untilMs, periodMs: Math.round(untilMs - fromMs), probeDueAfterMs: Math.max(0, Math.round(untilMs - atMs)) };
}

export function stateIntervals(samples: readonly StateSample[], endMs: number): { fromMs: number; toMs: number; state: string }[] {
  const intervals: { fromMs: number; toMs: number; state: string }[] = [];
  for (const sample of samples) {
    const last = intervals[intervals.length - 1];
    if (last !== undefined && last.state === sample.state) continue;
    if (last !== undefined) last.toMs = sample.atMs;
    intervals.push({ fromMs: sample.atMs, toMs: endMs, state: sample.state });
  }
  return intervals;
}

/**
 * First time at or after `fromMs` the state is `state`, as ms after `fromMs`; null if never.
 * Used for "fault → OPEN" and "recovery → CLOSED".
 */
export function timeToState(samples: readonly StateSample[], fromMs: number, state: string): number | null {
  const hit = samples.find((sample) => sample.atMs >= fromMs && sample.state === state);
  return hit === undefined ? null : hit.atMs - fromMs;
}

/** Peak of a depth series after `fromMs`, and when it reached 0 for good after the peak (ms after `drainFromMs`). */
export function queueDrain(
  samples: readonly { atMs: number; depth: number }[],
  drainFromMs: number,
): { peak: number; peakAtMs: number | null; drainedAtMs: number | null; drainMs: number | null; rate: number | null } {
  let peak = 0;
  let peakAtMs: number | null = null;
  for (const sample of samples) {
    if (sample.depth > peak) {
      peak = sample.depth;
      peakAtMs = sample.atMs;
    }
  }
  if (peak === 0) return { peak, peakAtMs, drainedAtMs: null, drainMs: null, rate: null };
  let drainedAtMs: number | null = null;
  for (const sample of samples) {
    if (sample.atMs < Math.max(drainFromMs, peakAtMs ?? 0)) continue;
    if (sample.depth === 0 && drainedAtMs === null) drainedAtMs = sample.atMs;
    if (sample.depth > 0) drainedAtMs = null;
  }
  const start = Math.max(drainFromMs, peakAtMs ?? 0);
  const drainMs = drainedAtMs === null ? null : drainedAtMs - start;
  return { peak, peakAtMs, drainedAtMs, drainMs, rate: drainMs === null ? null : drainMs === 0 ? null : peak / (drainMs / 1000) };
}
