/**
 * Bookkeeping of the launcher's children: which runs, which was stopped or killed on purpose,
 * which died by itself. A child that dies is reported and left down (killing one is the
 * point of the exercise); only an explicit `start`/`restart` brings it back.
 */

export type ProcessStatus = 'running' | 'stopping' | 'stopped' | 'killed' | 'exited';

/** What the supervisor needs of a child process (node's ChildProcess has it). */
export interface ChildLike {
  readonly pid?: number | undefined;
  kill(signal?: NodeJS.Signals): boolean;
  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
}

export interface ProcessInfo {
  readonly name: string;
  readonly status: ProcessStatus;
  readonly pid: number | null;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly restarts: number;
}

export type SupervisorEvent =
  | { readonly type: 'started'; readonly name: string; readonly pid: number | null }
  | {
      readonly type: 'exited';
      readonly name: string;
      readonly code: number | null;
      readonly signal: NodeJS.Signals | null;
      /** `stopped`/`killed`: asked for; `crashed`: it died by itself. */
      readonly reason: 'stopped' | 'killed' | 'crashed';
    };

export interface SupervisorOptions {
  readonly names: readonly string[];
  readonly spawn: (name: string) => ChildLike;
  readonly onEvent?: (event: SupervisorEvent) => void;
  /** How long a child may drain after SIGTERM before it gets SIGKILL. */
  readonly stopTimeoutMs: number;
}

export class SupervisorError extends Error {
  override readonly name = 'SupervisorError';
  constructor(
    message: string,
    /** HTTP status the control server answers with. */
    readonly status: 404 | 409,
  ) {
    super(message);
  }
}

interface Entry {
  status: ProcessStatus;
  child: ChildLike | null;
  pid: number | null;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  intent: 'none' | 'stop' | 'kill';
  exited: Promise<void>;
  starts: number;
}

export class Supervisor {
  readonly #entries = new Map<string, Entry>();
  readonly #options: SupervisorOptions;

  constructor(options: SupervisorOptions) {
    this.#options = options;
    for (const name of options.names) {
      this.#entries.set(name, { status: 'stopped', child: null, pid: null, exitCode: null, signal: null, intent: 'none', exited: Promise.resolve(), starts: 0 });
    }
  }

  #entry(name: string): Entry {
    const entry = this.#entries.get(name);
    if (entry === undefined) throw new SupervisorError(`unknown service "${name}" (known: ${[...this.#entries.keys()].join(', ')})`, 404);
    return entry;
  }

  list(): ProcessInfo[] {
    return [...this.#entries].map(([name, entry]) => ({
      name,
      status: entry.status,
      pid: entry.pid,
      exitCode: entry.exitCode,
      signal: entry.signal,
      restarts: Math.max(0, entry.starts - 1),
    }));
  }

  info(name: string): ProcessInfo {
    this.#entry(name);
    return this.list().find((info) => info.name === name)!;
  }

  get running(): string[] {
    return [...this.#entries].filter(([, entry]) => entry.status === 'running' || entry.status === 'stopping').map(([name]) => name);
  }

  start(name: string): ProcessInfo {
    const entry = this.#entry(name);
    if (entry.status === 'running' || entry.status === 'stopping') throw new SupervisorError(`${name} is already ${entry.status}`, 409);
    const child = this.#options.spawn(name);
    entry.child = child;
    entry.pid = child.pid ?? null;
    entry.status = 'running';
    entry.intent = 'none';
    entry.exitCode = null;
    entry.signal = null;
    entry.starts += 1;
    entry.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        if (entry.child !== child) return resolve();
        const reason = entry.intent === 'kill' ? 'killed' : entry.intent === 'stop' ? 'stopped' : 'crashed';
        entry.status = reason === 'crashed' ? 'exited' : reason;
        entry.child = null;
        entry.exitCode = code;
        entry.signal = signal;
        this.#options.onEvent?.({ type: 'exited', name, code, signal, reason });
        resolve();
      });
    });
    this.#options.onEvent?.({ type: 'started', name, pid: entry.pid });
    return this.info(name);
  }

  /** SIGTERM, then SIGKILL after `stopTimeoutMs`; resolves when the child is gone. */
  async stop(name: string): Promise<ProcessInfo> {
    const entry = this.#entry(name);
    const child = entry.child;
    if (child === null) return this.info(name);
    if (entry.intent === 'none') entry.intent = 'stop';
    entry.status = 'stopping';
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), this.#options.stopTimeoutMs);
    try {
      await entry.exited;
    } finally {
      clearTimeout(timer);
    }
    return this.info(name);
  }

  /** SIGKILL: the crash a chaos test wants. */
  async kill(name: string): Promise<ProcessInfo> {
    const entry = this.#entry(name);
    const child = entry.child;
    if (child === null) throw new SupervisorError(`${name} is not running (${entry.status})`, 409);
    entry.intent = 'kill';
    entry.status = 'stopping';
    child.kill('SIGKILL');
    await entry.exited;
    return this.info(name);
  }

  async restart(name: string): Promise<ProcessInfo> {
    await this.stop(name);
    return this.start(name);
  }

  /** Stops every running child at once (each with its own SIGKILL deadline). */
  async stopAll(): Promise<void> {
    await Promise.all(this.running.map((name) => this.stop(name)));
  }
}
