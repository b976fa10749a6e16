import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect } from '@checkout/messaging';
import { freePort } from './launcher/ports';
import { repoFile } from './testing.test.util';
import { DEFAULT_AMQP_URL, portVariable, TOPOLOGY } from './topology';

/** Runs the compiled launcher (infra/dist/launcher.js) as `npm start` would, on free ports. */

export const LAUNCHER = repoFile('infra/dist/launcher.js');
export const AMQP_URL = process.env.AMQP_URL ?? DEFAULT_AMQP_URL;

export { freePort };

export interface Run {
  child: ChildProcess;
  env: NodeJS.ProcessEnv;
  output: () => string;
  waitFor: (text: string | RegExp, timeoutMs?: number) => Promise<void>;
  exited: Promise<number | null>;
}

export async function launch(extraEnv: NodeJS.ProcessEnv, stateFile: string, prefix: string): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', LOG_LEVEL: 'warn', AMQP_URL, AMQP_PREFIX: prefix, DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'launcher-checkout-data-')), LAUNCHER_STATE_FILE: stateFile, STOP_TIMEOUT_MS: '10000', ...extraEnv };
  delete env.ADMIN_TOKEN;
  if (extraEnv.ADMIN_TOKEN !== undefined) env.ADMIN_TOKEN = extraEnv.ADMIN_TOKEN;
  for (const spec of TOPOLOGY) if (spec.port !== null) env[portVariable(spec.name)] = String(await freePort());
  const child = spawn(process.execPath, [LAUNCHER], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const waiters = new Set<() => void>();
  const append = (chunk: Buffer) => {
    text += chunk.toString('utf8');
    for (const check of [...waiters]) check();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = (expected: string | RegExp, timeoutMs = 30_000) =>
    new Promise<void>((resolve, reject) => {
      const found = () => (typeof expected === 'string' ? text.includes(expected) : expected.test(text));
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`launcher output has no ${String(expected)} after ${timeoutMs} ms:\n${text}`));
      }, timeoutMs);
      const check = () => {
        if (!found()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      check();
    });
  return { child, env, output: () => text, waitFor, exited };
}

export async function health(url: string): Promise<number | string> {
  try {
    return (await fetch(`${url}/health/live`, { signal: AbortSignal.timeout(2_000) })).status;
  } catch (error) {
    return (error as { cause?: { code?: string } }).cause?.code ?? 'error';
  }
}

/** SIGTERM to a launcher a failed test left running (so that it stops its services), SIGKILL after 15 s. */
export async function stopLauncher(run: Run): Promise<void> {
  if (run.child.exitCode !== null || run.child.signalCode !== null) return;
  run.child.kill('SIGTERM');
  const timer = setTimeout(() => run.child.kill('SIGKILL'), 15_000);
  await run.exited;
  clearTimeout(timer);
}

/** Deletes the exchanges and queues the services declared under a test's prefix. */
export async function deleteQueues(prefix: string, tiers?: string[]): Promise<void> {
  const connection = await connect(AMQP_URL, { prefix, ...(tiers ? { tiers } : {}), waitForConnect: true, signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  if (connection === undefined) return;
  await connection.deleteTopology().catch(() => undefined);
  await connection.close({ timeoutMs: 1_000 });
}
