import {
  CircuitBreaker,
  CircuitOpenError,
  isCircuitOpenError,
  isTimeoutError,
  OptionsError,
  TimeoutError,
  type CircuitBreakerOptions,
  type ExecuteContext,
  type StateChangeEvent,
  retry,
  wrap,
} from './index';
import { getEventListeners } from 'node:events';
import { NEVER_ABORTED } from './policy';

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const ok = () => Promise.resolve('ok');
const boom = () => Promise.reject(new Error('boom'));
/** A call that stays in flight until the test settles it. */
function deferred<T = string>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Counts the AbortControllers made until `restore()` (the global is replaced by a counting subclass). */
function countControllers(): { readonly made: number; restore(): void } {
  const Original = globalThis.AbortController;
  const counter = {
    made: 0,
    restore: () => {
      globalThis.AbortController = Original;
    },
  };
  globalThis.AbortController = class extends Original {
    constructor() {
      super();
      counter.made++;
    }
  };
  return counter;
}

async function failTimes(breaker: CircuitBreaker, n: number) {
  for (let i = 0; i < n; i++) await breaker.execute(boom).catch(() => {});
}
async function succeedTimes(breaker: CircuitBreaker, n: number) {
  for (let i = 0; i < n; i++) await breaker.execute(ok);
}

describe('consecutive window (the simple breaker)', () => {
  it('opens after the given number of failures in a row', async () => {
    const b = new CircuitBreaker({ name: 'p', window: { type: 'consecutive', failures: 3 } });
    await failTimes(b, 2);
    expect(b.state).toBe('CLOSED');
    await failTimes(b, 1);
    expect(b.state).toBe('OPEN');
  });

  it('a success ends the streak', async () => {
    const b = new CircuitBreaker({ name: 'p', window: { type: 'consecutive', failures: 3 } });
    await failTimes(b, 2);
    await succeedTimes(b, 1);
    await failTimes(b, 2);
    expect(b.state).toBe('CLOSED');
  });

  it('closes only after the success threshold of probes in half-open', async () => {
    const clock = manualClock();
    const b = new CircuitBreaker({
      name: 'p',
      window: { type: 'consecutive', failures: 1, successes: 2 },
      halfOpenMaxCalls: 1,
      openMs: 1000,
      clock: clock.now,
    });
    await failTimes(b, 1);
    clock.advance(1000);
    await succeedTimes(b, 1);
    expect(b.state).toBe('HALF_OPEN');
    await succeedTimes(b, 1);
    expect(b.state).toBe('CLOSED');
  });
});

describe('count window', () => {
  it('gives no verdict before minimumCalls', async () => {
    const b = new CircuitBreaker({ name: 'p', window: { type: 'count', size: 10 }, minimumCalls: 5, failureRateThreshold: 0.5 });
    await failTimes(b, 4);
    expect(b.state).toBe('CLOSED');
    await failTimes(b, 1);
    expect(b.state).toBe('OPEN');
    expect(b.snapshot().lastTransition?.reason).toBe('failure-rate');
  });

  it('trips on the failure rate of the last N calls only', async () => {
    const b = new CircuitBreaker({ name: 'p', window: { type: 'count', size: 4 }, minimumCalls: 4, failureRateThreshold: 0.75 });
    await failTimes(b, 2);
    await succeedTimes(b, 2); // 2/4 failed
    expect(b.state).toBe('CLOSED');
    await failTimes(b, 1); // window: F S S F → 2/4
    expect(b.state).toBe('CLOSED');
    await failTimes(b, 1); // S S F F → 2/4
    await failTimes(b, 1); // S F F F → 3/4
    expect(b.state).toBe('OPEN');
  });

  it('reaching minimumCalls with a success can still trip on the rate', async () => {
    const b = new CircuitBreaker({ name: 'p', window: { type: 'count', size: 10 }, minimumCalls: 4, failureRateThreshold: 0.5 });
    await failTimes(b, 3);
    await succeedTimes(b, 1);
    expect(b.state).toBe('OPEN');
  });
});

describe('time window', () => {
  it('forgets calls older than the window', async () => {
    const clock = manualClock();
    const b = new CircuitBreaker({
      name: 'p',
      window: { type: 'time', ms: 10_000, buckets: 10 },
      minimumCalls: 4,
      failureRateThreshold: 0.5,
      clock: clock.now,
    });
    await failTimes(b, 3);
    clock.advance(10_000); // those failures have left the window
    await failTimes(b, 1);
    expect(b.snapshot().calls).toBe(1);
    expect(b.state).toBe('CLOSED');
  });

  it('after an idle hour, old successes no longer count', async () => {
    const clock = manualClock();
    const b = new CircuitBreaker({
      name: 'p',
      window: { type: 'time', ms: 10_000 },
      minimumCalls: 3,
      failureRateThreshold: 0.5,
      clock: clock.now,
    });
    await succeedTimes(b, 100);
    clock.advance(3_600_000);
    expect(b.snapshot().calls).toBe(0);
    await failTimes(b, 3);
    expect(b.state).toBe('OPEN');
  });

  it('keeps calls of the last buckets as time moves bucket by bucket', async () => {
    const clock = manualClock(0);
    const b = new CircuitBreaker({ name: 'p', window: { type: 'time', ms: 1000, buckets: 10 }, minimumCalls: 100, clock: clock.now });
    for (let i = 0; i < 10; i++) {
      await succeedTimes(b, 1);
      clock.advance(100);
    }
    expect(b.snapshot().calls).toBe(9); // the first bucket has expired
    clock.advance(450);
    expect(b.snapshot().calls).toBe(5);
  });
});

describe('slow calls', () => {
  it('trips on the slow-call rate', async () => {
    const clock = manualClock();
    const b = new CircuitBreaker({
      name: 'p',
      window: { type: 'count', size: 10 },
      minimumCalls: 4,
      slowCallRateThreshold: 0.5,
      slowCallDurationMs: 100,
      clock: clock.now,
    });
    const slow = async () => {
      clock.advance(150);
      return 'late';
    };
    await b.execute(slow);
    await succeedTimes(b, 2);
    expect(b.state).toBe('CLOSED');
    await b.execute(slow);
    expect(b.state).toBe('OPEN');
    expect(b.snapshot().lastTransition?.reason).toBe('slow-call-rate');
  });

  it('a call still running past the slow duration counts as slow before it finishes', async () => {
    const clock = manualClock();
    const b = new CircuitBreaker({
      name: 'p',
      window: { type: 'count', size: 10 },
      minimumCalls: 3,
      slowCallRateThreshold: 0.5,
      slowCallDurationMs: 1000,
      clock: clock.now,
    });
    const hung = [deferred(), deferred()];
    const calls = hung.map((d) => b.execute(() => d.promise));
    await succeedTimes(b, 1);
    clock.advance(1000);
    // Two hung calls and one fast one: 2/3 slow, although nothing slow has finished.
    expect(b.snapshot().slowCalls).toBe(2);
    await expect(b.execute(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(b.state).toBe('OPEN');
    hung.forEach((d) => d.resolve('late'));
    await Promise.all(calls);
    expect(b.state).toBe('OPEN'); // late successes from before the trip change nothing
  });

  it('slowness alone never trips with a slow-call threshold of 1', async () => {
    const clock = manualClock();
    const b = new CircuitBreaker({ name: 'p', window: { type: 'count', size: 10 }, minimumCalls: 2, slowCallDurationMs: 10, clock: clock.now });
    for (let i = 0; i < 5; i++) {
      await b.execute(async () => {
        clock.advance(50);
      });
    }
    expect(b.state).toBe('CLOSED');
  });
});

describe('per-call timeout', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('rejects the caller at the deadline (never before, at most 1/32 of the timeout after) even if the function ignores its signal', async () => {
    const b = new CircuitBreaker({ name: 'p', timeoutMs: 320 });
    const never = new Promise<string>(() => {});
    const result = b.execute(() => never);
    let settled = false;
    result.catch(() => {}).finally(() => (settled = true));
    await jest.advanceTimersByTimeAsync(319);
    expect(settled).toBe(false);
    await jest.advanceTimersByTimeAsync(11); // 320 + 320/32

    expect(settled).toBe(true);
    await expect(result).rejects.toBeInstanceOf(TimeoutError);
    expect(b.snapshot()).toMatchObject({ timeouts: 1, failures: 1 });
  });

  it("aborts that call's signal only", async () => {
    const b = new CircuitBreaker({ name: 'p', timeoutMs: 100 });
    const signals: AbortSignal[] = [];
    const slow = b.execute(({ signal }) => {
      signals.push(signal);
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    });
    slow.catch(() => {});
    await jest.advanceTimersByTimeAsync(50);
    const fast = b.execute(async ({ signal }) => {
      signals.push(signal);
      return 'fast';
    });
    await expect(fast).resolves.toBe('fast');
    await jest.advanceTimersByTimeAsync(50 + 100 / 32);
    expect(isTimeoutError(await slow.catch((e: unknown) => e))).toBe(true);
    expect(signals[0]!.aborted).toBe(true);
    expect(isTimeoutError(signals[0]!.reason)).toBe(true);
    expect(signals[1]!.aborted).toBe(false);
  });

  it('combines the call signal with the caller signal, and an abort by the caller counts as nothing', async () => {
    const b = new CircuitBreaker({ name: 'p', timeoutMs: 1000, window: { type: 'consecutive', failures: 1 } });
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const result = b.execute(
      ({ signal }) => {
        seen = signal;
        return new Promise<string>(() => {}); // ignores the signal
      },
      { signal: controller.signal },
    );
    controller.abort(new Error('user left'));
    await expect(result).rejects.toThrow('user left');
    expect(seen!.aborted).toBe(true);
    expect(b.state).toBe('CLOSED');
    expect(b.snapshot().failed).toBe(0);
  });

  it('arms no timer per call: one timer serves every call in flight', async () => {
    const b = new CircuitBreaker({ name: 'p', timeoutMs: 1000, minimumCalls: 1000 });
    const before = jest.getTimerCount();
    const calls = Array.from({ length: 100 }, () => b.execute(() => new Promise<string>(() => {})).catch((e: unknown) => e));
    expect(jest.getTimerCount() - before).toBe(1);
    await jest.advanceTimersByTimeAsync(1000 + 1000 / 32);
    const errors = await Promise.all(calls);
    expect(errors.every(isTimeoutError)).toBe(true);
  });

  it('inside a retry without a caller signal, listens to nothing: no listener per call in flight on a shared signal', async () => {
    const b = new CircuitBreaker({ name: 'p', timeoutMs: 1000 });
    const policy = wrap(retry({ attempts: 2, initialDelayMs: 0 }), b);
    const pending = Array.from({ length: 20 }, () => deferred());
    let seen: AbortSignal | undefined;
    const calls = pending.map((d) =>
      policy.execute((ctx) => {
        seen = ctx.signal; // the breaker's own signal per call, not the retry's shared one
        return d.promise;
      }),
    );
    await Promise.resolve();
    expect(getEventListeners(NEVER_ABORTED.signal, 'abort')).toHaveLength(0);
    expect(seen?.aborted).toBe(false);
    for (const d of pending) d.resolve('ok');
    await expect(Promise.all(calls)).resolves.toHaveLength(20);
  });

  it("listens to the caller's signal without making a controller until the function reads its own", async () => {
    const caller = new AbortController();
    const controllers = countControllers();
    try {
      const b = new CircuitBreaker({ name: 'p', timeoutMs: 1000 });
      await b.execute(ok, { signal: caller.signal });
      expect(controllers.made).toBe(0);
      expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0); // a finished call stops listening
      let kept: ExecuteContext | undefined;
      const pending = b.execute(
        (ctx) => {
          kept = ctx;
          return new Promise<string>(() => {}); // never reads its signal, never settles
        },
        { signal: caller.signal },
      );
      expect(controllers.made).toBe(0);
      caller.abort(new Error('user left'));
      await expect(pending).rejects.toThrow('user left');
      // Read after the abort, the call's signal is born aborted with the caller's reason.
      expect(kept!.signal.aborted).toBe(true);
      expect((kept!.signal.reason as Error).message).toBe('user left');
      expect(controllers.made).toBe(1);
      expect(b.snapshot()).toMatchObject({ failed: 0, inFlight: 0 });
    } finally {
      controllers.restore();
    }
  });

  it('a late result of a timed-out call answers and counts nothing, not even for the calls after it', async () => {
    const b = new CircuitBreaker({ name: 'p', timeoutMs: 100, minimumCalls: 1000 });
    const late = deferred();
    const first = b.execute(() => late.promise).catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(100 + 100 / 32);
    expect(isTimeoutError(await first)).toBe(true);
    const gate = deferred();
    const second = b.execute(() => gate.promise);
    late.reject(new Error('late')); // the timed-out function fails only now
    await jest.advanceTimersByTimeAsync(0);
    gate.resolve('second');
    await expect(second).resolves.toBe('second');
    await expect(b.execute(ok)).resolves.toBe('ok');
    expect(b.snapshot()).toMatchObject({ successes: 2, failed: 1, timeouts: 1, inFlight: 0 });
  });

  it('a context kept after its call has ended is never aborted by a later call', async () => {
    const b = new CircuitBreaker({ name: 'p', timeoutMs: 100 });
    let kept: ExecuteContext | undefined;
    await b.execute(async (ctx) => {
      kept = ctx;
      return 'done';
    });
    const slow = b.execute(() => new Promise<string>(() => {})).catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(100 + 100 / 32);
    expect(isTimeoutError(await slow)).toBe(true);
    expect(kept!.signal.aborted).toBe(false);
  });

  it("watches the function's promise with the intrinsic then: a subclass whose then calls back twice answers once", async () => {
    class Twice<T> extends Promise<T> {
      override then<A = T, B = never>(
        onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
        onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
      ): Promise<A | B> {
        void super.then(onFulfilled, onRejected);
        return super.then(onFulfilled, onRejected);
      }
    }
    const b = new CircuitBreaker({ name: 'p', timeoutMs: 1000, minimumCalls: 1000 });
    await expect(b.execute(() => Twice.resolve('first'))).resolves.toBe('first');
    // Calls that run together after it each get their own answer.
    const one = deferred();
    const two = deferred();
    const both = Promise.all([b.execute(() => one.promise), b.execute(() => two.promise)]);
    two.resolve('two');
    one.resolve('one');
    await expect(both).resolves.toEqual(['one', 'two']);
    expect(b.snapshot()).toMatchObject({ successes: 3, inFlight: 0 });
  });

  it('makes the signal only when the function reads it', async () => {
    const controllers = countControllers();
    try {
      const b = new CircuitBreaker({ name: 'p', timeoutMs: 1000 });
      await b.execute(ok);
      expect(controllers.made).toBe(0);
      await b.execute(({ signal }) => Promise.resolve(signal.aborted));
      expect(controllers.made).toBe(1);
    } finally {
      controllers.restore();
    }
  });
});

describe('half-open', () => {
  function tripped(extra: Partial<CircuitBreakerOptions> = {}) {
    const clock = manualClock();
    const b = new CircuitBreaker({
      name: 'payment',
      window: { type: 'consecutive', failures: 1 },
      openMs: 1000,
      halfOpenMaxCalls: 2,
      clock: clock.now,
      ...extra,
    });
    return { b, clock };
  }

  it('rejects at once while open, telling when to come back', async () => {
    const { b, clock } = tripped();
    await failTimes(b, 1);
    clock.advance(400);
    const error = await b.execute(ok).catch((e: unknown) => e);
    expect(isCircuitOpenError(error)).toBe(true);
    expect(error).toMatchObject({ breakerName: 'payment', retryAfterMs: 600, message: "CircuitBreaker 'payment' is OPEN" });
    expect(b.snapshot().rejected).toBe(1);
  });

  it('lets at most halfOpenMaxCalls probes through at once and rejects the rest without queueing', async () => {
    const { b, clock } = tripped();
    await failTimes(b, 1);
    clock.advance(1000);
    const probes = [deferred(), deferred()];
    const running = probes.map((d) => b.execute(() => d.promise));
    expect(b.state).toBe('HALF_OPEN');
    await expect(b.execute(ok)).rejects.toMatchObject({ state: 'HALF_OPEN' });
    probes.forEach((d) => d.resolve('ok'));
    await Promise.all(running);
    expect(b.state).toBe('CLOSED');
    expect(b.snapshot().lastTransition?.reason).toBe('probes-succeeded');
  });

  it('reopens when a probe fails', async () => {
    const { b, clock } = tripped();
    await failTimes(b, 1);
    clock.advance(1000);
    await failTimes(b, 1);
    expect(b.state).toBe('OPEN');
    expect(b.snapshot().lastTransition?.reason).toBe('probe-failed');
  });

  it('grows the open period after each failed probe, with jitter, up to a cap', async () => {
    const { b, clock } = tripped({ openMs: { initialMs: 1000, maxMs: 5000, multiplier: 2, jitter: 0.5 }, random: () => 1 });
    const periods: number[] = [];
    b.on('stateChange', (e) => {
      if (e.to === 'OPEN') periods.push(b.snapshot().openUntil! - e.at);
    });
    await failTimes(b, 1);
    for (let i = 0; i < 4; i++) {
      clock.advance(periods.at(-1)!);
      await failTimes(b, 1); // failed probe
    }
    // random() = 1 → +50%: 1000·1.5, 2000·1.5, 4000·1.5 capped, …
    expect(periods).toEqual([1500, 3000, 5000, 5000, 5000]);
  });

  it('starts again from the initial period once closed', async () => {
    const { b, clock } = tripped({ openMs: { initialMs: 1000, maxMs: 8000, jitter: 0 }, halfOpenMaxCalls: 1 });
    await failTimes(b, 1);
    clock.advance(1000);
    await failTimes(b, 1); // reopen for 2000
    clock.advance(2000);
    await succeedTimes(b, 1);
    expect(b.state).toBe('CLOSED');
    await failTimes(b, 1);
    expect(b.snapshot().retryAfterMs).toBe(1000);
  });
});

describe('results from before the last state change', () => {
  it('a late success from before the trip does not close the breaker', async () => {
    const clock = manualClock();
    const b = new CircuitBreaker({ name: 'p', window: { type: 'consecutive', failures: 2 }, halfOpenMaxCalls: 1, openMs: 1000, clock: clock.now });
    const early = deferred();
    const earlyCall = b.execute(() => early.promise);
    await failTimes(b, 2);
    expect(b.state).toBe('OPEN');
    clock.advance(1000);
    expect(b.state).toBe('HALF_OPEN');
    early.resolve('late');
    await earlyCall;
    expect(b.state).toBe('HALF_OPEN');
  });

  it('a late failure from before a reset does not trip it', async () => {
    const b = new CircuitBreaker({ name: 'p', window: { type: 'consecutive', failures: 1 } });
    const early = deferred();
    const earlyCall = b.execute(() => early.promise).catch(() => {});
    b.reset();
    early.reject(new Error('late'));
    await earlyCall;
    expect(b.state).toBe('CLOSED');
  });
});

describe('error classification', () => {
  it('an ignored error counts as neither success nor failure and skips the fallback', async () => {
    const b = new CircuitBreaker({
      name: 'p',
      window: { type: 'consecutive', failures: 1 },
      isFailure: (e) => !(e instanceof RangeError),
    });
    const fallback = jest.fn(() => 'fallback');
    await expect(b.execute(() => Promise.reject(new RangeError('declined')), fallback)).rejects.toBeInstanceOf(RangeError);
    expect(fallback).not.toHaveBeenCalled();
    expect(b.state).toBe('CLOSED');
    expect(b.snapshot()).toMatchObject({ ignored: 1, failed: 0, successes: 0, calls: 0 });
  });

  it('an ignored error in a probe frees its slot without closing or opening', async () => {
    const clock = manualClock();
    const b = new CircuitBreaker({
      name: 'p',
      window: { type: 'consecutive', failures: 1 },
      halfOpenMaxCalls: 1,
      openMs: 10,
      clock: clock.now,
      isFailure: (e) => !(e instanceof RangeError),
    });
    await failTimes(b, 1);
    clock.advance(10);
    await b.execute(() => Promise.reject(new RangeError('business'))).catch(() => {});
    expect(b.state).toBe('HALF_OPEN');
    await succeedTimes(b, 1);
    expect(b.state).toBe('CLOSED');
  });
});

describe('fallback', () => {
  it('receives the error of a failed call, is counted and emitted', async () => {
    const b = new CircuitBreaker({ name: 'p' });
    const events: unknown[] = [];
    b.on('fallback', (e) => events.push(e.error));
    const error = new Error('down');
    await expect(b.execute(() => Promise.reject(error), (e) => `fallback for ${(e as Error).message}`)).resolves.toBe('fallback for down');
    expect(events).toEqual([error]);
    expect(b.snapshot().fallbacks).toBe(1);
  });

  it('receives the CircuitOpenError when the call is rejected, in the options form too', async () => {
    const b = new CircuitBreaker({ name: 'p' });
    b.forceOpen();
    const seen: unknown[] = [];
    const value = await b.execute(ok, {
      fallback: (e) => {
        seen.push(e);
        return 'cached';
      },
    });
    expect(value).toBe('cached');
    expect(isCircuitOpenError(seen[0])).toBe(true);
  });

  it('receives the TimeoutError of a call past its deadline', async () => {
    jest.useFakeTimers();
    try {
      const b = new CircuitBreaker({ name: 'p', timeoutMs: 10 });
      const result = b.execute(() => new Promise<string>(() => {}), (e) => (isTimeoutError(e) ? 'timed out' : 'other'));
      await jest.advanceTimersByTimeAsync(11);
      await expect(result).resolves.toBe('timed out');
    } finally {
      jest.useRealTimers();
    }
  });

  it('a fallback the caller serves itself (recordFallback) is counted and emitted, and moves no state', async () => {
    const b = new CircuitBreaker({ name: 'p', window: { type: 'consecutive', failures: 1 } });
    const events: unknown[] = [];
    b.on('fallback', (e) => events.push(e.error));
    const error = await b.execute(boom).catch((e: unknown) => e);
    expect(b.state).toBe('OPEN');
    b.recordFallback(error);
    expect(events).toEqual([error]);
    expect(b.snapshot()).toMatchObject({ state: 'OPEN', fallbacks: 1, failed: 1, rejected: 0 });
  });

  it('a fallback that throws rejects the caller with its error', async () => {
    const b = new CircuitBreaker({ name: 'p' });
    await expect(
      b.execute(boom, () => {
        throw new Error('fallback failed too');
      }),
    ).rejects.toThrow('fallback failed too');
  });
});

describe('forced states, reset and listeners', () => {
  it('FORCED_OPEN rejects every call until reset', async () => {
    const b = new CircuitBreaker({ name: 'p' });
    b.forceOpen();
    expect(b.state).toBe('FORCED_OPEN');
    await expect(b.execute(ok)).rejects.toMatchObject({ state: 'FORCED_OPEN', retryAfterMs: Infinity });
    b.reset();
    await expect(b.execute(ok)).resolves.toBe('ok');
  });

  it('DISABLED lets every call through and never trips', async () => {
    const b = new CircuitBreaker({ name: 'p', window: { type: 'consecutive', failures: 1 } });
    b.disable();
    await failTimes(b, 5);
    expect(b.state).toBe('DISABLED');
    await expect(b.execute(ok)).resolves.toBe('ok');
  });

  it('reset closes an open breaker with an empty window', async () => {
    const b = new CircuitBreaker({ name: 'p', window: { type: 'consecutive', failures: 2 } });
    await failTimes(b, 2);
    b.reset();
    expect(b.state).toBe('CLOSED');
    await failTimes(b, 1);
    expect(b.state).toBe('CLOSED');
  });

  it('emits state changes with their reasons, and unsubscribes', async () => {
    const clock = manualClock();
    const b = new CircuitBreaker({ name: 'p', window: { type: 'consecutive', failures: 1 }, halfOpenMaxCalls: 1, openMs: 5, clock: clock.now });
    const seen: StateChangeEvent[] = [];
    const off = b.on('stateChange', (e) => seen.push(e));
    await failTimes(b, 1);
    clock.advance(5);
    await succeedTimes(b, 1);
    off();
    b.forceOpen();
    expect(seen.map((e) => `${e.from}>${e.to}:${e.reason}`)).toEqual(['CLOSED>OPEN:consecutive-failures', 'OPEN>HALF_OPEN:open-elapsed', 'HALF_OPEN>CLOSED:probes-succeeded']);
  });

  it('a listener that throws never breaks the breaker', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const b = new CircuitBreaker({ name: 'p', window: { type: 'consecutive', failures: 1 } });
      b.on('stateChange', () => {
        throw new Error('bad listener');
      });
      b.on('failure', () => {
        throw new Error('bad listener');
      });
      await expect(b.execute(boom)).rejects.toThrow('boom');
      expect(b.state).toBe('OPEN');
      expect(warn).toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('reports durations to listeners', async () => {
    const clock = manualClock();
    const b = new CircuitBreaker({ name: 'p', clock: clock.now });
    const durations: number[] = [];
    b.on('success', (e) => durations.push(e.durationMs));
    await b.execute(async () => clock.advance(42));
    expect(durations).toEqual([42]);
  });

  it('a snapshot is plain JSON', async () => {
    const b = new CircuitBreaker({ name: 'p', window: { type: 'count', size: 10 } });
    await succeedTimes(b, 3);
    await failTimes(b, 1);
    const snap = JSON.parse(JSON.stringify(b.snapshot()));
    expect(snap).toMatchObject({ name: 'p', state: 'CLOSED', calls: 4, failures: 1, failureRate: 0.25, successes: 3, failed: 1 });
  });
});

describe('options', () => {
  it('are validated at construction with precise messages', () => {
    expect(() => new CircuitBreaker({ name: '' })).toThrow(OptionsError);
    expect(() => new CircuitBreaker({ name: 'p', failureRateThreshold: 1.5 })).toThrow("CircuitBreaker 'p': option failureRateThreshold must be a number greater than 0 and at most 1 (got 1.5)");
    expect(() => new CircuitBreaker({ name: 'p', window: { type: 'count', size: 0 } })).toThrow('option window.size must be a positive integer (got 0)');
    expect(() => new CircuitBreaker({ name: 'p', timeoutMs: -1 })).toThrow('option timeoutMs must be a positive finite number (got -1)');
    expect(() => new CircuitBreaker({ name: 'p', openMs: { initialMs: 10, maxMs: 5 } })).toThrow('openMs.maxMs (5) must be at least openMs.initialMs (10)');
    expect(() => new CircuitBreaker({ name: 'p', window: { type: 'sliding' } as never })).toThrow("window.type must be 'count', 'time' or 'consecutive'");
    expect(() => new CircuitBreaker({ name: 'p', timeout: 5 } as never)).toThrow("CircuitBreaker 'p': unknown option timeout");
  });

  it("never change the caller's object", () => {
    const options = Object.freeze({ name: 'p', window: Object.freeze({ type: 'time' as const, ms: 1000 }) });
    const copy = JSON.parse(JSON.stringify(options));
    new CircuitBreaker(options);
    expect(options).toEqual(copy);
  });
});

describe('errors', () => {
  it('have names, guards that work without instanceof, and cheap rejections', () => {
    const open = CircuitOpenError.create('payment', 'OPEN', 10);
    expect(open).toBeInstanceOf(Error);
    expect(open.name).toBe('CircuitOpenError');
    expect(open.message).toBe("CircuitBreaker 'payment' is OPEN");
    expect(String(open)).toBe("CircuitOpenError: CircuitBreaker 'payment' is OPEN");
    expect(open.stack).toBe("CircuitOpenError: CircuitBreaker 'payment' is OPEN");
    expect(new CircuitOpenError('payment', 'FORCED_OPEN', Infinity).message).toBe("CircuitBreaker 'payment' is FORCED_OPEN");
    open.message = 'rewritten by a caller';
    expect(open.message).toBe('rewritten by a caller');
    expect(CircuitOpenError.create('payment', 'HALF_OPEN', 0).message).toBe("CircuitBreaker 'payment' is HALF_OPEN"); // others unchanged
    const foreign = { ...Object.fromEntries(Object.getOwnPropertySymbols(Object.getPrototypeOf(open)).map((s) => [s, true])) };
    expect(isCircuitOpenError(foreign)).toBe(true);
    expect(isCircuitOpenError(new Error('x'))).toBe(false);
    const timeout = new TimeoutError('inventory', 50, { cause: new Error('slow') });
    expect(timeout.message).toBe('inventory timed out after 50 ms');
    expect(timeout.cause).toBeInstanceOf(Error);
  });
});
