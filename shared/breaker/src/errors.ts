/**
 * Errors of the breaker package. Each is a named class with a brand property so
 * that the `isX` guards work across duplicate copies of the package (where
 * `instanceof` would fail).
 */

const kCircuitOpen = Symbol.for('@checkout/breaker:CircuitOpenError');
const kTimeout = Symbol.for('@checkout/breaker:TimeoutError');
const kBulkheadFull = Symbol.for('@checkout/breaker:BulkheadFullError');

export type RejectingState = 'OPEN' | 'HALF_OPEN' | 'FORCED_OPEN';

/**
 * Thrown when a call is not permitted: the circuit is open, forced open, or
 * half-open with every probe slot taken. `retryAfterMs` tells when to come
 * back (`Infinity` while forced open, 0 when half-open probes are busy).
 *
 * Built without capturing a stack trace: it is thrown on the hot path of an
 * open circuit, where a stack costs microseconds and says nothing (the error
 * comes from the breaker, not from the dependency).
 */
export class CircuitOpenError extends Error {
  declare readonly breakerName: string;
  declare readonly state: RejectingState;
  declare readonly retryAfterMs: number;

  constructor(breakerName: string, state: RejectingState, retryAfterMs: number) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`CircuitBreaker '${breakerName}' is ${state}`);
    Error.stackTraceLimit = limit;
    initOpenError(this, breakerName, state, retryAfterMs);
  }

  /** Builds the error without running the Error constructor (cheapest path). */
  static create(breakerName: string, state: RejectingState, retryAfterMs: number): CircuitOpenError {
    // Three plain fields: the message is read from them by the prototype's getter, only when
    // someone reads it (building the string and defining an own property cost ~15× the rest).
    const error = Object.create(CircuitOpenError.prototype) as CircuitOpenError;
    initOpenError(error, breakerName, state, retryAfterMs);
    return error;
  }
}

function initOpenError(error: CircuitOpenError, breakerName: string, state: RejectingState, retryAfterMs: number): void {
  const e = error as unknown as Record<string | symbol, unknown>;
  e.breakerName = breakerName;
  e.state = state;
  e.retryAfterMs = retryAfterMs;
}

Object.defineProperty(CircuitOpenError.prototype, 'name', { value: 'CircuitOpenError', configurable: true, writable: true });
// The message of an error built by `create` (one built by the constructor has its own).
// Assigning a message gives the error its own, as with any Error.
Object.defineProperty(CircuitOpenError.prototype, 'message', {
  get(this: CircuitOpenError) {
    return `CircuitBreaker '${this.breakerName}' is ${this.state}`;
  },
  set(this: CircuitOpenError, value: unknown) {
    Object.defineProperty(this, 'message', { value, writable: true, configurable: true });
  },
  configurable: true,
});
Object.defineProperty(CircuitOpenError.prototype, kCircuitOpen, { value: true });
// Stack of an error built by `create`: there is none worth capturing.
Object.defineProperty(CircuitOpenError.prototype, 'stack', {
  get(this: CircuitOpenError) {
    return `${this.name}: ${this.message}`;
  },
  set(this: CircuitOpenError, value: unknown) {
    Object.defineProperty(this, 'stack', { value, writable: true, configurable: true });
  },
  configurable: true,
});

/** A call (or a wait) exceeded its deadline. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
  readonly timeoutMs: number;
  readonly [kTimeout] = true;

  constructor(source: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(`${source} timed out after ${timeoutMs} ms`, options);
    this.timeoutMs = timeoutMs;
  }
}

/** The bulkhead has every slot and every queue place taken, or a queued call waited too long. */
export class BulkheadFullError extends Error {
  override readonly name = 'BulkheadFullError';
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  readonly [kBulkheadFull] = true;

  constructor(message: string, maxConcurrent: number, maxQueue: number, options?: { cause?: unknown }) {
    super(message, options);
    this.maxConcurrent = maxConcurrent;
    this.maxQueue = maxQueue;
  }
}

function branded(error: unknown, brand: symbol): boolean {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[brand] === true;
}

export const isCircuitOpenError = (error: unknown): error is CircuitOpenError => branded(error, kCircuitOpen);
export const isTimeoutError = (error: unknown): error is TimeoutError => branded(error, kTimeout);
export const isBulkheadFullError = (error: unknown): error is BulkheadFullError => branded(error, kBulkheadFull);

/** The reason of an aborted signal, as an Error (an AbortError when the reason is not one). */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}
