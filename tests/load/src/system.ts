import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clearFaults, controlLauncher, putFaults } from '@checkout/infra/dist/chaos/client';
import { checkBroker } from '@checkout/infra/dist/launcher/broker';
import { freePort } from '@checkout/infra/dist/launcher/ports';
import { buildServiceEnv, type LaunchSettings, readSettings, serviceUrl } from '@checkout/infra/dist/launcher/env';
import { readState, stateFilePath } from '@checkout/infra/dist/launcher/state';
import { type ChildLike, Supervisor } from '@checkout/infra/dist/launcher/supervisor';
import { portVariable, serviceSpec, type ServiceName, TOPOLOGY } from '@checkout/infra/dist/topology';
import { connect } from '@checkout/messaging';
import type { Action, StubName } from './scenarios';
import type { TargetUrls } from './target';

/**
 * The system under load: started here with the launcher's own modules (topology, settings,
 * environments, supervisor, broker check) on free ports, under an AMQP prefix of its own —
 * or the one `npm start` runs (`--target`, through its state file and control server), or one
 * given by URLs (`--target` with CHECKOUT_URL … from the environment: the Compose checkout),
 * which has no process control.
 */

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * What the started checkout is given on top of its defaults, so that a 25 s run shows the
 * whole cycle: open periods of 5 s (default 10–60 s), retry tiers of 1 s, 2 s, 4 s (default
 * 5 s, 30 s, 2 min), and payment's slow-call threshold at 150 ms (default 1 500 ms). Deadlines,
 * the other thresholds and the bulkheads stay at their defaults.
 */
export const LOAD_ENV: Readonly<Record<string, string>> = {
  LOG_LEVEL: 'warn',
  PAYMENT_OPEN_MS: '5000',
  INVENTORY_OPEN_MS: '5000',
  SHIPPING_OPEN_MS: '5000',
  NOTIFICATION_OPEN_MS: '5000',
  // Slow above 150 ms instead of 1 500 ms (the stub answers in ~1 ms; its p99 under this load
  // stays well below 100 ms). A hung call counts as slow once it has run that long, and the
  // window (20 calls) still holds the 20 fast calls before the fault: half of the calls are
  // slow once 20 hung calls are in flight, 20 / 30 orders/s = 0.67 s after the fault, + the
  // threshold. With the default the threshold alone is 1.5 s: open within 1 s is impossible.
  PAYMENT_SLOW_CALL_MS: '150',
  RETRY_TIERS: '1s,2s,4s',
  RETRY_MAX_ATTEMPTS: '6',
  // The load measures checkout and its dependencies, not the per-address rate limit.
  RATE_LIMIT_PER_MINUTE: '100000000',
};

export interface SystemUnderLoad {
  readonly checkoutUrl: string;
  readonly breakers: 'on' | 'off' | 'unknown';
  /** Whether `kill`/`start` actions can be applied; without, the run substitutes fault switches (target.ts). */
  readonly processControl: boolean;
  stubUrl(name: StubName): string;
  apply(action: Action): Promise<void>;
  stop(): Promise<void>;
}


async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what}: not ready after ${timeoutMs} ms`);
}

async function answers(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
  await res.arrayBuffer();
  return res.ok;
}

function makeApply(settings: { token: string; url: (name: StubName) => string; processes: (kind: 'kill' | 'start', name: StubName) => Promise<void> }) {
  return async (action: Action): Promise<void> => {
    switch (action.kind) {
      case 'kill':
      case 'start':
        await settings.processes(action.kind, action.service);
        if (action.kind === 'start') await waitUntil(() => answers(`${settings.url(action.service)}/health/live`), 15_000, action.service);
        return;
      case 'faults':
        await putFaults(settings.url(action.service), settings.token, action.settings);
        return;
      case 'clear':
        await clearFaults(settings.url(action.service), settings.token);
        return;
    }
  };
}

/** Starts the six processes as `npm start` does, with `LOAD_ENV` and `BREAKERS`, logs to `logFile`. */
export async function startSystem(options: { breakers: 'on' | 'off'; logFile: string; prefix: string }): Promise<SystemUnderLoad> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...LOAD_ENV, BREAKERS: options.breakers, AMQP_PREFIX: options.prefix, NO_COLOR: '1' };
  // Checkout's journal of its own: never the one of a system `npm start` runs beside it.
  env.DATA_DIR = mkdtempSync(path.join(os.tmpdir(), 'load-checkout-data-'));
  delete env.ADMIN_TOKEN;
  for (const spec of TOPOLOGY) if (spec.port !== null) env[portVariable(spec.name)] = String(await freePort());
  const settings: LaunchSettings = readSettings(env);
  const broker = await checkBroker(settings.amqpUrl);
  if (!broker.ok) throw new Error(`RabbitMQ does not answer at AMQP_URL (${broker.reason}); start one (docker compose up -d rabbitmq)`);

  const log = openSync(options.logFile, 'a');
  const supervisor = new Supervisor({
    names: TOPOLOGY.map((spec) => spec.name),
    stopTimeoutMs: 5_000,
    spawn: (name): ChildLike => {
      const spec = serviceSpec(name as ServiceName);
      return spawn(process.execPath, [spec.entry], {
        cwd: path.join(REPO_ROOT, spec.workspace),
        env: buildServiceEnv(spec, settings, env),
        stdio: ['ignore', log, log],
      });
    },
  });
  const stopAll = async (): Promise<void> => {
    await supervisor.stopAll();
    closeSync(log);
    const connection = await connect(settings.amqpUrl, {
      prefix: options.prefix,
      tiers: LOAD_ENV.RETRY_TIERS!.split(','),
      waitForConnect: true,
      signal: AbortSignal.timeout(5_000),
    }).catch(() => undefined);
    if (connection !== undefined) {
      await connection.deleteTopology().catch(() => undefined);
      await connection.close({ timeoutMs: 1_000 }).catch(() => undefined);
    }
  };
  const onExit = (): void => {
    for (const info of supervisor.list()) if (info.pid !== null && info.status === 'running') process.kill(info.pid, 'SIGKILL');
  };
  process.once('exit', onExit);
  for (const spec of TOPOLOGY) supervisor.start(spec.name);

  const url = (name: ServiceName): string => serviceUrl(settings, name);
  try {
    for (const spec of TOPOLOGY) {
      if (spec.health === null) continue;
      await waitUntil(() => answers(`${url(spec.name)}${spec.name === 'checkout' ? spec.health!.ready : spec.health!.live}`), 30_000, spec.name);
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  await new Promise((resolve) => setTimeout(resolve, 500)); // the worker's consumer
  return {
    checkoutUrl: url('checkout'),
    breakers: options.breakers,
    processControl: true,
    stubUrl: url,
    apply: makeApply({
      token: settings.adminToken,
      url,
      processes: async (kind, name) => {
        if (kind === 'kill') await supervisor.kill(name);
        else supervisor.start(name);
      },
    }),
    stop: async () => {
      process.removeListener('exit', onExit);
      await stopAll();
    },
  };
}

/** The system `npm start` runs: its state file says where; the token from ADMIN_TOKEN or the file. */
export function targetSystem(): SystemUnderLoad {
  const file = stateFilePath();
  const state = readState(file);
  if (state === undefined) throw new Error(`no running launcher (${file}): run \`npm start\` first, or drop --target`);
  const token = process.env.ADMIN_TOKEN || state.adminToken;
  if (token === undefined) throw new Error('ADMIN_TOKEN is needed (the launcher was given one)');
  const url = (name: ServiceName): string => {
    const port = state.ports[name];
    if (port === null || port === undefined) throw new Error(`${name} has no port`);
    return `http://${state.host}:${port}`;
  };
  return {
    checkoutUrl: url('checkout'),
    breakers: 'unknown',
    processControl: true,
    stubUrl: url,
    apply: makeApply({
      token,
      url,
      processes: async (kind, name) => {
        await controlLauncher(state.controlUrl, token, kind, name);
      },
    }),
    stop: async () => undefined,
  };
}

/**
 * A running system given by its URLs (`--target` with CHECKOUT_URL, PAYMENT_URL, … and
 * ADMIN_TOKEN from the environment: the Compose `load` service). Fault switches only: there is
 * no launcher to kill or start a process, so a kill or start reaching `apply` is an error (the
 * run replaces them by the `reset` switch and its clearing beforehand, and says so).
 */
export function urlSystem(urls: TargetUrls): SystemUnderLoad {
  const url = (name: StubName): string => urls[name];
  return {
    checkoutUrl: urls.checkout,
    breakers: 'unknown',
    processControl: false,
    stubUrl: url,
    apply: makeApply({
      token: urls.adminToken,
      url,
      processes: async (kind, name) => {
        throw new Error(`cannot ${kind} ${name}: a target given by URLs has no process control (use the reset fault switch)`);
      },
    }),
    stop: async () => undefined,
  };
}
