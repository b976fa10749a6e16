/**
 * Options of the circuit breaker: validated at construction with precise
 * messages, defaults in one place, the caller's object never changed.
 */

export type WindowOptions =
  | { type: 'count'; size: number }
  | { type: 'time'; ms: number; buckets?: number }
  | { type: 'consecutive'; failures: number; successes?: number; slowCalls?: number };

export interface BackoffOpenOptions {
  /** First open period. */
  initialMs: number;
  /** Cap of the open period. */
  maxMs: number;
  /** Growth after each failed probe (default 2). */
  multiplier?: number;
  /** Fraction 0..1 of random spread around each period (default 0.2). */
  jitter?: number;
}

export interface CircuitBreakerOptions {
  /** Shown in errors, events and metrics. */
  name: string;
  /** Default: `{ type: 'count', size: 100 }`. */
  window?: WindowOptions;
  /** No verdict before this many calls are in the window (default 10; not used by the consecutive window). */
  minimumCalls?: number;
  /** Trip when this fraction of calls failed, 0 < x ≤ 1 (default 0.5). */
  failureRateThreshold?: number;
  /** Trip when this fraction of calls was slow, 0 < x ≤ 1; 1 = slowness alone never trips (default 1). */
  slowCallRateThreshold?: number;
  /** A call that takes at least this long is slow (default 60 000). */
  slowCallDurationMs?: number;
  /** Per-call deadline: aborts the call's signal, rejects the caller, counts as a failure (default: none). */
  timeoutMs?: number;
  /** How long the circuit stays open: fixed, or growing after each failed probe (default 60 000). */
  openMs?: number | BackoffOpenOptions;
  /** Probes allowed at once while half-open; every other call fails fast (default 3). */
  halfOpenMaxCalls?: number;
  /** Which errors count as failures; the others count as nothing and are rethrown without fallback (default: all). */
  isFailure?: (error: unknown) => boolean;
  /** The time source, in milliseconds (default `Date.now`). */
  clock?: () => number;
  /** Random source for the open-period jitter, 0 ≤ x < 1 (default `Math.random`). */
  random?: () => number;
}

export interface ResolvedOptions {
  name: string;
  window: Readonly<WindowOptions>;
  minimumCalls: number;
  failureRateThreshold: number;
  slowCallRateThreshold: number;
  slowCallDurationMs: number;
  timeoutMs: number | undefined;
  open: Required<BackoffOpenOptions>;
  halfOpenMaxCalls: number;
  successThreshold: number;
  isFailure: ((error: unknown) => boolean) | undefined;
  clock: () => number;
  random: () => number;
}

export const DEFAULTS = Object.freeze({
  window: Object.freeze({ type: 'count', size: 100 }) as Readonly<WindowOptions>,
  minimumCalls: 10,
  failureRateThreshold: 0.5,
  slowCallRateThreshold: 1,
  slowCallDurationMs: 60_000,
  openMs: 60_000,
  halfOpenMaxCalls: 3,
  timeBuckets: 10,
  multiplier: 2,
  jitter: 0.2,
});

const KNOWN = new Set([
  'name', 'window', 'minimumCalls', 'failureRateThreshold', 'slowCallRateThreshold', 'slowCallDurationMs',
  'timeoutMs', 'openMs', 'halfOpenMaxCalls', 'isFailure', 'clock', 'random',
]);

export class OptionsError extends TypeError {
  override readonly name = 'OptionsError';
}

type Check = (value: number) => boolean;
const positiveInt: [Check, string] = [(v) => Number.isInteger(v) && v > 0, 'a positive integer'];
const positive: [Check, string] = [(v) => v > 0 && Number.isFinite(v), 'a positive finite number'];
const fraction: [Check, string] = [(v) => v > 0 && v <= 1, 'a number greater than 0 and at most 1'];
const unit: [Check, string] = [(v) => v >= 0 && v <= 1, 'a number from 0 to 1'];
const atLeastOne: [Check, string] = [(v) => v >= 1 && Number.isFinite(v), 'a finite number of at least 1'];

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}

/** Checks one numeric option; `undefined` takes the default. */
export function numberOption(owner: string, path: string, value: unknown, fallback: number | undefined, [check, what]: [Check, string]): number {
  if (value === undefined) {
    if (fallback === undefined) throw new OptionsError(`${owner}: option ${path} is required and must be ${what}`);
    return fallback;
  }
  if (typeof value !== 'number' || Number.isNaN(value) || !check(value)) {
    throw new OptionsError(`${owner}: option ${path} must be ${what} (got ${describe(value)})`);
  }
  return value;
}

function functionOption<T>(owner: string, path: string, value: unknown): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new OptionsError(`${owner}: option ${path} must be a function (got ${describe(value)})`);
  return value as T;
}

export function resolveOptions(options: CircuitBreakerOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new OptionsError('CircuitBreaker: options must be an object with at least a name');
  const { name } = options;
  if (typeof name !== 'string' || name.trim() === '') throw new OptionsError(`CircuitBreaker: option name must be a non-empty string (got ${describe(name)})`);
  const owner = `CircuitBreaker '${name}'`;
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new OptionsError(`${owner}: unknown option ${key}`);
  }

  const halfOpenMaxCalls = numberOption(owner, 'halfOpenMaxCalls', options.halfOpenMaxCalls, DEFAULTS.halfOpenMaxCalls, positiveInt);
  const window = resolveWindow(owner, options.window);
  const successThreshold = window.type === 'consecutive' ? window.successes ?? halfOpenMaxCalls : halfOpenMaxCalls;

  return {
    name,
    window,
    minimumCalls: numberOption(owner, 'minimumCalls', options.minimumCalls, DEFAULTS.minimumCalls, positiveInt),
    failureRateThreshold: numberOption(owner, 'failureRateThreshold', options.failureRateThreshold, DEFAULTS.failureRateThreshold, fraction),
    slowCallRateThreshold: numberOption(owner, 'slowCallRateThreshold', options.slowCallRateThreshold, DEFAULTS.slowCallRateThreshold, fraction),
    slowCallDurationMs: numberOption(owner, 'slowCallDurationMs', options.slowCallDurationMs, DEFAULTS.slowCallDurationMs, positive),
    timeoutMs: options.timeoutMs === undefined ? undefined : numberOption(owner, 'timeoutMs', options.timeoutMs, undefined, positive),
    open: resolveOpen(owner, options.openMs),
    halfOpenMaxCalls,
    successThreshold,
    isFailure: functionOption(owner, 'isFailure', options.isFailure),
    clock: functionOption(owner, 'clock', options.clock) ?? Date.now,
    random: functionOption(owner, 'random', options.random) ?? Math.random,
  };
}

function resolveWindow(owner: string, window: WindowOptions | undefined): Readonly<WindowOptions> {
  if (window === undefined) return DEFAULTS.window;
  if (typeof window !== 'object' || window === null) throw new OptionsError(`${owner}: option window must be an object with a type (got ${describe(window)})`);
  switch (window.type) {
    case 'count':
      return Object.freeze({ type: 'count', size: numberOption(owner, 'window.size', window.size, undefined, positiveInt) });
    case 'time': {
      const ms = numberOption(owner, 'window.ms', window.ms, undefined, positive);
      const buckets = numberOption(owner, 'window.buckets', window.buckets, DEFAULTS.timeBuckets, positiveInt);
      return Object.freeze({ type: 'time', ms, buckets });
    }
    case 'consecutive': {
      const failures = numberOption(owner, 'window.failures', window.failures, undefined, positiveInt);
      const successes = window.successes === undefined ? undefined : numberOption(owner, 'window.successes', window.successes, undefined, positiveInt);
      const slowCalls = numberOption(owner, 'window.slowCalls', window.slowCalls, Infinity, [(v) => v === Infinity || (Number.isInteger(v) && v > 0), 'a positive integer']);
      return Object.freeze({ type: 'consecutive', failures, successes, slowCalls });
    }
    default:
      throw new OptionsError(`${owner}: option window.type must be 'count', 'time' or 'consecutive' (got ${describe((window as { type: unknown }).type)})`);
  }
}

function resolveOpen(owner: string, open: number | BackoffOpenOptions | undefined): Required<BackoffOpenOptions> {
  if (open === undefined || typeof open === 'number') {
    const ms = numberOption(owner, 'openMs', open, DEFAULTS.openMs, positive);
    return { initialMs: ms, maxMs: ms, multiplier: 1, jitter: 0 };
  }
  if (typeof open !== 'object' || open === null) throw new OptionsError(`${owner}: option openMs must be a number or { initialMs, maxMs } (got ${describe(open)})`);
  const initialMs = numberOption(owner, 'openMs.initialMs', open.initialMs, undefined, positive);
  const maxMs = numberOption(owner, 'openMs.maxMs', open.maxMs, undefined, positive);
  if (maxMs < initialMs) throw new OptionsError(`${owner}: option openMs.maxMs (${maxMs}) must be at least openMs.initialMs (${initialMs})`);
  return {
    initialMs,
    maxMs,
    multiplier: numberOption(owner, 'openMs.multiplier', open.multiplier, DEFAULTS.multiplier, atLeastOne),
    jitter: numberOption(owner, 'openMs.jitter', open.jitter, DEFAULTS.jitter, unit),
  };
}
