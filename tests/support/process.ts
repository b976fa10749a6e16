/**
 * Real service processes (`node services/<name>/dist/main.js`, and checkout's second entry point
 * `node services/checkout/dist/worker.js`) on free ports, with their output captured.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '@checkout/infra/dist/launcher/ports';
import { send } from './http';
import { waitFor } from './world';

export const ROOT = join(__dirname, '..', '..');
export type StubName = 'payment' | 'inventory' | 'shipping' | 'notification';
export const STUBS: readonly StubName[] = ['payment', 'inventory', 'shipping', 'notification'];
export type ServiceName = StubName | 'checkout';

/** `npx tsc -b services/<name>…` (and what they reference): the dist is what the processes run. */
export function buildServices(names: readonly ServiceName[]): void {
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', ...names.map((name) => join(ROOT, 'services', name))], {
      cwd: ROOT,
      stdio: 'pipe',
      timeout: 180_000,
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`tsc -b ${names.join(' ')} failed:\n${String(stdout ?? '')}${String(stderr ?? '')}`.slice(0, 4_000));
  }
}

/** `npx tsc -b services/<stub>…`. */
export function buildStubs(names: readonly StubName[] = STUBS): void {
  buildServices(names);
}

export { freePort };

/** One JSON line of a service's log (the kit's winston format). */
export interface LogEntry {
  message: string;
  level?: string;
  timestamp?: string;
  [field: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Epoch ms. */
  at: number;
}

export interface NodeProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Everything written to stdout and stderr, in order. */
  readonly output: string[];
  /** Resolves once the process has exited and all it wrote has been read: the exit code (or the signal's name) and when it exited. */
  readonly exited: Promise<Exit>;
  /** True once the process has exited. */
  readonly hasExited: boolean;
  /** The JSON log lines written so far, parsed (other lines are skipped). */
  entries(): LogEntry[];
  /** Waits until a log line with this message (and, optionally, passing `where`) appears; returns it. */
  waitForLog(message: string, options?: { timeoutMs?: number; where?: (entry: LogEntry) => boolean }): Promise<LogEntry>;
  /** The last `chars` characters of the output (for failure messages). */
  tail(chars?: number): string;
  /** SIGKILL if still running (cleanup). */
  kill(): void;
}

export interface ServiceProcess extends NodeProcess {
  readonly port: number;
  readonly url: string;
  /** Waits until `GET /health/ready` is 200. */
  ready(timeoutMs?: number): Promise<void>;
}

function spawnNode(name: string, script: string, env: Record<string, string>): NodeProcess {
  const child = spawn(process.execPath, [script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
  let hasExited = false;
  let exitedAt = 0;
  child.once('exit', () => {
    hasExited = true;
    exitedAt = Date.now();
  });
  // Resolved on 'close', not 'exit': 'exit' can come before the last lines the process wrote
  // have been read from its pipes, and a test reading entries() then would miss them.
  const exited = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, at: exitedAt || Date.now() })));
  const entries = (): LogEntry[] => {
    const parsed: LogEntry[] = [];
    for (const line of output.join('').split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        parsed.push(JSON.parse(line) as LogEntry);
      } catch {
        // a line cut in the middle (still being written)
      }
    }
    return parsed;
  };
  const tail = (chars = 800): string => output.join('').slice(-chars);
  return {
    name,
    child,
    output,
    exited,
    get hasExited() {
      return hasExited;
    },
    entries,
    tail,
    async waitForLog(message, options = {}) {
      let found: LogEntry | undefined;
      try {
        await waitFor(
          () => {
            found = entries().find((entry) => entry.message === message && (options.where?.(entry) ?? true));
            return found !== undefined || hasExited;
          },
          { timeoutMs: options.timeoutMs ?? 15_000, intervalMs: 50, message: `${name} logged "${message}"` },
        );
      } catch (error) {
        throw new Error(`${(error as Error).message}; output: ${tail()}`);
      }
      if (found === undefined) throw new Error(`${name} exited before logging "${message}" (output: ${tail()})`);
      return found;
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** `node services/<name>/dist/main.js` on a free port of 127.0.0.1. */
export async function spawnService(name: ServiceName, env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  const node = spawnNode(name, join(ROOT, 'services', name, 'dist', 'main.js'), { HOST: '127.0.0.1', ...env, PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  return Object.assign(node, {
    port,
    url,
    async ready(timeoutMs = 15_000) {
      try {
        await waitFor(async () => (await send(url, { method: 'GET', path: '/health/ready' }, 1_000)).status === 200, { timeoutMs, intervalMs: 50, message: `${name} ready on ${port}` });
      } catch (error) {
        throw new Error(`${(error as Error).message}; output: ${node.tail(500)}`);
      }
    },
  });
}

/** A stub as a real process (same as `spawnService`). */
export function spawnStub(name: StubName, env: Record<string, string>): Promise<ServiceProcess> {
  return spawnService(name, env);
}

/** The payment-retry worker as a real process: `node services/checkout/dist/worker.js` (no port: it serves nothing). */
export function spawnWorker(env: Record<string, string>, name = 'checkout-worker'): NodeProcess {
  return spawnNode(name, join(ROOT, 'services', 'checkout', 'dist', 'worker.js'), env);
}
