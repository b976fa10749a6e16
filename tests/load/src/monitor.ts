import { performance } from 'node:perf_hooks';
import type { StateSample } from './stats';

/**
 * Watches checkout while the load runs: `GET /circuits` every 100 ms (each breaker's state),
 * `GET /metrics` every 500 ms (the retry queue's depth: work + delay tiers; parking apart).
 */

export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Prometheus text format → samples (comments and malformed lines skipped). */
export function parseMetrics(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[label[1]!] = label[2]!;
    const value = Number(match[3]);
    if (!Number.isNaN(value)) samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** Messages waiting to be (re)tried: the work queue and every delay tier (not parking). */
export function retryBacklog(samples: readonly MetricSample[]): { backlog: number; parked: number } {
  let backlog = 0;
  let parked = 0;
  for (const sample of samples) {
    if (sample.name !== 'retry_queue_messages') continue;
    if (sample.labels.queue === 'parking') parked += sample.value;
    else backlog += sample.value;
  }
  return { backlog, parked };
}

/** `circuit_breaker_calls_total` and `circuit_breaker_rejections_total` by breaker: { payment: { success: 10, failure: 2, rejected: 40 } }. */
export function breakerCounts(samples: readonly MetricSample[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const sample of samples) {
    const breaker = sample.labels.breaker;
    if (breaker === undefined) continue;
    let key: string | undefined;
    if (sample.name === 'circuit_breaker_calls_total') key = sample.labels.outcome;
    else if (sample.name === 'circuit_breaker_rejections_total') key = 'rejected';
    if (key === undefined) continue;
    const entry = (out[breaker] ??= {});
    entry[key] = (entry[key] ?? 0) + sample.value;
  }
  return out;
}

export interface Monitoring {
  readonly circuits: Record<string, StateSample[]>;
  readonly queue: { atMs: number; depth: number; parked: number }[];
  lastMetrics: MetricSample[];
}

async function getText(url: string, timeoutMs: number): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return res.text();
}

export function startMonitor(checkoutUrl: string, startedAt: number): { data: Monitoring; stop: () => Promise<void> } {
  const data: Monitoring = { circuits: {}, queue: [], lastMetrics: [] };
  let running = true;
  const now = (): number => performance.now() - startedAt;
  const loop = async (periodMs: number, step: () => Promise<void>): Promise<void> => {
    while (running) {
      const began = performance.now();
      await step().catch(() => undefined);
      const wait = periodMs - (performance.now() - began);
      if (wait > 0 && running) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  };
  const circuits = loop(100, async () => {
    const atMs = now();
    const wallMs = Date.now();
    const body = JSON.parse(await getText(`${checkoutUrl}/circuits`, 1_000)) as { circuits?: Record<string, { state?: string; openUntil?: number | null }> };
    for (const [name, snapshot] of Object.entries(body.circuits ?? {})) {
      // openUntil is on the breaker's clock (Date.now, same machine): turned into the run's time.
      const openUntilMs = typeof snapshot.openUntil === 'number' ? atMs + (snapshot.openUntil - wallMs) : undefined;
      (data.circuits[name] ??= []).push({ atMs, state: snapshot.state ?? 'UNKNOWN', ...(openUntilMs === undefined ? {} : { openUntilMs }) });
    }
  });
  const metrics = loop(500, async () => {
    const atMs = now();
    const samples = parseMetrics(await getText(`${checkoutUrl}/metrics`, 2_000));
    data.lastMetrics = samples;
    const { backlog, parked } = retryBacklog(samples);
    data.queue.push({ atMs, depth: backlog, parked });
  });
  return {
    data,
    stop: async () => {
      running = false;
      await Promise.all([circuits, metrics]);
    },
  };
}
