import { chmodSync, mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * What a running launcher tells the chaos CLI: where its control server is, the ports of this
 * run, and the admin token only when the launcher generated it (a token given in the
 * environment is never written anywhere). The file is git-ignored (infra/.gitignore) and
 * readable by its owner only (0600, in a 0700 folder).
 */
export interface LauncherState {
  readonly pid: number;
  readonly controlUrl: string;
  readonly host: string;
  readonly ports: Readonly<Record<string, number | null>>;
  readonly adminToken?: string;
  readonly startedAt: string;
  /** Pids of the running children, so that a launcher killed with SIGKILL leaves no unknown orphans. */
  readonly children?: Readonly<Record<string, number>>;
}

/** infra/.run/launcher.json, or `LAUNCHER_STATE_FILE`. */
export function stateFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.LAUNCHER_STATE_FILE || path.resolve(__dirname, '..', '..', '.run', 'launcher.json');
}

export function writeState(file: string, state: LauncherState): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // the mode of writeFileSync applies only to a new file
}

export function readState(file: string): LauncherState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as Partial<LauncherState>;
    if (typeof value.controlUrl !== 'string' || typeof value.pid !== 'number' || typeof value.ports !== 'object' || value.ports === null) return undefined;
    return value as LauncherState;
  } catch {
    return undefined;
  }
}

/** Is the launcher that wrote the file still alive? (A crashed one leaves its file behind.) */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (killed, not yet reaped) answers signal 0 but is gone: on Linux, its state is Z.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

export function removeState(file: string, pid: number): void {
  const state = readState(file);
  if (state === undefined || state.pid === pid) rmSync(file, { force: true });
}

/** A Linux process's working directory, or undefined (gone, another OS, not ours). */
function cwdOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/**
 * Children of a launcher that died without stopping them (SIGKILL): those still alive whose
 * working directory is the one the launcher gave them (a recycled pid is left alone).
 */
export function leftoverChildren(
  state: LauncherState,
  cwdFor: (name: string) => string,
  alive: (pid: number) => boolean = isAlive,
  cwd: (pid: number) => string | undefined = cwdOf,
): { name: string; pid: number }[] {
  if (alive(state.pid)) return [];
  return Object.entries(state.children ?? {})
    .filter(([name, pid]) => alive(pid) && cwd(pid) === cwdFor(name))
    .map(([name, pid]) => ({ name, pid }));
}
