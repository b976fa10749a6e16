import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { brokerHelp, checkBroker, redactUrl } from './launcher/broker';
import { type ControlServer, startControlServer } from './launcher/control';
import { buildServiceEnv, type LaunchSettings, readSettings, serviceUrl, SettingsError } from './launcher/env';
import { LineSplitter, prefixLines, shouldColour } from './launcher/lines';
import { isAlive, leftoverChildren, readState, removeState, stateFilePath, writeState } from './launcher/state';
import { type ChildLike, Supervisor, type SupervisorEvent } from './launcher/supervisor';
import { CIRCUITS_PATH, DASHBOARD_PATH, serviceSpec, type ServiceName, TOPOLOGY } from './topology';

/**
 * `npm start`: runs checkout, the payment-retry worker and the four stubs as local processes
 * (no Docker), their log lines prefixed by service. Ctrl-C or SIGTERM stops them all
 * gracefully. A child that dies is reported and stays down; `npm run chaos -- start <name>`
 * brings it back (through the control server on 127.0.0.1).
 */

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const USAGE = `Usage: npm start            (builds, then runs every service; Ctrl-C stops them)

Environment:
  AMQP_URL                 RabbitMQ (default amqp://guest:guest@127.0.0.1:5672)
  ADMIN_TOKEN              token of the stubs' /admin/faults and of the launcher's control server
                           (generated and printed once when unset)
  <SERVICE>_PORT           port of a service, e.g. CHECKOUT_PORT=4000 PAYMENT_PORT=4001
  LOG_LEVEL                the services' log level (info; http adds an access log)
  LAUNCHER_CONTROL_PORT    port of the control server (default: any free port)
  STOP_TIMEOUT_MS          how long a service may drain after SIGTERM before SIGKILL (15000)
`;

const NAME_WIDTH = Math.max(...TOPOLOGY.map((spec) => spec.name.length), 'launcher'.length);

function main(): void {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  if (args.length > 0) {
    process.stderr.write(`Unknown argument: ${args[0]}\n\n${USAGE}`);
    process.exit(2);
  }
  void run().catch((error: unknown) => {
    process.stderr.write(`launcher failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}

async function run(): Promise<void> {
  const colour = shouldColour(process.stdout.isTTY, process.env);
  const say = (line: string): void => {
    process.stdout.write(prefixLines('launcher', [line], { width: NAME_WIDTH, colour: 1, useColour: colour }));
  };

  let settings: LaunchSettings;
  try {
    settings = readSettings(process.env);
  } catch (error) {
    if (error instanceof SettingsError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }

  const missing = TOPOLOGY.map((spec) => path.join(REPO_ROOT, spec.workspace, spec.entry)).filter((file) => !existsSync(file));
  if (missing.length > 0) {
    process.stderr.write(`Not built yet: ${missing.map((file) => path.relative(REPO_ROOT, file)).join(', ')}\nRun \`npm start\` (it builds first) or \`npm run build\`.\n`);
    process.exit(1);
  }

  const stateFile = stateFilePath();
  const previous = readState(stateFile);
  if (previous !== undefined && isAlive(previous.pid)) {
    process.stderr.write(`A launcher is already running (pid ${previous.pid}, ${stateFile}): stop it first (Ctrl-C in its terminal, or kill ${previous.pid}).\n`);
    process.exit(1);
  }
  if (previous !== undefined) {
    const cwdFor = (name: string): string => path.join(REPO_ROOT, serviceSpec(name as ServiceName).workspace);
    const leftovers = leftoverChildren(previous, cwdFor);
    for (const { name, pid } of leftovers) {
      process.stdout.write(`The previous launcher (pid ${previous.pid}) died without stopping ${name} (pid ${pid}): stopping it now.\n`);
      process.kill(pid, 'SIGTERM');
    }
    // Their ports must be free before the new services start.
    const deadline = Date.now() + 15_000;
    while (leftovers.some(({ pid }) => isAlive(pid)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    for (const { pid } of leftovers) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }

  const broker = await checkBroker(settings.amqpUrl);
  if (!broker.ok) {
    process.stderr.write(`${brokerHelp(settings.amqpUrl, broker.reason)}\n`);
    process.exit(1);
  }

  const stopTimeoutMs = Number(process.env.STOP_TIMEOUT_MS) > 0 ? Number(process.env.STOP_TIMEOUT_MS) : 15_000;
  let shuttingDown = false;
  const children = new Set<ReturnType<typeof spawn>>();

  let stateSaver: () => void = () => undefined;
  const report = (event: SupervisorEvent): void => {
    stateSaver();
    if (event.type === 'started') {
      say(`${event.name} started (pid ${event.pid ?? '?'})`);
      return;
    }
    const how = event.signal !== null ? `signal ${event.signal}` : `code ${event.code}`;
    if (event.reason === 'crashed' && !shuttingDown) {
      say(`✖ ${event.name} exited by itself (${how}); it stays down: npm run chaos -- start ${event.name}`);
    } else if (event.reason === 'killed') {
      say(`✖ ${event.name} was killed (${how}); it stays down: npm run chaos -- start ${event.name}`);
    } else {
      say(`${event.name} stopped (${how})`);
    }
  };

  const supervisor = new Supervisor({
    names: TOPOLOGY.map((spec) => spec.name),
    stopTimeoutMs,
    onEvent: report,
    spawn: (name): ChildLike => {
      const spec = serviceSpec(name as ServiceName);
      // detached: a child gets its own process group, so the terminal's Ctrl-C reaches only the
      // launcher, which then sends one SIGTERM (a second signal makes the kit's services exit at once).
      const child = spawn(process.execPath, [spec.entry], {
        cwd: path.join(REPO_ROOT, spec.workspace),
        env: buildServiceEnv(spec, settings, process.env),
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      children.add(child);
      child.once('exit', () => children.delete(child));
      const options = { width: NAME_WIDTH, colour: spec.colour, useColour: colour };
      for (const stream of [child.stdout, child.stderr]) {
        const lines = new LineSplitter();
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => process.stdout.write(prefixLines(spec.name, lines.push(chunk), options)));
        stream.on('end', () => process.stdout.write(prefixLines(spec.name, lines.flush(), options)));
      }
      child.on('error', (error) => say(`${spec.name} could not be started: ${error.message}`));
      return child;
    },
  });

  // Children live in their own process groups: make sure none outlives a launcher that ends abruptly.
  process.on('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });

  const control: ControlServer = await startControlServer(supervisor, { token: settings.adminToken, port: settings.controlPort });
  const startedAt = new Date().toISOString();
  const saveState = (): void => {
    if (shuttingDown) return;
    const running = supervisor.list().filter((info) => info.pid !== null && (info.status === 'running' || info.status === 'stopping'));
    writeState(stateFile, {
      pid: process.pid,
      controlUrl: control.url,
      host: settings.host,
      ports: settings.ports,
      ...(settings.tokenGenerated ? { adminToken: settings.adminToken } : {}),
      startedAt,
      children: Object.fromEntries(running.map((info) => [info.name, info.pid!])),
    });
  };
  stateSaver = saveState;
  saveState();

  let firstSignalAt = 0;
  const stop = (signal: string): void => {
    // The same Ctrl-C often arrives twice (from the terminal and forwarded by npm): only a
    // signal well after the first one means "stop now".
    if (shuttingDown && Date.now() - firstSignalAt < 1_500) return;
    if (shuttingDown) {
      say(`${signal} again: killing everything now`);
      for (const child of children) child.kill('SIGKILL');
      process.exit(1);
    }
    shuttingDown = true;
    firstSignalAt = Date.now();
    say(`${signal}: stopping every service (SIGTERM, then SIGKILL after ${stopTimeoutMs} ms)`);
    void (async () => {
      await supervisor.stopAll();
      await control.close();
      removeState(stateFile, process.pid);
      say('all stopped');
      process.exit(0);
    })();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => stop('SIGHUP')); // the terminal closed: the children are in other process groups

  say(`RabbitMQ answers at ${redactUrl(settings.amqpUrl)}`);
  for (const spec of TOPOLOGY) supervisor.start(spec.name);

  const checkout = serviceUrl(settings, 'checkout');
  say(`checkout   ${checkout}`);
  say(`dashboard  ${checkout}${DASHBOARD_PATH}`);
  say(`circuits   ${checkout}${CIRCUITS_PATH}`);
  say('chaos      npm run chaos -- status | kill payment | inventory errors 0.5 | shipping hang | payment clear');
  if (settings.tokenGenerated) {
    say(`admin token (generated for this run, shown once; set ADMIN_TOKEN to choose one): ${settings.adminToken}`);
  } else {
    say('admin token: the ADMIN_TOKEN of your environment');
  }
  say('Ctrl-C stops everything');

  const answering = await waitForHealth(settings, 30_000, () => shuttingDown);
  if (!shuttingDown) {
    const silent = TOPOLOGY.filter((spec) => spec.health !== null && !answering.includes(spec.name)).map((spec) => spec.name);
    say(silent.length === 0 ? `ready: every service answers ${'/health/live'}` : `not answering after 30 s: ${silent.join(', ')}`);
  }
}

/** Polls /health/live of every HTTP service until all answer or the deadline passes; returns those that answered. */
async function waitForHealth(settings: LaunchSettings, deadlineMs: number, cancelled: () => boolean): Promise<ServiceName[]> {
  const pending = new Set(TOPOLOGY.filter((spec) => spec.health !== null).map((spec) => spec.name));
  const answered: ServiceName[] = [];
  const end = Date.now() + deadlineMs;
  while (pending.size > 0 && Date.now() < end && !cancelled()) {
    await Promise.all(
      [...pending].map(async (name) => {
        try {
          const res = await fetch(`${serviceUrl(settings, name)}${serviceSpec(name).health!.live}`, { signal: AbortSignal.timeout(1_000) });
          if (res.ok) {
            pending.delete(name);
            answered.push(name);
          }
        } catch {
          // not up yet
        }
      }),
    );
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return answered;
}

main();
