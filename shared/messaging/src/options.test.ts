import { backoffDelay, sleep } from './backoff';
import { Emitter } from './events';
import { carriedHeaders, HEADERS, readRetryCount } from './headers';
import { parseDuration, resolveOptions, resolveTiers, tierLabel } from './options';
import { topologyNames } from './topology';

describe('options', () => {
  it('parses tiers given as text or milliseconds and labels them canonically', () => {
    expect(resolveTiers(['5s', 30_000, '2m', '150ms', 1500])).toEqual([
      { label: '5s', ttlMs: 5_000 },
      { label: '30s', ttlMs: 30_000 },
      { label: '2m', ttlMs: 120_000 },
      { label: '150ms', ttlMs: 150 },
      { label: '1500ms', ttlMs: 1_500 },
    ]);
    expect(tierLabel(3_600_000)).toBe('1h');
    expect(parseDuration('1h')).toBe(3_600_000);
  });

  it('rejects tiers that would collide or cannot be a TTL, naming the option', () => {
    expect(() => resolveTiers([])).toThrow(/tiers must be a non-empty array/);
    expect(() => resolveTiers(['5s', 5000])).toThrow(/contains 5s twice/);
    expect(() => resolveTiers(['5 seconds'])).toThrow(/tiers\[0\] '5 seconds' is not a duration/);
    expect(() => resolveTiers([0])).toThrow(RangeError);
    expect(() => resolveTiers([1.5])).toThrow(RangeError);
  });

  it('fills defaults in one place and never mutates the caller object', () => {
    const input = Object.freeze({ prefix: 'x.', reconnect: Object.freeze({ initialMs: 5 }) });
    const resolved = resolveOptions(input);
    expect(resolved.tiers.map((t) => t.label)).toEqual(['5s', '30s', '2m']);
    expect(resolved.reconnect).toEqual({ initialMs: 5, maxMs: 10_000, multiplier: 2, jitter: 0.2 });
    expect(resolved.confirmTimeoutMs).toBe(5_000);
    expect(resolved.heartbeatSeconds).toBe(10);
  });

  it('validates numbers with precise messages', () => {
    expect(() => resolveOptions({ confirmTimeoutMs: -1 })).toThrow('confirmTimeoutMs must be > 0, got -1');
    expect(() => resolveOptions({ heartbeatSeconds: 1.5 })).toThrow('heartbeatSeconds must be an integer');
    expect(() => resolveOptions({ reconnect: { jitter: 2 } })).toThrow('reconnect.jitter must be within 0..1');
    expect(() => resolveOptions({ reconnect: { initialMs: 500, maxMs: 100 } })).toThrow('reconnect.maxMs (100) must be >= reconnect.initialMs (500)');
    expect(() => resolveOptions({ queueType: 'lazy' as never })).toThrow(/queueType must be/);
  });

  it('names every queue and exchange with the prefix, one delay queue per tier', () => {
    const names = topologyNames('t1.', resolveTiers(['5s', '30s', '2m']));
    expect(names).toMatchObject({
      workExchange: 't1.payments.retry',
      workQueue: 't1.payments.retry.work',
      workRoutingKey: 'payment.retry',
      delayExchange: 't1.payments.delay',
      parkingQueue: 't1.payments.parking',
    });
    expect(names.delayQueues.map((q) => [q.queue, q.routingKey, q.ttlMs])).toEqual([
      ['t1.payments.delay.5s', 'delay.5s', 5_000],
      ['t1.payments.delay.30s', 'delay.30s', 30_000],
      ['t1.payments.delay.2m', 'delay.2m', 120_000],
    ]);
  });
});

describe('backoff', () => {
  const policy = { initialMs: 100, maxMs: 10_000, multiplier: 2, jitter: 0.2 };

  it('grows exponentially from initialMs when jitter draws the middle', () => {
    const middle = (): number => 0.5;
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, policy, middle))).toEqual([100, 200, 400, 800]);
  });

  it('never exceeds maxMs, even with the largest jitter', () => {
    const top = (): number => 1;
    for (let attempt = 1; attempt < 40; attempt++) expect(backoffDelay(attempt, policy, top)).toBeLessThanOrEqual(10_000);
    expect(backoffDelay(40, policy, top)).toBe(10_000);
  });

  it('spreads delays by ± jitter', () => {
    expect(backoffDelay(1, policy, () => 0)).toBe(80);
    expect(backoffDelay(1, policy, () => 1)).toBe(120);
  });

  it('sleep rejects as soon as its signal aborts', async () => {
    const controller = new AbortController();
    const slept = sleep(60_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(slept).rejects.toThrow('stop');
  });
});

describe('headers', () => {
  it('reads retry-count leniently but refuses garbage (which is parked, never looped)', () => {
    expect(readRetryCount(undefined)).toBe(0);
    expect(readRetryCount({})).toBe(0);
    expect(readRetryCount({ [HEADERS.retryCount]: 3 })).toBe(3);
    expect(readRetryCount({ [HEADERS.retryCount]: '2' })).toBe(2);
    expect(readRetryCount({ [HEADERS.retryCount]: 'abc' })).toBeUndefined();
    expect(readRetryCount({ [HEADERS.retryCount]: -1 })).toBeUndefined();
    expect(readRetryCount({ [HEADERS.retryCount]: 1.5 })).toBeUndefined();
  });

  it('drops one-hop headers (x-death, publish tag) when a message moves on', () => {
    const out = carriedHeaders({ 'x-death': [{}], 'x-first-death-queue': 'q', [HEADERS.publishTag]: '1.2', keep: 'me', drop: 'me' }, ['drop']);
    expect(out).toEqual({ keep: 'me' });
  });
});

describe('Emitter', () => {
  it('isolates a throwing listener and returns an unsubscribe', () => {
    const errors: string[] = [];
    const emitter = new Emitter<{ tick: number }>((_, event) => errors.push(event));
    const seen: number[] = [];
    emitter.on('tick', () => {
      throw new Error('boom');
    });
    const off = emitter.on('tick', (n) => seen.push(n));
    emitter.emit('tick', 1);
    off();
    emitter.emit('tick', 2);
    expect(seen).toEqual([1]);
    expect(errors).toEqual(['tick', 'tick']);
  });
});
