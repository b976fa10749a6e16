/** Real service processes (`node services/<name>/dist/main.js`) on free ports, with their output captured. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { send } from './http';
import { waitFor } from './world';

export const ROOT = join(__dirname, '..', '..');
export type StubName = 'payment' | 'inventory' | 'shipping' | 'notification';
export const STUBS: readonly StubName[] = ['payment', 'inventory', 'shipping', 'notification'];

/** `npx tsc -b services/<name>…`: the stubs' dist is what the processes run. */
export function buildStubs(names: readonly StubName[] = STUBS): void {
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', ...names.map((name) => join(ROOT, 'services', name))], {
    cwd: ROOT,
    stdio: 'pipe',
    timeout: 180_000,
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ServiceProcess {
  readonly name: StubName;
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  /** Everything written to stdout and stderr, in order. */
  readonly output: string[];
  /** Resolves with the exit code (or the signal's name) and when it happened. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  ready(timeoutMs?: number): Promise<void>;
  /** SIGKILL if still running (cleanup). */
  kill(): void;
}

export async function spawnStub(name: StubName, env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'services', name, 'dist', 'main.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const url = `http://127.0.0.1:${port}`;
  return {
    name,
    child,
    port,
    url,
    output,
    exited,
    async ready(timeoutMs = 15_000) {
      await waitFor(async () => (await send(url, { method: 'GET', path: '/health/ready' }, 1_000)).status === 200, {
        timeoutMs,
        intervalMs: 50,
        message: `${name} ready on ${port} (output: ${output.join('').slice(-500)})`,
      });
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
