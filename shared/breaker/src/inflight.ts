import { abortReason } from './errors';
import type { ExecuteContext, InternalOptions } from './policy';
import { kParent } from './policy';

/**
 * One call in flight: the context handed to the function, a node of the
 * in-flight list (ordered by start), and the handle to settle the caller.
 */
export class Call implements ExecuteContext {
  prev: Call | null = null;
  next: Call | null = null;
  /** Set once the caller has been answered (by the result, the deadline or an abort). */
  settled = false;
  /** Counted among the in-flight slow calls (see CircuitBreaker). */
  countedSlow = false;
  probe = false;
  /** The caller's fallback, answered instead of an error (see CircuitBreaker). */
  fallback: ((error: unknown) => unknown) | undefined = undefined;
  resolve!: (value: unknown) => void;
  reject!: (error: unknown) => void;
  private controller: AbortController | undefined;
  private abortedWith: unknown = undefined;
  private aborted = false;

  /** When the deadline passes (ms on the owner's clock); Infinity until the list stamps it. */
  deadline = Infinity;

  constructor(
    /** When the call started, when the owner needs to know (slow calls, durations); NaN otherwise. */
    readonly start: number,
    readonly generation: number,
    readonly options: InternalOptions | undefined,
  ) {}

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      const controller = new AbortController();
      this.controller = controller;
      if (this.aborted) controller.abort(this.abortedWith);
      else if (this.options !== undefined) {
        const parent = this.options.signal ?? this.options[kParent]?.signal;
        if (parent !== undefined) {
          if (parent.aborted) controller.abort(abortReason(parent));
          else parent.addEventListener('abort', this, { once: true });
        }
      }
    }
    return this.controller.signal;
  }

  /** The parent signal aborted (this object is its listener: no closure per call). */
  handleEvent(): void {
    const parent = this.options!.signal ?? this.options![kParent]?.signal;
    const reason = parent ? abortReason(parent) : undefined;
    this.abort(reason);
    this.onParentAbort?.(this, reason);
  }

  /** Called when the parent's signal aborts (the owner rejects the caller at once). */
  onParentAbort: ((call: Call, reason: unknown) => void) | undefined = undefined;

  /**
   * Listens to the parent's signal now rather than on first read, for owners
   * that must answer the caller at once when the caller aborts.
   */
  watchParent(onAbort: (call: Call, reason: unknown) => void): void {
    this.onParentAbort = onAbort;
    void this.signal;
  }

  /** Aborts this call's signal (now, or when it is first read). */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortedWith = reason;
    this.controller?.abort(reason);
  }

  /** Removes the listener this call put on its parent's signal. */
  release(): void {
    if (this.controller === undefined || this.options === undefined) return;
    const parent = this.options.signal ?? this.options[kParent]?.signal;
    parent?.removeEventListener('abort', this);
  }
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
