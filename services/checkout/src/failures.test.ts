import supertest from 'supertest';
import { checkoutConfig, order, type RunningCheckout, setFaults, startCheckout, startStubs, startWorker, type Stubs, waitFor } from './testing/world.test.util';

jest.setTimeout(30_000);

/**
 * Each dependency failing in the ways the stubs can fail, with the answer, its latency bound
 * and the warnings. Timeouts are short here (payment 400 ms, shipping 300 ms, inventory 300 ms).
 */
let stubs: Stubs;
let app: RunningCheckout;

beforeAll(async () => {
  stubs = await startStubs();
  app = await startCheckout(
    checkoutConfig(stubs, {
      INVENTORY_TIMEOUT_MS: '300',
      INVENTORY_SLOW_CALL_MS: '200',
      SHIPPING_TIMEOUT_MS: '300',
      SHIPPING_SLOW_CALL_MS: '200',
      NOTIFICATION_TIMEOUT_MS: '300',
      BREAKER_WINDOW_SIZE: '4',
      BREAKER_MINIMUM_CALLS: '4',
      PAYMENT_OPEN_MS: '300',
    }),
  );
  await app.checkout.connection.ready();
});

afterAll(async () => {
  await app?.stop();
  for (const running of stubs?.running ?? []) await running.shutdown();
});

beforeEach(() => {
  for (const stub of [stubs.payment, stubs.inventory, stubs.shipping, stubs.notification]) setFaults(stub, {});
  for (const client of Object.values(app.checkout.clients)) client.breaker.reset();
});

/** Fallbacks counted on a dependency's circuit, as `/circuits` and `/metrics` show them. */
const fallbacksOf = (name: keyof RunningCheckout['checkout']['clients']) => app.checkout.clients[name].breaker.snapshot().fallbacks;

async function timed(body: unknown): Promise<{ status: number; body: Record<string, unknown>; ms: number }> {
  const started = Date.now();
  const res = await supertest(app.url).post('/checkout').send(body as object);
  return { status: res.status, body: res.body as Record<string, unknown>, ms: Date.now() - started };
}

describe('payment failing', () => {
  it.each([
    ['errors (500)', { errorRate: 1, errorStatus: 500 }, /^payment: answered 500; the payment is queued/],
    ['is down (503)', { down: true }, /^payment: answered 503; the payment is queued/],
    ['is slow past its deadline', { latencyMs: 1_500 }, /^payment: no answer within 400 ms; the payment is queued/],
    ['hangs', { hang: true }, /^payment: no answer within 400 ms; the payment is queued/],
    ['resets the connection', { reset: true }, /^payment: connection failed \(ECONNRESET\); the payment is queued/],
  ])('%s: 202 PENDING_PAYMENT within the deadline, nothing charged yet', async (_name, faults, warning) => {
    setFaults(stubs.payment, faults);
    const fallbacks = fallbacksOf('payment');
    const res = await timed(order([{ sku: 'KB-MECH-01', quantity: 1 }]));
    expect(res.status).toBe(202);
    expect(fallbacksOf('payment')).toBe(fallbacks + 1); // the queue is payment's fallback: counted on its circuit
    expect(res.body).toMatchObject({ status: 'PENDING_PAYMENT', warnings: [expect.stringMatching(warning)] });
    expect(res.ms).toBeLessThan(1_000);
    expect(stubs.payment.ledger.chargesFor(res.body.orderId as string).filter((c) => c.status === 'CAPTURED')).toHaveLength(0);
  });

  it('opens the breaker after the window fills with failures; later orders fail fast to the queue; half-open probes close it again', async () => {
    setFaults(stubs.payment, { hang: true });
    for (let i = 0; i < 4; i++) expect((await timed(order([{ sku: 'MOUSE-WL-02', quantity: 1 }]))).status).toBe(202);
    expect(app.checkout.clients.payment.breaker.state).toBe('OPEN');

    const fast = await timed(order([{ sku: 'MOUSE-WL-02', quantity: 1 }]));
    expect(fast.status).toBe(202);
    expect(fast.body.warnings).toEqual([expect.stringMatching(/^payment: circuit open, retry in \d+ s; the payment is queued/)]);
    expect(fast.ms).toBeLessThan(380); // below payment's 400 ms deadline: it was not called

    setFaults(stubs.payment, {});
    await waitFor(() => app.checkout.clients.payment.breaker.state === 'HALF_OPEN', { message: 'open period over' });
    for (let i = 0; i < 3; i++) expect((await timed(order([{ sku: 'MOUSE-WL-02', quantity: 1 }]))).status).toBe(201);
    expect(app.checkout.clients.payment.breaker.state).toBe('CLOSED');
    const circuits = await supertest(app.url).get('/circuits');
    expect(circuits.body.circuits.payment).toMatchObject({ state: 'CLOSED' });
    expect(circuits.body.circuits.payment.fallbacks).toBeGreaterThanOrEqual(5); // the five 202s above
    const metrics = await supertest(app.url).get('/metrics');
    const fallbacks = /^circuit_breaker_calls_total\{[^}]*breaker="payment"[^}]*outcome="fallback"[^}]*\} (\d+)$/m.exec(metrics.text);
    expect(Number(fallbacks?.[1])).toBeGreaterThanOrEqual(5);
  });
});

describe('shipping failing', () => {
  it.each([
    ['errors (500)', { errorRate: 1, errorStatus: 500 }, /^shipping: answered 500; the shipment will be scheduled later$/],
    ['is down', { down: true }, /^shipping: answered 503; the shipment will be scheduled later$/],
    ['resets the connection', { reset: true }, /^shipping: connection failed \(ECONNRESET\); the shipment will be scheduled later$/],
    ['is slow past its deadline', { latencyMs: 1_000 }, /^shipping: no answer within 300 ms; the shipment will be scheduled later$/],
    ['hangs', { hang: true }, /^shipping: no answer within 300 ms; the shipment will be scheduled later$/],
  ])('%s: the order is still paid (201 PAID) and the worker schedules the shipment later', async (_name, faults, warning) => {
    setFaults(stubs.shipping, faults);
    const fallbacks = fallbacksOf('shipping');
    const res = await timed(order([{ sku: 'STAND-LAPTOP', quantity: 1 }]));
    expect(res.status).toBe(201);
    expect(fallbacksOf('shipping')).toBe(fallbacks + 1);
    expect(res.body).toMatchObject({ status: 'PAID', warnings: [expect.stringMatching(warning)] });
    expect(res.ms).toBeLessThan(1_500);
    const orderId = res.body.orderId as string;
    expect(stubs.payment.ledger.chargesFor(orderId)).toHaveLength(1);

    setFaults(stubs.shipping, {});
    const worker = await startWorker(app.checkout.service.config);
    try {
      await waitFor(() => stubs.shipping.book.shipmentsFor(orderId).length === 1, { message: 'shipment scheduled by the worker' });
      expect(stubs.payment.ledger.chargesFor(orderId)).toHaveLength(1);
      await waitFor(async () => (await supertest(app.url).get(`/orders/${orderId}`)).body.status === 'SHIPPING_SCHEDULED', { message: 'order shipped' });
    } finally {
      await worker.stop();
    }
  });
});

describe('notification failing', () => {
  it.each([
    ['errors (500)', { errorRate: 1, errorStatus: 500 }],
    ['is down', { down: true }],
    ['is slow past its deadline', { latencyMs: 1_000 }],
    ['hangs', { hang: true }],
    ['resets the connection', { reset: true }],
  ])('%s: the answer is neither slower nor different', async (_name, faults) => {
    setFaults(stubs.notification, faults);
    const fallbacks = fallbacksOf('notification');
    const res = await timed(order([{ sku: 'CABLE-USBC-2M', quantity: 1 }]));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'SHIPPING_SCHEDULED', warnings: [] });
    // Notification's own deadline is 300 ms and it hangs forever: the answer waits for neither.
    expect(res.ms).toBeLessThan(1_000);
    await waitFor(() => app.checkout.clients.notification.failed > 0, { message: 'failure counted' });
    await waitFor(() => fallbacksOf('notification') > fallbacks, { message: 'fallback (logged, not sent) counted on its circuit' });
  });
});

describe('inventory failing', () => {
  it.each([
    ['errors (500)', { errorRate: 1, errorStatus: 500 }, /^inventory: answered 500; no cached stock for HEADSET-NC$/],
    ['is down', { down: true }, /^inventory: answered 503; no cached stock for HEADSET-NC$/],
    ['is slow past its deadline', { latencyMs: 1_000 }, /^inventory: no answer within 300 ms; no cached stock for HEADSET-NC$/],
    ['hangs', { hang: true }, /^inventory: no answer within 300 ms; no cached stock for HEADSET-NC$/],
    ['resets the connection', { reset: true }, /^inventory: connection failed \(ECONNRESET\); no cached stock for HEADSET-NC$/],
  ])('%s, nothing cached: 503, nothing reserved, nothing charged', async (_name, faults, warning) => {
    setFaults(stubs.inventory, faults);
    const res = await timed(order([{ sku: 'HEADSET-NC', quantity: 1 }]));
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ status: 'REJECTED', error: 'INVENTORY_UNAVAILABLE', warnings: [expect.stringMatching(warning)] });
    expect(res.ms).toBeLessThan(1_000);
  });

  it('is down with the stock cached: still 503 (stock cannot be held), the stale level shown as a warning', async () => {
    expect((await timed(order([{ sku: 'WEBCAM-HD', quantity: 1 }]))).status).toBe(409); // cached: 0
    expect((await timed(order([{ sku: 'HUB-USBC-7', quantity: 1 }]))).status).toBe(201); // cached: available
    setFaults(stubs.inventory, { down: true });
    const fallbacks = fallbacksOf('inventory');
    const res = await timed(order([{ sku: 'HUB-USBC-7', quantity: 1 }]));
    expect(res.status).toBe(503);
    expect(fallbacksOf('inventory')).toBe(fallbacks + 1); // the cached level: counted on inventory's circuit
    // The failed stock read (2 attempts) and reservation (2 attempts) fill the 4-call window: the breaker may open on the way.
    expect(res.body.warnings).toEqual([expect.stringContaining('stock of HUB-USBC-7 from cache'), expect.stringMatching(/^inventory: (answered 503|circuit open, retry in \d+ s)$/)]);
    const gone = await timed(order([{ sku: 'WEBCAM-HD', quantity: 1 }]));
    expect(gone.status).toBe(409);
  });
});

describe('payment-retry worker', () => {
  it('pauses consuming while its payment circuit is open, then charges once payment is back', async () => {
    setFaults(stubs.payment, { down: true });
    const res = await timed(order([{ sku: 'KB-MECH-01', quantity: 1 }]));
    expect(res.status).toBe(202);
    const orderId = res.body.orderId as string;
    const worker = await startWorker(app.checkout.service.config);
    try {
      await waitFor(() => worker.worker.counters.pausedTimes >= 1, { message: 'worker paused by its open circuit' });
      setFaults(stubs.payment, {});
      await waitFor(() => stubs.shipping.book.shipmentsFor(orderId).length === 1, { message: 'order completed after the pause' });
      expect(stubs.payment.ledger.chargesFor(orderId)).toEqual([expect.objectContaining({ status: 'CAPTURED' })]);
    } finally {
      await worker.stop();
    }
  });
});

describe('BREAKERS=off', () => {
  it('never opens: every order waits for the full deadline (the load tests’ "before" side)', async () => {
    const own = await startCheckout(checkoutConfig(stubs, { BREAKERS: 'off', BREAKER_WINDOW_SIZE: '4', BREAKER_MINIMUM_CALLS: '4' }));
    try {
      setFaults(stubs.payment, { hang: true });
      for (let i = 0; i < 5; i++) {
        const started = Date.now();
        const res = await supertest(own.url).post('/checkout').send(order([{ sku: 'MOUSE-WL-02', quantity: 1 }]));
        expect(res.status).toBe(202);
        expect(Date.now() - started).toBeGreaterThanOrEqual(380);
      }
      const circuits = await supertest(own.url).get('/circuits');
      expect(circuits.body.circuits.payment).toMatchObject({ state: 'DISABLED' });
    } finally {
      await own.stop();
    }
  });
});
