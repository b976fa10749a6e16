/** What every policy hands to the function it runs. */
export interface ExecuteContext {
  /**
   * Aborts when this call must stop: its deadline passed, or the caller's
   * signal aborted. Made on first read, so a function that never reads it pays
   * nothing for it.
   */
  readonly signal: AbortSignal;
}

export type Work<T> = (ctx: ExecuteContext) => T | PromiseLike<T>;

export interface ExecuteOptions {
  /** The caller's signal: aborting it cancels the call and rejects it with the signal's reason. */
  signal?: AbortSignal;
}

/** @internal The outer policy's context, passed by `wrap` so that inner signals stay lazy. */
export const kParent = Symbol('@checkout/breaker:parent');
export interface InternalOptions extends ExecuteOptions {
  [kParent]?: ExecuteContext;
}

/** Every policy has this shape, so `wrap` can nest them. */
export interface Policy {
  execute<T>(fn: Work<T>, options?: ExecuteOptions): Promise<T>;
}

/** The signal that a context's parent gives: the caller's signal, or the outer policy's (read lazily). */
export function parentSignal(options: InternalOptions | undefined): AbortSignal | undefined {
  if (options === undefined) return undefined;
  return options.signal ?? options[kParent]?.signal;
}

/** A context for calls that nothing can abort: one shared signal that never aborts. */
const never = new AbortController().signal;
export const NEVER_ABORTED: ExecuteContext = Object.freeze({ signal: never });

/**
 * The parent signal a policy has to listen to: undefined when there is none, or when it is the
 * shared signal that never aborts (an outer retry without a caller's signal hands it to every
 * attempt; listening to it would cost a listener per call in flight, all on one signal).
 */
export function abortableParent(options: InternalOptions | undefined): AbortSignal | undefined {
  if (options === undefined) return undefined;
  const signal = options.signal ?? options[kParent]?.signal;
  return signal === never ? undefined : signal;
}

/** Runs `fn` and always returns a promise, turning a synchronous throw into a rejection. */
export function invoke<T>(fn: Work<T>, ctx: ExecuteContext): Promise<T> {
  try {
    const value = fn(ctx);
    return value instanceof Promise ? value : Promise.resolve(value);
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * A promise with its resolve and reject, made with one shared executor (no
 * closure per call: this is on the hot path of every call with a deadline).
 */
let lastResolve: (value: never) => void = () => {};
let lastReject: (error: unknown) => void = () => {};
const capture = (resolve: (value: never) => void, reject: (error: unknown) => void): void => {
  lastResolve = resolve;
  lastReject = reject;
};
export function deferred<T>(target: { resolve: (value: unknown) => void; reject: (error: unknown) => void }): Promise<T> {
  const promise = new Promise<T>(capture as (resolve: (value: T) => void, reject: (error: unknown) => void) => void);
  target.resolve = lastResolve as (value: unknown) => void;
  target.reject = lastReject;
  return promise;
}
