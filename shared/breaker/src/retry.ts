import { abortReason, isBulkheadFullError, isCircuitOpenError } from './errors';
import { numberOption } from './options';
import { kParent, NEVER_ABORTED, parentSignal, type ExecuteContext, type ExecuteOptions, type InternalOptions, type Policy, type Work } from './policy';
import { invoke } from './policy';

export type Jitter = 'full' | 'decorrelated' | 'none';

export interface RetryOptions {
  /** Attempts in all, the first included (at least 1). */
  attempts: number;
  /** 'exponential' doubles the base delay after each attempt; 'constant' keeps it (default 'exponential'). */
  backoff?: 'exponential' | 'constant';
  /** The first delay (default 100). */
  initialDelayMs?: number;
  /** No delay is longer than this (default 10 000). */
  maxDelayMs?: number;
  /**
   * 'full': a random delay between 0 and the backoff; 'decorrelated': random
   * between the first delay and three times the previous one; 'none' (default 'full').
   */
  jitter?: Jitter;
  /**
   * Which errors are worth another attempt (default: all but an open circuit,
   * a full bulkhead and an abort of the caller).
   */
  retryOn?: (error: unknown, attempt: number) => boolean;
  /** Called before each wait. */
  onRetry?: (event: { error: unknown; attempt: number; delayMs: number }) => void;
  /** Random source, 0 ≤ x < 1 (default `Math.random`). */
  random?: () => number;
}

export interface RetryContext extends ExecuteContext {
  /** 1 for the first attempt. */
  readonly attempt: number;
}

const defaultRetryOn = (error: unknown): boolean => !isCircuitOpenError(error) && !isBulkheadFullError(error);

/**
 * Runs a call again after transient failures, waiting a backoff with jitter
 * between attempts. Every wait ends at once when the caller's signal aborts.
 * Use it only for idempotent calls.
 */
export class RetryPolicy implements Policy {
  private readonly attempts: number;
  private readonly exponential: boolean;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly jitter: Jitter;
  private readonly retryOn: (error: unknown, attempt: number) => boolean;
  private readonly onRetry: RetryOptions['onRetry'];
  private readonly random: () => number;

  constructor(options: RetryOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('retry: options must be an object with attempts');
    this.attempts = numberOption('retry', 'attempts', options.attempts, undefined, [(v) => Number.isInteger(v) && v >= 1, 'an integer of at least 1']);
    const backoff = options.backoff ?? 'exponential';
    if (backoff !== 'exponential' && backoff !== 'constant') throw new TypeError(`retry: option backoff must be 'exponential' or 'constant' (got ${String(backoff)})`);
    this.exponential = backoff === 'exponential';
    const nonNegative: [(v: number) => boolean, string] = [(v) => v >= 0 && Number.isFinite(v), 'a non-negative finite number'];
    this.initialDelayMs = numberOption('retry', 'initialDelayMs', options.initialDelayMs, 100, nonNegative);
    this.maxDelayMs = numberOption('retry', 'maxDelayMs', options.maxDelayMs, 10_000, nonNegative);
    const jitter = options.jitter ?? 'full';
    if (jitter !== 'full' && jitter !== 'decorrelated' && jitter !== 'none') throw new TypeError(`retry: option jitter must be 'full', 'decorrelated' or 'none' (got ${String(jitter)})`);
    this.jitter = jitter;
    if (options.retryOn !== undefined && typeof options.retryOn !== 'function') throw new TypeError('retry: option retryOn must be a function');
    this.retryOn = options.retryOn ?? defaultRetryOn;
    this.onRetry = options.onRetry;
    this.random = options.random ?? Math.random;
  }

  /** The wait before attempt `attempt + 1`, after `previous` ms of waiting last time. */
  delay(attempt: number, previous: number): number {
    const base = this.exponential ? this.initialDelayMs * 2 ** (attempt - 1) : this.initialDelayMs;
    const capped = Math.min(this.maxDelayMs, base);
    switch (this.jitter) {
      case 'none':
        return capped;
      case 'full':
        return Math.floor(this.random() * capped);
      case 'decorrelated': {
        const upper = Math.max(this.initialDelayMs, previous * 3);
        return Math.min(this.maxDelayMs, Math.floor(this.initialDelayMs + this.random() * (upper - this.initialDelayMs)));
      }
    }
  }

  async execute<T>(fn: Work<T>, options?: ExecuteOptions): Promise<T> {
    const opts = options as InternalOptions | undefined;
    let previousDelay = this.initialDelayMs;
    for (let attempt = 1; ; attempt++) {
      const signal = parentSignal(opts);
      if (signal?.aborted) throw abortReason(signal);
      try {
        return await invoke(fn, attemptContext(opts, attempt));
      } catch (error) {
        const aborted = parentSignal(opts)?.aborted === true;
        if (aborted || attempt >= this.attempts || !this.retryOn(error, attempt)) throw error;
        const delayMs = this.delay(attempt, previousDelay);
        previousDelay = delayMs;
        this.onRetry?.({ error, attempt, delayMs });
        await sleep(delayMs, parentSignal(opts));
      }
    }
  }
}

function attemptContext(options: InternalOptions | undefined, attempt: number): RetryContext {
  if (options === undefined || (options.signal === undefined && options[kParent] === undefined)) {
    return { signal: NEVER_ABORTED.signal, attempt };
  }
  return {
    attempt,
    get signal() {
      return parentSignal(options) ?? NEVER_ABORTED.signal;
    },
  };
}

/** Waits `ms`, or rejects with the abort reason as soon as `signal` aborts; leaves no listener behind. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function retry(options: RetryOptions): RetryPolicy {
  return new RetryPolicy(options);
}
