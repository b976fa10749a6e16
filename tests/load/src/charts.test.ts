import { comparisonSpec, stackedMix, statusColour, timelineSpec } from './charts';
import type { RunResult } from './run';

function fakeRun(breakers: 'on' | 'off'): RunResult {
  return {
    spec: { scenario: 'payment-down', breakers, capacity: false, durationMs: 3_000, rate: 10, connections: 8 },
    startedAt: '2026-01-01T00:00:00.000Z',
    description: 'test',
    summary: { sent: 30, answered: 30, byStatus: { '201': 20, '202': 10 }, byOrderStatus: {}, latency: { p50: 5, p90: 9, p99: 12, max: 15 }, throughput: 10, goodput: 10, fallbacks: {}, fiveXX: 0 },
    duringFault: null,
    beforeFault: null,
    events: [{ label: 'kill payment', phase: 'fault', atMs: 1_000, doneAtMs: 1_010 }],
    watch: 'payment',
    openAfterFaultMs: 400,
    closedAfterRecoveryMs: null,
    recovery: null,
    circuits: { payment: [{ fromMs: 0, toMs: 1_400, state: 'CLOSED' }, { fromMs: 1_400, toMs: 3_000, state: 'OPEN' }] },
    queue: { peak: 0, drainMs: null, drainRate: null, parked: 0, settledAfterMs: 0 },
    breakerCalls: {},
    invariants: { checked: 30, unverified: 0, outcomes: { paid: 30 }, violations: 0, duplicateCharges: 0, examples: {}, ledgerLost: { answeredBeforeKill: 0, shipment: 0 }, ok: true },
    perSecond: [
      { second: 0, sent: 10, byStatus: { '201': 10 }, p50: 4, p90: 5, p99: 6, slow: 0 },
      { second: 1, sent: 10, byStatus: { '201': 5, '202': 5 }, p50: 5, p90: 9, p99: 12, slow: 0 },
      { second: 2, sent: 10, byStatus: { '202': 9, none: 1 }, p50: null, p90: null, p99: null, slow: 0 },
    ],
    queueSeries: [],
    generatorCpu: 0.1,
    worker: { charged: 0, firstAt: null, lastAt: null, spanMs: null, rate: null, peakPerSecond: 0 },
  };
}

describe('charts', () => {
  it('stacks the answers of each second in status order', () => {
    expect(stackedMix([{ second: 1, byStatus: { '503': 2, '201': 3 } }])).toEqual([
      { t: 1, t2: 2, status: '201', count: 3, y0: 0, y1: 3 },
      { t: 1, t2: 2, status: '503', count: 2, y0: 3, y1: 5 },
    ]);
  });

  it('builds a timeline with the circuit band, latency, answer mix and event marks', () => {
    const spec = timelineSpec(fakeRun('on')) as { vconcat: { title: { text: string } }[] };
    expect(spec.vconcat.map((panel) => panel.title.text)).toEqual(['payment circuit', 'latency per second (ms, log scale)', 'answers per second, by status']);
    const text = JSON.stringify(spec);
    expect(text).toContain('"label":"kill payment"');
    expect(text).toContain('"state":"OPEN"');
  });

  it('builds the on-vs-off comparison, with capacities when given', () => {
    const spec = comparisonSpec(fakeRun('on'), fakeRun('off'), [{ label: 'healthy, breakers on', throughput: 100 }]) as { vconcat: unknown[] };
    expect(spec.vconcat).toHaveLength(3);
    expect((comparisonSpec(fakeRun('on'), fakeRun('off'), []) as { vconcat: unknown[] }).vconcat).toHaveLength(2);
  });

  it('colours statuses by family', () => {
    expect(statusColour('201')).toBe('#59a14f');
    expect(statusColour('299')).toBe('#76b7b2');
    expect(statusColour('418')).toBe('#f1ce63');
    expect(statusColour('599')).toBe('#d37295');
  });
});
