import type { RunResult } from './run';

/** Tables of a run (terminal) and of the report (Markdown). Pure. */

export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return value >= 100 ? `${Math.round(value)}` : value.toFixed(1);
}

export function runLabel(result: RunResult): string {
  return `${result.spec.scenario}${result.spec.capacity ? ' (capacity)' : ''}, breakers ${result.spec.breakers}${result.spec.repeat === undefined ? '' : `, run ${result.spec.repeat}`}`;
}

function statuses(result: RunResult): string {
  return Object.entries(result.summary.byStatus)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, count]) => `${status}: ${count}`)
    .join(', ');
}

function fallbacks(result: RunResult): string {
  const parts = Object.entries(result.summary.fallbacks).map(([kind, count]) => `${kind}: ${count}`);
  const notification = result.breakerCalls.notification;
  if (notification !== undefined) {
    const failed = Object.entries(notification)
      .filter(([outcome]) => outcome !== 'success')
      .reduce((sum, [, count]) => sum + count, 0);
    if (failed > 0) parts.push(`notification calls failed or rejected (fire-and-forget, retries included): ${failed}`);
  }
  return parts.length === 0 ? 'none' : parts.join(', ');
}

function invariants(result: RunResult): string {
  const inv = result.invariants;
  const outcomes = Object.entries(inv.outcomes)
    .map(([outcome, count]) =>
      outcome === 'paid-ledger-lost' && inv.ledgerLost !== undefined
        ? `${outcome} ${count} (${inv.ledgerLost.answeredBeforeKill} answered 201 before the kill, ${inv.ledgerLost.shipment} shown by a shipment)`
        : `${outcome} ${count}`,
    )
    .join(', ');
  const examples = Object.entries(inv.examples)
    .map(([outcome, list]) => `${outcome}: ${(list ?? []).join('; ')}`)
    .join(' · ');
  return `${inv.ok ? 'OK' : `VIOLATED (${inv.violations})`} — ${outcomes}; duplicate charges ${inv.duplicateCharges}; unanswered (not checkable) ${inv.unverified}${examples ? ` · orders: ${examples}` : ''}`;
}

/** "1830 ms (target ≤ 6000: open period in force 5000 ms, its probe due 1740 ms after the repair; restart took 1130 ms)". */
export function recoveryText(result: Pick<RunResult, 'closedAfterRecoveryMs' | 'recovery' | 'events'>): string {
  const r = result.recovery;
  const restart = result.events.find((e) => e.phase === 'recovery' && e.label.startsWith('start '));
  const repair = r === null || restart === undefined ? '' : `; the restart took ${r.repairMs} ms`;
  const closed = result.closedAfterRecoveryMs === null ? 'not seen' : `${result.closedAfterRecoveryMs} ms`;
  if (r === null || r.openPeriodMs === null) return `${closed}${repair ? ` (${repair.slice(2)})` : ''}`;
  const verdict = r.met === null ? '' : r.met ? 'met' : 'missed';
  return `${closed} (${verdict}${verdict ? ': ' : ''}target ≤ ${r.closedWithinMs} ms = open period in force ${r.openPeriodMs} ms + 1 s; its probe was due ${r.probeDueAfterMs} ms after the repair${repair})`;
}

/** [label, value] rows of one run. */
export function runRows(result: RunResult): [string, string][] {
  const s = result.summary;
  const rows: [string, string][] = [
    ['mode', result.spec.capacity ? `closed loop, ${result.spec.connections} connections` : `open model, ${result.spec.rate} orders/s`],
    ['duration', `${result.spec.durationMs / 1000} s (load generator used ${Math.round(result.generatorCpu * 100)} % of a core)`],
    ['sent / answered', `${s.sent} / ${s.answered}`],
    ['answers by status', statuses(result)],
    ['5xx', String(s.fiveXX)],
    ['latency p50 / p90 / p99 / max (ms)', `${ms(s.latency.p50)} / ${ms(s.latency.p90)} / ${ms(s.latency.p99)} / ${ms(s.latency.max)}`],
    ['throughput (answers/s, of which 2xx)', `${s.throughput.toFixed(1)} (${s.goodput.toFixed(1)})`],
    ['fallbacks', fallbacks(result)],
  ];
  if (result.beforeFault !== null && result.spec.capacity) {
    const b = result.beforeFault;
    rows.push([`before the fault (${(b.fromMs / 1000).toFixed(1)}–${(b.toMs / 1000).toFixed(1)} s) p50 / p99 / max`, `${ms(b.p50)} / ${ms(b.p99)} / ${ms(b.max)} ms (${b.count} answers, ${b.goodput.toFixed(1)} 2xx/s)`]);
  }
  if (result.duringFault !== null) {
    const f = result.duringFault;
    rows.push([`${f.whileOpen ? 'circuit open' : 'during the fault'} (${(f.fromMs / 1000).toFixed(1)}–${(f.toMs / 1000).toFixed(1)} s) p50 / p99 / max`, `${ms(f.p50)} / ${ms(f.p99)} / ${ms(f.max)} ms (${f.count} answers, ${f.goodput.toFixed(1)} 2xx/s)`]);
  }
  for (const substitution of result.substitutions ?? []) {
    rows.push(['substituted (no process control)', `${substitution.instead} → ${substitution.applied}: ${substitution.why}`]);
  }
  if (result.events.length > 0) {
    rows.push(['events', result.events.map((e) => `${(e.atMs / 1000).toFixed(1)} s ${e.label}${e.error ? ` (FAILED: ${e.error})` : ''}`).join('; ')]);
    rows.push([`${result.watch ?? '?'} circuit: fault → OPEN`, result.openAfterFaultMs === null ? 'not seen' : `${result.openAfterFaultMs} ms`]);
    rows.push([`${result.watch ?? '?'} circuit: recovery → CLOSED`, recoveryText(result)]);
  }
  const q = result.queue;
  rows.push([
    'retry queue',
    q.peak === 0 ? 'never used' : `peak ${q.peak}, drained ${q.drainMs === null ? 'not within the run' : `in ${q.drainMs} ms after recovery (${q.drainRate === null ? '–' : q.drainRate.toFixed(0)} msg/s)`}; parked ${q.parked}`,
  ]);
  const w = result.worker;
  if (w.charged > 0) {
    rows.push([
      'worker',
      `charged ${w.charged} queued orders in ${w.spanMs === null ? '–' : `${w.spanMs} ms`} (${w.rate === null ? '–' : `${w.rate.toFixed(0)} charges/s`}, payment ledger times; at most ${w.peakPerSecond ?? '–'} in one second)`,
    ]);
  }
  rows.push(['invariants', invariants(result)]);
  return rows;
}

export function formatRun(result: RunResult): string {
  const rows = runRows(result);
  const width = Math.max(...rows.map(([label]) => label.length));
  return [`== ${runLabel(result)} — ${result.description}`, ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)].join('\n');
}

export function markdownRun(result: RunResult): string {
  return ['| | |', '|---|---|', ...runRows(result).map(([label, value]) => `| ${label} | ${value.replace(/\|/g, '\\|')} |`)].join('\n');
}

/** One line per run for the summary table of the report. */
export const SUMMARY_HEADER = ['run', 'breakers', 'sent', '2xx', '5xx', 'none', 'p50', 'p99', 'max', 'p99 in fault/open', 'to OPEN', 'to CLOSED', 'queue peak', 'drain msg/s', 'worker charges/s (peak 1 s)', 'invariants'];

export function summaryRow(result: RunResult): string[] {
  const s = result.summary;
  const twoXX = Object.entries(s.byStatus)
    .filter(([status]) => status.startsWith('2'))
    .reduce((sum, [, count]) => sum + count, 0);
  return [
    `${result.spec.scenario}${result.spec.capacity ? ' (capacity)' : ''}${result.spec.repeat === undefined ? '' : `, run ${result.spec.repeat}`}`,
    result.spec.breakers,
    String(s.sent),
    String(twoXX),
    String(s.fiveXX),
    String(s.byStatus.none ?? 0),
    ms(s.latency.p50),
    ms(s.latency.p99),
    ms(s.latency.max),
    result.duringFault === null ? '–' : ms(result.duringFault.p99),
    result.openAfterFaultMs === null ? '–' : `${result.openAfterFaultMs}`,
    result.closedAfterRecoveryMs === null ? '–' : `${result.closedAfterRecoveryMs}`,
    String(result.queue.peak),
    result.queue.drainRate === null ? '–' : result.queue.drainRate.toFixed(0),
    result.worker.rate === null ? '–' : `${result.worker.rate.toFixed(0)} (${result.worker.peakPerSecond ?? '–'})`,
    result.invariants.ok ? `OK, dup ${result.invariants.duplicateCharges}` : `${result.invariants.violations} bad, dup ${result.invariants.duplicateCharges}`,
  ];
}

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}
