import { abortReason, TimeoutError } from './errors';
import { Call, InFlightList } from './inflight';
import { numberOption } from './options';
import { deferred, invoke, kParent, type ExecuteOptions, type InternalOptions, type Policy, type Work } from './policy';

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
export class TimeoutPolicy implements Policy {
  private readonly list: InFlightList;
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
    const parent = opts?.signal ?? opts?.[kParent]?.signal;
    if (parent?.aborted) return Promise.reject(abortReason(parent));
    const call = new Call(NaN, 0, opts);
    this.list.push(call);
    const promise = deferred<T>(call);
    if (parent !== undefined) call.watchParent(this.settleWithError);
    invoke(fn, call).then(
      (value) => {
        if (this.settle(call)) call.resolve(value);
      },
      (error: unknown) => {
        if (this.settle(call)) call.reject(error);
      },
    );
    return promise;
  }

  private settle(call: Call): boolean {
    if (call.settled) return false;
    call.settled = true;
    this.list.remove(call);
    call.release();
    return true;
  }

  private readonly settleWithError = (call: Call, error: unknown): void => {
    if (this.settle(call)) call.reject(error);
  };

  private readonly expire = (call: Call): void => {
    const error = new TimeoutError('timeout policy', this.ms);
    call.abort(error);
    this.settleWithError(call, error);
  };
}

export function timeout(ms: number, options?: TimeoutOptions): TimeoutPolicy {
  return new TimeoutPolicy(ms, options);
}
