import { abortReason, CircuitOpenError, TimeoutError } from './errors';
import { Emitter, type Listener } from './events';
import { Call, CallPool, InFlightList, kCallerAborted, kFulfilled, kRejected, watch, type CallOwner } from './inflight';
import { resolveOptions, type CircuitBreakerOptions, type ResolvedOptions } from './options';
import { abortableParent, deferred, invoke, kParent, NEVER_ABORTED, type ExecuteOptions, type InternalOptions, type Policy, type Work } from './policy';
import { ConsecutiveWindow } from './windows/consecutive';
import { CountWindow } from './windows/count';
import { TimeWindow } from './windows/time';
import type { TripReason, Window } from './windows/window';

export type CircuitState = 'CLOSED' | 'OPEN' | 'HALF_OPEN' | 'FORCED_OPEN' | 'DISABLED';

export type TransitionReason =
  | TripReason
  | 'open-elapsed'
  | 'probe-failed'
  | 'probe-slow'
  | 'probes-succeeded'
  | 'forced-open'
  | 'disabled'
  | 'reset';

/** Each state carries only its own data. */
type InnerState =
  | { readonly kind: 'CLOSED' }
  | { readonly kind: 'OPEN'; readonly until: number; readonly attempt: number }
  | { readonly kind: 'HALF_OPEN'; probes: number; successes: number; readonly attempt: number }
  | { readonly kind: 'FORCED_OPEN' }
  | { readonly kind: 'DISABLED' };

/** Legal transitions; every change of state goes through `transition`, which checks this table. */
const LEGAL: Readonly<Record<CircuitState, readonly CircuitState[]>> = {
  CLOSED: ['CLOSED', 'OPEN', 'FORCED_OPEN', 'DISABLED'],
  OPEN: ['HALF_OPEN', 'CLOSED', 'FORCED_OPEN', 'DISABLED'],
  HALF_OPEN: ['OPEN', 'CLOSED', 'FORCED_OPEN', 'DISABLED'],
  FORCED_OPEN: ['CLOSED', 'FORCED_OPEN', 'DISABLED'],
  DISABLED: ['CLOSED', 'FORCED_OPEN', 'DISABLED'],
};

export type Fallback<T> = (error: unknown) => T | PromiseLike<T>;

export interface BreakerExecuteOptions<T> extends ExecuteOptions {
  /** Answers instead of the error when the call fails, times out or is rejected; receives that error. */
  fallback?: Fallback<T>;
}

export interface StateChangeEvent {
  name: string;
  from: CircuitState;
  to: CircuitState;
  reason: TransitionReason;
  at: number;
}

export interface BreakerEvents {
  stateChange: StateChangeEvent;
  /** `durationMs` is measured only while someone listens to 'success' or 'failure'. */
  success: { name: string; durationMs: number };
  failure: { name: string; error: unknown; durationMs: number };
  timeout: { name: string; timeoutMs: number };
  rejected: { name: string; state: CircuitState; retryAfterMs: number };
  fallback: { name: string; error: unknown };
  ignored: { name: string; error: unknown };
}

export interface BreakerSnapshot {
  name: string;
  state: CircuitState;
  /** Calls in the current window (finished ones, plus calls still running past the slow-call duration). */
  calls: number;
  failures: number;
  slowCalls: number;
  failureRate: number;
  slowCallRate: number;
  inFlight: number;
  /** Counters since the breaker was made. */
  successes: number;
  failed: number;
  ignored: number;
  rejected: number;
  timeouts: number;
  fallbacks: number;
  /** When an open circuit lets the next probe through (ms on the breaker's clock), or null. */
  openUntil: number | null;
  /** How long a caller should wait before trying again; null unless calls are being rejected. */
  retryAfterMs: number | null;
  lastTransition: StateChangeEvent | null;
  config: {
    window: ResolvedOptions['window'];
    minimumCalls: number;
    failureRateThreshold: number;
    slowCallRateThreshold: number;
    slowCallDurationMs: number;
    timeoutMs: number | null;
    halfOpenMaxCalls: number;
  };
}

/**
 * A circuit breaker. Closed, it lets calls through and watches their outcomes
 * in a window; when failures or slow calls pass a threshold it opens and
 * rejects calls at once; after the open period it lets a few probes through
 * (half-open) and closes when they succeed or opens again when one fails.
 *
 * Time transitions are lazy (decided when a call or a reader arrives) and the
 * only timer is one per breaker for the deadlines of calls in flight.
 */
export class CircuitBreaker implements Policy, CallOwner {
  readonly name: string;
  private readonly o: ResolvedOptions;
  private readonly window: Window;
  private readonly events = new Emitter<BreakerEvents>();
  private readonly clock: () => number;
  private s: InnerState = { kind: 'CLOSED' };
  /** Bumped by every transition: results of calls from an older generation do not move the state. */
  private generation = 0;
  private lastTransition: StateChangeEvent | null = null;

  // Calls in flight, tracked when they have a deadline or slow calls are watched.
  private readonly list: InFlightList;
  private readonly pool = new CallPool(this);
  private readonly tracked: boolean;
  private readonly watchSlow: boolean;
  private readonly timeWindow: boolean;
  private readonly needsEndClock: boolean;
  private slowFrontier: Call | null = null; // oldest tracked call not yet counted as slow
  private inFlightSlow = 0;
  private inFlight = 0;

  private counts = { successes: 0, failed: 0, ignored: 0, rejected: 0, timeouts: 0, fallbacks: 0 };

  constructor(options: CircuitBreakerOptions) {
    const o = resolveOptions(options);
    this.o = o;
    this.name = o.name;
    this.clock = o.clock;
    const w = o.window;
    const thresholds = o;
    this.window =
      w.type === 'count'
        ? new CountWindow(w.size, thresholds)
        : w.type === 'time'
          ? new TimeWindow(w.ms, w.buckets ?? 10, thresholds, this.clock())
          : new ConsecutiveWindow(w.failures, w.slowCalls ?? Infinity);
    this.timeWindow = w.type === 'time';
    this.watchSlow = w.type === 'consecutive' ? (w.slowCalls ?? Infinity) !== Infinity : o.slowCallRateThreshold < 1;
    this.tracked = this.watchSlow || o.timeoutMs !== undefined;
    this.needsEndClock = this.watchSlow || this.timeWindow;
    this.list = new InFlightList(this.clock, this.expire, o.timeoutMs);
  }

  /** The current state (an open circuit whose period has elapsed reads, and becomes, HALF_OPEN). */
  get state(): CircuitState {
    if (this.s.kind === 'OPEN') this.elapse(this.clock());
    return this.s.kind;
  }

  on<K extends keyof BreakerEvents>(event: K, listener: Listener<BreakerEvents[K]>): () => void {
    const off = this.events.on(event, listener);
    this.timed = this.events.has('success') || this.events.has('failure');
    return () => {
      off();
      this.timed = this.events.has('success') || this.events.has('failure');
    };
  }

  /**
   * Runs `fn` through the breaker. The second argument is a fallback (the
   * document's form) or `{ fallback, signal }`.
   */
  execute<T>(fn: Work<T>, options?: BreakerExecuteOptions<T> | Fallback<T>): Promise<T> {
    if (typeof fn !== 'function') return Promise.reject(new TypeError(`CircuitBreaker '${this.name}': execute needs a function`));
    let fallback: Fallback<T> | undefined;
    let opts: InternalOptions | undefined;
    if (typeof options === 'function') fallback = options;
    else if (options !== undefined) {
      fallback = options.fallback;
      if (options.signal !== undefined || (options as InternalOptions)[kParent] !== undefined) opts = options;
    }

    let probe = false;
    const s = this.s;
    if (s.kind !== 'CLOSED') {
      if (s.kind !== 'DISABLED') {
        const rejection = this.admit(this.clock());
        if (rejection !== undefined) return this.rejectCall(rejection, fallback);
        probe = true;
      }
    } else if (this.watchSlow && this.list.head !== null) {
      // A hung dependency trips the breaker as calls keep arriving, without waiting for their timeouts.
      const now = this.clock();
      const reason = this.window.verdict(now, this.countInFlightSlow(now));
      if (reason !== null) {
        this.open(reason, now, 0);
        return this.rejectCall(this.openError(now), fallback);
      }
    }

    let parent: AbortSignal | undefined;
    if (opts !== undefined) {
      parent = abortableParent(opts);
      if (parent?.aborted) {
        if (probe) this.releaseProbe(this.generation);
        return Promise.reject(abortReason(parent));
      }
    }
    if (this.tracked || parent !== undefined) return this.runTracked(fn, probe, fallback, parent);
    return this.runPlain(fn, probe, fallback);
  }

  /** Forces the circuit open: every call is rejected until `reset()` or `disable()`. */
  forceOpen(): void {
    this.transition({ kind: 'FORCED_OPEN' }, 'forced-open', this.clock());
  }

  /** Turns the circuit off: every call goes through and nothing is judged, until `reset()` or `forceOpen()`. */
  disable(): void {
    this.transition({ kind: 'DISABLED' }, 'disabled', this.clock());
  }

  /**
   * Counts a fallback that the caller served itself for an error of this breaker's call (in a
   * `catch` around `execute`, when the fallback needs more than the error: the order, the
   * customer's answer). Counted in `snapshot().fallbacks` and emitted as `fallback`, exactly as
   * a fallback given to `execute`; the state is not touched.
   */
  recordFallback(error: unknown): void {
    this.counts.fallbacks++;
    if (this.events.has('fallback')) this.events.emit('fallback', { name: this.name, error });
  }

  /** Back to CLOSED with an empty window, whatever the state. */
  reset(): void {
    this.transition({ kind: 'CLOSED' }, 'reset', this.clock());
  }

  snapshot(): BreakerSnapshot {
    const now = this.clock();
    if (this.s.kind === 'OPEN') this.elapse(now);
    const t = this.window.totals(now);
    const slowInFlight = this.watchSlow ? this.countInFlightSlow(now) : 0;
    const calls = t.calls + slowInFlight;
    const s = this.s;
    const o = this.o;
    return {
      name: this.name,
      state: s.kind,
      calls,
      failures: t.failures,
      slowCalls: t.slowCalls + slowInFlight,
      failureRate: calls === 0 ? 0 : t.failures / calls,
      slowCallRate: calls === 0 ? 0 : (t.slowCalls + slowInFlight) / calls,
      inFlight: this.inFlight,
      ...this.counts,
      openUntil: s.kind === 'OPEN' ? s.until : null,
      retryAfterMs: s.kind === 'OPEN' ? Math.max(0, s.until - now) : null,
      lastTransition: this.lastTransition,
      config: {
        window: o.window,
        minimumCalls: o.minimumCalls,
        failureRateThreshold: o.failureRateThreshold,
        slowCallRateThreshold: o.slowCallRateThreshold,
        slowCallDurationMs: o.slowCallDurationMs,
        timeoutMs: o.timeoutMs ?? null,
        halfOpenMaxCalls: o.halfOpenMaxCalls,
      },
    };
  }

  // ---- admission -------------------------------------------------------

  /** Decides whether a call may run while not CLOSED; returns the rejection, or undefined for a probe. */
  private admit(now: number): CircuitOpenError | undefined {
    let s = this.s;
    if (s.kind === 'OPEN') {
      if (now < s.until) return this.openError(now);
      this.elapse(now);
      s = this.s;
    }
    if (s.kind === 'HALF_OPEN') {
      if (s.probes >= this.o.halfOpenMaxCalls) return CircuitOpenError.create(this.name, 'HALF_OPEN', 0);
      s.probes++;
      return undefined;
    }
    return CircuitOpenError.create(this.name, 'FORCED_OPEN', Infinity);
  }

  private openError(now: number): CircuitOpenError {
    const s = this.s;
    return CircuitOpenError.create(this.name, 'OPEN', s.kind === 'OPEN' ? Math.max(0, s.until - now) : 0);
  }

  /** OPEN → HALF_OPEN once the open period is over. */
  private elapse(now: number): void {
    const s = this.s;
    if (s.kind === 'OPEN' && now >= s.until) {
      this.transition({ kind: 'HALF_OPEN', probes: 0, successes: 0, attempt: s.attempt }, 'open-elapsed', now);
    }
  }

  private rejectCall<T>(error: CircuitOpenError, fallback: Fallback<T> | undefined): Promise<T> {
    this.counts.rejected++;
    if (this.events.has('rejected')) {
      this.events.emit('rejected', { name: this.name, state: error.state, retryAfterMs: error.retryAfterMs });
    }
    if (fallback !== undefined) return this.runFallback(fallback, error);
    return rejectSoon(error);
  }

  // ---- running -----------------------------------------------------------

  /**
   * No deadline, no caller signal, no slow-call watch: the cheapest path.
   * Without a fallback the caller gets the function's own promise, and the
   * breaker watches it from the side with handlers made once per generation,
   * so a call allocates nothing but the reaction.
   */
  private runPlain<T>(fn: Work<T>, probe: boolean, fallback: Fallback<T> | undefined): Promise<T> {
    const measure = this.measuring();
    if (fallback === undefined && !probe && !measure) {
      const promise = invoke(fn, NEVER_ABORTED);
      this.inFlight++;
      let observers = this.observers;
      if (observers === null || observers.generation !== this.generation) observers = this.observers = this.makeObservers();
      promise.then(observers.ok, observers.fail);
      return promise;
    }
    const generation = this.generation;
    const start = measure ? this.clock() : 0;
    const promise = invoke(fn, NEVER_ABORTED);
    this.inFlight++;
    return promise.then(
      (value) => {
        this.inFlight--;
        const now = measure || this.timeWindow ? this.clock() : undefined;
        this.succeeded(generation, probe, false, measure ? now! - start : NaN, now);
        return value;
      },
      (error: unknown) => {
        this.inFlight--;
        const now = this.clock();
        if (!this.counts_(error)) return this.ignore(generation, probe, error);
        this.failed(generation, probe, false, error, measure ? now - start : NaN, now);
        if (fallback !== undefined) return this.runFallback(fallback, error);
        throw error;
      },
    );
  }

  private observers: { generation: number; ok: () => void; fail: (error: unknown) => void } | null = null;

  /** Handlers that watch plain calls of one generation (the caller sees the function's own promise). */
  private makeObservers() {
    const generation = this.generation;
    return {
      generation,
      ok: (): void => {
        this.inFlight--;
        this.succeeded(generation, false, false, NaN, this.timeWindow ? this.clock() : undefined);
      },
      fail: (error: unknown): void => {
        this.inFlight--;
        if (!this.counts_(error)) {
          this.counts.ignored++;
          if (this.events.has('ignored')) this.events.emit('ignored', { name: this.name, error });
          return;
        }
        this.failed(generation, false, false, error, NaN, this.clock());
      },
    };
  }

  /** Whether anyone listens for call durations (only then are plain calls timed). */
  private timed = false;
  private measuring(): boolean {
    return this.timed;
  }

  /**
   * With a deadline, a caller's signal or slow-call watch: the call joins the
   * in-flight list and the caller gets a promise of its own, which the deadline
   * or the caller's abort can settle before the function does.
   *
   * Per call this makes the caller's promise, the function's context and one
   * reaction on the function's promise; the record and its two handlers come
   * from the pool (see Call), so no closure is made per call.
   */
  private runTracked<T>(fn: Work<T>, probe: boolean, fallback: Fallback<T> | undefined, parent: AbortSignal | undefined): Promise<T> {
    const call = this.pool.take();
    // The start is read only for what needs it: slow calls and durations (deadlines come from the list's ticks).
    call.start = this.watchSlow || this.timed ? this.clock() : NaN;
    call.generation = this.generation;
    call.probe = probe;
    call.fallback = fallback as ((error: unknown) => unknown) | undefined;
    this.list.push(call);
    if (this.watchSlow && this.slowFrontier === null) this.slowFrontier = call;
    this.inFlight++;
    const promise = deferred<T>(call);
    const ctx = call.ctx!;
    if (parent !== undefined) ctx.listen(parent);
    watch(invoke(fn, ctx), call);
    return promise;
  }

  /** The function's promise fulfilled (CallOwner). */
  [kFulfilled](call: Call, value: unknown): void {
    // Already answered by its deadline or the caller's abort: a late result changes nothing.
    if (!call.settled) {
      this.untrack(call);
      // The clock is read again only for what needs it: slow calls, a time window, or listeners of durations.
      const now = this.needsEndClock || this.timed ? this.clock() : undefined;
      const durationMs = now === undefined ? NaN : now - call.start;
      this.succeeded(call.generation, call.probe, this.watchSlow && durationMs >= this.o.slowCallDurationMs, durationMs, now);
      call.resolve(value);
    }
    this.pool.give(call);
  }

  /** The function's promise rejected (CallOwner). */
  [kRejected](call: Call, error: unknown): void {
    if (!call.settled) {
      this.untrack(call);
      const now = this.clock();
      if (!this.counts_(error)) {
        this.ignored_(call.generation, call.probe, error);
        call.reject(error);
      } else {
        const durationMs = now - call.start;
        this.failed(call.generation, call.probe, this.watchSlow && durationMs >= this.o.slowCallDurationMs, error, durationMs, now);
        this.answerWithError(call, error);
      }
    }
    this.pool.give(call);
  }

  /** The deadline of a call passed: abort its signal, count a failure, answer the caller now. */
  private readonly expire = (call: Call, now: number): void => {
    if (call.settled) return;
    const ctx = call.ctx!;
    this.untrack(call);
    const timeoutMs = this.o.timeoutMs!;
    const error = new TimeoutError(`CircuitBreaker '${this.name}'`, timeoutMs);
    ctx.abort(error);
    this.counts.timeouts++;
    if (this.events.has('timeout')) this.events.emit('timeout', { name: this.name, timeoutMs });
    const durationMs = Number.isNaN(call.start) ? timeoutMs : now - call.start;
    this.failed(call.generation, call.probe, this.watchSlow && durationMs >= this.o.slowCallDurationMs, error, durationMs, now);
    this.answerWithError(call, error);
  };

  /** The caller's signal aborted (CallOwner): the call counts as nothing, and the caller gets the abort reason. */
  [kCallerAborted](call: Call, reason: unknown): void {
    if (call.settled) return;
    this.untrack(call);
    if (call.probe) this.releaseProbe(call.generation);
    call.reject(reason);
  }

  private untrack(call: Call): void {
    call.settled = true;
    if (this.watchSlow) {
      if (call === this.slowFrontier) this.slowFrontier = call.next;
      if (call.countedSlow && call.generation === this.generation) this.inFlightSlow--;
    }
    this.list.remove(call);
    call.ctx!.release();
    this.inFlight--;
  }

  private answerWithError(call: Call, error: unknown): void {
    const fallback = call.fallback;
    if (fallback === undefined) call.reject(error);
    else this.runFallback(fallback, error).then(call.resolve, call.reject);
  }

  private runFallback<T>(fallback: Fallback<T>, error: unknown): Promise<T> {
    this.recordFallback(error);
    try {
      return Promise.resolve(fallback(error));
    } catch (fallbackError) {
      return Promise.reject(fallbackError);
    }
  }

  /** Counts the calls still running past the slow-call duration (amortised O(1): each call is passed once). */
  private countInFlightSlow(now: number): number {
    const limit = now - this.o.slowCallDurationMs;
    let call = this.slowFrontier;
    while (call !== null && call.start <= limit) {
      if (call.generation === this.generation) {
        call.countedSlow = true;
        this.inFlightSlow++;
      }
      call = call.next;
    }
    this.slowFrontier = call;
    return this.inFlightSlow;
  }

  // ---- outcomes ----------------------------------------------------------

  private counts_(error: unknown): boolean {
    const isFailure = this.o.isFailure;
    if (isFailure === undefined) return true;
    try {
      return isFailure(error) !== false;
    } catch {
      return true; // a classifier that throws cannot vouch for the error: count it
    }
  }

  private ignore(generation: number, probe: boolean, error: unknown): Promise<never> {
    this.ignored_(generation, probe, error);
    return Promise.reject(error);
  }

  /** An error that `isFailure` refuses: counted apart, and a probe gives its slot back. */
  private ignored_(generation: number, probe: boolean, error: unknown): void {
    this.counts.ignored++;
    if (probe) this.releaseProbe(generation);
    if (this.events.has('ignored')) this.events.emit('ignored', { name: this.name, error });
  }

  private releaseProbe(generation: number): void {
    const s = this.s;
    if (generation === this.generation && s.kind === 'HALF_OPEN') s.probes--;
  }

  /** `now` is undefined when nothing needed the clock so far; it is read if the state must change. */
  private succeeded(generation: number, probe: boolean, slow: boolean, durationMs: number, now: number | undefined): void {
    this.counts.successes++;
    // `timed` says whether anyone listens to 'success' or 'failure': most breakers skip the lookup.
    if (this.timed && this.events.has('success')) this.events.emit('success', { name: this.name, durationMs });
    if (generation !== this.generation) return;
    const s = this.s;
    if (s.kind === 'CLOSED') {
      this.window.record(false, slow, now ?? 0);
      // A fast success lowers the rates of a count or consecutive window, except the one that
      // brings the window to minimumCalls: only then (or when time or slowness is involved) judge.
      if (slow || this.watchSlow || this.timeWindow || this.window.totals(0).calls === this.o.minimumCalls) this.judge(now);
    } else if (s.kind === 'HALF_OPEN' && probe) {
      s.probes--;
      if (slow && this.watchSlow) this.open('probe-slow', now ?? this.clock(), s.attempt + 1);
      else if (++s.successes >= this.o.successThreshold) this.transition({ kind: 'CLOSED' }, 'probes-succeeded', now ?? this.clock());
    }
  }

  private failed(generation: number, probe: boolean, slow: boolean, error: unknown, durationMs: number, now: number): void {
    this.counts.failed++;
    if (this.timed && this.events.has('failure')) this.events.emit('failure', { name: this.name, error, durationMs });
    if (generation !== this.generation) return;
    const s = this.s;
    if (s.kind === 'CLOSED') {
      this.window.record(true, slow, now);
      this.judge(now);
    } else if (s.kind === 'HALF_OPEN' && probe) {
      s.probes--;
      this.open('probe-failed', now, s.attempt + 1);
    }
  }

  /** `now` may be undefined only for windows that do not read it (count, consecutive) without slow-call watch. */
  private judge(now: number | undefined): void {
    const reason = this.window.verdict(now ?? 0, this.watchSlow ? this.countInFlightSlow(now!) : 0);
    if (reason !== null) this.open(reason, now ?? this.clock(), 0);
  }

  private open(reason: TransitionReason, now: number, attempt: number): void {
    const { initialMs, maxMs, multiplier, jitter } = this.o.open;
    let ms = Math.min(maxMs, initialMs * multiplier ** attempt);
    if (jitter > 0) ms = Math.min(maxMs, ms * (1 - jitter + 2 * jitter * this.o.random()));
    this.transition({ kind: 'OPEN', until: now + ms, attempt }, reason, now);
  }

  /** The one place where the state changes. */
  private transition(to: InnerState, reason: TransitionReason, now: number): void {
    const from = this.s.kind;
    if (!LEGAL[from].includes(to.kind)) throw new Error(`CircuitBreaker '${this.name}': illegal transition ${from} → ${to.kind}`);
    this.s = to;
    this.generation++;
    this.window.reset(now);
    // Calls still in flight belong to the old generation: they no longer count as slow calls.
    this.inFlightSlow = 0;
    this.slowFrontier = null;
    if (from === to.kind) return;
    const event: StateChangeEvent = { name: this.name, from, to: to.kind, reason, at: now };
    this.lastTransition = event;
    this.events.emit('stateChange', event);
  }
}

/**
 * A rejected promise whose rejection happens after the caller attached its
 * handler: rejecting a promise nobody handles yet makes Node track it as a
 * possibly unhandled rejection, which costs more than the rest of the call.
 * The delay is a native promise reaction (not `queueMicrotask`, which fake
 * timers replace).
 */
const settled = Promise.resolve();
function rejectSoon<T>(error: unknown): Promise<T> {
  const handle = { resolve: (_: unknown) => {}, reject: (_: unknown) => {} };
  const promise = deferred<T>(handle);
  void settled.then(() => handle.reject(error));
  return promise;
}
