import { abortReason } from './errors';
import type { ExecuteContext } from './policy';

// The owner's methods are keyed by symbols the package does not export: callable by the records, not by users.
const kFulfilled = Symbol('fulfilled');
const kRejected = Symbol('rejected');
const kCallerAborted = Symbol('callerAborted');
export { kCallerAborted, kFulfilled, kRejected };

/** What a policy that tracks calls does when a call's function settles or its caller aborts. */
export interface CallOwner {
  /** The function's promise fulfilled. Runs once per use of the record; the owner then gives the record back to the pool. */
  [kFulfilled](call: Call, value: unknown): void;
  /** The function's promise rejected (same rules as fulfilled). */
  [kRejected](call: Call, error: unknown): void;
  /** The caller's signal aborted while the call was in flight (the owner answers the caller at once). */
  [kCallerAborted](call: Call, reason: unknown): void;
}

/** Marks a context that has not been aborted (any value, undefined included, can be an abort reason). */
const NOT_ABORTED: unique symbol = Symbol('not aborted');

/**
 * What the function of one call receives. One per call and never reused: a
 * function may keep its context after the call and must never see another
 * call's signal in it.
 *
 * The signal is made on first read (an `AbortController` costs microseconds on
 * Node 20, more than the rest of the call). An abort before that is kept and
 * the signal is born aborted. The caller's signal, when there is one, is
 * listened to directly (this object is the listener: no closure), so a caller
 * that never reads its own signal costs no controller either.
 */
export class CallContext implements ExecuteContext {
  // Declared, then set in the constructor: one is made per call, and plain
  // assignments cost less than class-field initialisers.
  /** The call's record while it is in flight; null once the call has ended. */
  declare call: Call | null;
  declare private controller: AbortController | undefined;
  /** The caller's signal this context listens to, while it listens. */
  declare private parent: AbortSignal | undefined;
  declare private reason: unknown;

  constructor(call: Call) {
    this.call = call;
    this.controller = undefined;
    this.parent = undefined;
    this.reason = NOT_ABORTED;
  }

  get signal(): AbortSignal {
    return (this.controller ?? this.makeController()).signal;
  }

  private makeController(): AbortController {
    // The global is read at each creation (not captured at load), so that a replaced AbortController is honoured.
    const controller = new AbortController();
    this.controller = controller;
    if (this.reason !== NOT_ABORTED) controller.abort(this.reason);
    return controller;
  }

  /** Aborts this call's signal (now, or when it is first read). Only the first reason counts. */
  abort(reason: unknown): void {
    if (this.reason !== NOT_ABORTED) return;
    this.reason = reason;
    this.controller?.abort(reason);
  }

  /** Ties this call to the caller's signal (not aborted yet): its abort aborts this call and tells the owner. */
  listen(parent: AbortSignal): void {
    this.parent = parent;
    parent.addEventListener('abort', this, { once: true });
  }

  /** The caller's signal aborted. */
  handleEvent(): void {
    const parent = this.parent;
    if (parent === undefined) return;
    this.parent = undefined;
    const reason = abortReason(parent);
    this.abort(reason);
    const call = this.call;
    if (call !== null && call.ctx === this) call.owner[kCallerAborted](call, reason);
  }

  /** The call has ended: stop listening to the caller and forget the record (which is reused). */
  release(): void {
    this.call = null;
    const parent = this.parent;
    if (parent !== undefined) {
      this.parent = undefined;
      parent.removeEventListener('abort', this);
    }
  }
}

/**
 * One call in flight as its owner sees it: a node of the in-flight list
 * (ordered by start), the handle to settle the caller, and the handlers that
 * watch the function's promise.
 *
 * Records are reused (see CallPool), so the two handlers are made once per
 * record instead of two closures per call. A record goes back to the pool only
 * once the function's promise has settled, that is once its handlers have run:
 * a record answered early (deadline, caller's abort) stays out of the pool
 * until then, so a late result can never be taken for a later call's.
 */
export class Call {
  prev: Call | null = null;
  next: Call | null = null;
  /** When the deadline passes (ms on the owner's clock); Infinity until the list stamps it. */
  deadline = Infinity;
  /** Set once the caller has been answered (by the result, the deadline or an abort). */
  settled = false;
  /** Counted among the in-flight slow calls (see CircuitBreaker). */
  countedSlow = false;
  probe = false;
  /** When the call started, when the owner needs to know (slow calls, durations); NaN otherwise. */
  start = NaN;
  generation = 0;
  /** The context handed to this use's function. */
  ctx: CallContext | null = null;
  resolve: (value: unknown) => void = noop;
  reject: (error: unknown) => void = noop;
  /** The caller's fallback, answered instead of an error (see CircuitBreaker). */
  fallback: ((error: unknown) => unknown) | undefined = undefined;
  /** Next free record in the pool. */
  nextFree: Call | null = null;
  readonly onFulfilled: (value: unknown) => void;
  readonly onRejected: (error: unknown) => void;

  constructor(readonly owner: CallOwner) {
    this.onFulfilled = (value) => owner[kFulfilled](this, value);
    this.onRejected = (error) => owner[kRejected](this, error);
  }
}

function noop(): void {}

/** Free records kept per owner: enough for the usual concurrency, bounded so an idle owner holds little. */
const POOL_MAX = 32;

/** A stack of free call records for one owner; made on demand, so an owner that never tracks a call holds none. */
export class CallPool {
  private free: Call | null = null;
  private size = 0;

  constructor(private readonly owner: CallOwner) {}

  /** A record ready for a new call, with a new context; `start`, `generation`, `probe`, `fallback` are the caller's to set. */
  take(): Call {
    let call = this.free;
    if (call === null) call = new Call(this.owner);
    else {
      this.free = call.nextFree;
      call.nextFree = null;
      this.size--;
      call.deadline = Infinity;
      call.settled = false;
      call.countedSlow = false;
    }
    call.ctx = new CallContext(call);
    return call;
  }

  /** Takes back a record whose function's promise has settled. */
  give(call: Call): void {
    call.ctx = null;
    call.resolve = call.reject = noop;
    call.fallback = undefined;
    if (this.size === POOL_MAX) return;
    call.nextFree = this.free;
    this.free = call;
    this.size++;
  }
}

/**
 * Watches the function's promise with the record's own handlers. The intrinsic
 * `then` is used, so that a promise subclass with its own `then` cannot run a
 * handler twice (which, with records reused, would answer another call).
 */
const promiseThen = Promise.prototype.then;
export function watch(promise: Promise<unknown>, call: Call): void {
  promiseThen.call(promise, call.onFulfilled, call.onRejected);
}

/** Deadlines are checked this many times per timeout: a call is answered at most 1/32 of its timeout late. */
export const TICKS_PER_TIMEOUT = 32;

/**
 * The calls in flight, oldest first, and their deadlines — with no timer and
 * no clock reading per call.
 *
 * While calls are in flight one timer ticks every `timeoutMs / 32`. A call
 * joins the list unstamped; the next tick stamps it with that tick's time plus
 * the timeout (the tick comes after the call started, so the deadline is never
 * early) and answers every call whose deadline has passed. A call is thus
 * answered between its timeout and 1/32 of it later (plus any event-loop lag).
 * Stamping walks each call once and expiry only looks at the oldest calls:
 * O(1) per call, amortised. When the list is empty at a tick, the timer stops.
 */
export class InFlightList {
  head: Call | null = null;
  tail: Call | null = null;
  size = 0;
  /** The newest call stamped with a deadline (every call before it is stamped too). */
  private stamped: Call | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly tickMs: number;

  constructor(
    private readonly clock: () => number,
    /** Called with each call whose deadline has passed; the owner removes it from the list. */
    private readonly onExpire: (call: Call, now: number) => void,
    /** The timeout of every call, or undefined for calls without a deadline. */
    private readonly timeoutMs: number | undefined,
  ) {
    this.tickMs = timeoutMs === undefined ? 0 : Math.max(1, timeoutMs / TICKS_PER_TIMEOUT);
  }

  push(call: Call): void {
    call.prev = this.tail;
    if (this.tail === null) this.head = call;
    else this.tail.next = call;
    this.tail = call;
    this.size++;
    if (this.timer === undefined && this.tickMs !== 0) this.arm(this.tickMs);
  }

  remove(call: Call): void {
    if (call === this.stamped) this.stamped = call.prev;
    if (call.prev === null) this.head = call.next;
    else call.prev.next = call.next;
    if (call.next === null) this.tail = call.prev;
    else call.next.prev = call.prev;
    call.prev = call.next = null;
    this.size--;
  }

  /**
   * The timer does not hold the process open by itself: whatever a call waits
   * on — a socket, a server — does that.
   */
  private arm(delay: number): void {
    const timer = setTimeout(this.tick, delay);
    if (typeof timer === 'object' && typeof timer.unref === 'function') timer.unref();
    this.timer = timer;
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    if (this.head === null) return;
    const now = this.clock();
    let call = this.stamped === null ? this.head : this.stamped.next;
    while (call !== null) {
      call.deadline = now + this.timeoutMs!;
      this.stamped = call;
      call = call.next;
    }
    call = this.head;
    while (call !== null && call.deadline <= now) {
      const next: Call | null = call.next;
      this.onExpire(call, now);
      call = next;
    }
    if (this.head !== null) this.arm(Math.min(this.tickMs, Math.max(1, this.head.deadline - now)));
  };
}
