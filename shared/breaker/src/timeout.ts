import { abortReason, TimeoutError } from './errors';
import { Call, CallPool, InFlightList, kCallerAborted, kFulfilled, kRejected, watch, type CallOwner } from './inflight';
import { numberOption } from './options';
import { abortableParent, deferred, invoke, type ExecuteOptions, type InternalOptions, type Policy, type Work } from './policy';

export interface TimeoutOptions {
  /** Time source in milliseconds (default `Date.now`). */
  clock?: () => number;
}

/**
 * A deadline for every call: aborts the call's signal and rejects the caller
 * with a `TimeoutError` when it passes, even if the function ignores its
 * signal (at most 1/32 of the timeout late). All calls share one timer that
 * ticks only while calls are in flight; no clock reading or timer per call.
 */
export class TimeoutPolicy implements Policy, CallOwner {
  private readonly list: InFlightList;
  private readonly pool = new CallPool(this);
  private readonly clock: () => number;

  constructor(
    readonly ms: number,
    options: TimeoutOptions = {},
  ) {
    numberOption('timeout', 'ms', ms, undefined, [(v) => v > 0 && Number.isFinite(v), 'a positive finite number']);
    this.clock = options.clock ?? Date.now;
    this.list = new InFlightList(this.clock, this.expire, ms);
  }

  execute<T>(fn: Work<T>, options?: ExecuteOptions): Promise<T> {
    const opts = options as InternalOptions | undefined;
    const parent = abortableParent(opts);
    if (parent?.aborted) return Promise.reject(abortReason(parent));
    const call = this.pool.take();
    this.list.push(call);
    const promise = deferred<T>(call);
    const ctx = call.ctx!;
    if (parent !== undefined) ctx.listen(parent);
    watch(invoke(fn, ctx), call);
    return promise;
  }

  /** The function's promise fulfilled (CallOwner). */
  [kFulfilled](call: Call, value: unknown): void {
    if (this.settle(call)) call.resolve(value);
    this.pool.give(call);
  }

  /** The function's promise rejected (CallOwner). */
  [kRejected](call: Call, error: unknown): void {
    if (this.settle(call)) call.reject(error);
    this.pool.give(call);
  }

  /** The caller's signal aborted (CallOwner). */
  [kCallerAborted](call: Call, reason: unknown): void {
    if (this.settle(call)) call.reject(reason);
  }

  /** Marks the call answered and takes it out of the list; false if it already was. */
  private settle(call: Call): boolean {
    if (call.settled) return false;
    call.settled = true;
    this.list.remove(call);
    call.ctx!.release();
    return true;
  }

  private readonly expire = (call: Call): void => {
    const ctx = call.ctx!;
    if (!this.settle(call)) return;
    const error = new TimeoutError('timeout policy', this.ms);
    ctx.abort(error);
    call.reject(error);
  };
}

export function timeout(ms: number, options?: TimeoutOptions): TimeoutPolicy {
  return new TimeoutPolicy(ms, options);
}
