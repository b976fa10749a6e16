import { CAPACITY_PAIRS, capacities, capacityPairOrder, pairedHealthyCapacity } from './all';
import type { RunResult } from './run';
import type { ScenarioName } from './scenarios';

/** The fields of a run that the capacity summaries read. */
function capacityRun(scenario: ScenarioName, breakers: 'on' | 'off', goodput: number, p99 = 100, duringFault: RunResult['duringFault'] = null): RunResult {
  return {
    spec: { scenario, breakers, capacity: true, durationMs: 10_000, rate: 30, connections: 8 },
    summary: { goodput, latency: { p50: 10, p90: 50, p99, max: 200 } },
    duringFault,
  } as unknown as RunResult;
}

describe('healthy capacity, breakers on vs off, in alternating pairs', () => {
  it('alternates which of the pair runs first', () => {
    expect(capacityPairOrder(3)).toEqual(['on', 'off', 'off', 'on', 'on', 'off']);
    expect(capacityPairOrder(CAPACITY_PAIRS)).toHaveLength(2 * CAPACITY_PAIRS);
  });

  it('pairs the k-th on run with the k-th off run and reports the median ratio, not the ratio of one pair', () => {
    // as run: on 100, off 110 | off 100, on 104 | on 120, off 100
    const runs = [
      capacityRun('healthy', 'on', 100),
      capacityRun('healthy', 'off', 110),
      capacityRun('healthy', 'off', 100),
      capacityRun('healthy', 'on', 104),
      capacityRun('healthy', 'on', 120),
      capacityRun('healthy', 'off', 100),
      capacityRun('payment-down', 'on', 500), // another scenario: not a healthy pair
    ];
    const paired = pairedHealthyCapacity(runs);
    expect(paired?.ratios.map((r) => Number(r.toFixed(3)))).toEqual([0.909, 1.04, 1.2]);
    expect(paired).toMatchObject({ on: [100, 104, 120], off: [110, 100, 100], medianOn: 104, medianOff: 100 });
    expect(paired?.medianRatio).toBeCloseTo(1.04, 5);
  });

  it('has no ratio before a whole pair, and ignores an unpaired last run', () => {
    expect(pairedHealthyCapacity([capacityRun('healthy', 'on', 100)])).toBeNull();
    const paired = pairedHealthyCapacity([capacityRun('healthy', 'on', 90), capacityRun('healthy', 'off', 100), capacityRun('healthy', 'off', 80)]);
    expect(paired?.ratios).toEqual([0.9]);
    expect(paired?.medianOff).toBe(90); // the medians use every run
  });

  it('shows a configuration run several times as one row of medians', () => {
    const rows = capacities({
      bare: { label: 'bare Express handler', throughput: 3000, p99: 10 },
      runs: [
        capacityRun('healthy', 'on', 100, 150),
        capacityRun('healthy', 'off', 110, 140),
        capacityRun('healthy', 'off', 90, 200),
        capacityRun('healthy', 'on', 120, 130),
        capacityRun('healthy', 'on', 104, 160),
        capacityRun('payment-down', 'on', 80, 300, { goodput: 140, p99: 90, whileOpen: true } as RunResult['duringFault']),
      ],
    });
    expect(rows).toEqual([
      { label: 'bare Express handler', throughput: 3000, p99: 10 },
      { label: 'healthy, breakers on, median of 3 runs', throughput: 104, p99: 150 },
      { label: 'healthy, breakers off, median of 2 runs', throughput: 100, p99: 170 },
      { label: 'payment-down, breakers on (circuit open)', throughput: 140, p99: 90 },
    ]);
  });
});
