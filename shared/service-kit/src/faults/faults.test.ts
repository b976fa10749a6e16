/**
 * Fault injection seen from a client: a real server on a free port, real sockets.
 * Time comes from fake timers (latency) or an injected clock (flapping).
 */
import { isAxiosError } from 'axios';
import supertest from 'supertest';
import type { Service } from '../app';
import type { RunningService } from '../server';
import { ADMIN_TOKEN, adminHeaders, faultConfig, listen, memoryLogger, request, sample, setFaults, testApp, track, turns, until } from '../support.test.util';
import { seededRandom } from './prng';

let service: Service;
let running: RunningService | undefined;

async function startWith(options: Parameters<typeof testApp>[0] = {}): Promise<RunningService> {
  service = testApp({ config: faultConfig(), ...options });
  running = await listen(service);
  return running;
}

afterEach(async () => {
  jest.useRealTimers();
  await running?.shutdown();
  running = undefined;
});

/** Statuses of `count` sequential GET requests. */
async function statuses(server: RunningService, count: number, url = '/items/1'): Promise<number[]> {
  const result: number[] = [];
  for (let i = 0; i < count; i++) result.push((await request(server, { url })).status);
  return result;
}

/** The error code a request failed with (it must fail). */
async function failure(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    if (isAxiosError(error)) return error.code;
    throw error;
  }
  throw new Error('the request succeeded');
}

describe('admin routes', () => {
  it('answer 401 without a bearer token, 403 with a wrong one, 200 with the right one', async () => {
    const server = await startWith();
    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      const data = method === 'PUT' ? { errorRate: 0.1 } : undefined;
      const none = await request(server, { method, url: '/admin/faults', data });
      expect(none.status).toBe(401);
      expect(none.headers['www-authenticate']).toBe('Bearer realm="admin"');
      expect(none.data).toMatchObject({ error: 'UNAUTHORIZED' });
      expect((await request(server, { method, url: '/admin/faults', data, headers: { Authorization: `Basic ${ADMIN_TOKEN}` } })).status).toBe(401);
      const wrong = await request(server, { method, url: '/admin/faults', data, headers: { Authorization: 'Bearer not-the-token' } });
      expect(wrong.status).toBe(403);
      expect(wrong.data).toMatchObject({ error: 'FORBIDDEN' });
      expect((await request(server, { method, url: '/admin/faults', data, headers: { Authorization: `Bearer ${ADMIN_TOKEN}x` } })).status).toBe(403);
      expect((await request(server, { method, url: '/admin/faults', data, headers: adminHeaders })).status).toBe(200);
    }
  });

  it('PUT validates the body: 400 with the invalid fields, settings unchanged', async () => {
    const server = await startWith();
    await setFaults(server, { latencyMs: 5 });
    const res = await request(server, {
      method: 'PUT',
      url: '/admin/faults',
      headers: adminHeaders,
      data: { errorRate: 2, errorStatus: 404, flap: { periodMs: 1_000 }, routes: ['charges'], errorrate: 0.5 },
    });
    expect(res.status).toBe(400);
    expect(res.data.error).toBe('VALIDATION_FAILED');
    expect(res.data.fields.map((field: { path: string }) => field.path).sort()).toEqual(['errorRate', 'errorStatus', 'errorrate', 'flap.dutyCycle', 'routes.0']);
    const malformed = await request(server, { method: 'PUT', url: '/admin/faults', headers: { ...adminHeaders, 'Content-Type': 'application/json' }, data: '{"errorRate":' });
    expect(malformed.status).toBe(400);
    const current = await request(server, { url: '/admin/faults', headers: adminHeaders });
    expect(current.data.settings.latencyMs).toBe(5);
  });

  it('PUT replaces the settings, GET shows them with counts, DELETE turns everything off', async () => {
    const server = await startWith();
    await setFaults(server, { errorRate: 1, errorStatus: 503 });
    await setFaults(server, { everyNth: 2 }); // replaces: errorRate is back to 0
    expect(await statuses(server, 4)).toEqual([200, 500, 200, 500]);
    const shown = await request(server, { url: '/admin/faults', headers: adminHeaders });
    expect(shown.data).toMatchObject({
      enabled: true,
      active: true,
      settings: { everyNth: 2, errorRate: 0, errorStatus: 500, hang: false },
      requests: 4,
      injected: { error: 2, latency: 0 },
      hanging: 0,
    });
    const cleared = await request(server, { method: 'DELETE', url: '/admin/faults', headers: adminHeaders });
    expect(cleared.data).toMatchObject({ active: false, settings: { errorRate: 0, down: false, hang: false } });
    expect(cleared.data.settings).not.toHaveProperty('everyNth');
    expect(await statuses(server, 4)).toEqual([200, 200, 200, 200]);
  });
});

describe('faults seen by a client', () => {
  it.each([
    [500, undefined],
    [503, '4'],
    [429, '4'],
  ])('errorStatus %p answers that status (Retry-After %p)', async (status, retryAfter) => {
    const server = await startWith();
    await setFaults(server, { errorRate: 1, errorStatus: status, retryAfterSeconds: 4 });
    const res = await request(server, { url: '/items/1', headers: { 'X-Request-Id': 'fault-1' } });
    expect(res.status).toBe(status);
    expect(res.headers['retry-after']).toBe(retryAfter);
    expect(res.headers['x-fault-injected']).toBe('error');
    expect(res.headers['x-request-id']).toBe('fault-1');
    expect(res.data).toEqual({ error: 'INJECTED_FAULT', message: `Injected fault: ${status}`, requestId: 'fault-1' });
  });

  it('everyNth fails exactly every Nth request', async () => {
    const server = await startWith();
    await setFaults(server, { everyNth: 3, errorStatus: 503 });
    expect(await statuses(server, 7)).toEqual([200, 200, 503, 200, 200, 503, 200]);
  });

  it('a seed makes errorRate repeatable', async () => {
    const server = await startWith();
    await setFaults(server, { errorRate: 0.5, seed: 1234 });
    const first = await statuses(server, 16);
    await setFaults(server, { errorRate: 0.5, seed: 1234 });
    expect(await statuses(server, 16)).toEqual(first);
    const random = seededRandom(1234);
    expect(first).toEqual(Array.from({ length: 16 }, () => (random() < 0.5 ? 500 : 200)));
  });

  it('latency delays the answer by latencyMs (fake timers)', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'hrtime', 'performance'] });
    const server = await startWith();
    await setFaults(server, { latencyMs: 250 });

    const pending = track(request(server, { url: '/items/9' }));
    await until(() => service.faults!.snapshot().injected.latency === 1);
    await jest.advanceTimersByTimeAsync(249);
    await turns(50);
    expect(pending.settled()).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    const res = await pending.promise;
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ id: '9' });
    expect(res.headers['x-fault-injected']).toBe('latency');
  });

  it('latency and an error combine: a slow failure', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'hrtime', 'performance'] });
    const server = await startWith();
    await setFaults(server, { latencyMs: 1_000, errorRate: 1, errorStatus: 503 });
    const pending = track(request(server, { url: '/items/1' }));
    await until(() => service.faults!.snapshot().injected.latency === 1);
    await jest.advanceTimersByTimeAsync(999);
    await turns(50);
    expect(pending.settled()).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect((await pending.promise).status).toBe(503);
  });

  it('reset destroys the connection: the client sees ECONNRESET', async () => {
    const server = await startWith();
    await setFaults(server, { reset: true });
    expect(await failure(request(server, { url: '/items/1' }))).toBe('ECONNRESET');
    expect(service.faults!.snapshot().injected.reset).toBe(1);
  });

  it('hang never answers: the client gives up on its own timeout (fake timers)', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'hrtime', 'performance'] });
    const server = await startWith();
    await setFaults(server, { hang: true });
    // supertest's timeout is a plain setTimeout, so the fake clock drives it (axios' is a socket timer).
    const pending = track(supertest(server.url).get('/items/1').timeout(5_000));
    await until(() => service.faults!.hanging === 1);
    await jest.advanceTimersByTimeAsync(4_999);
    await turns(50);
    expect(pending.settled()).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await expect(pending.promise).rejects.toMatchObject({ code: 'ECONNABORTED', timeout: 5_000 });
    expect(service.faults!.snapshot().injected.hang).toBe(1);
    // The client closed its socket, so nothing is left hanging on the server.
    await until(() => service.faults!.hanging === 0);
  });

  it('hung requests are released when faults are cleared or replaced, and when the server stops', async () => {
    const server = await startWith();
    await setFaults(server, { hang: true });
    const first = request(server, { url: '/items/1' });
    await until(() => service.faults!.hanging === 1);
    await request(server, { method: 'DELETE', url: '/admin/faults', headers: adminHeaders });
    expect(await failure(first)).toBe('ECONNRESET');

    await setFaults(server, { hang: true });
    const replaced = request(server, { url: '/items/2' });
    await until(() => service.faults!.hanging === 1);
    await setFaults(server, { latencyMs: 1 }); // new settings without hang release it too
    expect(await failure(replaced)).toBe('ECONNRESET');

    await setFaults(server, { hang: true });
    const second = request(server, { url: '/items/2' });
    await until(() => service.faults!.hanging === 1);
    const result = await server.shutdown('test');
    expect(result.forced).toBe(false);
    expect(await failure(second)).toBe('ECONNRESET');
    expect(service.faults!.hanging).toBe(0);
  });

  it('down answers 503 to every route, but health, metrics and admin stay up', async () => {
    const server = await startWith();
    await setFaults(server, { down: true });
    for (const url of ['/items/1', '/nowhere']) {
      const res = await request(server, { url });
      expect(res.status).toBe(503);
      expect(res.data.error).toBe('SERVICE_DOWN');
      expect(res.headers['retry-after']).toBe('1');
    }
    expect((await request(server, { method: 'POST', url: '/items', data: { name: 'a', quantity: 1 } })).status).toBe(503);
    expect((await request(server, { url: '/health/live' })).status).toBe(200);
    expect((await request(server, { url: '/health/ready' })).status).toBe(200);
    expect((await request(server, { url: '/metrics' })).status).toBe(200);
    expect((await request(server, { url: '/admin/faults', headers: adminHeaders })).status).toBe(200);
  });

  it('flap alternates failing and healthy periods on the injected clock', async () => {
    let now = 1_000_000;
    const server = await startWith({ clock: () => now });
    await setFaults(server, { flap: { periodMs: 10_000, dutyCycle: 0.3 }, errorStatus: 503 });
    const at = async (ms: number) => {
      now = 1_000_000 + ms;
      return (await request(server, { url: '/items/1' })).status;
    };
    const seen = [];
    for (const ms of [0, 2_999, 3_000, 9_999, 10_000, 12_999, 13_000, 21_000, 25_000]) seen.push(await at(ms));
    expect(seen).toEqual([503, 503, 200, 200, 503, 503, 200, 503, 200]);
  });

  it('routes limits faults to the listed routes', async () => {
    const server = await startWith();
    await setFaults(server, { errorRate: 1, routes: ['POST /items'] });
    expect((await request(server, { url: '/items/1' })).status).toBe(200);
    expect((await request(server, { method: 'POST', url: '/items', data: { name: 'a', quantity: 1 } })).status).toBe(500);
  });

  it('counts injected faults by type in /metrics', async () => {
    const server = await startWith();
    await setFaults(server, { everyNth: 2 });
    await statuses(server, 4);
    await setFaults(server, { reset: true });
    await failure(request(server, { url: '/items/1' }));
    const text = (await request(server, { url: '/metrics' })).data as string;
    expect(sample(text, 'faults_injected_total', { type: 'error' })).toBe(2);
    expect(sample(text, 'faults_injected_total', { type: 'reset' })).toBe(1);
    expect(sample(text, 'faults_injected_total', { type: 'hang' })).toBe(0);
    // Injected answers are timed under their own route label.
    expect(sample(text, 'http_request_duration_seconds_count', { route: '(fault)', status: '500' })).toBe(2);
  });
});

describe('fault settings from the environment', () => {
  it('start with the FAULT_* defaults, which DELETE clears', async () => {
    const server = await startWith({ config: faultConfig({ FAULT_ERROR_RATE: '1', FAULT_ERROR_STATUS: '429', FAULT_RETRY_AFTER_SECONDS: '9' }) });
    const res = await request(server, { url: '/items/1' });
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('9');
    await request(server, { method: 'DELETE', url: '/admin/faults', headers: adminHeaders });
    expect((await request(server, { url: '/items/1' })).status).toBe(200);
  });

  it('warn in production that fault injection is on', async () => {
    const { logger, lines } = memoryLogger();
    await startWith({ logger, config: faultConfig({ NODE_ENV: 'production' }) });
    expect(lines.find((line) => line.level === 'warn' && /fault injection is ENABLED in production/.test(String(line.message)))).toBeDefined();
    expect(JSON.stringify(lines)).not.toContain(ADMIN_TOKEN);
  });
});
