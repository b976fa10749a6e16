import path from 'node:path';
import { isAlive, type LauncherState, readState, stateFilePath } from '../launcher/state';
import { portVariable, type ServiceName, serviceSpec, TOPOLOGY } from '../topology';
import { type ChaosCommand, parseChaosArgs, USAGE, UsageError } from './args';
import {
  ChaosError,
  clearFaults,
  composeCommand,
  controlLauncher,
  formatTable,
  getFaults,
  launcherProcesses,
  putFaults,
  readCircuits,
  readHealth,
  readWorkerHealth,
  runCompose,
  summarizeFaults,
} from './client';

export interface ChaosIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/** Where things are: the running launcher's state file, else the topology's ports (Compose publishes the same). */
export interface ChaosContext {
  readonly token: string | undefined;
  readonly launcher: LauncherState | undefined;
  url(name: ServiceName): string;
}

export function chaosContext(env: NodeJS.ProcessEnv): ChaosContext {
  const state = readState(stateFilePath(env));
  const launcher = state !== undefined && isAlive(state.pid) ? state : undefined;
  const token = env.ADMIN_TOKEN || launcher?.adminToken || undefined;
  const host = launcher?.host ?? '127.0.0.1';
  return {
    token,
    launcher,
    url(name) {
      const override = env[portVariable(name)];
      const port = override ? Number(override) : (launcher?.ports[name] ?? serviceSpec(name).port);
      return `http://${host}:${port}`;
    },
  };
}

function needToken(context: ChaosContext): string {
  if (context.token === undefined) {
    throw new ChaosError('no admin token: set ADMIN_TOKEN (the one in .env for Compose), or run the local launcher (`npm start`), which stores the one it generates');
  }
  return context.token;
}

/** Runs one chaos command; resolves with the exit code. */
export async function runChaos(argv: readonly string[], env: NodeJS.ProcessEnv, io: ChaosIo, context: ChaosContext = chaosContext(env)): Promise<number> {
  let command: ChaosCommand;
  try {
    command = parseChaosArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`${error.message}\n\n${USAGE}`);
    return 2;
  }
  try {
    return await execute(command, env, io, context);
  } catch (error) {
    if (!(error instanceof ChaosError)) throw error;
    io.err(`${error.message}\n`);
    return 1;
  }
}

async function execute(command: ChaosCommand, env: NodeJS.ProcessEnv, io: ChaosIo, context: ChaosContext): Promise<number> {
  switch (command.kind) {
    case 'help':
      io.out(USAGE);
      return 0;
    case 'faults': {
      const snapshot = await putFaults(context.url(command.service), needToken(context), command.settings);
      io.out(`${command.service}: faults ${summarizeFaults(snapshot)}\n`);
      return 0;
    }
    case 'clear': {
      await clearFaults(context.url(command.service), needToken(context));
      io.out(`${command.service}: faults cleared\n`);
      return 0;
    }
    case 'process': {
      if (command.compose) {
        const compose = composeCommand(env);
        return await runCompose(compose, command.action, command.service, REPO_ROOT);
      }
      if (context.launcher === undefined) {
        throw new ChaosError('no local launcher is running (start one with `npm start`); for Docker Compose add --compose');
      }
      const info = await controlLauncher(context.launcher.controlUrl, needToken(context), command.action, command.service);
      io.out(`${command.service}: ${info.status}${info.pid === null ? '' : ` (pid ${info.pid})`}\n`);
      return 0;
    }
    case 'status':
      io.out(`${await status(context)}\n`);
      return 0;
  }
}

async function status(context: ChaosContext): Promise<string> {
  let processes: Record<string, { status: string; pid: number | null }> | undefined;
  if (context.launcher !== undefined && context.token !== undefined) {
    processes = await launcherProcesses(context.launcher.controlUrl, context.token).catch(() => undefined);
  }
  const rows = await Promise.all(
    TOPOLOGY.map(async (spec) => {
      const url = spec.port === null ? '' : context.url(spec.name);
      const health = spec.health === null ? await readWorkerHealth(context.url('checkout')) : await readHealth(url, spec.health.ready);
      let faults = '-';
      if (spec.faults) {
        faults = await getFaults(url, context.token).then(summarizeFaults, (error: Error) => `? (${error.message})`);
      }
      const process = processes?.[spec.name];
      return [spec.name, process === undefined ? '-' : `${process.status}${process.pid === null ? '' : ` ${process.pid}`}`, url || '-', health, faults];
    }),
  );
  const lines = [formatTable([['SERVICE', 'PROCESS', 'URL', 'HEALTH', 'FAULTS'], ...rows])];
  try {
    const circuits = await readCircuits(context.url('checkout'));
    const circuitRows = Object.entries(circuits).map(([name, snapshot]) => [
      name,
      snapshot.state ?? '?',
      typeof snapshot.failureRate === 'number' ? `${Math.round(snapshot.failureRate * 100)}%` : '-',
      typeof snapshot.rejected === 'number' ? String(snapshot.rejected) : '-',
    ]);
    lines.push('', formatTable([['CIRCUIT', 'STATE', 'FAILURE RATE', 'REJECTED'], ...circuitRows]));
  } catch (error) {
    lines.push('', `circuits: checkout does not answer (${(error as Error).message})`);
  }
  return lines.join('\n');
}

