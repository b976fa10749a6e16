#!/usr/bin/env node
/*
 * Benchmark of @checkout/breaker against a bare await, opossum and cockatiel,
 * all measured in this one process, interleaved round by round, after warm-up;
 * each figure is the median over the rounds. Prints a table and writes JSON.
 *
 *   npm run bench:breaker                 (from the repository root)
 *   BENCH_ROUNDS=9 BENCH_CALLS=200000 npm run bench:breaker
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');
const ours = require('../dist');
const Opossum = require('opossum');
const cockatiel = require('cockatiel');

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const CALLS = Number(process.env.BENCH_CALLS ?? 200_000);
const OUT = process.env.BENCH_OUT ?? path.resolve(__dirname, '../../../bench-results/breaker.json');

// The same work for every contender: an async function that resolves at once.
const work = async () => 1;
// The same work, reading its cancellation signal as a well-behaved function does.
const workReadingSignal = async (ctx) => {
  if (ctx.signal.aborted) throw new Error('aborted');
  return 1;
};

function makeCases() {
  const countBreaker = new ours.CircuitBreaker({ name: 'count', window: { type: 'count', size: 100 } });
  const timeBreaker = new ours.CircuitBreaker({ name: 'time', window: { type: 'time', ms: 10_000 } });
  const timeoutBreaker = new ours.CircuitBreaker({ name: 'timeout', window: { type: 'count', size: 100 }, timeoutMs: 10_000 });
  const openBreaker = new ours.CircuitBreaker({ name: 'open', openMs: 3_600_000 });
  openBreaker.forceOpen();
  const trippedBreaker = new ours.CircuitBreaker({ name: 'tripped', window: { type: 'consecutive', failures: 1 }, openMs: 3_600_000 });
  trippedBreaker.execute(() => Promise.reject(new Error('trip'))).catch(() => {});

  const opossumTimeout = new Opossum(work, { timeout: 10_000, errorThresholdPercentage: 50, resetTimeout: 30_000 });
  const opossumNoTimeout = new Opossum(work, { timeout: false, errorThresholdPercentage: 50, resetTimeout: 30_000 });
  const opossumOpen = new Opossum(work, { timeout: false, resetTimeout: 3_600_000 });
  opossumOpen.open();

  const sampling = cockatiel.circuitBreaker(cockatiel.handleAll, {
    halfOpenAfter: 30_000,
    breaker: new cockatiel.SamplingBreaker({ threshold: 0.5, duration: 10_000, minimumRps: 5 }),
  });
  const consecutive = cockatiel.circuitBreaker(cockatiel.handleAll, { halfOpenAfter: 30_000, breaker: new cockatiel.ConsecutiveBreaker(5) });
  const cockatielTimeoutBreaker = cockatiel.wrap(
    cockatiel.timeout(10_000, cockatiel.TimeoutStrategy.Cooperative),
    cockatiel.circuitBreaker(cockatiel.handleAll, {
      halfOpenAfter: 30_000,
      breaker: new cockatiel.SamplingBreaker({ threshold: 0.5, duration: 10_000, minimumRps: 5 }),
    }),
  );
  const cockatielOpen = cockatiel.circuitBreaker(cockatiel.handleAll, { halfOpenAfter: 3_600_000, breaker: new cockatiel.ConsecutiveBreaker(1) });
  cockatielOpen.isolate();

  const swallow = (p) => p.then(undefined, () => {});
  return [
    { id: 'bare', label: 'bare await fn()', run: () => work() },
    { id: 'ours.count', label: 'ours, count window', run: () => countBreaker.execute(work) },
    { id: 'ours.time', label: 'ours, time window', run: () => timeBreaker.execute(work) },
    { id: 'ours.timeout', label: 'ours, timeoutMs, fn ignores signal', run: () => timeoutBreaker.execute(work) },
    { id: 'ours.timeout.signal', label: 'ours, timeoutMs, fn reads signal', run: () => timeoutBreaker.execute(workReadingSignal) },
    { id: 'ours.open', label: 'ours, rejection while OPEN', run: () => swallow(trippedBreaker.execute(work)) },
    { id: 'ours.forced', label: 'ours, rejection while FORCED_OPEN', run: () => swallow(openBreaker.execute(work)) },
    { id: 'opossum.timeout', label: 'opossum 9, timeout on', run: () => opossumTimeout.fire() },
    { id: 'opossum.notimeout', label: 'opossum 9, timeout off', run: () => opossumNoTimeout.fire() },
    { id: 'opossum.open', label: 'opossum 9, rejection while open', run: () => swallow(opossumOpen.fire()) },
    { id: 'cockatiel.sampling', label: 'cockatiel 3, sampling breaker', run: () => sampling.execute(work) },
    { id: 'cockatiel.consecutive', label: 'cockatiel 3, consecutive breaker', run: () => consecutive.execute(work) },
    { id: 'cockatiel.timeout.signal', label: 'cockatiel 3, sampling + timeout, fn reads signal', run: () => cockatielTimeoutBreaker.execute(workReadingSignal) },
    { id: 'cockatiel.open', label: 'cockatiel 3, rejection while isolated', run: () => swallow(cockatielOpen.execute(work)) },
  ];
}

async function measure(run, calls) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await run();
  return Number(process.hrtime.bigint() - start) / calls;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function heapPerBreaker(make, count = 10_000) {
  const gc = global.gc ?? vm.runInNewContext('gc');
  const keep = [];
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < count; i++) keep.push(make(i));
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  const perBreaker = (after - before) / count;
  keep.length = 0;
  return perBreaker;
}

async function main() {
  v8.setFlagsFromString('--expose-gc');
  const cases = makeCases();
  // Warm-up: let the JIT settle every path.
  for (const c of cases) await measure(c.run, Math.min(CALLS, 50_000));
  /**
   * Every case `rounds` times, interleaved in a rotating order so that drift on a shared machine
   * hits every contender alike: the samples by case and their medians (ns per call).
   */
  const interleaved = async (list, rounds, calls) => {
    const samples = Object.fromEntries(list.map((c) => [c.id, []]));
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < list.length; i++) {
        const c = list[(i + r) % list.length];
        samples[c.id].push(await measure(c.run, calls));
      }
    }
    return { samples, ns: Object.fromEntries(list.map((c) => [c.id, median(samples[c.id])])) };
  };
  const { samples, ns } = await interleaved(cases, ROUNDS, CALLS);

  // Reference, not a contender, measured apart so that it leaves the rounds above as they were:
  // the least any policy that hands the function an AbortSignal of its own per call can cost
  // (one AbortController, its signal read once), side by side with the two that do.
  const floor = { id: 'bare.signal', run: () => workReadingSignal({ signal: new AbortController().signal }) };
  const signalCases = [floor, ...cases.filter((c) => c.id === 'ours.timeout.signal' || c.id === 'cockatiel.timeout.signal')];
  const { samples: signalSamples, ns: signalNs } = await interleaved(signalCases, 5, Math.ceil(CALLS / 4));

  // Two more references, measured apart in the same way: the least that the mechanisms the
  // targets ask for can cost, with no bookkeeping at all.
  //  - floor.watch: the function's own promise returned, plus one reaction on it. Any breaker
  //    must see the outcome; with a promise that is at least one reaction.
  //  - floor.deadline: a promise of the caller's own, settled by one reaction on the function's
  //    promise. Any call that can be rejected at its deadline, whatever the function does,
  //    needs a promise the function does not hold.
  const noop = () => {};
  const promiseThen = Promise.prototype.then;
  let lastResolve = noop;
  let lastReject = noop;
  const capture = (resolve, reject) => {
    lastResolve = resolve;
    lastReject = reject;
  };
  const floorCases = [
    cases.find((c) => c.id === 'bare'),
    {
      id: 'floor.watch',
      run: () => {
        const p = work();
        promiseThen.call(p, noop, noop);
        return p;
      },
    },
    {
      id: 'floor.deadline',
      run: () => {
        const p = new Promise(capture);
        promiseThen.call(work(), lastResolve, lastReject);
        return p;
      },
    },
    ...cases.filter((c) => c.id === 'ours.count' || c.id === 'ours.timeout' || c.id === 'cockatiel.sampling'),
  ];
  const { samples: floorSamples, ns: floorNs } = await interleaved(floorCases, 5, Math.ceil(CALLS / 2));

  const heap = {
    'ours.count100': heapPerBreaker((i) => new ours.CircuitBreaker({ name: `b${i}`, window: { type: 'count', size: 100 } })),
    'ours.time': heapPerBreaker((i) => new ours.CircuitBreaker({ name: `b${i}`, window: { type: 'time', ms: 10_000 } })),
    'cockatiel.sampling': heapPerBreaker(() =>
      cockatiel.circuitBreaker(cockatiel.handleAll, { halfOpenAfter: 30_000, breaker: new cockatiel.SamplingBreaker({ threshold: 0.5, duration: 10_000 }) }),
    ),
    'opossum': heapPerBreaker(() => new Opossum(work, { timeout: 10_000 })),
  };

  const ratios = {
    'ours.count / bare': ns['ours.count'] / ns.bare,
    'ours.time / bare': ns['ours.time'] / ns.bare,
    'ours.timeout (fn ignores signal) / bare': ns['ours.timeout'] / ns.bare,
    'cockatiel.sampling / ours.count': ns['cockatiel.sampling'] / ns['ours.count'],
    'opossum.timeout / ours.count': ns['opossum.timeout'] / ns['ours.count'],
    'opossum.timeout / ours.timeout': ns['opossum.timeout'] / ns['ours.timeout'],
    'cockatiel.timeout.signal / ours.timeout.signal': ns['cockatiel.timeout.signal'] / ns['ours.timeout.signal'],
    // The best ratio a breaker that makes one AbortSignal per call could reach against cockatiel (apart phase).
    'cockatiel.timeout.signal / bare.signal': signalNs['cockatiel.timeout.signal'] / signalNs['bare.signal'],
    'cockatiel.timeout.signal / ours.timeout.signal (apart phase)': signalNs['cockatiel.timeout.signal'] / signalNs['ours.timeout.signal'],
    // The floors (floor phase): what no implementation of the mechanism can go below / above.
    'floor.deadline / bare': floorNs['floor.deadline'] / floorNs.bare,
    'ours.timeout / bare (floor phase)': floorNs['ours.timeout'] / floorNs.bare,
    'cockatiel.sampling / floor.watch': floorNs['cockatiel.sampling'] / floorNs['floor.watch'],
    'cockatiel.sampling / ours.count (floor phase)': floorNs['cockatiel.sampling'] / floorNs['ours.count'],
  };
  const targets = [
    ['closed call, no timeout ≤ 2× bare await', ratios['ours.count / bare'] <= 2, `${ratios['ours.count / bare'].toFixed(2)}×`],
    ['timeoutMs set, fn ignores signal ≤ 3× bare await', ratios['ours.timeout (fn ignores signal) / bare'] <= 3, `${ratios['ours.timeout (fn ignores signal) / bare'].toFixed(2)}×`],
    ['≥ 3× faster than cockatiel sampling breaker', ratios['cockatiel.sampling / ours.count'] >= 3, `${ratios['cockatiel.sampling / ours.count'].toFixed(2)}×`],
    ['≥ 10× faster than opossum with timeout on', ratios['opossum.timeout / ours.count'] >= 10, `${ratios['opossum.timeout / ours.count'].toFixed(2)}×`],
    ['timeout + fn reads signal: ≥ 5× faster than cockatiel breaker+timeout', ratios['cockatiel.timeout.signal / ours.timeout.signal'] >= 5, `${ratios['cockatiel.timeout.signal / ours.timeout.signal'].toFixed(2)}×`],
    ['open-state rejection ≤ 1 µs', ns['ours.open'] <= 1000, `${ns['ours.open'].toFixed(0)} ns`],
    ['≤ 2 KB heap per breaker (count window of 100)', heap['ours.count100'] <= 2048, `${heap['ours.count100'].toFixed(0)} B`],
  ];

  const pad = (s, n) => String(s).padEnd(n);
  console.log(`\n@checkout/breaker benchmark — node ${process.version}, ${ROUNDS} rounds × ${CALLS} sequential calls, median ns per call\n`);
  console.log(`| ${pad('case', 50)} | ${pad('ns/call', 9)} | ${pad('× bare', 7)} |`);
  console.log(`|${'-'.repeat(52)}|${'-'.repeat(11)}|${'-'.repeat(9)}|`);
  for (const c of cases) console.log(`| ${pad(c.label, 50)} | ${pad(ns[c.id].toFixed(1), 9)} | ${pad((ns[c.id] / ns.bare).toFixed(2), 7)} |`);
  console.log(`\nHeap per breaker (10,000 breakers):\n`);
  console.log(`| ${pad('breaker', 50)} | ${pad('bytes', 9)} |`);
  console.log(`|${'-'.repeat(52)}|${'-'.repeat(11)}|`);
  for (const [k, v] of Object.entries(heap)) console.log(`| ${pad(k, 50)} | ${pad(v.toFixed(0), 9)} |`);
  console.log(`\nTargets:\n`);
  console.log(`| ${pad('target', 70)} | ${pad('measured', 9)} | met |`);
  console.log(`|${'-'.repeat(72)}|${'-'.repeat(11)}|-----|`);
  for (const [t, ok, v] of targets) console.log(`| ${pad(t, 70)} | ${pad(v, 9)} | ${ok ? 'yes' : 'NO '} |`);
  console.log(`\nOne AbortSignal per call, measured apart (5 rounds × ${Math.ceil(CALLS / 4)} calls), median ns per call:\n`);
  console.log(`| ${pad('bare await fn(ctx), ctx.signal a new AbortSignal', 50)} | ${pad(signalNs['bare.signal'].toFixed(1), 9)} |`);
  console.log(`| ${pad('ours, timeoutMs, fn reads signal', 50)} | ${pad(signalNs['ours.timeout.signal'].toFixed(1), 9)} |`);
  console.log(`| ${pad('cockatiel 3, sampling + timeout, fn reads signal', 50)} | ${pad(signalNs['cockatiel.timeout.signal'].toFixed(1), 9)} |`);
  console.log(
    `\nCeiling of the cockatiel ratio for any breaker that makes one AbortSignal per call: ${ratios['cockatiel.timeout.signal / bare.signal'].toFixed(2)}× (ours in that phase: ${ratios['cockatiel.timeout.signal / ours.timeout.signal (apart phase)'].toFixed(2)}×)`,
  );

  console.log(`\nThe least the mechanisms cost, measured apart (5 rounds × ${Math.ceil(CALLS / 2)} calls), median ns per call:\n`);
  const floorLabels = {
    bare: 'bare await fn()',
    'floor.watch': 'fn\'s own promise + one reaction (watch floor)',
    'floor.deadline': 'own promise + one reaction (deadline floor)',
    'ours.count': 'ours, count window',
    'ours.timeout': 'ours, timeoutMs, fn ignores signal',
    'cockatiel.sampling': 'cockatiel 3, sampling breaker',
  };
  for (const c of floorCases) console.log(`| ${pad(floorLabels[c.id], 50)} | ${pad(floorNs[c.id].toFixed(1), 9)} | ${pad((floorNs[c.id] / floorNs.bare).toFixed(2), 7)} |`);
  console.log(
    `\nA deadline that rejects the caller costs at least ${ratios['floor.deadline / bare'].toFixed(2)}× a bare await (ours in that phase: ${ratios['ours.timeout / bare (floor phase)'].toFixed(2)}×).`,
  );
  console.log(
    `Against cockatiel's sampling breaker, a breaker that watches the outcome with one reaction can reach at most ${ratios['cockatiel.sampling / floor.watch'].toFixed(2)}× (ours in that phase: ${ratios['cockatiel.sampling / ours.count (floor phase)'].toFixed(2)}×).`,
  );

  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(
    OUT,
    JSON.stringify(
      { node: process.version, rounds: ROUNDS, callsPerRound: CALLS, nsPerCall: ns, samples, signalPhase: { nsPerCall: signalNs, samples: signalSamples }, floorPhase: { nsPerCall: floorNs, samples: floorSamples }, ratios, heapBytesPerBreaker: heap, targets: targets.map(([target, met, measured]) => ({ target, met, measured })) },
      null,
      2,
    ) + '\n',
  );
  console.log(`\nJSON written to ${path.relative(process.cwd(), OUT)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
