import { bulkhead, CircuitBreaker, isBulkheadFullError, isCircuitOpenError, isTimeoutError, retry, timeout, wrap, type ExecuteContext } from './index';

function deferred<T = string>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('bulkhead', () => {
  it('runs at most maxConcurrent calls and rejects past the queue at once', async () => {
    const b = bulkhead({ maxConcurrent: 2, maxQueue: 1 });
    const gates = [deferred(), deferred(), deferred()];
    const started: number[] = [];
    const calls = gates.map((g, i) =>
      b.execute(() => {
        started.push(i);
        return g.promise;
      }),
    );
    const rejected = await b.execute(async () => 'never').catch((e: unknown) => e);
    expect(isBulkheadFullError(rejected)).toBe(true);
    expect(started).toEqual([0, 1]);
    expect(b.stats).toEqual({ active: 2, queued: 1 });
    gates[0]!.resolve('a');
    await calls[0];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    gates[1]!.resolve('b');
    gates[2]!.resolve('c');
    await expect(Promise.all(calls)).resolves.toEqual(['a', 'b', 'c']);
    expect(b.stats).toEqual({ active: 0, queued: 0 });
  });

  it('gives up on a queued call after queueTimeoutMs and frees its place', async () => {
    const b = bulkhead({ maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: 100 });
    const gate = deferred();
    const first = b.execute(() => gate.promise);
    const queued = b.execute(async () => 'late').catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(100);
    expect(isBulkheadFullError(await queued)).toBe(true);
    expect(b.stats.queued).toBe(0);
    gate.resolve('done');
    await first;
  });

  it('a queued call leaves the queue when its signal aborts', async () => {
    const b = bulkhead({ maxConcurrent: 1, maxQueue: 5 });
    const gate = deferred();
    const first = b.execute(() => gate.promise);
    const controller = new AbortController();
    const ran = jest.fn(async () => 'x');
    const queued = b.execute(ran, { signal: controller.signal });
    controller.abort(new Error('gone'));
    await expect(queued).rejects.toThrow('gone');
    gate.resolve('ok');
    await first;
    expect(ran).not.toHaveBeenCalled();
    expect(b.stats).toEqual({ active: 0, queued: 0 });
  });

  it('validates its options', () => {
    expect(() => bulkhead({ maxConcurrent: 0 })).toThrow('bulkhead: option maxConcurrent must be a positive integer (got 0)');
  });
});

describe('retry', () => {
  it('retries transient failures with exponential backoff and full jitter', async () => {
    const delays: number[] = [];
    const r = retry({ attempts: 4, initialDelayMs: 100, maxDelayMs: 250, jitter: 'full', random: () => 0.5, onRetry: (e) => delays.push(e.delayMs) });
    let n = 0;
    const result = r.execute(async () => {
      if (++n < 4) throw new Error(`fail ${n}`);
      return 'ok';
    });
    await jest.runAllTimersAsync();
    await expect(result).resolves.toBe('ok');
    expect(delays).toEqual([50, 100, 125]); // half of 100, 200, 250 (capped)
  });

  it('decorrelated jitter stays between the first delay and three times the previous, capped', () => {
    const r = retry({ attempts: 5, initialDelayMs: 100, maxDelayMs: 1000, jitter: 'decorrelated', random: () => 1 });
    expect(r.delay(1, 100)).toBe(300);
    expect(r.delay(2, 300)).toBe(900);
    expect(r.delay(3, 900)).toBe(1000);
  });

  it('stops after the last attempt with the last error', async () => {
    const r = retry({ attempts: 2, initialDelayMs: 1, jitter: 'none' });
    const fn = jest.fn(async () => {
      throw new Error('still down');
    });
    const result = r.execute(fn).catch((e: unknown) => e);
    await jest.runAllTimersAsync();
    expect(await result).toEqual(new Error('still down'));
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('does not retry what retryOn refuses, nor an open circuit', async () => {
    const r = retry({ attempts: 3, retryOn: (e) => (e as Error).message !== 'declined' });
    const fn = jest.fn(async () => {
      throw new Error('declined');
    });
    await expect(r.execute(fn)).rejects.toThrow('declined');
    expect(fn).toHaveBeenCalledTimes(1);
    const breaker = new CircuitBreaker({ name: 'p' });
    breaker.forceOpen();
    const calls = jest.fn(async () => 'x');
    const open = await retry({ attempts: 3 }).execute(() => breaker.execute(calls)).catch((e: unknown) => e);
    expect(isCircuitOpenError(open)).toBe(true);
  });

  it('ends its wait at once when the signal aborts', async () => {
    const r = retry({ attempts: 3, initialDelayMs: 2000, jitter: 'none' });
    const controller = new AbortController();
    const result = r.execute(async () => {
      throw new Error('down');
    }, { signal: controller.signal });
    result.catch(() => {});
    await jest.advanceTimersByTimeAsync(50);
    controller.abort(new Error('caller gave up'));
    await expect(result).rejects.toThrow('caller gave up');
    expect(jest.getTimerCount()).toBe(0);
  });
});

describe('timeout', () => {
  it('aborts the signal and rejects at the deadline, even if the function ignores it', async () => {
    const t = timeout(100);
    let seen: AbortSignal | undefined;
    const result = t.execute((ctx) => {
      seen = ctx.signal;
      return new Promise<string>(() => {});
    }).catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(100 + 100 / 32);
    expect(isTimeoutError(await result)).toBe(true);
    expect(seen!.aborted).toBe(true);
  });

  it('passes a result through before the deadline', async () => {
    await expect(timeout(100).execute(async () => 'fast')).resolves.toBe('fast');
  });
});

describe('wrap', () => {
  it('composes policies outermost first', async () => {
    const order: string[] = [];
    const tag = (name: string) => ({
      execute: <T>(fn: (ctx: ExecuteContext) => T | PromiseLike<T>, options?: { signal?: AbortSignal }) => {
        order.push(name);
        return Promise.resolve(fn({ signal: options?.signal ?? new AbortController().signal }));
      },
    });
    await wrap(tag('a'), tag('b'), tag('c')).execute(async () => order.push('fn'));
    expect(order).toEqual(['a', 'b', 'c', 'fn']);
  });

  it('retry around a breaker around a timeout: a timed-out attempt is retried and counted by the breaker', async () => {
    const breaker = new CircuitBreaker({ name: 'inventory', window: { type: 'consecutive', failures: 5 } });
    const policy = wrap(retry({ attempts: 2, initialDelayMs: 10, jitter: 'none' }), breaker, timeout(50));
    let n = 0;
    const result = policy.execute(({ signal }) => {
      n++;
      return n === 1 ? new Promise<string>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))) : Promise.resolve('second try');
    });
    await jest.advanceTimersByTimeAsync(100);
    await expect(result).resolves.toBe('second try');
    expect(breaker.snapshot()).toMatchObject({ failed: 1, successes: 1 });
  });

  it("hands the caller's abort down to the innermost function", async () => {
    const controller = new AbortController();
    let inner: AbortSignal | undefined;
    const policy = wrap(new CircuitBreaker({ name: 'p' }), bulkhead({ maxConcurrent: 1 }));
    const result = policy.execute(
      ({ signal }) => {
        inner = signal;
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      },
      { signal: controller.signal },
    );
    controller.abort(new Error('stop'));
    await expect(result).rejects.toThrow('stop');
    expect(inner!.aborted).toBe(true);
  });
});
