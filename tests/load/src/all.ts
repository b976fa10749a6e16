import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { LoadOptions } from './args';
import { startBare } from './bare';
import { comparisonSpec, renderSvg } from './charts';
import { runClosed } from './driver';
import { REPO_ROOT, runFileName, runOne, say } from './one';
import { markdownRun, markdownTable, ms, recoveryText, runLabel, SUMMARY_HEADER, summaryRow } from './report';
import { fetchProducts, type RunResult } from './run';
import { SCENARIO_NAMES, type ScenarioName } from './scenarios';
import { median, summarize } from './stats';
import { LOAD_ENV } from './system';

/**
 * `npm run load -- --all`: the headline runs first (payment-down and the capacities), then
 * every other scenario with breakers on and off; docs/load-report.md is rewritten after each
 * run, so an interrupted --all still leaves what it measured.
 */

/** The scenarios with an on-vs-off comparison chart: a killed process (refused connections) and a hung one. */
const COMPARED: readonly ScenarioName[] = ['payment-down', 'payment-hang'];

/**
 * Healthy capacity with breakers on vs off is a difference of a few per cent at most, and one
 * pair of runs on this shared machine drifts more than that: it is measured in pairs, which of
 * the two goes first alternating (on/off, off/on, on/off), and the median of the pairs' ratios
 * is reported.
 */
export const CAPACITY_PAIRS = 3;

/** The order of the healthy capacity runs: pair i runs on first when i is even. */
export function capacityPairOrder(pairs: number): ('on' | 'off')[] {
  const order: ('on' | 'off')[] = [];
  for (let i = 0; i < pairs; i++) order.push(...(i % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)));
  return order;
}

export interface PairedCapacity {
  readonly on: number[];
  readonly off: number[];
  /** on/off of each pair, in the order measured. */
  readonly ratios: number[];
  readonly medianOn: number;
  readonly medianOff: number;
  readonly medianRatio: number;
}

/** The healthy closed-loop runs paired in the order they ran (the k-th on with the k-th off); null before a whole pair. */
export function pairedHealthyCapacity(runs: readonly RunResult[]): PairedCapacity | null {
  const of = (breakers: 'on' | 'off'): number[] => runs.filter((r) => r.spec.scenario === 'healthy' && r.spec.capacity && r.spec.breakers === breakers).map((r) => r.summary.goodput);
  const on = of('on');
  const off = of('off');
  const pairs = Math.min(on.length, off.length);
  if (pairs === 0) return null;
  const ratios = on.slice(0, pairs).map((value, i) => (off[i] === 0 ? 0 : value / off[i]!));
  return { on, off, ratios, medianOn: median(on), medianOff: median(off), medianRatio: median(ratios) };
}

interface Capacity {
  readonly label: string;
  readonly throughput: number;
  readonly p99: number;
}

interface AllState {
  readonly startedAt: string;
  readonly runs: RunResult[];
  bare: Capacity | null;
  readonly comparisons: string[];
  readonly options: LoadOptions;
}

async function measureBare(options: LoadOptions): Promise<Capacity> {
  const bare = await startBare();
  try {
    // The same orders, the catalog only to build them (the products' shape is all that matters).
    const products = [{ sku: 'KB-MECH-01' }, { sku: 'MOUSE-WL-02' }, { sku: 'HUB-USBC-7' }, { sku: 'MON-27-4K' }];
    const durationMs = Math.min(10_000, options.durationS * 1000);
    const records = await runClosed({ url: `${bare.url}/checkout`, products, durationMs, startedAt: performance.now(), connections: options.connections });
    const summary = summarize(records, durationMs);
    return { label: 'bare Express handler', throughput: summary.goodput, p99: summary.latency.p99 };
  } finally {
    await bare.stop();
  }
}

function find(runs: readonly RunResult[], scenario: ScenarioName, breakers: 'on' | 'off', capacity: boolean): RunResult | undefined {
  return runs.find((r) => r.spec.scenario === scenario && r.spec.breakers === breakers && r.spec.capacity === capacity);
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined || b === 0 ? '–' : `${(a / b).toFixed(2)}×`;
}

/** One row per closed-loop configuration; a configuration run more than once shows its medians. */
export function capacities(state: Pick<AllState, 'runs' | 'bare'>): Capacity[] {
  const out: Capacity[] = [];
  if (state.bare !== null) out.push(state.bare);
  const groups = new Map<string, Capacity[]>();
  for (const run of state.runs.filter((r) => r.spec.capacity)) {
    const f = run.duringFault;
    const label = `${run.spec.scenario}, breakers ${run.spec.breakers}${f === null ? '' : ` (${f.whileOpen ? 'circuit open' : 'during the fault'})`}`;
    const measured = f === null ? { throughput: run.summary.goodput, p99: run.summary.latency.p99 } : { throughput: f.goodput, p99: f.p99 };
    groups.set(label, [...(groups.get(label) ?? []), { label, ...measured }]);
  }
  for (const [label, group] of groups) {
    out.push(
      group.length === 1
        ? group[0]!
        : { label: `${label}, median of ${group.length} runs`, throughput: median(group.map((c) => c.throughput)), p99: median(group.map((c) => c.p99)) },
    );
  }
  return out;
}

function headline(state: AllState): string[] {
  const lines: string[] = [];
  const downOn = find(state.runs, 'payment-down', 'on', false);
  const downOff = find(state.runs, 'payment-down', 'off', false);
  const paired = pairedHealthyCapacity(state.runs);
  const capHealthyOn = paired?.medianOn;
  const capHealthyOff = paired?.medianOff;
  // Payment-down capacity: 2xx/s while the fault lasted (the circuit open), not over the whole run.
  const capDownOn = find(state.runs, 'payment-down', 'on', true)?.duringFault?.goodput;
  const capDownOff = find(state.runs, 'payment-down', 'off', true)?.duringFault?.goodput;
  // …and against the same run's healthy seconds before the fault (the same machine load).
  const capDownOnBefore = find(state.runs, 'payment-down', 'on', true)?.beforeFault?.goodput;
  const capDownOffBefore = find(state.runs, 'payment-down', 'off', true)?.beforeFault?.goodput;
  const hangOn = find(state.runs, 'payment-hang', 'on', false);
  const hangOff = find(state.runs, 'payment-hang', 'off', false);
  for (const [label, run] of [
    ['breakers on', downOn],
    ['breakers off', downOff],
    ['breakers on', hangOn],
    ['breakers off', hangOff],
  ] as const) {
    if (run === undefined) continue;
    const f = run.duringFault;
    lines.push(
      `- **${run.spec.scenario}, ${label}** (${run.spec.rate} orders/s): p99 ${ms(run.summary.latency.p99)} ms over the run, ` +
        `${f === null ? '' : `p99 ${ms(f.p99)} ms ${f.whileOpen ? 'while the circuit was open' : 'during the fault'}, `}` +
        `5xx ${run.summary.fiveXX}, unanswered ${run.summary.byStatus.none ?? 0}, ` +
        `fault → OPEN ${run.openAfterFaultMs === null ? 'not seen' : `${run.openAfterFaultMs} ms`}, recovery → CLOSED ${recoveryText(run)}, ` +
        `retry queue peak ${run.queue.peak}${run.queue.drainMs === null ? '' : `, empty ${run.queue.drainMs} ms after the repair (${run.queue.drainRate?.toFixed(0) ?? '–'} msg/s)`}` +
        `${run.worker.rate === null ? '' : `, the worker charged ${run.worker.charged} queued orders at ${run.worker.rate.toFixed(0)} charges/s (at most ${run.worker.peakPerSecond} in one second)`}, ` +
        `invariants ${run.invariants.ok ? 'OK' : `${run.invariants.violations} violations`}, duplicate charges ${run.invariants.duplicateCharges}.`,
    );
  }
  if (capHealthyOn !== undefined || capDownOn !== undefined) {
    lines.push(
      `- **capacity** (closed loop, ${state.options.connections} connections, 2xx answers/s): healthy on ${capHealthyOn?.toFixed(0) ?? '–'}, off ${capHealthyOff?.toFixed(0) ?? '–'} ` +
        `(medians of ${paired?.ratios.length ?? 0} pairs run alternately; on/off ${paired === null ? '–' : `${paired.medianRatio.toFixed(2)}×, the median of ${paired.ratios.map((r) => r.toFixed(2)).join(', ')}`}); while payment was down (breakers on: while the circuit was open; off: from 1 s after the kill until the restarted payment answered): ` +
        `on ${capDownOn?.toFixed(0) ?? '–'} (${ratio(capDownOn, capHealthyOn)} the healthy median, ${ratio(capDownOn, capDownOnBefore)} the same run's ${capDownOnBefore?.toFixed(0) ?? '–'} before the kill), ` +
        `off ${capDownOff?.toFixed(0) ?? '–'} (${ratio(capDownOff, capHealthyOff)} the healthy median, ${ratio(capDownOff, capDownOffBefore)} the same run's ${capDownOffBefore?.toFixed(0) ?? '–'} before the kill)` +
        `${state.bare === null ? '' : `; bare Express handler ${state.bare.throughput.toFixed(0)} (healthy checkout = ${ratio(capHealthyOn, state.bare.throughput)} of it)`}.`,
    );
  }
  return lines;
}

function writeReport(state: AllState, outDir: string): string {
  const docs = path.dirname(outDir);
  const rel = (file: string): string => path.relative(docs, path.join(outDir, file)).split(path.sep).join('/');
  const cpu = os.cpus();
  const parts: string[] = [
    '# Load report',
    '',
    `Generated by \`npm run load -- --all\` (tests/load, see its README) on ${state.startedAt.slice(0, 16).replace('T', ' ')} UTC: ` +
      `${cpu.length} × ${cpu[0]?.model.trim() ?? 'CPU'}, Node ${process.version}; the six processes, RabbitMQ and the load generator on the same machine. ` +
      `Open-model runs send ${state.options.rate} orders/s for ${state.options.durationS} s; faults at 20 % of the run, repaired at 40 %. ` +
      `Checkout runs with its default deadlines, windows and bulkheads, and for the runs to show a whole cycle: ${Object.entries(LOAD_ENV)
        .filter(([name]) => name !== 'LOG_LEVEL')
        .map(([name, value]) => `\`${name}=${value}\``)
        .join(', ')}.`,
    '',
    '## Headline',
    '',
    ...headline(state),
    '',
  ];
  for (const svg of state.comparisons) parts.push(`![breakers on vs off](${rel(svg)})`, '');
  parts.push('## Every run', '', markdownTable(SUMMARY_HEADER, state.runs.map(summaryRow)), '');
  parts.push(
    'Latencies in ms; "p99 in fault/open": orders sent while the watched circuit was OPEN (when it never opened: from 1 s after the fault until the dependency answered again); ' +
      '"to OPEN"/"to CLOSED": ms from the fault / from the repair (payment answering again) to the watched circuit\'s state, polled every 100 ms; ' +
      '"none": no answer within 10 s; invariants: see tests/load/README.md.',
    '',
  );
  const caps = capacities(state);
  if (caps.length > 0) parts.push('## Capacity', '', markdownTable(['closed loop', '2xx answers/s', 'p99 ms'], caps.map((c) => [c.label, c.throughput.toFixed(0), ms(c.p99)])), '');
  for (const run of state.runs) {
    parts.push(`## ${runLabel(run)}`, '', run.description, '', markdownRun(run), '', `![${runLabel(run)}](${rel(`${runFileName(run)}.svg`)})`, '');
  }
  const file = path.join(docs, 'load-report.md');
  writeFileSync(file, `${parts.join('\n')}\n`);
  return file;
}

export async function runAll(options: LoadOptions): Promise<void> {
  const outDir = path.resolve(REPO_ROOT, options.outDir);
  mkdirSync(outDir, { recursive: true });
  const state: AllState = { startedAt: new Date().toISOString(), runs: [], bare: null, comparisons: [], options };
  const began = Date.now();
  const plan: { scenario: ScenarioName; breakers: 'on' | 'off'; capacity: boolean; repeat?: number }[] = [
    { scenario: 'payment-down', breakers: 'on', capacity: false },
    { scenario: 'payment-down', breakers: 'off', capacity: false },
    { scenario: 'payment-hang', breakers: 'on', capacity: false },
    { scenario: 'payment-hang', breakers: 'off', capacity: false },
    ...capacityPairOrder(CAPACITY_PAIRS).map((breakers, i, order) => ({
      scenario: 'healthy' as const,
      breakers,
      capacity: true,
      repeat: order.slice(0, i + 1).filter((b) => b === breakers).length,
    })),
    { scenario: 'payment-down', breakers: 'on', capacity: true },
    { scenario: 'payment-down', breakers: 'off', capacity: true },
  ];
  for (const scenario of SCENARIO_NAMES) {
    if (scenario === 'payment-down' || scenario === 'payment-hang') continue;
    for (const breakers of ['on', 'off'] as const) plan.push({ scenario, breakers, capacity: false });
  }
  const update = async (): Promise<void> => {
    for (const scenario of COMPARED) {
      const on = find(state.runs, scenario, 'on', false);
      const off = find(state.runs, scenario, 'off', false);
      if (on === undefined || off === undefined) continue;
      const name = `compare-${scenario}.svg`;
      writeFileSync(path.join(outDir, name), await renderSvg(comparisonSpec(on, off, scenario === 'payment-down' ? capacities(state) : [])));
      if (!state.comparisons.includes(name)) state.comparisons.push(name);
    }
    const report = writeReport(state, outDir);
    say(`  report: ${path.relative(REPO_ROOT, report)} (${((Date.now() - began) / 60_000).toFixed(1)} min so far)`);
  };
  for (const [index, step] of plan.entries()) {
    if (index === 4) {
      say('\nbare Express handler (capacity baseline)');
      state.bare = await measureBare(options);
      say(`  ${state.bare.throughput.toFixed(0)} answers/s, p99 ${ms(state.bare.p99)} ms`);
    }
    try {
      state.runs.push(await runOne(options, step.breakers, { scenario: step.scenario, capacity: step.capacity, ...(step.repeat === undefined ? {} : { repeat: step.repeat }) }));
    } catch (error) {
      say(`  ${step.scenario} breakers ${step.breakers}: FAILED ${error instanceof Error ? error.message : String(error)}`);
    }
    await update();
  }
  say(`\n--all done in ${((Date.now() - began) / 60_000).toFixed(1)} min`);
}

export { fetchProducts };
