import { CircuitBreaker, isTimeoutError } from '@checkout/breaker';
import { Router } from 'express';
import supertest from 'supertest';
import type { ObservableBreaker } from './metrics';
import { memoryLogger, sample, testApp } from './support.test.util';

// The real breaker fits the structural interface the kit accepts.
const fits = (breaker: CircuitBreaker): ObservableBreaker => breaker;
void fits;

class BusinessError extends Error {}

describe('/metrics', () => {
  it('exposes process metrics with the service label, in the Prometheus text format', async () => {
    const res = await supertest(testApp().app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(res.text, 'process_cpu_user_seconds_total', { service: 'test' })).toBeGreaterThanOrEqual(0);
    expect(res.text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
  });

  it('times requests by method, route pattern (not the raw URL) and status', async () => {
    const service = testApp();
    const sub = Router();
    sub.get('/things/:thingId', (_req, res) => {
      res.status(202).json({});
    });
    service.router.use('/v1', sub);
    const app = service.app;
    await supertest(app).get('/items/42');
    await supertest(app).get('/items/43');
    await supertest(app).get('/v1/things/7');
    await supertest(app).get('/nowhere/at/all');
    await supertest(app).post('/items').send({});

    const text = (await supertest(app).get('/metrics')).text;
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/items/:id', status: '200' })).toBe(2);
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/v1/things/:thingId', status: '202' })).toBe(1);
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: '(unmatched)', status: '404' })).toBe(1);
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'POST', route: '/items', status: '400' })).toBe(1);
    expect(text).not.toContain('/items/42');
    expect(sample(text, 'http_request_duration_seconds_bucket', { le: '+Inf', route: '/items/:id', service: 'test' })).toBe(2);
  });

  it('writes an access-log line per answer at level http, with the route pattern and no body', async () => {
    const { logger, lines } = memoryLogger('test', 'http');
    await supertest(testApp({ logger }).app).post('/items').set('X-Request-Id', 'acc-1').send({ name: 'secret-name', quantity: 1 });
    expect(lines.find((line) => line.message === 'request')).toEqual(
      expect.objectContaining({ level: 'http', method: 'POST', route: '/items', status: 201, requestId: 'acc-1', durationMs: expect.any(Number) }),
    );
    const quiet = memoryLogger('test', 'info');
    await supertest(testApp({ logger: quiet.logger }).app).get('/items/1');
    expect(quiet.lines.filter((line) => line.message === 'request')).toEqual([]);
  });

  it('keeps one registry per app, so that many apps live in one process', async () => {
    const a = testApp();
    const b = testApp();
    await supertest(a.app).get('/items/1');
    const textB = (await supertest(b.app).get('/metrics')).text;
    expect(sample(textB, 'http_request_duration_seconds_count', { route: '/items/:id' })).toBeUndefined();
    expect(a.metrics.registry).not.toBe(b.metrics.registry);
  });
});

describe('breaker metrics', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  function breaker(name = 'payment', extra: Partial<ConstructorParameters<typeof CircuitBreaker>[0]> = {}) {
    let now = 0;
    const instance = new CircuitBreaker({
      name,
      window: { type: 'consecutive', failures: 2 },
      openMs: 1_000,
      isFailure: (error) => !(error instanceof BusinessError),
      clock: () => now,
      ...extra,
    });
    return { instance, advance: (ms: number) => (now += ms) };
  }

  it('counts calls by outcome, rejections, transitions and durations, and shows the state', async () => {
    const { logger, lines } = memoryLogger();
    const service = testApp({ logger });
    const { instance, advance } = breaker();
    service.registerBreaker(instance);

    await instance.execute(async () => {
      advance(30);
      return 'ok';
    });
    await expect(instance.execute(() => Promise.reject(new BusinessError('declined')))).rejects.toThrow('declined');
    for (let i = 0; i < 2; i++) await expect(instance.execute(() => Promise.reject(new Error('503')))).rejects.toThrow('503');
    expect(instance.state).toBe('OPEN');
    await expect(instance.execute(() => 'never', () => 'fallback')).resolves.toBe('fallback');

    const text = (await supertest(service.app).get('/metrics')).text;
    const calls = (outcome: string) => sample(text, 'circuit_breaker_calls_total', { breaker: 'payment', outcome });
    expect([calls('success'), calls('failure'), calls('timeout'), calls('ignored'), calls('rejected'), calls('fallback')]).toEqual([1, 2, 0, 1, 1, 1]);
    expect(sample(text, 'circuit_breaker_rejections_total', { breaker: 'payment' })).toBe(1);
    expect(sample(text, 'circuit_breaker_state', { breaker: 'payment', state: 'OPEN' })).toBe(1);
    expect(sample(text, 'circuit_breaker_state', { breaker: 'payment', state: 'CLOSED' })).toBe(0);
    expect(sample(text, 'circuit_breaker_transitions_total', { breaker: 'payment', from: 'CLOSED', to: 'OPEN' })).toBe(1);
    expect(sample(text, 'circuit_breaker_call_duration_seconds_count', { breaker: 'payment', outcome: 'success' })).toBe(1);
    expect(sample(text, 'circuit_breaker_call_duration_seconds_sum', { breaker: 'payment', outcome: 'success' })).toBeCloseTo(0.03);
    expect(sample(text, 'circuit_breaker_call_duration_seconds_count', { breaker: 'payment', outcome: 'failure' })).toBe(2);

    // State transitions are logged at warn.
    expect(lines.find((line) => line.message === 'circuit breaker state changed')).toMatchObject({
      level: 'warn',
      breaker: 'payment',
      from: 'CLOSED',
      to: 'OPEN',
    });

    // The gauge is read at scrape time: once the open period is over it shows HALF_OPEN.
    advance(1_000);
    const later = (await supertest(service.app).get('/metrics')).text;
    expect(sample(later, 'circuit_breaker_state', { breaker: 'payment', state: 'HALF_OPEN' })).toBe(1);
    expect(sample(later, 'circuit_breaker_state', { breaker: 'payment', state: 'OPEN' })).toBe(0);
  });

  it('counts a timeout once, as a timeout', async () => {
    jest.useFakeTimers();
    const service = testApp();
    const slow = new CircuitBreaker({ name: 'inventory', timeoutMs: 50 });
    service.registerBreaker(slow);
    const call = slow.execute((ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))));
    const settled = call.catch((error: unknown) => error);
    await jest.advanceTimersByTimeAsync(52); // deadline + at most one 1.6 ms tick
    expect(isTimeoutError(await settled)).toBe(true);
    jest.useRealTimers();

    const text = await service.metrics.registry.metrics();
    expect(sample(text, 'circuit_breaker_calls_total', { breaker: 'inventory', outcome: 'timeout' })).toBe(1);
    expect(sample(text, 'circuit_breaker_calls_total', { breaker: 'inventory', outcome: 'failure' })).toBe(0);
    expect(sample(text, 'circuit_breaker_call_duration_seconds_count', { breaker: 'inventory', outcome: 'timeout' })).toBe(1);
  });

  it('reports circuit states in readiness without making the service unready', async () => {
    const service = testApp();
    const { instance } = breaker('shipping');
    service.registerBreaker(instance);
    instance.forceOpen();
    const res = await supertest(service.app).get('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body.circuits).toEqual({ shipping: 'FORCED_OPEN' });
  });

  it('refuses two breakers with one name, and forgets an unregistered one', async () => {
    const service = testApp();
    const first = breaker('notification').instance;
    const unregister = service.registerBreaker(first);
    expect(() => service.registerBreaker(breaker('notification').instance)).toThrow("A circuit breaker named 'notification' is already registered");
    unregister();
    await first.execute(() => 'ok');
    const text = await service.metrics.registry.metrics();
    expect(sample(text, 'circuit_breaker_state', { breaker: 'notification' })).toBeUndefined();
    expect(sample(text, 'circuit_breaker_calls_total', { breaker: 'notification', outcome: 'success' })).toBe(0);
    expect(() => service.registerBreaker(breaker('notification').instance)).not.toThrow();
  });
});
