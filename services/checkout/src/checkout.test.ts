import http from 'node:http';
import { join } from 'node:path';
import { ConnectionLostError } from '@checkout/messaging';
import { Journal } from '@checkout/service-kit';
import supertest from 'supertest';
import { IdempotencyStore } from './idempotency';
import {
  checkoutConfig,
  ManualClock,
  order,
  type RunningCheckout,
  type RunningWorker,
  setFaults,
  startCheckout,
  startStubs,
  startWorker,
  type Stubs,
  waitFor,
} from './testing/world.test.util';

jest.setTimeout(30_000);

let stubs: Stubs;
let clock: ManualClock;
let app: RunningCheckout;
const workers: RunningWorker[] = [];

beforeAll(async () => {
  stubs = await startStubs();
  clock = new ManualClock();
  app = await startCheckout(checkoutConfig(stubs), { clock: clock.now });
  await app.checkout.connection.ready();
});

afterAll(async () => {
  for (const worker of workers) await worker.stop();
  await app?.stop();
  for (const running of stubs?.running ?? []) await running.shutdown();
});

beforeEach(() => {
  for (const stub of [stubs.payment, stubs.inventory, stubs.shipping, stubs.notification]) setFaults(stub, {});
  for (const client of Object.values(app.checkout.clients)) client.breaker.reset();
});

const post = (body: unknown, key?: string) => {
  const req = supertest(app.url).post('/checkout');
  return key === undefined ? req.send(body as object) : req.set('Idempotency-Key', key).send(body as object);
};
const available = (sku: string) => stubs.inventory.inventory.stockOf(sku)!.available;

describe('POST /checkout', () => {
  it('places an order: prices from inventory, stock reserved, charged once, shipping scheduled, customer notified (201)', async () => {
    const before = available('KB-MECH-01');
    const res = await post(order([{ sku: 'KB-MECH-01', quantity: 2 }, { sku: 'MOUSE-WL-02', quantity: 1 }]));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'SHIPPING_SCHEDULED', warnings: [], total: 2 * 8_999 + 2_999, currency: 'EUR' });
    const { orderId } = res.body as { orderId: string };
    expect(available('KB-MECH-01')).toBe(before - 2);
    expect(stubs.payment.ledger.chargesFor(orderId)).toEqual([expect.objectContaining({ status: 'CAPTURED', amount: 20_997 })]);
    expect(stubs.shipping.book.shipmentsFor(orderId)).toHaveLength(1);
    await waitFor(() => stubs.notification.outbox.forOrder(orderId).some((n) => n.type === 'ORDER_CONFIRMED'), { message: 'confirmation sent' });

    const status = await supertest(app.url).get(`/orders/${orderId}`);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ orderId, status: 'SHIPPING_SCHEDULED' });
  });

  it('refuses an invalid body with field errors and the answer shape (400)', async () => {
    const res = await post({ customerId: 'c', items: [{ sku: 'KB-MECH-01', quantity: 0, price: 1 }], paymentToken: 'visa' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'VALIDATION_FAILED', orderId: null, status: 'REJECTED', warnings: [] });
    const paths = (res.body.fields as { path: string }[]).map((field) => field.path);
    expect(paths).toEqual(expect.arrayContaining(['items.0.quantity', 'items.0.price', 'paymentToken', 'shippingAddress']));
  });

  it('passes an unknown SKU through as 404 without counting it against the breaker', async () => {
    const res = await post(order([{ sku: 'NOPE-1', quantity: 1 }]));
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ status: 'REJECTED', error: 'UNKNOWN_SKU', warnings: [] });
    expect(res.body.orderId).toEqual(expect.any(String));
    expect(app.checkout.clients.inventory.breaker.snapshot()).toMatchObject({ failures: 0 });
  });

  it('refuses an order beyond the stock (409) and reserves nothing', async () => {
    const res = await post(order([{ sku: 'MON-27-4K', quantity: 4 }]));
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ status: 'REJECTED', error: 'OUT_OF_STOCK', details: { sku: 'MON-27-4K', requested: 4, available: 3 } });
    expect(available('MON-27-4K')).toBe(3);
  });

  it('answers a decline with 402 and releases the reserved stock', async () => {
    const before = available('HUB-USBC-7');
    const res = await post(order([{ sku: 'HUB-USBC-7', quantity: 3 }], 'tok_decline'));
    expect(res.status).toBe(402);
    expect(res.body).toMatchObject({ status: 'FAILED', error: 'PAYMENT_DECLINED', stockReleased: true, warnings: [] });
    expect(available('HUB-USBC-7')).toBe(before);
    expect(app.checkout.clients.payment.breaker.snapshot()).toMatchObject({ failures: 0 });
    const status = await supertest(app.url).get(`/orders/${res.body.orderId}`);
    expect(status.body).toMatchObject({ status: 'FAILED', reason: 'PAYMENT_DECLINED' });
  });
});

describe('background repairs', () => {
  it('releases a declined order’s stock later when inventory cannot take it back at once', async () => {
    const before = available('STAND-LAPTOP');
    setFaults(stubs.inventory, { errorRate: 1, errorStatus: 503, routes: ['DELETE /reservations/:id'] });
    const res = await post(order([{ sku: 'STAND-LAPTOP', quantity: 2 }], 'tok_decline'));
    expect(res.status).toBe(402);
    expect(res.body).toMatchObject({ stockReleased: false, warnings: [expect.stringMatching(/^inventory: answered 503; the reserved stock will be released shortly$/)] });
    expect(available('STAND-LAPTOP')).toBe(before - 2);
    setFaults(stubs.inventory, {});
    await waitFor(() => available('STAND-LAPTOP') === before, { message: 'stock released in the background' });
  });

  it('schedules the shipment from checkout when neither shipping nor the queue can take it', async () => {
    const own = await startCheckout(checkoutConfig(stubs, { AMQP_URL: 'amqp://guest:guest@127.0.0.1:1' }));
    try {
      setFaults(stubs.shipping, { down: true });
      const res = await supertest(own.url).post('/checkout').send(order([{ sku: 'KB-MECH-01', quantity: 1 }]));
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ status: 'PAID', warnings: [expect.stringMatching(/^shipping: answered 503; the shipment will be scheduled later$/)] });
      setFaults(stubs.shipping, {});
      await waitFor(() => stubs.shipping.book.shipmentsFor(res.body.orderId).length === 1, { message: 'shipment scheduled in the background' });
    } finally {
      await own.stop();
    }
  });
});

describe('Idempotency-Key', () => {
  it('replays the first answer for the same key and body, without a second reservation or charge', async () => {
    const body = order([{ sku: 'CABLE-USBC-2M', quantity: 1 }]);
    const before = available('CABLE-USBC-2M');
    const [first, second] = await Promise.all([post(body, 'key-replay-1'), post(body, 'key-replay-1')]);
    const third = await post(body, 'key-replay-1');
    expect(first.status).toBe(201);
    for (const again of [second, third]) {
      expect(again.status).toBe(201);
      expect(again.body).toEqual(first.body);
    }
    expect(third.headers['idempotent-replayed']).toBe('true');
    expect(available('CABLE-USBC-2M')).toBe(before - 1);
    expect(stubs.payment.ledger.chargesFor(first.body.orderId)).toHaveLength(1);
  });

  it('refuses the same key with another body (409)', async () => {
    expect((await post(order([{ sku: 'CABLE-USBC-2M', quantity: 1 }]), 'key-reuse-1')).status).toBe(201);
    const res = await post(order([{ sku: 'CABLE-USBC-2M', quantity: 2 }]), 'key-reuse-1');
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'IDEMPOTENCY_KEY_REUSED', status: 'REJECTED', warnings: [] });
  });
});

describe('inventory failing', () => {
  it('uses cached stock with its age in a warning, refuses what the cache says is gone, and refuses (503) without a cache entry', async () => {
    // Warm the cache: a good read of STAND-LAPTOP, and WEBCAM-HD seen at 0.
    expect((await post(order([{ sku: 'STAND-LAPTOP', quantity: 1 }]))).status).toBe(201);
    expect((await post(order([{ sku: 'WEBCAM-HD', quantity: 1 }]))).status).toBe(409);
    clock.advance(90_000);
    // Stock reads fail; reservations still work (the authority on stock stays inventory).
    setFaults(stubs.inventory, { errorRate: 1, errorStatus: 503, routes: ['GET /stock/:sku'] });

    const stale = await post(order([{ sku: 'STAND-LAPTOP', quantity: 1 }]));
    expect(stale.status).toBe(201);
    expect(stale.body.warnings).toEqual([expect.stringMatching(/^inventory: answered 503; stock of STAND-LAPTOP from cache, 90 s old$/)]);

    const gone = await post(order([{ sku: 'WEBCAM-HD', quantity: 1 }]));
    expect(gone.status).toBe(409);
    expect(gone.body).toMatchObject({ error: 'OUT_OF_STOCK', warnings: [expect.stringContaining('from cache, 90 s old')] });

    const unknown = await post(order([{ sku: 'HEADSET-NC', quantity: 1 }]));
    expect(unknown.status).toBe(503);
    expect(unknown.body).toMatchObject({ status: 'REJECTED', error: 'INVENTORY_UNAVAILABLE', warnings: [expect.stringContaining('no cached stock for HEADSET-NC')] });
  });
});

describe('payment unavailable', () => {
  it('queues the charge (202 after the confirm); the worker charges exactly once when payment is back, then ships', async () => {
    setFaults(stubs.payment, { down: true });
    const started = Date.now();
    const res = await post(order([{ sku: 'KB-MECH-01', quantity: 1 }]));
    expect(res.status).toBe(202);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(res.body).toMatchObject({ status: 'PENDING_PAYMENT', total: 8_999, warnings: [expect.stringMatching(/^payment: answered 503; the payment is queued/)] });
    const { orderId } = res.body as { orderId: string };
    // Confirmed before the answer: the message is in the work queue.
    expect((await app.checkout.connection.queueDepths()).work.messages).toBe(1);
    expect((await supertest(app.url).get(`/orders/${orderId}`)).body).toMatchObject({ status: 'PENDING_PAYMENT' });

    const worker = await startWorker(app.checkout.service.config);
    workers.push(worker);
    await waitFor(() => worker.worker.consumer.stats().retried >= 1, { message: 'a failed attempt while payment is down' });
    setFaults(stubs.payment, {});
    await waitFor(async () => (await supertest(app.url).get(`/orders/${orderId}`)).body.status === 'SHIPPING_SCHEDULED', { message: 'order shipped' });
    expect(stubs.payment.ledger.chargesFor(orderId)).toEqual([expect.objectContaining({ status: 'CAPTURED' })]);
    expect(stubs.shipping.book.shipmentsFor(orderId)).toHaveLength(1);
    await worker.stop();
    workers.splice(workers.indexOf(worker), 1);
  });

  it('parks the order after the last attempt: stock released, customer told, order FAILED', async () => {
    const config = checkoutConfig(stubs, { RETRY_MAX_ATTEMPTS: '1' });
    const own = await startCheckout(config);
    await own.checkout.connection.ready();
    try {
      setFaults(stubs.payment, { down: true });
      const before = available('HEADSET-NC');
      const res = await supertest(own.url).post('/checkout').send(order([{ sku: 'HEADSET-NC', quantity: 2 }]));
      expect(res.status).toBe(202);
      expect(available('HEADSET-NC')).toBe(before - 2);
      const worker = await startWorker(config);
      workers.push(worker);
      await waitFor(() => worker.worker.consumer.stats().parked === 1, { message: 'message parked' });
      expect(available('HEADSET-NC')).toBe(before);
      await waitFor(() => stubs.notification.outbox.forOrder(res.body.orderId).some((n) => n.type === 'ORDER_FAILED'), { message: 'customer told' });
      const status = await supertest(own.url).get(`/orders/${res.body.orderId}`);
      expect(status.body).toMatchObject({ status: 'FAILED' });
      expect(stubs.payment.ledger.chargesFor(res.body.orderId)).toEqual([]);
      expect((await own.checkout.connection.queueDepths()).parking.messages).toBe(1);
      await worker.stop();
      workers.splice(workers.indexOf(worker), 1);
    } finally {
      await own.stop();
    }
  });

  it('answers 503 and releases the stock when the retry queue cannot take the charge either', async () => {
    const config = checkoutConfig(stubs, { AMQP_URL: 'amqp://guest:guest@127.0.0.1:1' });
    const own = await startCheckout(config);
    try {
      setFaults(stubs.payment, { down: true });
      const before = available('MOUSE-WL-02');
      const res = await supertest(own.url).post('/checkout').send(order([{ sku: 'MOUSE-WL-02', quantity: 1 }]));
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ status: 'REJECTED', error: 'PAYMENT_UNAVAILABLE', warnings: expect.arrayContaining(['retry-queue: unavailable']) });
      expect(available('MOUSE-WL-02')).toBe(before);
      expect(stubs.payment.ledger.chargesFor(res.body.orderId)).toEqual([]);
      expect((await supertest(own.url).get('/health/ready')).status).toBe(503);
    } finally {
      await own.stop();
    }
  });
});

describe('a payment message whose broker confirm was lost', () => {
  /** The broker takes the message, then its confirm is lost (`lose` says for which publishes). */
  const loseConfirms = (own: RunningCheckout, lose: (call: number) => boolean) => {
    const connection = own.checkout.connection;
    const publish = connection.publish.bind(connection);
    let calls = 0;
    return jest.spyOn(connection, 'publish').mockImplementation(async (body, options) => {
      await publish(body, options);
      if (lose(++calls)) throw new ConnectionLostError(options.messageId, { cause: new Error('connection closed before the confirm') });
    });
  };

  it('publishes it again and answers 202 once a copy is confirmed: the worker charges once', async () => {
    const config = checkoutConfig(stubs);
    const own = await startCheckout(config);
    await own.checkout.connection.ready();
    try {
      setFaults(stubs.payment, { down: true });
      const spy = loseConfirms(own, (call) => call === 1);
      const res = await supertest(own.url).post('/checkout').send(order([{ sku: 'CABLE-USBC-2M', quantity: 1 }]));
      expect(res.status).toBe(202);
      expect(spy).toHaveBeenCalledTimes(2);
      const { orderId } = res.body as { orderId: string };
      expect((await own.checkout.connection.queueDepths()).work.messages).toBe(2);
      setFaults(stubs.payment, {});
      const worker = await startWorker(config);
      workers.push(worker);
      await waitFor(async () => (await own.checkout.connection.queueDepths()).work.messages === 0 && worker.worker.consumer.stats().handled >= 2, {
        message: 'both copies handled',
      });
      expect(stubs.payment.ledger.chargesFor(orderId)).toEqual([expect.objectContaining({ status: 'CAPTURED' })]);
      await worker.stop();
      workers.splice(workers.indexOf(worker), 1);
    } finally {
      await own.stop();
    }
  });

  it('answers 503 with the stock released when no copy is confirmed, and the worker never charges the copy the broker held', async () => {
    const config = checkoutConfig(stubs);
    const own = await startCheckout(config);
    await own.checkout.connection.ready();
    try {
      setFaults(stubs.payment, { down: true });
      loseConfirms(own, () => true);
      const before = available('STAND-LAPTOP');
      const res = await supertest(own.url).post('/checkout').send(order([{ sku: 'STAND-LAPTOP', quantity: 1 }]));
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ status: 'REJECTED', error: 'PAYMENT_UNAVAILABLE' });
      expect(available('STAND-LAPTOP')).toBe(before);
      const { orderId } = res.body as { orderId: string };
      setFaults(stubs.payment, {});
      const worker = await startWorker(config);
      workers.push(worker);
      await waitFor(() => worker.worker.counters.abandoned >= 1, { message: 'held copy skipped' });
      await waitFor(async () => (await own.checkout.connection.queueDepths()).work.messages === 0, { message: 'queue drained' });
      expect(stubs.payment.ledger.chargesFor(orderId)).toEqual([]);
      expect(worker.worker.counters.charged).toBe(0);
      await worker.stop();
      workers.splice(workers.indexOf(worker), 1);
    } finally {
      await own.stop();
    }
  });
});

describe('operations', () => {
  it('shows every breaker, readiness with the broker, and the retry-queue depth in /metrics', async () => {
    const circuits = await supertest(app.url).get('/circuits');
    expect(Object.keys(circuits.body.circuits).sort()).toEqual(['inventory', 'notification', 'payment', 'shipping']);
    expect(circuits.body.circuits.payment).toMatchObject({ name: 'payment', state: 'CLOSED' });
    expect((await supertest(app.url).get('/health/live')).status).toBe(200);
    const ready = await supertest(app.url).get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.broker).toMatchObject({ ok: true });
    const metrics = await supertest(app.url).get('/metrics');
    expect(metrics.text).toMatch(/retry_queue_messages\{queue="work",service="checkout"\} \d+/);
  });
});

describe('request rate limit', () => {
  it('answers 429 with Retry-After past RATE_LIMIT_PER_MINUTE per address, counting refusals too; reads stay open', async () => {
    const own = await startCheckout(checkoutConfig(stubs, { RATE_LIMIT_PER_MINUTE: '3' }));
    await own.checkout.connection.ready();
    try {
      const placed = await supertest(own.url).post('/checkout').send(order([{ sku: 'KB-MECH-01', quantity: 1 }]));
      expect(placed.status).toBe(201);
      expect(placed.headers['ratelimit-policy']).toMatch(/q=3; w=60/);
      expect((await supertest(own.url).post('/checkout').send({})).status).toBe(400);
      expect((await supertest(own.url).post('/checkout').send(order([{ sku: 'KB-MECH-01', quantity: 1 }]))).status).toBe(201);
      const before = available('KB-MECH-01');

      const limited = await supertest(own.url).post('/checkout').send(order([{ sku: 'KB-MECH-01', quantity: 1 }]));
      expect(limited.status).toBe(429);
      expect(limited.body).toMatchObject({ error: 'RATE_LIMITED', status: 'REJECTED', orderId: null, warnings: [], message: expect.stringContaining('at most 3 a minute') });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(available('KB-MECH-01')).toBe(before); // nothing reserved for a refused request

      expect((await supertest(own.url).get(`/orders/${placed.body.orderId}`)).status).toBe(200);
      expect((await supertest(own.url).get('/health/ready')).status).toBe(200);
    } finally {
      await own.stop();
    }
  });
});

describe('GET /circuits/stream', () => {
  it('sends a snapshot at once and another on a state change', async () => {
    const events: { circuits: Record<string, { state: string }> }[] = [];
    const req = http.get(`${app.url}/circuits/stream`);
    try {
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => req.on('response', resolve).on('error', reject));
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      let buffer = '';
      res.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          events.push(JSON.parse(buffer.slice(0, end).replace(/^data: /, '')));
          buffer = buffer.slice(end + 2);
        }
      });
      await waitFor(() => events.length >= 1, { message: 'first snapshot' });
      expect(events[0]!.circuits.payment!.state).toBe('CLOSED');
      app.checkout.clients.payment.breaker.forceOpen();
      await waitFor(() => events.some((event) => event.circuits.payment!.state === 'FORCED_OPEN'), { message: 'snapshot on the change' });
    } finally {
      req.destroy();
      app.checkout.clients.payment.breaker.reset();
    }
  });
});

describe('GET /orders/:id', () => {
  it('answers the same from a restarted checkout (derived from the systems of record)', async () => {
    const shipped = await post(order([{ sku: 'KB-MECH-01', quantity: 1 }]));
    const declined = await post(order([{ sku: 'KB-MECH-01', quantity: 1 }], 'tok_decline'));
    setFaults(stubs.payment, { down: true });
    const pending = await post(order([{ sku: 'KB-MECH-01', quantity: 1 }]));
    expect(pending.status).toBe(202);
    setFaults(stubs.payment, {});

    const restarted = await startCheckout(checkoutConfig(stubs)); // a new process: nothing in memory
    try {
      const get = (id: string) => supertest(restarted.url).get(`/orders/${id}`);
      expect((await get(shipped.body.orderId)).body).toMatchObject({ status: 'SHIPPING_SCHEDULED', total: 8_999, warnings: [] });
      expect((await get(declined.body.orderId)).body).toMatchObject({ status: 'FAILED', reason: 'PAYMENT_DECLINED' });
      expect((await get(pending.body.orderId)).body).toMatchObject({ status: 'PENDING_PAYMENT' });
      const unknown = await get('ord_nope');
      expect(unknown.status).toBe(404);
    } finally {
      await restarted.stop();
    }
  });
});

describe('across a restart of checkout (the journal in DATA_DIR)', () => {
  const config = () => checkoutConfig(stubs);
  const body = (items: { sku: string; quantity: number }[], token = 'tok_visa') => order(items, token);

  it('replays an Idempotency-Key answered before the restart: no second reservation or charge', async () => {
    const shared = config();
    const first = await startCheckout(shared);
    const request = body([{ sku: 'HUB-USBC-7', quantity: 1 }]);
    const placed = await supertest(first.url).post('/checkout').set('Idempotency-Key', 'restart-key-1').send(request);
    expect(placed.status).toBe(201);
    await first.stop();
    const stock = available('HUB-USBC-7');

    const second = await startCheckout(shared);
    try {
      const again = await supertest(second.url).post('/checkout').set('Idempotency-Key', 'restart-key-1').send(request);
      expect(again.status).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body.orderId).toBe(placed.body.orderId);
      expect(available('HUB-USBC-7')).toBe(stock);
      expect(stubs.payment.ledger.chargesFor(placed.body.orderId)).toHaveLength(1);
      const other = await supertest(second.url).post('/checkout').set('Idempotency-Key', 'restart-key-1').send(body([{ sku: 'HUB-USBC-7', quantity: 2 }]));
      expect(other.status).toBe(409);
    } finally {
      await second.stop();
    }
  });

  it('keeps why an order failed (a 503 with nothing charged reads NOT_ACCEPTED, not a generic reason)', async () => {
    const shared = checkoutConfig(stubs, { AMQP_URL: 'amqp://guest:guest@127.0.0.1:1' });
    const first = await startCheckout(shared);
    setFaults(stubs.payment, { down: true });
    const refused = await supertest(first.url).post('/checkout').send(body([{ sku: 'MOUSE-WL-02', quantity: 1 }]));
    expect(refused.status).toBe(503);
    await first.stop();
    setFaults(stubs.payment, {});

    const second = await startCheckout(shared);
    try {
      const status = await supertest(second.url).get(`/orders/${refused.body.orderId}`);
      expect(status.body).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/^NOT_ACCEPTED/) });
    } finally {
      await second.stop();
    }
  });

  it('resumes a release that was still being retried when checkout stopped', async () => {
    const shared = checkoutConfig(stubs, { SHUTDOWN_TIMEOUT_MS: '1000' });
    const first = await startCheckout(shared);
    setFaults(stubs.inventory, { errorRate: 1, errorStatus: 503, routes: ['DELETE /reservations/:id'] });
    const before = available('HEADSET-NC');
    const declined = await supertest(first.url).post('/checkout').send(body([{ sku: 'HEADSET-NC', quantity: 1 }], 'tok_decline'));
    expect(declined.status).toBe(402);
    expect(declined.body.stockReleased).toBe(false);
    await first.stop(); // the release is still failing: it stays in the journal
    expect(available('HEADSET-NC')).toBe(before - 1);
    setFaults(stubs.inventory, {});

    const second = await startCheckout(shared);
    try {
      await waitFor(() => available('HEADSET-NC') === before, { message: 'the next start released the stock' });
    } finally {
      await second.stop();
    }
  });

  it('settles orders whose request was cut short by a crash: a paid one is shipped and replayed as 201, an unpaid one undone', async () => {
    const shared = config();
    const request = body([{ sku: 'KB-MECH-01', quantity: 1 }]);
    const at = Date.now();
    // What a checkout that was killed mid-request leaves: the key and request journaled, no answer;
    // here the first order had been charged, the second only reserved.
    const journal = Journal.open(join(shared.DATA_DIR, 'checkout.journal'));
    const fingerprint = IdempotencyStore.fingerprint(request);
    journal.set('key:crash-paid', { fingerprint, orderId: 'ord_crash_paid', at, request });
    journal.set('key:crash-unpaid', { fingerprint, orderId: 'ord_crash_unpaid', at, request });
    journal.close();
    const stock = available('KB-MECH-01');
    stubs.inventory.inventory.reserve('ord_crash_paid', [{ sku: 'KB-MECH-01', quantity: 1 }]);
    stubs.inventory.inventory.reserve('ord_crash_unpaid', [{ sku: 'KB-MECH-01', quantity: 1 }]);
    await stubs.payment.ledger.charge('ord_crash_paid', { orderId: 'ord_crash_paid', customerId: 'c-42', amount: 8_999, currency: 'EUR', paymentToken: 'tok_visa' });

    const restarted = await startCheckout(shared);
    try {
      const paid = await supertest(restarted.url).post('/checkout').set('Idempotency-Key', 'crash-paid').send(request);
      expect(paid.status).toBe(201);
      expect(paid.body).toMatchObject({ orderId: 'ord_crash_paid', status: 'SHIPPING_SCHEDULED' });
      expect(stubs.shipping.book.shipmentsFor('ord_crash_paid')).toHaveLength(1);
      expect(stubs.payment.ledger.chargesFor('ord_crash_paid')).toHaveLength(1);

      // Not paid: undone at start (nobody was told anything), its reason kept; the key is free again.
      await waitFor(() => available('KB-MECH-01') === stock - 1, { message: 'the unpaid order released' });
      const undone = await supertest(restarted.url).get('/orders/ord_crash_unpaid');
      expect(undone.body).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/^INTERRUPTED/) });
      expect(stubs.payment.ledger.chargesFor('ord_crash_unpaid')).toEqual([]);
      const retried = await supertest(restarted.url).post('/checkout').set('Idempotency-Key', 'crash-unpaid').send(request);
      expect(retried.status).toBe(201);
      expect(retried.body.orderId).not.toBe('ord_crash_unpaid');
    } finally {
      await restarted.stop();
    }
  });
});
