import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * What a service must not forget when its process ends, crashes included: checkout's
 * Idempotency-Keys, failure reasons and unfinished repairs; payment's ledger.
 *
 * A durable map: an append-only file of JSON lines, `{"k":key,"v":value}` to set and `{"k":key}`
 * to delete, read back into memory when the process starts. Each change is one `write(2)` made
 * before the caller goes on, so it is in the kernel's page cache when the answer leaves: a
 * crashed or killed process loses nothing (a machine that loses power may lose the last
 * writes; `fsync` per write would make every request wait on the disk). A torn last line (the
 * process died in the middle of a write) is skipped. The file is rewritten with only the live
 * entries when it opens and whenever it has grown to four times what is live.
 *
 * One process per file: `open` takes a lock file (`<path>.lock` with the owner's pid) and
 * refuses a journal another live process or another instance in this process holds; a lock
 * left by a process that died is taken over.
 */
export class Journal {
  private readonly entries = new Map<string, unknown>();
  private fd: number;
  private lines = 0;
  private closed = false;
  private late = 0;
  /** Lines that could not be read when the file was opened (a torn write, a damaged file). */
  readonly skipped: number;

  private constructor(
    private readonly path: string,
    private readonly compactAbove: number,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    lock(path);
    this.skipped = existsSync(path) ? this.load() : 0;
    this.fd = this.rewrite();
  }

  /** Opens (or creates) the journal at `path`, creating its directory. */
  static open(path: string, options: { compactAbove?: number } = {}): Journal {
    return new Journal(path, options.compactAbove ?? 10_000);
  }

  get size(): number {
    return this.entries.size;
  }

  get<T>(key: string): T | undefined {
    return this.entries.get(key) as T | undefined;
  }

  /** The live entries whose key starts with `prefix`, in the order they were first set. */
  *list<T>(prefix: string): Iterable<[key: string, value: T]> {
    for (const [key, value] of this.entries) if (key.startsWith(prefix)) yield [key, value as T];
  }

  set(key: string, value: unknown): void {
    this.write(JSON.stringify({ k: key, v: value }));
    this.entries.set(key, value);
  }

  delete(key: string): void {
    if (!this.entries.has(key)) return;
    this.write(JSON.stringify({ k: key }));
    this.entries.delete(key);
  }

  /** Changes made after `close()` (work that outlived the shutdown deadline): kept in memory only. */
  get lateChanges(): number {
    return this.late;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    fsyncSync(this.fd);
    closeSync(this.fd);
    unlock(this.path);
  }

  private write(line: string): void {
    if (this.closed) {
      this.late += 1;
      return;
    }
    writeSync(this.fd, `${line}\n`);
    this.lines += 1;
    if (this.lines > this.compactAbove && this.lines > 4 * this.entries.size) {
      closeSync(this.fd);
      this.fd = this.rewrite();
    }
  }

  private load(): number {
    let skipped = 0;
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      if (line === '') continue;
      let record: { k?: unknown; v?: unknown };
      try {
        record = JSON.parse(line) as typeof record;
      } catch {
        skipped += 1;
        continue;
      }
      if (typeof record.k !== 'string') {
        skipped += 1;
        continue;
      }
      if ('v' in record) {
        this.entries.delete(record.k); // a later set moves the key to the end (the order of `list`)
        this.entries.set(record.k, record.v);
      } else {
        this.entries.delete(record.k);
      }
    }
    return skipped;
  }

  /** Writes the live entries to a new file and puts it in place atomically; returns its descriptor for appending. */
  private rewrite(): number {
    const next = `${this.path}.next`;
    const fd = openSync(next, 'w', 0o600);
    const chunk: string[] = [];
    for (const [key, value] of this.entries) {
      chunk.push(JSON.stringify({ k: key, v: value }));
      if (chunk.length === 1_000) {
        writeSync(fd, `${chunk.join('\n')}\n`);
        chunk.length = 0;
      }
    }
    if (chunk.length > 0) writeSync(fd, `${chunk.join('\n')}\n`);
    fsyncSync(fd);
    renameSync(next, this.path);
    this.lines = this.entries.size;
    return fd;
  }
}

/** Journals this process holds, so that a second instance in the same process is refused too. */
const held = new Set<string>();

function lock(path: string): void {
  const file = `${path}.lock`;
  if (held.has(path)) throw new Error(`journal ${path} is already open in this process: give each process its own DATA_DIR`);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      held.add(path);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(readFileSync(file, 'utf8'), 10);
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
        throw new Error(`journal ${path} is in use by process ${owner}: give each process its own DATA_DIR`);
      }
      unlinkSync(file); // left by a process that is gone (or by this pid in an earlier life, in a container)
    }
  }
  throw new Error(`journal ${path}: could not take its lock`);
}

function unlock(path: string): void {
  held.delete(path);
  try {
    unlinkSync(`${path}.lock`);
  } catch {
    // Already gone: nothing to release.
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
