import { CircuitBreaker, isBulkheadFullError, isCircuitOpenError, isTimeoutError } from '@checkout/breaker';
import type { Service } from './app';
import { runWithRequestId } from './context';
import { createHttpClient, type HttpClient, isUpstreamError, UpstreamError } from './http-client';
import type { RunningService } from './server';
import { faultConfig, listen, sample, setFaults, testApp, track, turns, until } from './support.test.util';

/** The dependency: a kit service with routes answering what the test needs, and fault injection on. */
let dependency: Service;
let server: RunningService;
const hits = new Map<string, number>();
let flakyFailures = 0;
let aborted = 0;

beforeEach(async () => {
  hits.clear();
  flakyFailures = 0;
  aborted = 0;
  dependency = testApp({
    config: faultConfig(),
    routes: (router) => {
      router.use((req, _res, next) => {
        hits.set(req.path, (hits.get(req.path) ?? 0) + 1);
        next();
      });
      router.get('/echo', (req, res) => {
        res.json({ requestId: req.get('x-request-id') ?? null, clientPort: req.socket.remotePort });
      });
      router.all('/status/:code', (req, res) => {
        res.status(Number(req.params.code)).json({ error: 'ANSWER', code: Number(req.params.code) });
      });
      router.all('/flaky', (_req, res) => {
        if (flakyFailures > 0) {
          flakyFailures -= 1;
          res.status(503).json({ error: 'TRY_AGAIN' });
        } else res.json({ ok: true });
      });
      router.get('/never', (req) => {
        req.once('close', () => (aborted += 1));
      });
    },
  });
  server = await listen(dependency);
});

const clients: HttpClient[] = [];
function client(options: Partial<Parameters<typeof createHttpClient>[0]> = {}): HttpClient {
  const made = createHttpClient({
    name: 'dependency',
    baseURL: server.url,
    policies: { breaker: { window: { type: 'consecutive', failures: 3 }, openMs: 60_000 } },
    ...options,
  });
  clients.push(made);
  return made;
}

afterEach(async () => {
  jest.useRealTimers();
  clients.splice(0).forEach((made) => made.close());
  await server.shutdown();
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('createHttpClient', () => {
  it('resolves 2xx answers with status, body and headers', async () => {
    const res = await client().get<{ requestId: string | null }>('/echo');
    expect(res).toMatchObject({ status: 200, ok: true, data: { requestId: null } });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
  });

  it('forwards the current request id', async () => {
    const http = client();
    const res = await runWithRequestId('checkout-req-7', () => http.get<{ requestId: string }>('/echo'));
    expect(res.data.requestId).toBe('checkout-req-7');
    const explicit = await runWithRequestId('ignored', () => http.get<{ requestId: string }>('/echo', { headers: { 'x-request-id': 'mine' } }));
    expect(explicit.data.requestId).toBe('mine');
  });

  it('forwards the request id from an incoming request all the way down', async () => {
    const http = client();
    const edge = testApp({
      routes: (router) =>
        router.get('/proxy', async (_req, res) => {
          res.json((await http.get('/echo')).data);
        }),
    });
    const front = await listen(edge);
    try {
      const res = await client({ name: 'front', baseURL: front.url }).get<{ requestId: string }>('/proxy', { headers: { 'X-Request-Id': 'edge-1' } });
      expect(res.data.requestId).toBe('edge-1');
    } finally {
      await front.shutdown();
    }
  });

  it('keeps connections alive between requests', async () => {
    const http = client();
    const first = await http.get<{ clientPort: number }>('/echo');
    const second = await http.get<{ clientPort: number }>('/echo');
    expect(second.data.clientPort).toBe(first.data.clientPort);
  });

  it('4xx answers are business outcomes: they resolve and never trip the breaker', async () => {
    const http = client();
    for (const code of [400, 402, 404, 409, 422, 400, 402, 404, 409, 422]) {
      const res = await http.post<{ code: number }>(`/status/${code}`, { any: 'body' });
      expect(res).toMatchObject({ status: code, ok: false, data: { code } });
    }
    expect(http.breaker.state).toBe('CLOSED');
    expect(http.breaker.snapshot()).toMatchObject({ failed: 0, successes: 10 });
  });

  it('5xx answers reject with UpstreamError, count as failures and open the circuit', async () => {
    const http = client();
    for (let i = 0; i < 3; i++) {
      const error = await rejection(http.get('/status/503'));
      expect(error).toBeInstanceOf(UpstreamError);
      expect(error).toMatchObject({ dependency: 'dependency', status: 503, data: { code: 503 } });
      expect(isUpstreamError(error)).toBe(true);
    }
    expect(http.breaker.state).toBe('OPEN');
    // Fail fast: the dependency is not called any more.
    const before = hits.get('/status/503');
    const error = await rejection(http.get('/status/503'));
    expect(isCircuitOpenError(error)).toBe(true);
    expect(hits.get('/status/503')).toBe(before);
  });

  it('injected 500s trip the breaker like real ones', async () => {
    const http = client();
    await setFaults(server, { errorRate: 1, errorStatus: 500 });
    for (let i = 0; i < 3; i++) expect(await rejection(http.get('/echo'))).toMatchObject({ status: 500 });
    expect(http.breaker.state).toBe('OPEN');
  });

  it('a connection reset counts as a failure', async () => {
    const http = client();
    await setFaults(server, { reset: true });
    const error = await rejection(http.get('/echo'));
    expect(error).toMatchObject({ name: 'UpstreamError', code: 'ECONNRESET', status: undefined });
    expect(http.breaker.snapshot().failed).toBe(1);
  });

  it('a refused connection counts as a failure', async () => {
    await server.shutdown();
    const http = client();
    const error = await rejection(http.get('/echo'));
    expect(error).toMatchObject({ name: 'UpstreamError', code: 'ECONNREFUSED' });
    expect(http.breaker.snapshot().failed).toBe(1);
    server = await listen(testApp()); // for afterEach
  });

  it('a hang is cut by the timeout, aborts the request and counts as a failure (fake timers)', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'hrtime', 'performance'] });
    const http = client({ policies: { timeoutMs: 1_000, breaker: { window: { type: 'consecutive', failures: 1 } } } });
    await setFaults(server, { hang: true });
    const pending = track(http.get('/echo'));
    await until(() => dependency.faults!.hanging === 1);
    await jest.advanceTimersByTimeAsync(999);
    await turns(20);
    expect(pending.settled()).toBe(false);
    await jest.advanceTimersByTimeAsync(1 + 1_000 / 32); // the breaker answers within 1/32 of the timeout after the deadline
    const error = await rejection(pending.promise);
    expect(isTimeoutError(error)).toBe(true);
    expect(http.breaker.state).toBe('OPEN');
    // The request was aborted: the dependency sees the connection close.
    await until(() => dependency.faults!.hanging === 0);
  });

  it('a slow route is aborted at the deadline (the server sees the request go away)', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'hrtime', 'performance'] });
    const http = client({ policies: { timeoutMs: 200 } });
    const pending = rejection(http.get('/never'));
    await until(() => hits.get('/never') === 1);
    await jest.advanceTimersByTimeAsync(200 + 200 / 32);
    expect(isTimeoutError(await pending)).toBe(true);
    await until(() => aborted === 1);
    expect(http.breaker.snapshot()).toMatchObject({ failed: 1, timeouts: 1 });
  });

  it('retries idempotent requests on 5xx, never a plain POST', async () => {
    const http = client({ policies: { retry: { attempts: 3, initialDelayMs: 0, jitter: 'none' }, breaker: { window: { type: 'consecutive', failures: 10 } } } });
    flakyFailures = 2;
    expect((await http.get('/flaky')).status).toBe(200);
    expect(hits.get('/flaky')).toBe(3);

    hits.clear();
    flakyFailures = 2;
    expect(await rejection(http.post('/flaky', {}))).toMatchObject({ status: 503 });
    expect(hits.get('/flaky')).toBe(1);

    hits.clear();
    flakyFailures = 1;
    expect((await http.post('/flaky', {}, { idempotent: true, headers: { 'Idempotency-Key': 'k1' } })).status).toBe(200);
    expect(hits.get('/flaky')).toBe(2);
  });

  it('does not retry 4xx answers', async () => {
    const http = client({ policies: { retry: { attempts: 3, initialDelayMs: 0, jitter: 'none' } } });
    expect((await http.get('/status/404')).status).toBe(404);
    expect(hits.get('/status/404')).toBe(1);
  });

  it('a full bulkhead rejects at once and is not a failure of the dependency', async () => {
    const http = client({ policies: { bulkhead: { maxConcurrent: 1 }, breaker: { window: { type: 'consecutive', failures: 1 } } } });
    const first = http.get('/never').catch((error: unknown) => error);
    await until(() => hits.get('/never') === 1);
    const error = await rejection(http.get('/echo'));
    expect(isBulkheadFullError(error)).toBe(true);
    expect(http.breaker.state).toBe('CLOSED');
    http.close(); // cuts the hanging request
    await first;
  });

  it("the caller's abort cancels the request and counts as nothing", async () => {
    const http = client();
    const controller = new AbortController();
    const pending = rejection(http.get('/never', { signal: controller.signal }));
    await until(() => hits.get('/never') === 1);
    controller.abort(new Error('client went away'));
    expect(await pending).toMatchObject({ message: 'client went away' });
    await until(() => aborted === 1);
    expect(http.breaker.snapshot()).toMatchObject({ failed: 0, successes: 0 });
  });

  it('accepts a breaker of its own, and its breaker shows in the metrics of the service using it', async () => {
    const breaker = new CircuitBreaker({ name: 'inventory', timeoutMs: 500 });
    const http = client({ name: 'inventory', policies: { breaker } });
    expect(http.breaker).toBe(breaker);
    expect(() => client({ policies: { breaker, timeoutMs: 100 } })).toThrow(/set timeoutMs on the breaker/);

    const caller = testApp();
    caller.registerBreaker(http.breaker);
    await http.get('/echo');
    await rejection(http.get('/status/500'));
    const text = await caller.metrics.registry.metrics();
    expect(sample(text, 'circuit_breaker_calls_total', { breaker: 'inventory', outcome: 'success' })).toBe(1);
    expect(sample(text, 'circuit_breaker_calls_total', { breaker: 'inventory', outcome: 'failure' })).toBe(1);
  });

  it('can count more statuses as failures (e.g. 429)', async () => {
    const http = client({ isFailureStatus: (status) => status >= 500 || status === 429 });
    expect(await rejection(http.get('/status/429'))).toMatchObject({ status: 429 });
    expect(http.breaker.snapshot().failed).toBe(1);
  });
});
