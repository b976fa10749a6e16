/**
 * Test helpers shared by the four stub services (payment, inventory, shipping,
 * notification), kept in one place so that their tests do not copy each other: the
 * contract every stub keeps (faults, admin, health, metrics, request ids, JSON errors).
 *
 * The stubs' tests import it by relative path (the kit's index does not export test
 * helpers). The `.test.util` name keeps it out of the published files
 * (`!dist/**\/*.test.*`) and out of jest's `testMatch`.
 */
import type { Service } from '../app';
import type { BaseConfig } from '../config';
import { type RunningService, start } from '../server';
import { turns, until } from '../support.test.util';
import supertest from 'supertest';

export const ADMIN_TOKEN = 'stub-admin-token-0123';
export const adminHeaders = { Authorization: `Bearer ${ADMIN_TOKEN}` } as const;

/** Environment of a quiet test service; merge the stub's own variables in `env`. */
export function testEnv(env: Record<string, string> = {}): Record<string, string> {
  return { NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '0', ...env };
}

/** The same with fault injection on, behind `ADMIN_TOKEN`. */
export function faultEnv(env: Record<string, string> = {}): Record<string, string> {
  return testEnv({ FAULTS_ENABLED: 'true', ADMIN_TOKEN, ...env });
}

/** A clock that only moves when told to (the stubs take `clock: () => number`). */
export class ManualClock {
  private ms: number;

  constructor(iso = '2025-03-03T09:00:00.000Z') {
    this.ms = Date.parse(iso);
  }

  readonly now = (): number => this.ms;

  advance(ms: number): void {
    this.ms += ms;
  }

  iso(): string {
    return new Date(this.ms).toISOString();
  }
}

interface FieldErrorBody {
  path: string;
  message: string;
}

/** Asserts a 400 from the kit's validation with exactly these offending field paths, each with a message. */
export function expectFieldErrors(res: supertest.Response, paths: readonly string[]): void {
  expect(res.status).toBe(400);
  expect(res.body).toMatchObject({ error: 'VALIDATION_FAILED', message: expect.any(String) });
  const fields = res.body.fields as FieldErrorBody[];
  expect([...new Set(fields.map((field) => field.path))].sort()).toEqual([...paths].sort());
  for (const field of fields) expect(field.message).toEqual(expect.stringMatching(/\S/));
}

/** One request to a stub's route. */
export interface Probe {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  headers?: Record<string, string>;
  body?: object;
}

/** Sends `probe` to an Express app (supertest's ephemeral server) or to a URL. */
export function send(target: Service['app'] | string, probe: Probe): supertest.Test {
  let test = supertest(target)[probe.method](probe.path);
  for (const [name, value] of Object.entries(probe.headers ?? {})) test = test.set(name, value);
  return probe.body === undefined ? test : test.send(probe.body);
}

// Event-loop helpers (no wall clock): the kit's own, shared with its tests.
export { turns, until };

/** What the contract may hand to a stub's factory besides the environment. */
export interface StubBuildOptions {
  /** Time source of the stub (and of its fault flapping); a `ManualClock`'s `now` in the flap test. */
  clock?: () => number;
}

export interface StubContractOptions<C extends BaseConfig> {
  /** Builds the stub from environment variables, through its own config schema, on `clock` when one is given. */
  build: (env: Record<string, string>, options?: StubBuildOptions) => Service<C>;
  /** A request to one of the stub's business routes that can be repeated… */
  probe: Probe;
  /** …and the statuses it gets when nothing is faulted (e.g. 201 then 200 for an idempotent create). */
  okStatuses: readonly number[];
}

/**
 * What every stub must show from the outside because it is built on the kit:
 * fault injection on its own routes (off by default, behind the admin token,
 * restored by DELETE; error status, everyNth, down, reset, flap on an injected
 * clock, latency and hang on fake timers), health and metrics never faulted,
 * JSON 404s with a request id, and a real server on port 0 that shuts down
 * gracefully.
 */
export function describeStubContract<C extends BaseConfig>(name: string, options: StubContractOptions<C>): void {
  const { build, probe, okStatuses } = options;
  const route = `${probe.method.toUpperCase()} ${probe.path}`;
  const expectOk = (res: supertest.Response) => expect(okStatuses).toContain(res.status);

  describe(`${name} on the service kit`, () => {
    test(`answers ${route} normally when fault injection is off, and has no admin routes`, async () => {
      const app = build(testEnv()).app;
      expectOk(await send(app, probe));
      const admin = await supertest(app).put('/admin/faults').set(adminHeaders).send({ down: true });
      expect(admin.status).toBe(404);
      expectOk(await send(app, probe));
    });

    test('admin routes answer 401 without a token and 403 with a wrong one, and change nothing', async () => {
      const app = build(faultEnv()).app;
      const noToken = await supertest(app).put('/admin/faults').send({ errorRate: 1 });
      expect(noToken.status).toBe(401);
      expect(noToken.headers['www-authenticate']).toMatch(/^Bearer/);
      const wrongToken = await supertest(app).put('/admin/faults').set('Authorization', 'Bearer not-the-admin-token').send({ errorRate: 1 });
      expect(wrongToken.status).toBe(403);
      expect((await supertest(app).delete('/admin/faults')).status).toBe(401);
      expectOk(await send(app, probe));
    });

    test(`PUT /admin/faults errorRate 1 / errorStatus 503 fails ${route} with 503; DELETE restores it`, async () => {
      const app = build(faultEnv()).app;
      const put = await supertest(app).put('/admin/faults').set(adminHeaders).send({ errorRate: 1, errorStatus: 503 });
      expect(put.status).toBe(200);
      expect(put.body).toMatchObject({ active: true, settings: { errorRate: 1, errorStatus: 503 } });

      for (let i = 0; i < 3; i++) {
        const failed = await send(app, probe);
        expect(failed.status).toBe(503);
        expect(failed.headers['x-fault-injected']).toBe('error');
        expect(failed.headers['retry-after']).toBe('1');
        expect(failed.body).toMatchObject({ error: 'INJECTED_FAULT' });
      }
      // Never faulted, so that a broken service can be inspected and repaired.
      expect((await supertest(app).get('/health/live')).status).toBe(200);
      expect((await supertest(app).get('/health/ready')).status).toBe(200);
      const metrics = await supertest(app).get('/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.text).toMatch(/faults_injected_total\{[^}]*type="error"[^}]*\} 3/);
      expect((await supertest(app).get('/admin/faults').set(adminHeaders)).body).toMatchObject({ requests: 3, injected: { error: 3 } });

      const cleared = await supertest(app).delete('/admin/faults').set(adminHeaders);
      expect(cleared.status).toBe(200);
      expect(cleared.body).toMatchObject({ active: false });
      const restored = await send(app, probe);
      expectOk(restored);
      expect(restored.headers['x-fault-injected']).toBeUndefined();
    });

    test('everyNth fails exactly every Nth request with errorStatus', async () => {
      const app = build(faultEnv()).app;
      await supertest(app).put('/admin/faults').set(adminHeaders).send({ everyNth: 3, errorStatus: 500 }).expect(200);
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await send(app, probe)).status);
      expect(statuses.map((status) => status === 500)).toEqual([false, false, true, false, false, true]);
      for (const status of statuses.filter((s) => s !== 500)) expect(okStatuses).toContain(status);
    });

    test('down applies only to the routes in scope', async () => {
      const app = build(faultEnv()).app;
      await supertest(app).put('/admin/faults').set(adminHeaders).send({ down: true, routes: ['/not-this-route'] }).expect(200);
      expectOk(await send(app, probe));
      await supertest(app).put('/admin/faults').set(adminHeaders).send({ down: true, routes: [route] }).expect(200);
      const down = await send(app, probe);
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ error: 'SERVICE_DOWN' });
    });

    test('reset makes the client see ECONNRESET', async () => {
      const app = build(faultEnv()).app;
      await supertest(app).put('/admin/faults').set(adminHeaders).send({ reset: true }).expect(200);
      await expect(send(app, probe)).rejects.toMatchObject({ code: 'ECONNRESET' });
    });

    test('flap alternates failing and healthy periods on an injected clock', async () => {
      const clock = new ManualClock();
      const app = build(faultEnv(), { clock: clock.now }).app;
      await supertest(app).put('/admin/faults').set(adminHeaders).send({ flap: { periodMs: 10_000, dutyCycle: 0.3 }, errorStatus: 503 }).expect(200);
      // The period counts from the PUT; the failing part (30 % = 3 s) comes first.
      const seen: Array<number | 'ok'> = [];
      let at = 0;
      for (const ms of [0, 2_999, 3_000, 9_999, 10_000, 12_999, 13_000, 25_000]) {
        clock.advance(ms - at);
        at = ms;
        const res = await send(app, probe);
        if (res.status === 503) {
          expect(res.headers['x-fault-injected']).toBe('error');
          seen.push(503);
        } else {
          expectOk(res);
          seen.push('ok');
        }
      }
      expect(seen).toEqual([503, 503, 'ok', 'ok', 503, 503, 'ok', 'ok']);
    });

    describe('with fake timers', () => {
      beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }));
      afterEach(() => jest.useRealTimers());

      test('latencyMs delays the answer by exactly that long', async () => {
        const app = build(faultEnv()).app;
        await supertest(app).put('/admin/faults').set(adminHeaders).send({ latencyMs: 2_000 }).expect(200);
        let answered: supertest.Response | undefined;
        const pending = send(app, probe).then((res) => {
          answered = res;
        });
        await turns(50);
        jest.advanceTimersByTime(1_999);
        await turns(50);
        expect(answered).toBeUndefined();
        jest.advanceTimersByTime(1);
        await pending;
        expectOk(answered!);
        expect(answered!.headers['x-fault-injected']).toBe('latency');
      });

      test(`hang accepts ${route} and never answers: the client's own timeout cuts it`, async () => {
        const service = build(faultEnv());
        await supertest(service.app).put('/admin/faults').set(adminHeaders).send({ hang: true }).expect(200);
        let failure: unknown;
        const pending = send(service.app, probe)
          .timeout(5_000)
          .then(
            () => {
              throw new Error('a hanging request was answered');
            },
            (error: unknown) => {
              failure = error;
            },
          );
        await until(() => service.faults!.hanging === 1);
        jest.advanceTimersByTime(4_999);
        await turns(50);
        expect(failure).toBeUndefined(); // still waiting: the server accepted the request and says nothing
        jest.advanceTimersByTime(1);
        await pending;
        expect(failure).toMatchObject({ code: 'ECONNABORTED', timeout: 5_000 });
        // The client gave up and closed its socket: nothing is left hanging on the server.
        await until(() => service.faults!.hanging === 0);
        expect(service.faults!.snapshot().injected.hang).toBe(1);
      });

      test('graceful shutdown lets an in-flight request finish, and readiness says 503 meanwhile', async () => {
        const service = build(faultEnv());
        const running = await start(service, { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 10_000 });
        await supertest(running.url).put('/admin/faults').set(adminHeaders).send({ latencyMs: 1_000 }).expect(200);
        let answered: supertest.Response | undefined;
        const pending = send(running.url, probe).then((res) => {
          answered = res;
        });
        await until(() => running.inFlight === 1);
        let result: Awaited<ReturnType<RunningService['shutdown']>> | undefined;
        const stopping = running.shutdown('test').then((value) => {
          result = value;
        });
        await turns(50);
        expect(service.health.isShuttingDown).toBe(true);
        expect((await service.health.readiness()).status).toBe('shutting_down');
        expect(result).toBeUndefined(); // still draining the in-flight request
        jest.advanceTimersByTime(1_000);
        await Promise.all([pending, stopping]);
        expectOk(answered!);
        expect(result).toEqual({ forced: false, cutRequests: 0, failedClosers: 0 });
      });
    });

    test('FAULT_* variables set the faults in force at start (429 with Retry-After)', async () => {
      const app = build(faultEnv({ FAULT_ERROR_RATE: '1', FAULT_ERROR_STATUS: '429', FAULT_RETRY_AFTER_SECONDS: '7' })).app;
      const res = await send(app, probe);
      expect(res.status).toBe(429);
      expect(res.headers['retry-after']).toBe('7');
    });

    test('unknown routes get a JSON 404 carrying the caller’s request id', async () => {
      const res = await supertest(build(testEnv()).app).get('/no/such/route').set('X-Request-Id', 'req-contract-1');
      expect(res.status).toBe(404);
      expect(res.headers['x-request-id']).toBe('req-contract-1');
      expect(res.body).toMatchObject({ error: 'NOT_FOUND', requestId: 'req-contract-1' });
    });

    test('malformed JSON gets a 400, never a 500', async () => {
      const res = await supertest(build(testEnv()).app).post(probe.path).set('Content-Type', 'application/json').send('{"orderId": ');
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'MALFORMED_JSON' });
    });

    test('runs as a real server on port 0 and shuts down gracefully', async () => {
      const service = build(testEnv());
      const running: RunningService = await start(service, { port: 0, host: '127.0.0.1' });
      try {
        expect(running.port).toBeGreaterThan(0);
        expect((await supertest(running.url).get('/health/ready')).status).toBe(200);
        expectOk(await send(running.url, probe));
      } finally {
        const result = await running.shutdown('test');
        expect(result).toEqual({ forced: false, cutRequests: 0, failedClosers: 0 });
      }
      await expect(supertest(running.url).get('/health/live')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    });
  });
}
