/**
 * Secrets never reach a log line. A run of the whole system in this process (checkout, the
 * payment-retry worker, the four stubs; every logger at `silly`, access logs included) places
 * orders with payment tokens of its own, through every path that logs: success, payment failing
 * and slow (202, queued, charged by the worker), shipping failing (deferred), validation errors,
 * poisoned retry messages, admin calls with the right and wrong tokens. Then the captured lines
 * are scanned for the admin token and every payment token. The same on a real payment process's stdout.
 */
import { randomBytes } from 'node:crypto';
import { connectBroker } from '@checkout/checkout';
import type { MessagingConnection } from '@checkout/messaging';
import { jsonRequest, type RawAnswer, send } from '../support/http';
import { buildStubs, type ServiceProcess, spawnStub } from '../support/process';
import {
  ADDRESS,
  ADMIN_TOKEN,
  amqpPrefix,
  checkoutConfig,
  dropTopology,
  LogCapture,
  order,
  type RunningCheckout,
  type RunningWorker,
  startCheckout,
  startStubs,
  startWorker,
  type Stubs,
  waitFor,
} from '../support/world';

jest.setTimeout(120_000);

const secretToken = () => `tok_secret_${randomBytes(12).toString('hex')}`;

/** Every secret used in a run, and where it was found in the logs (must stay empty). */
function scan(text: string, secrets: string[]): string[] {
  const leaks: string[] = [];
  for (const secret of secrets) {
    let at = text.indexOf(secret);
    while (at !== -1 && leaks.length < 20) {
      leaks.push(`${secret.slice(0, 14)}… in: ${text.slice(Math.max(0, at - 200), at + secret.length + 50)}`);
      at = text.indexOf(secret, at + 1);
    }
  }
  return leaks;
}

describe('a run of the whole system in this process', () => {
  const logs = new LogCapture();
  let stubs: Stubs;
  let checkout: RunningCheckout;
  let worker: RunningWorker;
  let publisher: MessagingConnection;
  const tokens: string[] = [];
  const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };

  beforeAll(async () => {
    stubs = await startStubs({ logs });
    const config = checkoutConfig(stubs, amqpPrefix('secrets'), { LOG_LEVEL: 'silly', RETRY_TIERS: '50ms,100ms', RETRY_MAX_ATTEMPTS: '3', FAULTS_ENABLED: 'true', ADMIN_TOKEN });
    checkout = await startCheckout(config, logs.logger('checkout'));
    worker = await startWorker(config, logs.logger('checkout-worker'));
    publisher = await connectBroker(config, 'root-suite-secrets-publisher');
    await publisher.ready();
  });

  afterAll(async () => {
    await worker?.stop();
    await dropTopology(publisher);
    await checkout?.stop();
    await stubs?.stop();
  });

  const place = async (token: string, headers: Record<string, string> = {}): Promise<RawAnswer> => {
    tokens.push(token);
    return send(checkout.url, jsonRequest('POST', '/checkout', order([{ sku: 'STAND-LAPTOP', quantity: 1 }], token), headers));
  };

  test('orders on every path, then no token in any log line', async () => {
    // Healthy, with and without an idempotency key.
    expect((await place(secretToken())).status).toBe(201);
    expect((await place(secretToken(), { 'Idempotency-Key': `sec-${randomBytes(4).toString('hex')}` })).status).toBe(201);

    // Payment failing: 202, queued with the token, charged later by the worker.
    expect((await send(stubs.urls.PAYMENT_URL, jsonRequest('PUT', '/admin/faults', { errorRate: 1, errorStatus: 503, routes: ['POST /charges'] }, auth))).status).toBe(200);
    const queued = await place(secretToken());
    expect(queued.status).toBe(202);
    // Payment slow (beyond checkout's deadline): 202 again.
    expect((await send(stubs.urls.PAYMENT_URL, jsonRequest('PUT', '/admin/faults', { latencyMs: 700, routes: ['POST /charges'] }, auth))).status).toBe(200);
    const slow = await place(secretToken());
    expect(slow.status).toBe(202);
    expect((await send(stubs.urls.PAYMENT_URL, { method: 'DELETE', path: '/admin/faults', headers: auth })).status).toBe(200);

    // Shipping failing: paid, the shipment deferred to the worker with the token in the message.
    expect((await send(stubs.urls.SHIPPING_URL, jsonRequest('PUT', '/admin/faults', { errorRate: 1, errorStatus: 500 }, auth))).status).toBe(200);
    const deferred = await place(secretToken());
    expect(deferred.status).toBe(201);
    expect((await send(stubs.urls.SHIPPING_URL, { method: 'DELETE', path: '/admin/faults', headers: auth })).status).toBe(200);

    // Invalid requests that carry a token.
    const badToken = secretToken();
    tokens.push(badToken);
    expect((await send(checkout.url, jsonRequest('POST', '/checkout', { ...order([{ sku: 'STAND-LAPTOP', quantity: -1 }], badToken), extra: badToken }))).status).toBe(400);
    expect((await send(stubs.urls.PAYMENT_URL, jsonRequest('POST', '/charges', { orderId: 'x', customerId: 'c', amount: 1.5, paymentToken: badToken }, { 'Idempotency-Key': 'k' }))).status).toBe(400);
    const declinedToken = secretToken();
    tokens.push(declinedToken);
    expect((await send(checkout.url, { method: 'POST', path: '/checkout', headers: { 'Content-Type': 'application/json' }, body: `{"paymentToken":"${declinedToken}",` })).status).toBe(400);

    // Poisoned retry messages carrying a token: refused by payment, and not even JSON.
    const poisonToken = secretToken();
    tokens.push(poisonToken);
    await publisher.publish(
      { kind: 'payment', orderId: 'sec-poison', customerId: 'c', reservationId: 'res_x', amount: 10 ** 12, currency: 'EUR', paymentToken: poisonToken, items: [{ sku: 'STAND-LAPTOP', quantity: 1 }], shippingAddress: ADDRESS },
      { messageId: 'sec-poison' },
    );
    await publisher.publishTo(publisher.names.workExchange, publisher.names.workRoutingKey, Buffer.from(`{"paymentToken":"${poisonToken}"`), { persistent: true, messageId: 'sec-garbage', headers: { 'retry-count': 0 } });

    // Admin calls with the right token and wrong ones.
    for (const authorization of [`Bearer ${ADMIN_TOKEN}`, `Bearer ${ADMIN_TOKEN}x`, `Basic ${ADMIN_TOKEN}`]) {
      await send(checkout.url, { method: 'GET', path: '/admin/faults', headers: { Authorization: authorization } });
    }

    // The worker finishes what was queued.
    for (const answer of [queued, slow, deferred]) {
      const { orderId } = answer.json as { orderId: string };
      await waitFor(() => stubs.shipping.book.shipmentsFor(orderId).length === 1, { timeoutMs: 20_000, message: `order ${orderId} shipped by the worker` });
    }
    await waitFor(async () => (await publisher.queueDepths()).parking.messages >= 2, { message: 'poison parked' });
    await new Promise((resolve) => setTimeout(resolve, 200));

    // The capture is not vacuous: it saw the paths above.
    const text = logs.text;
    for (const expected of ['order placed', 'payment unavailable', 'charge captured', 'fault settings changed', 'deferred order completed', 'payment retries exhausted', '"level":"http"']) {
      expect({ expected, found: text.includes(expected) }).toEqual({ expected, found: true });
    }
    const leaks = scan(text, [ADMIN_TOKEN, ...tokens]);
    console.log(`security secrets in logs (in-process run): ${logs.lines.length} log lines scanned for the admin token and ${tokens.length} payment tokens; ${leaks.length} leaks`);
    expect(leaks).toEqual([]);
    expect(text).not.toMatch(/Bearer [^\s"]/);
  });
});

describe('a real payment process (stdout)', () => {
  let stub: ServiceProcess | undefined;
  beforeAll(() => buildStubs(['payment']));
  afterAll(() => stub?.kill());

  test('its stdout at LOG_LEVEL=silly holds neither the admin token nor payment tokens', async () => {
    stub = await spawnStub('payment', { NODE_ENV: 'development', LOG_LEVEL: 'silly', FAULTS_ENABLED: 'true', ADMIN_TOKEN });
    await stub.ready();
    const tokens = [secretToken(), secretToken(), secretToken()];
    const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
    const charge = (i: number, token: string, amount = 100) =>
      send(stub!.url, jsonRequest('POST', '/charges', { orderId: `sec-${i}`, customerId: 'c', amount, paymentToken: token }, { 'Idempotency-Key': `sec-${i}` }));
    expect((await charge(1, tokens[0]!)).status).toBe(201);
    expect((await charge(1, tokens[0]!)).status).toBe(201); // replay
    expect((await charge(1, tokens[1]!)).status).toBe(409); // key reused with another body
    expect((await charge(2, tokens[2]!, 1.5)).status).toBe(400);
    expect((await send(stub.url, jsonRequest('PUT', '/admin/faults', { errorRate: 1, errorStatus: 500 }, auth))).status).toBe(200);
    expect((await charge(3, tokens[2]!)).status).toBe(500);
    expect((await send(stub.url, { method: 'GET', path: '/admin/faults', headers: { Authorization: `Bearer ${ADMIN_TOKEN}-wrong` } })).status).toBe(403);
    expect((await send(stub.url, { method: 'DELETE', path: '/admin/faults', headers: auth })).status).toBe(200);
    stub.child.kill('SIGTERM');
    expect((await stub.exited).code).toBe(0);
    const text = stub.output.join('');
    expect(text).toContain('charge captured');
    expect(text).toContain('fault settings changed');
    const leaks = scan(text, [ADMIN_TOKEN, ...tokens]);
    console.log(`security secrets in logs (payment process stdout): ${text.split('\n').length - 1} lines scanned; ${leaks.length} leaks`);
    expect(leaks).toEqual([]);
  });
});
