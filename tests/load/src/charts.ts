import type { RunResult } from './run';

/**
 * Charts as Vega-Lite specs (pure, tested), rendered to SVG by vega in Node (`View.toSVG()`,
 * no canvas). vega and vega-lite are ES modules only: loaded with a real dynamic import, which
 * TypeScript's CommonJS output would otherwise turn into require().
 */

type Spec = Record<string, unknown>;

const STATE_COLOURS = { domain: ['CLOSED', 'HALF_OPEN', 'OPEN', 'DISABLED'], range: ['#59a14f', '#f28e2b', '#e15759', '#bab0ac'] };

/** Colour of an answer status: 2xx greens/blues, 4xx oranges, 5xx reds, none black. */
export function statusColour(status: string): string {
  const fixed: Record<string, string> = { '201': '#59a14f', '202': '#4e79a7', '402': '#edc948', '409': '#f28e2b', '404': '#ff9da7', '502': '#9c755f', '503': '#e15759', '500': '#b22222', none: '#222222' };
  return fixed[status] ?? (status.startsWith('2') ? '#76b7b2' : status.startsWith('4') ? '#f1ce63' : '#d37295');
}

function eventLayers(events: readonly { t: number; label: string }[], withText: boolean): Spec[] {
  if (events.length === 0) return [];
  const layers: Spec[] = [{ data: { values: events }, mark: { type: 'rule', strokeDash: [4, 3], color: '#555' }, encoding: { x: { field: 't', type: 'quantitative' } } }];
  if (withText) {
    layers.push({
      data: { values: events },
      mark: { type: 'text', align: 'left', baseline: 'top', dx: 3, dy: 2, fontSize: 10, color: '#333' },
      encoding: { x: { field: 't', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
    });
  }
  return layers;
}

/** Answers per second stacked by status (in status order), as rectangles [t, t2) × [y0, y1). */
export function stackedMix(buckets: readonly { second: number; byStatus: Readonly<Record<string, number>> }[]): { t: number; t2: number; status: string; count: number; y0: number; y1: number }[] {
  return buckets.flatMap((b) => {
    let y = 0;
    return Object.entries(b.byStatus)
      .sort(([a], [c]) => a.localeCompare(c))
      .map(([status, count]) => {
        const row = { t: b.second, t2: b.second + 1, status, count, y0: y, y1: y + count };
        y += count;
        return row;
      });
  });
}

export function timelineSpec(result: RunResult): Spec {
  // One time axis for every panel: the run and the settling after it (the queue's drain).
  const seconds = Math.ceil(Math.max(1, result.spec.durationMs / 1000, ...result.queueSeries.map((q) => q.atMs / 1000)));
  const x = { type: 'quantitative', scale: { domain: [0, seconds] }, title: 'seconds (orders by sending time)' } as const;
  const latency = result.perSecond.flatMap((b) =>
    (['p50', 'p90', 'p99'] as const).flatMap((p) => (b[p] === null ? [] : [{ t: b.second + 0.5, percentile: p, ms: Math.max(0.1, b[p]!) }])),
  );
  const mix = stackedMix(result.perSecond);
  const statuses = [...new Set(mix.map((m) => m.status))].sort();
  const events = result.events.map((e) => ({ t: e.atMs / 1000, label: e.label }));
  const watch = result.watch ?? 'payment';
  const band = (result.circuits[watch] ?? []).map((i) => ({ from: i.fromMs / 1000, to: Math.min(i.toMs / 1000, seconds), state: i.state }));
  const panels: Spec[] = [];
  if (band.length > 0) {
    panels.push({
      title: { text: `${watch} circuit`, fontSize: 11, anchor: 'start' },
      height: 18,
      data: { values: band },
      mark: 'rect',
      encoding: { x: { field: 'from', ...x, title: null }, x2: { field: 'to' }, color: { field: 'state', type: 'nominal', scale: STATE_COLOURS, title: 'circuit' } },
    });
  }
  panels.push({
    title: { text: 'latency per second (ms, log scale)', fontSize: 11, anchor: 'start' },
    height: 200,
    layer: [
      {
        data: { values: latency },
        mark: { type: 'line', point: { size: 12 } },
        encoding: {
          x: { field: 't', ...x },
          y: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'ms' },
          color: { field: 'percentile', type: 'nominal', scale: { domain: ['p50', 'p90', 'p99'], range: ['#4e79a7', '#f28e2b', '#e15759'] }, title: 'latency' },
        },
      },
      ...eventLayers(events, true),
    ],
  });
  panels.push({
    title: { text: 'answers per second, by status', fontSize: 11, anchor: 'start' },
    height: 140,
    layer: [
      {
        data: { values: mix },
        mark: { type: 'rect', stroke: 'white', strokeWidth: 0.5 },
        encoding: {
          x: { field: 't', ...x },
          x2: { field: 't2' },
          y: { field: 'y0', type: 'quantitative', title: 'orders' },
          y2: { field: 'y1' },
          color: { field: 'status', type: 'nominal', scale: { domain: statuses, range: statuses.map(statusColour) }, title: 'status' },
        },
      },
      ...eventLayers(events, false),
    ],
  });
  if (result.queueSeries.some((q) => q.depth > 0)) {
    panels.push({
      title: { text: 'retry queue backlog (messages)', fontSize: 11, anchor: 'start' },
      height: 80,
      layer: [
        {
          data: { values: result.queueSeries.map((q) => ({ t: q.atMs / 1000, depth: q.depth })) },
          mark: { type: 'area', color: '#4e79a7', opacity: 0.6, interpolate: 'step-after' },
          encoding: { x: { field: 't', ...x, title: 'seconds' }, y: { field: 'depth', type: 'quantitative', title: 'messages' } },
        },
        ...eventLayers(events, false),
      ],
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `${result.spec.scenario}${result.spec.capacity ? ' (capacity)' : ''} — breakers ${result.spec.breakers}`, subtitle: result.description },
    background: 'white',
    config: { view: { continuousWidth: 720 }, legend: { orient: 'right' } },
    resolve: { scale: { color: 'independent' } },
    vconcat: panels.map((panel) => ({ width: 720, ...panel })),
  };
}

/** Breakers on vs off for one scenario: p99 per second and errors (5xx + no answer) per second; and capacities. */
export function comparisonSpec(on: RunResult, off: RunResult, capacities: readonly { label: string; throughput: number }[]): Spec {
  const seconds = Math.max(on.spec.durationMs, off.spec.durationMs) / 1000;
  const x = { type: 'quantitative', scale: { domain: [0, seconds + 1] }, title: 'seconds' } as const;
  const rows = (result: RunResult, breakers: string) =>
    result.perSecond.map((b) => ({
      t: b.second + 0.5,
      breakers,
      p99: b.p99 === null ? null : Math.max(0.1, b.p99),
      bad:
        b.slow +
        Object.entries(b.byStatus)
          .filter(([status]) => status === 'none' || status.startsWith('5'))
          .reduce((sum, [, count]) => sum + count, 0),
    }));
  const values = [...rows(on, 'on'), ...rows(off, 'off')];
  const events = on.events.map((e) => ({ t: e.atMs / 1000, label: e.label }));
  const colour = { field: 'breakers', type: 'nominal', scale: { domain: ['on', 'off'], range: ['#59a14f', '#e15759'] }, title: 'breakers' };
  const panels: Spec[] = [
    {
      title: { text: `${on.spec.scenario}: p99 latency per second (ms, log scale)`, fontSize: 11, anchor: 'start' },
      height: 200,
      layer: [
        {
          data: { values: values.filter((v) => v.p99 !== null) },
          mark: { type: 'line', point: { size: 14 } },
          encoding: { x: { field: 't', ...x }, y: { field: 'p99', type: 'quantitative', scale: { type: 'log' }, title: 'p99 ms' }, color: colour },
        },
        ...eventLayers(events, true),
      ],
    },
    {
      title: { text: `${on.spec.scenario}: orders per second answered 5xx, not answered, or after more than 1 s`, fontSize: 11, anchor: 'start' },
      height: 120,
      layer: [{ data: { values }, mark: { type: 'line', interpolate: 'step-after' }, encoding: { x: { field: 't', ...x }, y: { field: 'bad', type: 'quantitative', title: 'orders', axis: { format: 'd', tickMinStep: 1 }, scale: { domainMin: 0 } }, color: colour } }, ...eventLayers(events, false)],
    },
  ];
  if (capacities.length > 0) {
    const most = Math.max(...capacities.map((c) => c.throughput), 1);
    panels.push({
      title: { text: 'capacity (closed loop, 2xx answers per second)', fontSize: 11, anchor: 'start' },
      height: 20 * capacities.length,
      data: { values: capacities.map((c) => ({ ...c, throughput: Math.round(c.throughput) })) },
      layer: [
        {
          mark: 'bar',
          encoding: {
            y: { field: 'label', type: 'nominal', sort: null, title: null, axis: { labelLimit: 320 } },
            x: { field: 'throughput', type: 'quantitative', title: '2xx answers/s', scale: { domain: [0, most * 1.15] } },
            color: { value: '#4e79a7' },
          },
        },
        { mark: { type: 'text', align: 'left', dx: 3 }, encoding: { y: { field: 'label', type: 'nominal', sort: null }, x: { field: 'throughput', type: 'quantitative' }, text: { field: 'throughput' } } },
      ],
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Breakers on vs off', subtitle: `${on.spec.scenario}, ${on.spec.rate} orders/s, the same fault timeline` },
    background: 'white',
    config: { legend: { orient: 'top' } },
    resolve: { scale: { color: 'independent' } },
    vconcat: panels.map((panel) => ({ width: 720, ...panel })),
  };
}

// eslint-disable-next-line @typescript-eslint/no-implied-eval
const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<Record<string, unknown>>;

interface VegaModule {
  parse(spec: unknown): unknown;
  View: new (runtime: unknown, options: { renderer: string }) => { toSVG(): Promise<string>; finalize(): void };
}

export async function renderSvg(spec: Spec): Promise<string> {
  const vega = (await importEsm('vega')) as unknown as VegaModule;
  const vegaLite = (await importEsm('vega-lite')) as unknown as { compile(spec: unknown): { spec: unknown } };
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export function renderTimeline(result: RunResult): Promise<string> {
  return renderSvg(timelineSpec(result));
}
