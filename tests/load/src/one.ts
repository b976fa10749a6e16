import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LoadOptions } from './args';
import { renderTimeline } from './charts';
import { formatRun } from './report';
import { type RunResult, runOnce } from './run';
import { startSystem, type SystemUnderLoad, targetSystem, urlSystem } from './system';

/** One run on a system of its own (or the running one), saved as JSON + SVG and printed. */

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

export function runFileName(result: Pick<RunResult, 'spec'>): string {
  return `${result.spec.scenario}${result.spec.capacity ? '-capacity' : ''}-breakers-${result.spec.breakers}${result.spec.repeat === undefined ? '' : `-${result.spec.repeat}`}`;
}

export async function saveRun(result: RunResult, outDir: string): Promise<{ json: string; svg: string }> {
  mkdirSync(outDir, { recursive: true });
  const base = path.join(outDir, runFileName(result));
  writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(`${base}.svg`, await renderTimeline(result));
  return { json: `${base}.json`, svg: `${base}.svg` };
}

/** The services' output (warnings and errors only: LOG_LEVEL=warn) goes to bench-results/load/services.log (git-ignored). */
export function servicesLog(run: string): string {
  const dir = path.join(REPO_ROOT, 'bench-results', 'load');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'services.log');
  appendFileSync(file, `\n==== ${new Date().toISOString()} ${run}\n`);
  return file;
}

export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** One run on a system of its own (or the target), saved and printed. */
export async function runOne(options: LoadOptions, breakers: 'on' | 'off', overrides: Partial<Pick<LoadOptions, 'scenario' | 'capacity' | 'durationS'>> & { repeat?: number } = {}): Promise<RunResult> {
  const scenario = overrides.scenario ?? options.scenario;
  const capacity = overrides.capacity ?? options.capacity;
  const durationS = overrides.durationS ?? options.durationS;
  const outDir = path.resolve(REPO_ROOT, options.outDir);
  mkdirSync(outDir, { recursive: true });
  say(`\n${scenario}${capacity ? ' (capacity)' : ''}, breakers ${options.target ? '(as running)' : breakers}${overrides.repeat === undefined ? '' : `, run ${overrides.repeat}`}: starting`);
  const urls = options.targetUrls;
  if (urls !== null) say(`  target from the environment: checkout ${urls.checkout}; payment ${urls.payment}, inventory ${urls.inventory}, shipping ${urls.shipping}, notification ${urls.notification}`);
  let system: SystemUnderLoad;
  if (urls !== null) system = urlSystem(urls);
  else if (options.target) system = targetSystem();
  else system = await startSystem({ breakers, logFile: servicesLog(`${scenario}${capacity ? ' (capacity)' : ''}, breakers ${breakers}`), prefix: `load.${process.pid}.${Date.now()}.` });
  try {
    const result = await runOnce(
      system,
      { scenario, breakers: system.breakers, capacity, durationMs: durationS * 1000, rate: options.rate, connections: options.connections, settleMs: options.settleS * 1000, ...(overrides.repeat === undefined ? {} : { repeat: overrides.repeat }) },
      say,
    );
    const files = await saveRun(result, outDir);
    say(formatRun(result));
    say(`  → ${path.relative(REPO_ROOT, files.json)}, ${path.relative(REPO_ROOT, files.svg)}`);
    return result;
  } finally {
    await system.stop();
  }
}

