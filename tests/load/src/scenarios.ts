/**
 * The scenarios and their timelines. Pure data and arithmetic: tested without processes.
 *
 * Every scenario with a fault breaks something at `faultAt` (20 % of the run, at least 3 s of
 * healthy traffic first, which also fills checkout's stock cache) and repairs it at
 * `recoverAt` (40 %), leaving the rest of the run to watch the circuits close and the retry
 * queue drain. Faults are the stubs' switches (`PUT /admin/faults`), except payment-down,
 * which kills the payment process (SIGKILL through the launcher's supervisor) and starts it
 * again — its ledger is in memory, so the invariant check knows charges made before the kill
 * are gone with it. A target without process control (URLs from the environment, e.g. the
 * Compose `load` service) runs payment-down with the `reset` switch instead (target.ts).
 */

export type StubName = 'payment' | 'inventory' | 'shipping' | 'notification';

/** The body of the stubs' `PUT /admin/faults` (infra's FaultSettings). */
export interface FaultSettingsBody {
  errorRate?: number;
  errorStatus?: 500 | 503 | 429;
  latencyMs?: number;
  hang?: boolean;
  /** Destroy every connection (ECONNRESET): what a URL target does instead of a kill. */
  reset?: boolean;
  down?: boolean;
  flap?: { periodMs: number; dutyCycle: number };
  routes?: string[];
}

export type Action =
  | { readonly kind: 'kill' | 'start'; readonly service: StubName }
  | { readonly kind: 'faults'; readonly service: StubName; readonly settings: FaultSettingsBody }
  | { readonly kind: 'clear'; readonly service: StubName };

export interface TimelineEvent {
  readonly atMs: number;
  readonly phase: 'fault' | 'recovery';
  readonly action: Action;
  /** "kill payment", "payment latency 3000 ms" … for tables and charts. */
  readonly label: string;
}

export interface Scenario {
  readonly name: ScenarioName;
  readonly description: string;
  /** The stub whose circuit is the one to watch (open/close times); none for healthy. */
  readonly watch: StubName | null;
  readonly fault: readonly Action[];
  readonly recovery: readonly Action[];
  /** When the repair starts, as a share of the run (default 0.4, see `faultWindow`). */
  readonly recoverAt?: number;
}

export const SCENARIO_NAMES = [
  'healthy',
  'payment-down',
  'payment-slow',
  'payment-hang',
  'payment-flapping',
  'inventory-down',
  'shipping-down',
  'notification-down',
  'everything-down',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export function isScenarioName(value: string): value is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(value);
}

const STUBS: readonly StubName[] = ['payment', 'inventory', 'shipping', 'notification'];

/** Past checkout's PAYMENT_TIMEOUT_MS (2 500 ms): every charge times out. */
export const SLOW_PAYMENT_MS = 3_000;
export const FLAP = { periodMs: 4_000, dutyCycle: 0.5 } as const;

export const SCENARIOS: Readonly<Record<ScenarioName, Scenario>> = {
  healthy: { name: 'healthy', description: 'no fault: the baseline', watch: null, fault: [], recovery: [] },
  'payment-down': {
    name: 'payment-down',
    description: 'payment killed (SIGKILL), started again later: orders are queued (202) and charged by the worker',
    watch: 'payment',
    fault: [{ kind: 'kill', service: 'payment' }],
    recovery: [{ kind: 'start', service: 'payment' }],
    // Started again at 25 % (1 s after the kill of a 20 s run): a Node process takes about a
    // second to answer here (more on a busy machine), and it must be back before the first
    // half-open probe (the kill + ~0.3 s to open + the 5 s open period) for that probe to
    // measure recovery — a restart that lands just after a failed probe measures the grown
    // open period instead (the 10.3 s of an earlier report).
    recoverAt: 0.25,
  },
  'payment-slow': {
    name: 'payment-slow',
    description: `payment answers after ${SLOW_PAYMENT_MS} ms, past checkout's 2 500 ms deadline`,
    watch: 'payment',
    fault: [{ kind: 'faults', service: 'payment', settings: { latencyMs: SLOW_PAYMENT_MS } }],
    recovery: [{ kind: 'clear', service: 'payment' }],
  },
  'payment-hang': {
    name: 'payment-hang',
    description: 'payment accepts connections and never answers',
    watch: 'payment',
    fault: [{ kind: 'faults', service: 'payment', settings: { hang: true } }],
    recovery: [{ kind: 'clear', service: 'payment' }],
  },
  'payment-flapping': {
    name: 'payment-flapping',
    description: `payment fails ${FLAP.dutyCycle * 100} % of every ${FLAP.periodMs / 1000} s period, healthy the rest`,
    watch: 'payment',
    fault: [{ kind: 'faults', service: 'payment', settings: { flap: { ...FLAP } } }],
    recovery: [{ kind: 'clear', service: 'payment' }],
  },
  'inventory-down': {
    name: 'inventory-down',
    description: 'inventory answers 503 to everything (stock reads from the cache; reservations impossible)',
    watch: 'inventory',
    fault: [{ kind: 'faults', service: 'inventory', settings: { down: true } }],
    recovery: [{ kind: 'clear', service: 'inventory' }],
  },
  'shipping-down': {
    name: 'shipping-down',
    description: 'shipping answers 503 to everything: orders are paid, shipments deferred to the worker',
    watch: 'shipping',
    fault: [{ kind: 'faults', service: 'shipping', settings: { down: true } }],
    recovery: [{ kind: 'clear', service: 'shipping' }],
  },
  'notification-down': {
    name: 'notification-down',
    description: 'notification answers 503 to everything: fire-and-forget, answers must not change',
    watch: 'notification',
    fault: [{ kind: 'faults', service: 'notification', settings: { down: true } }],
    recovery: [{ kind: 'clear', service: 'notification' }],
  },
  'everything-down': {
    name: 'everything-down',
    description: 'all four stubs answer 503 to everything',
    // inventory is called first: with it failing, payment is never called, so its circuit never moves
    watch: 'inventory',
    fault: STUBS.map((service) => ({ kind: 'faults', service, settings: { down: true } }) as const),
    recovery: STUBS.map((service) => ({ kind: 'clear', service }) as const),
  },
};

export function describeAction(action: Action): string {
  switch (action.kind) {
    case 'kill':
    case 'start':
    case 'clear':
      return `${action.kind} ${action.service}`;
    case 'faults': {
      const s = action.settings;
      const parts: string[] = [];
      if (s.down === true) parts.push('down');
      if (s.hang === true) parts.push('hang');
      if (s.reset === true) parts.push('reset');
      if (s.latencyMs !== undefined) parts.push(`latency ${s.latencyMs} ms`);
      if (s.errorRate !== undefined) parts.push(`errors ${s.errorRate * 100} %`);
      if (s.flap !== undefined) parts.push(`flap ${s.flap.periodMs} ms × ${s.flap.dutyCycle}`);
      return `${action.service} ${parts.join(' ')}`;
    }
  }
}

/**
 * When the fault starts and ends in a run of `durationMs`: at 20 % and 40 % (4 s and 8 s of a
 * 20 s run). The outage is shorter than checkout's open period in these runs (5 s), so the
 * first half-open probe finds the dependency back, and 60 % of the run is left to watch the
 * circuit close and the queue drain.
 */
export function faultWindow(durationMs: number, recoverShare = 0.4): { faultAt: number; recoverAt: number } {
  const faultAt = Math.max(3_000, Math.round((durationMs * 0.2) / 1000) * 1000);
  const recoverAt = Math.max(faultAt + 1_000, Math.round((durationMs * recoverShare) / 1000) * 1000);
  return { faultAt, recoverAt };
}

/** The scenario's events in time order, with absolute offsets from the start of the run. */
export function timeline(scenario: Scenario, durationMs: number): TimelineEvent[] {
  const { faultAt, recoverAt } = faultWindow(durationMs, scenario.recoverAt);
  const events: TimelineEvent[] = [
    ...scenario.fault.map((action) => ({ atMs: faultAt, phase: 'fault' as const, action, label: describeAction(action) })),
    ...scenario.recovery.map((action) => ({ atMs: recoverAt, phase: 'recovery' as const, action, label: describeAction(action) })),
  ];
  return events.filter((event) => event.atMs < durationMs).sort((a, b) => a.atMs - b.atMs);
}

export interface AppliedEvent {
  readonly event: TimelineEvent;
  /** When it was started and when it was done (a started service answers its health route), ms from the start of the run. */
  readonly appliedAtMs: number;
  readonly doneAtMs: number;
  readonly error?: string;
}

/**
 * Runs the timeline against a clock: `apply` is called for each event when its time comes
 * (events at the same time one after the other, in order). Resolves with what happened, each
 * with the time it was really applied, once every event ran or `signal` aborted.
 */
export async function runTimeline(
  events: readonly TimelineEvent[],
  apply: (action: Action) => Promise<void>,
  options: { now: () => number; sleep: (ms: number) => Promise<void>; startedAt: number; signal?: AbortSignal },
): Promise<AppliedEvent[]> {
  const done: AppliedEvent[] = [];
  const aborted = (): boolean => options.signal?.aborted === true;
  for (const event of events) {
    if (aborted()) break;
    const wait = options.startedAt + event.atMs - options.now();
    if (wait > 0) await options.sleep(wait);
    if (aborted()) break;
    const appliedAtMs = options.now() - options.startedAt;
    try {
      await apply(event.action);
      done.push({ event, appliedAtMs, doneAtMs: options.now() - options.startedAt });
    } catch (error) {
      done.push({ event, appliedAtMs, doneAtMs: options.now() - options.startedAt, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return done;
}
