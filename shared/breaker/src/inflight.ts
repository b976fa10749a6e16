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

  constructor(
    readonly start: number,
    readonly deadline: number,
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

/**
 * The calls in flight, oldest first, with a single timer for all their
 * deadlines: a policy whose calls share one timeout appends them in deadline
 * order, so only the head's deadline needs a timer. No timer is armed per call;
 * the one timer re-arms itself for the next head when it fires.
 */
export class InFlightList {
  head: Call | null = null;
  tail: Call | null = null;
  size = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly clock: () => number,
    private readonly onExpire: (call: Call) => void,
  ) {}

  push(call: Call): void {
    call.prev = this.tail;
    if (this.tail === null) this.head = call;
    else this.tail.next = call;
    this.tail = call;
    this.size++;
    if (call.deadline !== Infinity && this.timer === undefined) this.arm(call.deadline - call.start);
  }

  remove(call: Call): void {
    if (call.prev === null) this.head = call.next;
    else call.prev.next = call.next;
    if (call.next === null) this.tail = call.prev;
    else call.next.prev = call.prev;
    call.prev = call.next = null;
    this.size--;
  }

  /**
   * The timer does not hold the process open by itself (it outlives the calls
   * it served by up to one timeout): whatever a call waits on — a socket, a
   * server — does that.
   */
  private arm(delay: number): void {
    const timer = setTimeout(this.fire, delay > 0 ? delay : 0);
    if (typeof timer === 'object' && typeof timer.unref === 'function') timer.unref();
    this.timer = timer;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const now = this.clock();
    let call = this.head;
    while (call !== null && call.deadline <= now) {
      const next = call.next;
      this.onExpire(call); // the owner removes it from the list
      call = next;
    }
    // The next deadline: the oldest call that has one (calls without a deadline have Infinity).
    while (call !== null && call.deadline === Infinity) call = call.next;
    if (call !== null) this.arm(call.deadline - now);
  };

  /** Stops the timer (used by reset and tests). */
  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
