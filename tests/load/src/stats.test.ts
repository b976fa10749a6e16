import { arrivalsForTick, TICKS_PER_SECOND } from './driver';
import { fallbackKind, latencySummary, median, openPeriodAt, percentile, perSecond, queueDrain, type RequestRecord, stateIntervals, summarize, timeToState, windowLatency } from './stats';

function record(sentAtMs: number, latencyMs: number | null, status: number, warnings: string[] = []): RequestRecord {
  return { sentAtMs, latencyMs, status, orderId: status === 0 ? null : `ord-${sentAtMs}`, orderStatus: status === 201 ? 'SHIPPING_SCHEDULED' : status === 202 ? 'PENDING_PAYMENT' : null, warnings, chargeId: null, key: `k-${sentAtMs}` };
}

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones, whatever the order given', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([110, 100, 104, 120])).toBe(107);
    expect(median([5])).toBe(5);
    expect(median([])).toBeNaN();
  });
});

describe('percentile (nearest rank)', () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100

  it('picks the nearest rank', () => {
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 90)).toBe(90);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile(values, 0)).toBe(1);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 2, 3], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
  });

  it('is NaN for no values', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(latencySummary([]).max).toBeNaN();
  });

  it('sorts before summarising', () => {
    expect(latencySummary([5, 1, 4, 2, 3])).toEqual({ p50: 3, p90: 5, p99: 5, max: 5 });
  });
});

describe('summarize', () => {
  it('counts sent, answered, statuses, 5xx, fallbacks, throughput and goodput', () => {
    const records = [
      record(0, 10, 201),
      record(100, 20, 202, ['payment: circuit open, retry in 5 s; the payment is queued and will be retried']),
      record(200, 30, 503, ['inventory: answered 503; stock of KB-MECH-01 from cache, 3 s old']),
      record(300, null, 0),
    ];
    const summary = summarize(records, 2_000);
    expect(summary.sent).toBe(4);
    expect(summary.answered).toBe(3);
    expect(summary.byStatus).toEqual({ '201': 1, '202': 1, '503': 1, none: 1 });
    expect(summary.byOrderStatus).toEqual({ SHIPPING_SCHEDULED: 1, PENDING_PAYMENT: 1 });
    expect(summary.fiveXX).toBe(1);
    expect(summary.latency).toEqual({ p50: 20, p90: 30, p99: 30, max: 30 });
    expect(summary.throughput).toBe(1.5);
    expect(summary.goodput).toBe(1);
    expect(summary.fallbacks).toEqual({ 'payment-queued': 1, 'inventory-cache': 1 });
  });

  it('classifies checkout warnings by fallback', () => {
    expect(fallbackKind('payment: no answer within 2500 ms; the payment is queued and will be retried')).toBe('payment-queued');
    expect(fallbackKind('inventory: circuit open, retry in 8 s; stock of KB-MECH-01 from cache, 90 s old')).toBe('inventory-cache');
    expect(fallbackKind('shipping: answered 503; the shipment will be scheduled later')).toBe('shipping-deferred');
    expect(fallbackKind('something else')).toBe('other');
  });
});

describe('per second', () => {
  it('buckets by sending time with percentiles and statuses, empty seconds included', () => {
    const buckets = perSecond([record(0, 10, 201), record(500, 30, 201), record(999, 20, 503), record(2_100, null, 0), record(5_000, 1, 201)], 3_000);
    expect(buckets).toHaveLength(3);
    expect(buckets[0]).toEqual({ second: 0, sent: 3, byStatus: { '201': 2, '503': 1 }, p50: 20, p90: 30, p99: 30, slow: 0 });
    expect(buckets[1]).toEqual({ second: 1, sent: 0, byStatus: {}, p50: null, p90: null, p99: null, slow: 0 });
    // a record past the end lands in the last second
    expect(buckets[2]).toEqual({ second: 2, sent: 2, byStatus: { none: 1, '201': 1 }, p50: 1, p90: 1, p99: 1, slow: 0 });
    expect(perSecond([record(0, 1_500, 202), record(10, 900, 201), record(20, 2_600, 202)], 1_000)[0]!.slow).toBe(2);
  });

  it('takes the latency of a window by sending time', () => {
    const w = windowLatency([record(0, 100, 201), record(4_000, 2, 202), record(5_000, 4, 202), record(8_000, 50, 201)], 4_000, 8_000);
    expect(w).toEqual({ p50: 2, p90: 4, p99: 4, max: 4, count: 2 });
  });

  it('spreads a rate over the ticks of a second exactly', () => {
    for (const rate of [1, 7, 20, 40, 55, 333]) {
      const perTick = Array.from({ length: TICKS_PER_SECOND }, (_, i) => arrivalsForTick(i, rate));
      expect(perTick.reduce((a, b) => a + b, 0)).toBe(rate);
      expect(Math.max(...perTick) - Math.min(...perTick)).toBeLessThanOrEqual(1);
    }
  });
});

describe('the open period in force', () => {
  const samples = [
    { atMs: 0, state: 'CLOSED' },
    { atMs: 4_300, state: 'OPEN', openUntilMs: 9_280 },
    { atMs: 4_400, state: 'OPEN', openUntilMs: 9_280 },
    { atMs: 9_300, state: 'HALF_OPEN' },
    { atMs: 9_400, state: 'OPEN', openUntilMs: 19_390 },
    { atMs: 9_500, state: 'OPEN', openUntilMs: 19_390 },
    { atMs: 19_400, state: 'CLOSED' },
  ];

  it('is the open period around the repair, with its probe time', () => {
    expect(openPeriodAt(samples, 5_000)).toEqual({ fromMs: 4_300, untilMs: 9_280, periodMs: 4_980, probeDueAfterMs: 4_280 });
  });

  it('is the grown period after a failed probe', () => {
    expect(openPeriodAt(samples, 9_450)).toEqual({ fromMs: 9_400, untilMs: 19_390, periodMs: 9_990, probeDueAfterMs: 9_940 });
  });

  it('is none when the circuit was closed then', () => {
    expect(openPeriodAt(samples, 2_000)).toBeNull();
    expect(openPeriodAt(samples, 20_000)).toBeNull();
  });
});

describe('circuit samples', () => {
  const samples = [
    { atMs: 0, state: 'CLOSED' },
    { atMs: 100, state: 'CLOSED' },
    { atMs: 4_400, state: 'OPEN' },
    { atMs: 4_500, state: 'OPEN' },
    { atMs: 9_500, state: 'HALF_OPEN' },
    { atMs: 9_600, state: 'CLOSED' },
  ];

  it('turns samples into intervals', () => {
    expect(stateIntervals(samples, 20_000)).toEqual([
      { fromMs: 0, toMs: 4_400, state: 'CLOSED' },
      { fromMs: 4_400, toMs: 9_500, state: 'OPEN' },
      { fromMs: 9_500, toMs: 9_600, state: 'HALF_OPEN' },
      { fromMs: 9_600, toMs: 20_000, state: 'CLOSED' },
    ]);
  });

  it('measures fault → OPEN and recovery → CLOSED', () => {
    expect(timeToState(samples, 4_000, 'OPEN')).toBe(400);
    expect(timeToState(samples, 8_800, 'CLOSED')).toBe(800);
    expect(timeToState(samples, 10_000, 'OPEN')).toBeNull();
  });
});

describe('queueDrain', () => {
  it('finds the peak and the time the backlog reached 0 for good after the recovery', () => {
    const series = [
      { atMs: 4_000, depth: 0 },
      { atMs: 6_000, depth: 50 },
      { atMs: 8_000, depth: 100 },
      { atMs: 9_000, depth: 40 },
      { atMs: 9_500, depth: 0 },
      { atMs: 10_000, depth: 3 },
      { atMs: 10_500, depth: 0 },
      { atMs: 11_000, depth: 0 },
    ];
    expect(queueDrain(series, 8_500)).toEqual({ peak: 100, peakAtMs: 8_000, drainedAtMs: 10_500, drainMs: 2_000, rate: 50 });
  });

  it('reports an unused queue and one that never drained', () => {
    expect(queueDrain([{ atMs: 0, depth: 0 }], 0)).toEqual({ peak: 0, peakAtMs: null, drainedAtMs: null, drainMs: null, rate: null });
    expect(queueDrain([{ atMs: 0, depth: 5 }, { atMs: 500, depth: 7 }], 0)).toMatchObject({ peak: 7, drainMs: null, rate: null });
  });
});
