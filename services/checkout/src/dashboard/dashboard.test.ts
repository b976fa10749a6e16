import { CircuitBreaker } from '@checkout/breaker';
import { createPaymentApp, configSchema as paymentSchema, type PaymentApp } from '@checkout/payment';
import { baseConfigSchema, createApp, loadConfig, type RunningService, start } from '@checkout/service-kit';
import supertest from 'supertest';
import { checkoutConfig, order, type RunningCheckout, startCheckout, startStubs, type Stubs } from '../testing/world.test.util';
import { AnswerRecorder, CircuitHistory, classOf, createDashboardRouter, type DashboardDeps, percentile } from '.';

jest.setTimeout(20_000);

const TOKEN = 'dashboard-unit-admin-token';
const WRONG = 'not-the-admin-token';

let payment: PaymentApp;
let paymentRunning: RunningService;

beforeAll(async () => {
  payment = createPaymentApp({ config: loadConfig(paymentSchema, { NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '0', FAULTS_ENABLED: 'true', ADMIN_TOKEN: TOKEN }) });
  paymentRunning = await start(payment.service, { port: 0, shutdownTimeoutMs: 500 });
});

afterAll(async () => {
  await paymentRunning?.shutdown();
});

beforeEach(() => payment.service.faults!.clear());

/** A kit app (its error handler, body parser and headers) with the dashboard and a fake /checkout. */
function host(overrides: Partial<DashboardDeps> = {}) {
  const breaker = new CircuitBreaker({ name: 'payment', window: { type: 'count', size: 4 }, minimumCalls: 2, openMs: 60_000 });
  const replays: (number | undefined)[] = [];
  const deps: DashboardDeps = {
    breakers: () => ({ payment: breaker }),
    stubs: () => ({ payment: paymentRunning.url, inventory: 'http://127.0.0.1:9' }),
    adminToken: () => TOKEN,
    pipeline: async () => ({ available: true, broker: 'connected', work: { messages: 2, consumers: 0 }, delays: [{ tier: '5s', ttlMs: 5_000, messages: 1 }], parked: 3, worker: { state: 'no-consumer', consumers: 0 } }),
    replayParked: async (limit) => {
      replays.push(limit);
      return { replayed: 3, failed: 0, remaining: 0, errors: [] };
    },
    ...overrides,
  };
  const service = createApp({
    name: 'checkout',
    config: loadConfig(baseConfigSchema, { NODE_ENV: 'test', LOG_LEVEL: 'silent' }),
    routes: (router) => {
      router.use(createDashboardRouter(deps));
      router.post('/checkout', (req, res) => {
        res.status(Number((req.body as { status?: number }).status ?? 201)).json({});
      });
    },
  });
  return { app: service.app, breaker, replays };
}

const faultsAtStub = () => payment.service.faults!.snapshot();

describe('the page', () => {
  it('is served as HTML with its own CSP, and its script and styles with their types; no token anywhere', async () => {
    const { app } = host();
    const page = await supertest(app).get('/dashboard');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html; charset=utf-8/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(page.text).toContain('<script src="/dashboard/assets/dashboard.js" defer></script>');
    const script = await supertest(app).get('/dashboard/assets/dashboard.js');
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toMatch(/^application\/javascript/);
    expect(script.text).toContain("new EventSource('/circuits/stream')");
    expect(script.text).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    const css = await supertest(app).get('/dashboard/assets/dashboard.css');
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    for (const text of [page.text, script.text, css.text]) expect(text).not.toContain(TOKEN);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('fault forwarding', () => {
  it('needs a bearer token (401) and the right one (403): nothing changes at the stub', async () => {
    const { app } = host();
    const none = await supertest(app).put('/dashboard/api/faults/payment').send({ errorRate: 1 });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toContain('Bearer');
    const wrong = await supertest(app).put('/dashboard/api/faults/payment').set('Authorization', `Bearer ${WRONG}`).send({ errorRate: 1 });
    expect(wrong.status).toBe(403);
    expect((await supertest(app).delete('/dashboard/api/faults/payment').set('Authorization', `Bearer ${WRONG}`)).status).toBe(403);
    expect((await supertest(app).get('/dashboard/api/faults')).status).toBe(401);
    expect(faultsAtStub().active).toBe(false);
  });

  it('forwards PUT and DELETE with the token to the stub, and shows the faults', async () => {
    const { app } = host();
    const auth = `Bearer ${TOKEN}`;
    const put = await supertest(app).put('/dashboard/api/faults/payment').set('Authorization', auth).send({ errorRate: 0.5, errorStatus: 503, latencyMs: 20 });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ active: true, settings: { errorRate: 0.5, errorStatus: 503, latencyMs: 20 } });
    expect(faultsAtStub().settings).toMatchObject({ errorRate: 0.5, errorStatus: 503, latencyMs: 20 });

    const all = await supertest(app).get('/dashboard/api/faults').set('Authorization', auth);
    expect(all.status).toBe(200);
    expect(all.body.services.payment).toMatchObject({ status: 200, body: { active: true } });
    expect(all.body.services.inventory).toMatchObject({ status: 502, body: { error: 'STUB_UNREACHABLE' } });

    const del = await supertest(app).delete('/dashboard/api/faults/payment').set('Authorization', auth);
    expect(del.status).toBe(200);
    expect(faultsAtStub().active).toBe(false);
  });

  it("passes on the stub's 400 for bad settings, and 404s an unknown service", async () => {
    const { app } = host();
    const auth = `Bearer ${TOKEN}`;
    const bad = await supertest(app).put('/dashboard/api/faults/payment').set('Authorization', auth).send({ hang: true, reset: true });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('VALIDATION_FAILED');
    expect((await supertest(app).put('/dashboard/api/faults/checkout').set('Authorization', auth).send({})).status).toBe(404);
    expect((await supertest(app).put('/dashboard/api/faults/__proto__').set('Authorization', auth).send({})).status).toBe(404);
    expect(faultsAtStub().active).toBe(false);
  });

  it("without checkout's own ADMIN_TOKEN, the stub decides (403 passed on)", async () => {
    const { app } = host({ adminToken: () => undefined });
    const wrong = await supertest(app).put('/dashboard/api/faults/payment').set('Authorization', `Bearer ${WRONG}`).send({ down: true });
    expect(wrong.status).toBe(403);
    expect(faultsAtStub().active).toBe(false);
    const right = await supertest(app).put('/dashboard/api/faults/payment').set('Authorization', `Bearer ${TOKEN}`).send({ down: true });
    expect(right.status).toBe(200);
    expect(faultsAtStub().settings.down).toBe(true);
  });
});

describe('parked messages', () => {
  it('replays only with the admin token', async () => {
    const { app, replays } = host();
    expect((await supertest(app).post('/dashboard/api/parked/replay').send({})).status).toBe(401);
    expect((await supertest(app).post('/dashboard/api/parked/replay').set('Authorization', `Bearer ${WRONG}`).send({})).status).toBe(403);
    expect(replays).toEqual([]);
    const ok = await supertest(app).post('/dashboard/api/parked/replay').set('Authorization', `Bearer ${TOKEN}`).send({ limit: 5 });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ replayed: 3, failed: 0, remaining: 0, errors: [] });
    expect(replays).toEqual([5]);
    expect((await supertest(app).post('/dashboard/api/parked/replay').set('Authorization', `Bearer ${TOKEN}`).send({ limit: -1 })).status).toBe(400);
  });

  it("without checkout's ADMIN_TOKEN, checks the token at the first stub that answers", async () => {
    const { app, replays } = host({ adminToken: () => undefined, stubs: () => ({ inventory: 'http://127.0.0.1:9', payment: paymentRunning.url }) });
    expect((await supertest(app).post('/dashboard/api/parked/replay').set('Authorization', `Bearer ${WRONG}`).send({})).status).toBe(403);
    expect(replays).toEqual([]);
    expect((await supertest(app).post('/dashboard/api/parked/replay').set('Authorization', `Bearer ${TOKEN}`).send({})).status).toBe(200);
    const { app: alone } = host({ adminToken: () => undefined, stubs: () => ({ inventory: 'http://127.0.0.1:9' }) });
    expect((await supertest(alone).post('/dashboard/api/parked/replay').set('Authorization', `Bearer ${TOKEN}`).send({})).status).toBe(503);
  });
});

describe('overview', () => {
  it("records checkout's answers and each circuit's outcomes and state changes", async () => {
    const { app, breaker } = host();
    for (const status of [201, 201, 202, 400, 409, 503]) await supertest(app).post('/checkout').send({ status });
    await breaker.execute(async () => 'ok');
    await breaker.execute(async () => Promise.reject(new Error('boom')), () => 'fallback'); // 1 of 2 failed: opens
    for (let i = 0; i < 2; i++) await breaker.execute(async () => 'never', () => 'fallback'); // rejected
    const res = await supertest(app).get('/dashboard/api/overview');
    expect(res.status).toBe(200);
    expect(res.body.answers).toMatchObject({ total: 6, counts: { '201': 2, '202': 1, '4xx': 2, '503': 1, other: 0 } });
    expect(res.body.answers.p50Ms).toBeGreaterThanOrEqual(0);
    const history = res.body.history.payment;
    const sum = (key: string) => history.buckets.reduce((n: number, b: Record<string, number>) => n + b[key]!, 0);
    expect([sum('success'), sum('failure'), sum('rejected'), sum('fallback')]).toEqual([1, 1, 2, 3]);
    expect(history.transitions).toEqual([expect.objectContaining({ from: 'CLOSED', to: 'OPEN' })]);
    expect(res.body.pipeline).toMatchObject({ available: true, parked: 3, worker: { state: 'no-consumer' } });
    expect(res.body.stubs).toEqual(['payment', 'inventory']);
  });
});

describe('recorders', () => {
  it('answers: classes, nearest-rank percentiles, a one-minute window', () => {
    let now = 1_000_000;
    const recorder = new AnswerRecorder(60_000, () => now);
    for (let i = 1; i <= 100; i++) recorder.record(i % 10 === 0 ? 503 : 201, i);
    expect(recorder.summary()).toMatchObject({ total: 100, counts: { '201': 90, '503': 10 }, p50Ms: 50, p99Ms: 99 });
    now += 60_001;
    recorder.record(202, 7);
    expect(recorder.summary()).toMatchObject({ total: 1, counts: { '202': 1, '201': 0 }, p50Ms: 7, p99Ms: 7 });
    expect([classOf(201), classOf(202), classOf(404), classOf(503), classOf(500)]).toEqual(['201', '202', '4xx', '503', 'other']);
    expect(percentile([], 50)).toBeNull();
  });

  it('circuit history keeps one bucket per second for the last seconds', () => {
    let now = 5_000_000;
    const history = new CircuitHistory(3, () => now);
    history.record('success', 10);
    history.record('success', 30);
    now += 1_000;
    history.record('failure', 100);
    expect(history.view().buckets).toEqual([
      expect.objectContaining({ t: 5_000_000, success: 2, timed: 2, latencySumMs: 40, latencyMaxMs: 30 }),
      expect.objectContaining({ t: 5_001_000, failure: 1, latencyMaxMs: 100 }),
    ]);
    now += 3_001;
    expect(history.view().buckets).toEqual([]);
  });
});

describe('wired into checkout', () => {
  let stubs: Stubs;
  let app: RunningCheckout;
  beforeAll(async () => {
    stubs = await startStubs();
    app = await startCheckout(checkoutConfig(stubs, { ADMIN_TOKEN: stubs.payment.service.config.ADMIN_TOKEN! }));
  });
  afterAll(async () => {
    await app?.stop();
    for (const running of stubs?.running ?? []) await running.shutdown();
  });

  it("serves the page, records POST /checkout, and forwards faults to checkout's stubs", async () => {
    const page = await supertest(app.url).get('/dashboard');
    expect(page.status).toBe(200);
    expect(page.text).not.toContain(stubs.payment.service.config.ADMIN_TOKEN!);
    await supertest(app.url).post('/checkout').send(order([{ sku: 'KB-MECH-01', quantity: 1 }]));
    await supertest(app.url).post('/checkout').send({ nonsense: true });
    const overview = await supertest(app.url).get('/dashboard/api/overview');
    expect(overview.body.answers.counts).toMatchObject({ '201': 1, '4xx': 1 });
    expect(Object.keys(overview.body.history).sort()).toEqual(['inventory', 'notification', 'payment', 'shipping']);
    expect(overview.body.stubs).toEqual(['payment', 'inventory', 'shipping', 'notification']);
    const auth = `Bearer ${stubs.payment.service.config.ADMIN_TOKEN!}`;
    expect((await supertest(app.url).put('/dashboard/api/faults/shipping').set('Authorization', 'Bearer wrong-token-123').send({ hang: true })).status).toBe(403);
    expect(stubs.shipping.service.faults!.snapshot().active).toBe(false);
    expect((await supertest(app.url).put('/dashboard/api/faults/shipping').set('Authorization', auth).send({ latencyMs: 5 })).status).toBe(200);
    expect(stubs.shipping.service.faults!.snapshot().settings.latencyMs).toBe(5);
    expect((await supertest(app.url).delete('/dashboard/api/faults/shipping').set('Authorization', auth)).status).toBe(200);
    expect(stubs.shipping.service.faults!.snapshot().active).toBe(false);
  });
});
