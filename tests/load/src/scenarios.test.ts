import { type Action, describeAction, faultWindow, runTimeline, SCENARIO_NAMES, SCENARIOS, timeline } from './scenarios';

describe('scenarios', () => {
  it('has every scenario the issue names, each repairing what it breaks', () => {
    expect(SCENARIO_NAMES).toEqual(['healthy', 'payment-down', 'payment-slow', 'payment-hang', 'payment-flapping', 'inventory-down', 'shipping-down', 'notification-down', 'everything-down']);
    for (const name of SCENARIO_NAMES) {
      const scenario = SCENARIOS[name];
      expect(scenario.name).toBe(name);
      const broken = scenario.fault.map((a) => a.service).sort();
      const repaired = scenario.recovery.map((a) => a.service).sort();
      expect(repaired).toEqual(broken);
      for (const action of scenario.recovery) expect(['start', 'clear']).toContain(action.kind);
    }
  });

  it('kills payment for payment-down and slows it past its 2 500 ms deadline for payment-slow', () => {
    expect(SCENARIOS['payment-down'].fault).toEqual([{ kind: 'kill', service: 'payment' }]);
    const slow = SCENARIOS['payment-slow'].fault[0] as Extract<Action, { kind: 'faults' }>;
    expect(slow.settings.latencyMs).toBeGreaterThan(2_500);
    expect(SCENARIOS['everything-down'].fault).toHaveLength(4);
  });

  it('places the fault at 20 % and the repair at 40 % of the run, on whole seconds', () => {
    expect(faultWindow(20_000)).toEqual({ faultAt: 4_000, recoverAt: 8_000 });
    expect(faultWindow(30_000)).toEqual({ faultAt: 6_000, recoverAt: 12_000 });
    // Short runs keep 3 s of healthy traffic first and an outage of at least 1 s.
    expect(faultWindow(10_000)).toEqual({ faultAt: 3_000, recoverAt: 4_000 });
    // payment-down starts payment again at 25 %, before the first half-open probe.
    expect(faultWindow(20_000, SCENARIOS['payment-down'].recoverAt)).toEqual({ faultAt: 4_000, recoverAt: 5_000 });
  });

  it('orders the events of a scenario in time, with labels', () => {
    const events = timeline(SCENARIOS['payment-down'], 20_000);
    expect(events.map((e) => [e.atMs, e.phase, e.label])).toEqual([
      [4_000, 'fault', 'kill payment'],
      [5_000, 'recovery', 'start payment'],
    ]);
    expect(timeline(SCENARIOS.healthy, 20_000)).toEqual([]);
    expect(timeline(SCENARIOS['everything-down'], 20_000).map((e) => e.phase)).toEqual(['fault', 'fault', 'fault', 'fault', 'recovery', 'recovery', 'recovery', 'recovery']);
  });

  it('describes actions for tables and charts', () => {
    expect(describeAction({ kind: 'faults', service: 'payment', settings: { latencyMs: 3000 } })).toBe('payment latency 3000 ms');
    expect(describeAction({ kind: 'faults', service: 'payment', settings: { flap: { periodMs: 4000, dutyCycle: 0.5 } } })).toBe('payment flap 4000 ms × 0.5');
    expect(describeAction({ kind: 'faults', service: 'shipping', settings: { down: true } })).toBe('shipping down');
    expect(describeAction({ kind: 'clear', service: 'shipping' })).toBe('clear shipping');
  });

  describe('runTimeline', () => {
    function fakeClock() {
      let now = 1_000;
      return { now: () => now, sleep: async (ms: number) => void (now += ms), advance: (ms: number) => void (now += ms) };
    }

    it('applies each event at its time and records when it was applied and done', async () => {
      const clock = fakeClock();
      const applied: [number, string][] = [];
      const result = await runTimeline(
        timeline(SCENARIOS['payment-down'], 20_000),
        async (action) => {
          applied.push([clock.now() - 1_000, `${action.kind} ${action.service}`]);
          if (action.kind === 'start') clock.advance(800); // waits for the health route
        },
        { now: clock.now, sleep: clock.sleep, startedAt: 1_000 },
      );
      expect(applied).toEqual([
        [4_000, 'kill payment'],
        [5_000, 'start payment'],
      ]);
      expect(result.map((r) => [r.appliedAtMs, r.doneAtMs])).toEqual([
        [4_000, 4_000],
        [5_000, 5_800],
      ]);
    });

    it('does not wait for an event that is already late, and keeps going after a failed one', async () => {
      const clock = fakeClock();
      clock.advance(5_000); // started 5 s late: the fault at 4 s runs at once
      const result = await runTimeline(
        timeline(SCENARIOS['payment-hang'], 20_000),
        async (action) => {
          if (action.kind === 'faults') throw new Error('PUT /admin/faults: 401');
        },
        { now: clock.now, sleep: clock.sleep, startedAt: 1_000 },
      );
      expect(result.map((r) => [r.appliedAtMs, r.error])).toEqual([
        [5_000, 'PUT /admin/faults: 401'],
        [8_000, undefined],
      ]);
    });

    it('stops when aborted', async () => {
      const clock = fakeClock();
      const controller = new AbortController();
      const result = await runTimeline(
        timeline(SCENARIOS['payment-down'], 20_000),
        async () => controller.abort(),
        { now: clock.now, sleep: clock.sleep, startedAt: 1_000, signal: controller.signal },
      );
      expect(result).toHaveLength(1);
    });
  });
});
