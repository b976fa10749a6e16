import { performance } from 'node:perf_hooks';
import { runClosed, runOpen } from './driver';
import { checkInvariants, type CheckedOrder, type InvariantReport, workerChargeRate } from './invariants';
import { readLedgers } from './ledgers';
import { breakerCounts, startMonitor } from './monitor';
import type { Product } from './orders';
import { type AppliedEvent, faultWindow, runTimeline, SCENARIOS, type ScenarioName, timeline } from './scenarios';
import { type LatencySummary, openPeriodAt, perSecond, queueDrain, type RequestRecord, type RunSummary, type SecondBucket, stateIntervals, summarize, timeToState, windowLatency } from './stats';
import type { SystemUnderLoad } from './system';
import { formatSubstitutions, type Substitution, withoutProcessControl } from './target';

/** One run: load + timeline + monitoring, then settling, the ledgers and the invariant check. */

export interface RunSpec {
  readonly scenario: ScenarioName;
  readonly breakers: 'on' | 'off' | 'unknown';
  readonly capacity: boolean;
  readonly durationMs: number;
  readonly rate: number;
  readonly connections: number;
  /** At most this long after the load, waiting for the retry queue to empty (default 20 s). */
  readonly settleMs?: number;
  /** The k-th run (from 1) of a configuration measured more than once. */
  readonly repeat?: number;
}

export interface RunResult {
  readonly spec: RunSpec;
  readonly startedAt: string;
  readonly description: string;
  /**
   * Process actions the target could not do and the fault switches applied instead (a URL
   * target has no launcher: payment-down's kill → `reset`, its start → clear). Empty: the
   * scenario ran as written. (Absent in results written before it existed.)
   */
  readonly substitutions?: readonly Substitution[];
  readonly summary: RunSummary;
  /** Latency of the orders sent while the watched circuit was open (or, when it never opened, from 1 s after the fault to the repair). */
  readonly duringFault: (LatencySummary & { count: number; fromMs: number; toMs: number; whileOpen: boolean; goodput: number }) | null;
  /**
   * The same run before the fault (from 1 s in, past the closed loop's ramp, to the fault): the
   * healthy baseline measured under the same machine load as the fault window, which a separate
   * healthy run on a shared machine is not.
   */
  readonly beforeFault: (LatencySummary & { count: number; fromMs: number; toMs: number; goodput: number }) | null;
  readonly events: readonly { label: string; phase: string; atMs: number; doneAtMs: number; error?: string }[];
  readonly watch: string | null;
  /** fault → watched circuit OPEN, recovery done → CLOSED (ms); null: not seen. */
  readonly openAfterFaultMs: number | null;
  readonly closedAfterRecoveryMs: number | null;
  /**
   * The repair against the breaker: how long it took (a restarted payment: from the start to its
   * health route answering), the open period in force when the dependency came back (a failed
   * probe doubles it), when that period's probe was due after the repair, and the target
   * (`closedAfterRecoveryMs` ≤ period + 1 s).
   */
  readonly recovery: { repairMs: number; openPeriodMs: number | null; probeDueAfterMs: number | null; closedWithinMs: number | null; met: boolean | null } | null;
  readonly circuits: Readonly<Record<string, { fromMs: number; toMs: number; state: string }[]>>;
  readonly queue: { peak: number; drainMs: number | null; drainRate: number | null; parked: number; settledAfterMs: number };
  readonly breakerCalls: Readonly<Record<string, Record<string, number>>>;
  readonly invariants: InvariantReport;
  /** The worker's charges of the queued (202) orders, from payment's ledger times. */
  readonly worker: ReturnType<typeof workerChargeRate>;
  readonly perSecond: readonly SecondBucket[];
  readonly queueSeries: readonly { atMs: number; depth: number }[];
  /** CPU the load generator (this process: the http client, monitoring) used while sending, in cores (0.25 = a quarter of one). */
  readonly generatorCpu: number;
}

export async function fetchProducts(inventoryUrl: string): Promise<Product[]> {
  const res = await fetch(`${inventoryUrl}/products`, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`GET /products: ${res.status}`);
  const body = (await res.json()) as Product[] | { products?: Product[] };
  return Array.isArray(body) ? body : (body.products ?? []);
}

const DEFAULT_SETTLE_MS = 20_000;
/** Traffic before the measured run (not recorded): connections, JIT, the stock cache. */
export const WARMUP_MS = 2_000;

export async function runOnce(system: SystemUnderLoad, spec: RunSpec, log: (line: string) => void = () => undefined): Promise<RunResult> {
  const adapted = system.processControl ? { scenario: SCENARIOS[spec.scenario], substitutions: [] } : withoutProcessControl(SCENARIOS[spec.scenario]);
  const scenario = adapted.scenario;
  for (const line of formatSubstitutions(adapted.substitutions)) log(`  SUBSTITUTED: ${line}`);
  const products = await fetchProducts(system.stubUrl('inventory'));
  const events = timeline(scenario, spec.durationMs);
  await runOpen({ url: `${system.checkoutUrl}/checkout`, products, durationMs: WARMUP_MS, startedAt: performance.now(), rate: Math.min(spec.rate, 50) });
  const startedAtIso = new Date().toISOString();
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  const now = (): number => performance.now() - startedAt;
  const monitor = startMonitor(system.checkoutUrl, startedAt);
  const timelineDone = runTimeline(events, (action) => system.apply(action), {
    now: () => performance.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    startedAt,
  }).then((applied) => {
    for (const a of applied) log(`  ${(a.appliedAtMs / 1000).toFixed(1)} s  ${a.event.label}${a.error ? `  FAILED: ${a.error}` : ''}`);
    return applied;
  });
  const url = `${system.checkoutUrl}/checkout`;
  const records: RequestRecord[] = spec.capacity
    ? await runClosed({ url, products, durationMs: spec.durationMs, startedAt, connections: spec.connections })
    : await runOpen({ url, products, durationMs: spec.durationMs, startedAt, rate: spec.rate });
  const applied: AppliedEvent[] = await timelineDone;
  const loadEndedMs = now();
  const cpu = process.cpuUsage(cpuBefore);
  const generatorCpu = (cpu.user + cpu.system) / 1000 / loadEndedMs;

  // Settle: the retry queue empty three samples in a row (1.5 s), then a moment for the
  // messages the worker holds unacked; at most spec.settleMs. (No traffic means no probe:
  // a circuit still open here stays so, and is reported as not closed within the run.)
  const settleEnd = performance.now() + (spec.settleMs ?? DEFAULT_SETTLE_MS);
  let emptyInARow = 0;
  while (performance.now() < settleEnd) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const last = monitor.data.queue[monitor.data.queue.length - 1];
    emptyInARow = last !== undefined && last.depth === 0 && last.atMs > loadEndedMs ? emptyInARow + 1 : 0;
    if (emptyInARow >= 3) break;
  }
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const settledAfterMs = now() - loadEndedMs;
  await monitor.stop();
  const endMs = now();

  const summary = summarize(records, spec.durationMs);
  const fault = applied.find((a) => a.event.phase === 'fault');
  const recovery = applied.find((a) => a.event.phase === 'recovery');
  const watchSamples = scenario.watch === null ? [] : (monitor.data.circuits[scenario.watch] ?? []);
  const openAfterFaultMs = fault === undefined ? null : timeToState(watchSamples, fault.appliedAtMs, 'OPEN');
  // Closing counts only after the circuit opened (a circuit that opened after the repair — a
  // slow dependency's calls still being judged — is not "closed" before it opened).
  const openedAtMs = fault === undefined || openAfterFaultMs === null ? null : fault.appliedAtMs + openAfterFaultMs;
  const closedAtMs = recovery === undefined || openedAtMs === null ? null : timeToState(watchSamples, Math.max(recovery.doneAtMs, openedAtMs), 'CLOSED');
  const closedAfterRecoveryMs = closedAtMs === null || recovery === undefined || openedAtMs === null ? null : Math.max(recovery.doneAtMs, openedAtMs) + closedAtMs - recovery.doneAtMs;
  const openPeriod = recovery === undefined ? null : openPeriodAt(watchSamples, recovery.doneAtMs);
  const recoveryDetail: RunResult['recovery'] =
    recovery === undefined
      ? null
      : {
          repairMs: Math.round(recovery.doneAtMs - recovery.appliedAtMs),
          openPeriodMs: openPeriod?.periodMs ?? null,
          probeDueAfterMs: openPeriod?.probeDueAfterMs ?? null,
          closedWithinMs: openPeriod === null ? null : openPeriod.periodMs + 1_000,
          met: openPeriod === null || closedAfterRecoveryMs === null ? null : closedAfterRecoveryMs <= openPeriod.periodMs + 1_000,
        };
  // "Once the breaker is open": the orders sent while the watched circuit was OPEN (its first
  // OPEN interval after the fault). Without breakers (or if it never opened): from 1 s after
  // the fault to the repair.
  const window = faultWindow(spec.durationMs);
  let duringFault: RunResult['duringFault'] = null;
  if (fault !== undefined) {
    const open = stateIntervals(watchSamples, spec.durationMs).find((i) => i.state === 'OPEN' && i.fromMs >= fault.appliedAtMs);
    // Without an open circuit: until the dependency answers again (a restarted process: its
    // health route), from 1 s after the fault (the cascade builds up) — or from the fault when
    // that leaves less than a second.
    const untilMs = recovery?.doneAtMs ?? window.recoverAt;
    const fromMs = open?.fromMs ?? (untilMs - fault.appliedAtMs >= 2_000 ? fault.appliedAtMs + 1_000 : fault.appliedAtMs);
    const toMs = open !== undefined ? Math.min(open.toMs, spec.durationMs) : untilMs;
    const taken = records.filter((rec) => rec.sentAtMs >= fromMs && rec.sentAtMs < toMs && rec.status >= 200 && rec.status < 300).length;
    duringFault = { ...windowLatency(records, fromMs, toMs), fromMs, toMs, whileOpen: open !== undefined, goodput: toMs > fromMs ? taken / ((toMs - fromMs) / 1000) : 0 };
  }
  let beforeFault: RunResult['beforeFault'] = null;
  if (fault !== undefined && fault.appliedAtMs > 2_000) {
    const fromMs = 1_000;
    const toMs = fault.appliedAtMs;
    const taken = records.filter((rec) => rec.sentAtMs >= fromMs && rec.sentAtMs < toMs && rec.status >= 200 && rec.status < 300).length;
    beforeFault = { ...windowLatency(records, fromMs, toMs), fromMs, toMs, goodput: taken / ((toMs - fromMs) / 1000) };
  }
  const drain = queueDrain(monitor.data.queue, recovery?.doneAtMs ?? 0);
  const parked = monitor.data.queue.at(-1)?.parked ?? 0;

  // The invariant check: every answered order against the ledgers.
  const answered = records.filter((r) => r.orderId !== null);
  // Payment's ledger dies with its process: a 201 answered before the kill was done may have been charged there.
  const killAt = applied.find((a) => a.event.action.kind === 'kill' && a.event.action.service === 'payment')?.doneAtMs;
  const orders: CheckedOrder[] = answered.map((r) => ({ orderId: r.orderId!, status: r.status, sentAtMs: r.sentAtMs, answeredAtMs: r.sentAtMs + (r.latencyMs ?? 0), chargeId: r.chargeId }));
  const ledgers = await readLedgers(
    orders.map((o) => o.orderId),
    // shipping's ledger only when payment was killed: a shipment is the evidence of a capture the killed ledger lost
    { payment: system.stubUrl('payment'), inventory: system.stubUrl('inventory'), ...(killAt === undefined ? {} : { shipping: system.stubUrl('shipping') }) },
  );
  const invariants = checkInvariants(orders, ledgers, records.length - answered.length, killAt === undefined ? {} : { paymentLedgerLostBeforeMs: killAt });

  const circuits: Record<string, { fromMs: number; toMs: number; state: string }[]> = {};
  for (const [name, samples] of Object.entries(monitor.data.circuits)) circuits[name] = stateIntervals(samples, endMs);

  return {
    spec,
    startedAt: startedAtIso,
    description: scenario.description,
    substitutions: adapted.substitutions,
    summary,
    duringFault,
    beforeFault,
    events: applied.map((a) => ({ label: a.event.label, phase: a.event.phase, atMs: Math.round(a.appliedAtMs), doneAtMs: Math.round(a.doneAtMs), ...(a.error ? { error: a.error } : {}) })),
    watch: scenario.watch,
    openAfterFaultMs: openAfterFaultMs === null ? null : Math.round(openAfterFaultMs),
    closedAfterRecoveryMs: closedAfterRecoveryMs === null ? null : Math.round(closedAfterRecoveryMs),
    recovery: recoveryDetail,
    circuits,
    queue: { peak: drain.peak, drainMs: drain.drainMs === null ? null : Math.round(drain.drainMs), drainRate: drain.rate, parked, settledAfterMs: Math.round(settledAfterMs) },
    breakerCalls: breakerCounts(monitor.data.lastMetrics),
    invariants,
    worker: workerChargeRate(orders, ledgers),
    perSecond: perSecond(records, Math.max(spec.durationMs, 1)),
    queueSeries: monitor.data.queue.map((q) => ({ atMs: Math.round(q.atMs), depth: q.depth })),
    generatorCpu: Math.round(generatorCpu * 100) / 100,
  };
}
