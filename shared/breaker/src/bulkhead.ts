import { passThroughContext } from './context';
import { abortReason, BulkheadFullError } from './errors';
import { numberOption } from './options';
import { invoke, parentSignal, type ExecuteOptions, type InternalOptions, type Policy, type Work } from './policy';

export interface BulkheadOptions {
  /** Calls running at once. */
  maxConcurrent: number;
  /** Calls waiting for a slot; more are rejected at once (default 0: no queue). */
  maxQueue?: number;
  /** How long a call may wait in the queue (default: as long as it takes). */
  queueTimeoutMs?: number;
}

interface Waiter {
  start: () => void;
  fail: (error: unknown) => void;
  cancelled: boolean;
}

/**
 * Limits how many calls run at once, so one slow dependency cannot take every
 * connection. Calls past the limit wait in a bounded FIFO queue (abortable,
 * with an optional deadline) or are rejected with `BulkheadFullError`.
 */
export class Bulkhead implements Policy {
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  readonly queueTimeoutMs: number | undefined;
  private active = 0;
  private waiting = 0;
  private queue: Waiter[] = [];
  private queueHead = 0;

  constructor(options: BulkheadOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('bulkhead: options must be an object with maxConcurrent');
    const int: [(v: number) => boolean, string] = [(v) => Number.isInteger(v) && v > 0, 'a positive integer'];
    this.maxConcurrent = numberOption('bulkhead', 'maxConcurrent', options.maxConcurrent, undefined, int);
    this.maxQueue = numberOption('bulkhead', 'maxQueue', options.maxQueue, 0, [(v) => Number.isInteger(v) && v >= 0, 'a non-negative integer']);
    this.queueTimeoutMs =
      options.queueTimeoutMs === undefined
        ? undefined
        : numberOption('bulkhead', 'queueTimeoutMs', options.queueTimeoutMs, undefined, [(v) => v > 0 && Number.isFinite(v), 'a positive finite number']);
  }

  /** Calls running now and calls waiting for a slot. */
  get stats(): { active: number; queued: number } {
    return { active: this.active, queued: this.waiting };
  }

  execute<T>(fn: Work<T>, options?: ExecuteOptions): Promise<T> {
    const opts = options as InternalOptions | undefined;
    const signal = parentSignal(opts);
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.active < this.maxConcurrent) {
      this.active++;
      return this.run(fn, opts);
    }
    if (this.waiting >= this.maxQueue) {
      return Promise.reject(
        new BulkheadFullError(
          `bulkhead is full: ${this.active} running (max ${this.maxConcurrent}), ${this.waiting} queued (max ${this.maxQueue})`,
          this.maxConcurrent,
          this.maxQueue,
        ),
      );
    }
    return new Promise<T>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const cleanup = () => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        cancelled: false,
        start: () => {
          cleanup();
          this.run(fn, opts).then(resolve, reject);
        },
        fail: (error) => {
          if (waiter.cancelled) return;
          waiter.cancelled = true;
          this.waiting--;
          cleanup();
          reject(error);
        },
      };
      const onAbort = () => waiter.fail(abortReason(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
      if (this.queueTimeoutMs !== undefined) {
        const ms = this.queueTimeoutMs;
        timer = setTimeout(
          () => waiter.fail(new BulkheadFullError(`bulkhead: waited ${ms} ms in the queue without a free slot`, this.maxConcurrent, this.maxQueue)),
          ms,
        );
      }
      this.queue.push(waiter);
      this.waiting++;
    });
  }

  private run<T>(fn: Work<T>, opts: InternalOptions | undefined): Promise<T> {
    const release = () => {
      this.active--;
      this.startNext();
    };
    const result = invoke(fn, passThroughContext(opts));
    result.then(release, release);
    return result;
  }

  private startNext(): void {
    while (this.queueHead < this.queue.length) {
      const waiter = this.queue[this.queueHead]!;
      this.queue[this.queueHead++] = undefined as unknown as Waiter;
      if (waiter.cancelled) continue;
      waiter.cancelled = true;
      this.waiting--;
      this.active++;
      waiter.start();
      break;
    }
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }
}

export function bulkhead(options: BulkheadOptions): Bulkhead {
  return new Bulkhead(options);
}
