import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { makeKey, makeOrder, type Product } from './orders';
import type { RequestRecord } from './stats';

/**
 * The two ways of sending orders, both autocannon used programmatically.
 *
 * Open model (`runOpen`): arrivals at a fixed rate that do not wait for answers. autocannon's
 * own rate limit (`overallRate`/`connectionRate`) is per connection and at least 1 request
 * per second per connection, and a connection sends its next request only after the answer:
 * a 2.5 s answer silently turns 1 req/s into 0.4 — the slow answers would hide the load. So
 * every tick (1/TICKS_PER_SECOND s) starts a small autocannon run of exactly the tick's
 * arrivals, one connection per order (`connections = amount = n`): a slow answer holds only
 * its own connection, and the next tick sends its orders regardless. `sent` is therefore
 * always rate × duration, however slow checkout gets.
 *
 * Closed loop (`runClosed`, `--capacity`): one autocannon run of `connections` keep-alive
 * connections, each sending its next order as soon as the last one is answered, for the
 * duration: the throughput checkout sustains.
 */

export const TICKS_PER_SECOND = 20;
export const REQUEST_TIMEOUT_S = 10;

interface Tracker {
  readonly records: RequestRecord[];
  readonly pending: Map<string, { sentAtMs: number }>;
}

function orderRequest(products: readonly Product[], tracker: Tracker, now: () => number): autocannon.Request {
  return {
    method: 'POST',
    path: '/checkout',
    setupRequest: (request, context) => {
      const key = makeKey();
      const sentAtMs = now();
      context.key = key;
      context.sentAtMs = sentAtMs;
      tracker.pending.set(key, { sentAtMs });
      return { ...request, headers: { 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify(makeOrder(products)) };
    },
    onResponse: (status, body, context) => {
      const key = context.key as string;
      const sentAtMs = context.sentAtMs as number;
      if (!tracker.pending.delete(key)) return;
      let parsed: { orderId?: unknown; status?: unknown; warnings?: unknown; chargeId?: unknown } = {};
      try {
        parsed = JSON.parse(body) as typeof parsed;
      } catch {
        // not JSON: counted by its status only
      }
      tracker.records.push({
        sentAtMs,
        latencyMs: now() - sentAtMs,
        status,
        orderId: typeof parsed.orderId === 'string' ? parsed.orderId : null,
        orderStatus: typeof parsed.status === 'string' ? parsed.status : null,
        warnings: Array.isArray(parsed.warnings) ? parsed.warnings.filter((w): w is string => typeof w === 'string') : [],
        chargeId: typeof parsed.chargeId === 'string' ? parsed.chargeId : null,
        key,
      });
    },
  };
}

/** Requests without an answer become records with status 0; those sent at or after `cutAfterMs` are dropped (cut by the end of a closed-loop run, not timed out). */
function unanswered(tracker: Tracker, cutAfterMs = Number.POSITIVE_INFINITY): void {
  for (const [key, { sentAtMs }] of tracker.pending) {
    if (sentAtMs >= cutAfterMs) continue;
    tracker.records.push({ sentAtMs, latencyMs: null, status: 0, orderId: null, orderStatus: null, warnings: [], chargeId: null, key });
  }
  tracker.pending.clear();
}

function run(options: autocannon.Options): Promise<void> {
  return new Promise((resolve, reject) => {
    autocannon(options, (error) => (error ? reject(error) : resolve()));
  });
}

/** How many arrivals tick `i` has so that the first `i + 1` ticks have exactly round((i + 1) × rate / ticks). */
export function arrivalsForTick(i: number, ratePerSecond: number, ticksPerSecond = TICKS_PER_SECOND): number {
  return Math.round(((i + 1) * ratePerSecond) / ticksPerSecond) - Math.round((i * ratePerSecond) / ticksPerSecond);
}

export interface DriverOptions {
  readonly url: string;
  readonly products: readonly Product[];
  readonly durationMs: number;
  /** Performance-clock time (ms) the run's offsets count from. */
  readonly startedAt: number;
}

/** Open model: `rate` orders per second for `durationMs`, sent whatever the answers do. */
export async function runOpen(options: DriverOptions & { rate: number }): Promise<RequestRecord[]> {
  const tracker: Tracker = { records: [], pending: new Map() };
  const now = (): number => performance.now() - options.startedAt;
  const ticks = Math.round((options.durationMs / 1000) * TICKS_PER_SECOND);
  const runs: Promise<void>[] = [];
  for (let i = 0; i < ticks; i += 1) {
    const wait = (i * 1000) / TICKS_PER_SECOND - now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const n = arrivalsForTick(i, options.rate);
    if (n === 0) continue;
    runs.push(
      run({ url: options.url, connections: n, amount: n, timeout: REQUEST_TIMEOUT_S, requests: [orderRequest(options.products, tracker, now)] }).catch(() => undefined),
    );
  }
  await Promise.all(runs);
  unanswered(tracker);
  return tracker.records.sort((a, b) => a.sentAtMs - b.sentAtMs);
}

/** Closed loop: `connections` connections, each sending as soon as it is answered. */
export async function runClosed(options: DriverOptions & { connections: number }): Promise<RequestRecord[]> {
  const tracker: Tracker = { records: [], pending: new Map() };
  const now = (): number => performance.now() - options.startedAt;
  await run({
    url: options.url,
    connections: options.connections,
    duration: options.durationMs / 1000,
    timeout: REQUEST_TIMEOUT_S,
    requests: [orderRequest(options.products, tracker, now)],
  });
  unanswered(tracker, options.durationMs - REQUEST_TIMEOUT_S * 1000);
  return tracker.records.sort((a, b) => a.sentAtMs - b.sentAtMs);
}

/** Closed loop against any URL with a fixed GET (the bare-handler baseline). */
export async function runClosedGet(url: string, connections: number, durationMs: number): Promise<{ requests: number; throughput: number; p99: number }> {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration: durationMs / 1000 }, (error, result) => {
      if (error) reject(error);
      else resolve({ requests: result.requests.total, throughput: result.requests.total / (durationMs / 1000), p99: result.latency.p99 });
    });
  });
}
