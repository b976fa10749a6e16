import http from 'node:http';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { makeKey, makeOrder, type Product } from './orders';
import type { RequestRecord } from './stats';

/**
 * The two ways of sending orders.
 *
 * Open model (`runOpen`): arrivals at a fixed rate that do not wait for answers. Each arrival is
 * sent at its time on a socket of its own for as long as it waits (the agent has no socket
 * limit: a free kept-alive socket is reused, else a new one is opened), so a slow answer holds
 * only its own socket and the next arrivals go out regardless: `sent` is always rate × duration,
 * however slow checkout gets. (autocannon's own rate limit is per connection and waits for
 * answers, which is why the open model never used it; an earlier version started a small
 * autocannon run per 50 ms tick instead: that cost the generator ~6 ms of CPU per order and
 * added ~17 ms to every latency it measured, measured against the bare handler — so the open
 * model is plain `http.request` now.)
 *
 * Latency of an order: from just before its request is created to the last byte of the answer.
 *
 * Closed loop (`runClosed`, `--capacity`): autocannon, `connections` keep-alive connections,
 * each sending its next order as soon as the last one is answered, for the duration: the
 * throughput checkout sustains. (autocannon costs less CPU per request than `http.request` on
 * back-to-back requests — 2 shared cores — and the bare-handler baseline goes through it too.)
 */

export const TICKS_PER_SECOND = 200;
export const REQUEST_TIMEOUT_S = 10;

interface Tracker {
  readonly records: RequestRecord[];
  readonly pending: Map<string, { sentAtMs: number }>;
}

/** A kept-alive socket is dropped after 4 s unused, before Node servers drop it (keepAliveTimeout 5 s). */
function makeAgent(): http.Agent {
  return new http.Agent({ keepAlive: true, timeout: 4_000 });
}

function toRecord(key: string, sentAtMs: number, latencyMs: number, status: number, body: string): RequestRecord {
  let parsed: { orderId?: unknown; status?: unknown; warnings?: unknown; chargeId?: unknown } = {};
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    // not JSON: counted by its status only
  }
  return {
    sentAtMs,
    latencyMs,
    status,
    orderId: typeof parsed.orderId === 'string' ? parsed.orderId : null,
    orderStatus: typeof parsed.status === 'string' ? parsed.status : null,
    warnings: Array.isArray(parsed.warnings) ? parsed.warnings.filter((w): w is string => typeof w === 'string') : [],
    chargeId: typeof parsed.chargeId === 'string' ? parsed.chargeId : null,
    key,
  };
}

/** Sends one order; resolves when it is answered, failed or timed out (recorded, or left pending = no answer). */
function sendOrder(url: URL, agent: http.Agent, products: readonly Product[], tracker: Tracker, now: () => number): Promise<void> {
  const key = makeKey();
  const body = Buffer.from(JSON.stringify(makeOrder(products)));
  const sentAtMs = now();
  tracker.pending.set(key, { sentAtMs });
  return new Promise<void>((resolve) => {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve();
    };
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(body.length), 'idempotency-key': key } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const latencyMs = now() - sentAtMs;
          if (tracker.pending.delete(key)) tracker.records.push(toRecord(key, sentAtMs, latencyMs, res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
          finish();
        });
        res.on('error', finish);
      },
    );
    // No answer within REQUEST_TIMEOUT_S: cut, and left pending (counted as "none").
    const timer = setTimeout(() => {
      req.destroy();
      finish();
    }, REQUEST_TIMEOUT_S * 1000);
    req.on('error', finish);
    req.end(body);
  });
}

/** Requests without an answer become records with status 0; those sent at or after `cutAfterMs` are dropped (cut by the end of a closed-loop run, not timed out). */
function unanswered(tracker: Tracker, cutAfterMs = Number.POSITIVE_INFINITY): void {
  for (const [key, { sentAtMs }] of tracker.pending) {
    if (sentAtMs >= cutAfterMs) continue;
    tracker.records.push({ sentAtMs, latencyMs: null, status: 0, orderId: null, orderStatus: null, warnings: [], chargeId: null, key });
  }
  tracker.pending.clear();
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
  const url = new URL(options.url);
  const agent = makeAgent();
  const ticks = Math.round((options.durationMs / 1000) * TICKS_PER_SECOND);
  const sends: Promise<void>[] = [];
  for (let i = 0; i < ticks; i += 1) {
    const n = arrivalsForTick(i, options.rate);
    if (n === 0) continue;
    const wait = (i * 1000) / TICKS_PER_SECOND - now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    for (let k = 0; k < n; k += 1) sends.push(sendOrder(url, agent, options.products, tracker, now));
  }
  await Promise.all(sends);
  agent.destroy();
  unanswered(tracker);
  return tracker.records.sort((a, b) => a.sentAtMs - b.sentAtMs);
}

/** Closed loop: `connections` connections, each sending as soon as it is answered (autocannon: the cheapest generator for back-to-back requests, so the capacity measured is the system's, not the generator's). */
export async function runClosed(options: DriverOptions & { connections: number }): Promise<RequestRecord[]> {
  const tracker: Tracker = { records: [], pending: new Map() };
  const now = (): number => performance.now() - options.startedAt;
  await new Promise<void>((resolve, reject) => {
    autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.durationMs / 1000,
        timeout: REQUEST_TIMEOUT_S,
        requests: [
          {
            method: 'POST',
            path: new URL(options.url).pathname,
            setupRequest: (request, context) => {
              const key = makeKey();
              context.key = key;
              context.sentAtMs = now();
              tracker.pending.set(key, { sentAtMs: context.sentAtMs as number });
              return { ...request, headers: { 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify(makeOrder(options.products)) };
            },
            onResponse: (status, body, context) => {
              const key = context.key as string;
              const sentAtMs = context.sentAtMs as number;
              if (tracker.pending.delete(key)) tracker.records.push(toRecord(key, sentAtMs, now() - sentAtMs, status, body));
            },
          },
        ],
      },
      (error) => (error ? reject(error) : resolve()),
    );
  });
  unanswered(tracker, options.durationMs - REQUEST_TIMEOUT_S * 1000);
  return tracker.records.sort((a, b) => a.sentAtMs - b.sentAtMs);
}
