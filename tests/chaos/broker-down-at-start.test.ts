/**
 * A service started while RabbitMQ is down becomes ready when it comes up, without a restart.
 *
 * Checkout and the payment-retry worker run as real processes (`node services/checkout/dist/…`,
 * built first) whose AMQP_URL points at a TCP proxy of this test that refuses connections
 * (nothing listens on its port: ECONNREFUSED, as with the broker down). The four stubs run in this
 * process; the real broker is reached through the proxy only (it is shared: never stopped here).
 *
 * While refused: checkout is live (200) but not ready (503, its `broker` check failing); an order
 * whose payment fails cannot be queued, so it is refused with 503 and nothing charged; the worker
 * keeps running and does not log `payment-retry worker consuming` (it has no HTTP readiness: its
 * readiness is that line and being a consumer of the work queue). Once the proxy accepts: checkout
 * turns ready (200) in the same process, an order whose payment fails is answered 202 (queued,
 * confirmed by the broker), a healthy one 201; the worker logs that it consumes, is a consumer of
 * the work queue, and charges the queued order exactly once.
 * Both then exit 0 on SIGTERM.
 */
import { rmSync } from 'node:fs';
import type { MessagingConnection } from '@checkout/messaging';
import { jsonRequest, send } from '../support/http';
import { buildServices, type NodeProcess, spawnService, spawnWorker } from '../support/process';
import { TcpProxy } from '../support/tcp-proxy';
import {
  ADMIN_TOKEN,
  AMQP_URL,
  amqpPrefix,
  capturesByOrder,
  checkoutConfig,
  checkoutEnv,
  dropTopology,
  observeTopology,
  order,
  putFaults,
  startStubs,
  type Stubs,
  waitFor,
} from '../support/world';

jest.setTimeout(120_000);

let stubs: Stubs | undefined;
let proxy: TcpProxy | undefined;
let observer: MessagingConnection | undefined;
const processes: NodeProcess[] = [];
let dataDir: string | undefined;

afterAll(async () => {
  for (const p of processes) p.kill();
  await Promise.all(processes.map((p) => p.exited));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  await dropTopology(observer);
  await proxy?.close();
  await stubs?.stop();
});

interface Ready {
  status: number;
  body: { status?: string; checks?: { broker?: { ok: boolean; details?: { state?: string } } } };
}

test('checkout and the worker started while RabbitMQ is unreachable become ready when it is back, without a restart', async () => {
  buildServices(['checkout']);
  stubs = await startStubs();
  proxy = await TcpProxy.forAmqp(AMQP_URL, { refusing: true });
  const prefix = amqpPrefix('broker-down-at-start');
  const env = checkoutEnv(stubs, prefix, {
    LOG_LEVEL: 'info',
    AMQP_URL: proxy.urlFor(AMQP_URL),
    RETRY_TIERS: '200ms,500ms',
    PAYMENT_TIMEOUT_MS: '1000',
    FAULTS_ENABLED: 'true',
    ADMIN_TOKEN,
    SHUTDOWN_TIMEOUT_MS: '5000',
  });
  dataDir = env.DATA_DIR;
  const checkout = await spawnService('checkout', env);
  const worker = spawnWorker(env);
  processes.push(checkout, worker);
  const pid = checkout.child.pid;
  const ready = async (): Promise<Ready> => {
    const answer = await send(checkout.url, { method: 'GET', path: '/health/ready' }, 3_000);
    return { status: answer.status, body: answer.json as Ready['body'] };
  };

  // Broker unreachable: live, not ready, and says why.
  await waitFor(async () => (await send(checkout.url, { method: 'GET', path: '/health/live' }, 1_000)).status === 200, { timeoutMs: 15_000, message: 'checkout live' });
  const before = await ready();
  expect(before.status).toBe(503);
  expect(before.body.status).toBe('not_ready');
  expect(before.body.checks?.broker?.ok).toBe(false);
  // The worker is up (it did not give up on the broker) and does not claim to consume.
  expect(worker.hasExited).toBe(false);
  expect(worker.entries().filter((e) => e.message === 'payment-retry worker consuming')).toEqual([]);

  // An order whose payment fails cannot be queued: 503, nothing charged.
  await putFaults(stubs.urls.PAYMENT_URL, { errorRate: 1, errorStatus: 503, routes: ['POST /charges'] });
  const refused = await send(checkout.url, jsonRequest('POST', '/checkout', order(), { 'Idempotency-Key': `${prefix}refused` }), 15_000);
  expect(refused.status).toBe(503);
  expect(refused.json).toEqual(expect.objectContaining({ error: 'PAYMENT_UNAVAILABLE', warnings: expect.arrayContaining(['retry-queue: unavailable']) }));
  const refusedId = (refused.json as { orderId: string }).orderId;
  expect((await ready()).status).toBe(503); // still refused: still not ready
  expect(proxy.stats().accepted).toBe(0);

  // The broker is back: ready without a restart.
  const backAt = Date.now();
  await proxy.accept();
  await waitFor(async () => (await ready()).status === 200, { timeoutMs: 30_000, intervalMs: 100, message: 'checkout ready once the broker is reachable' });
  const readyAfterMs = Date.now() - backAt;
  const after = await ready();
  expect(after.body.checks?.broker?.ok).toBe(true);
  expect(checkout.hasExited).toBe(false);
  expect(checkout.child.pid).toBe(pid);

  // The worker says it consumes, and is a consumer of the work queue (its readiness), through the proxy.
  await worker.waitForLog('payment-retry worker consuming', { timeoutMs: 30_000 });
  observer = await observeTopology(checkoutConfig(stubs, prefix, { RETRY_TIERS: '200ms,500ms' }));
  await waitFor(async () => (await observer!.queueDepths()).work.consumers >= 1, { timeoutMs: 30_000, intervalMs: 100, message: 'the worker consuming the work queue' });
  const consumingAfterMs = Date.now() - backAt;
  expect(worker.hasExited).toBe(false);

  // Orders work: payment failing → 202 (queued, confirmed); payment healthy → 201.
  const queued = await send(checkout.url, jsonRequest('POST', '/checkout', order(), { 'Idempotency-Key': `${prefix}queued` }), 15_000);
  expect(queued.status).toBe(202);
  const queuedId = (queued.json as { orderId: string }).orderId;
  await putFaults(stubs.urls.PAYMENT_URL, {});
  const paid = await send(checkout.url, jsonRequest('POST', '/checkout', order(), { 'Idempotency-Key': `${prefix}paid` }), 15_000);
  expect(paid.status).toBe(201);
  const paidId = (paid.json as { orderId: string }).orderId;

  // The worker charges the queued order, once.
  await waitFor(async () => (await capturesByOrder(stubs!.urls.PAYMENT_URL, [queuedId])).get(queuedId) === 1 && stubs!.shipping.book.shipmentsFor(queuedId).length === 1, {
    timeoutMs: 30_000,
    intervalMs: 100,
    message: 'the worker charged and shipped the queued order',
  });
  const captures = await capturesByOrder(stubs.urls.PAYMENT_URL, [refusedId, queuedId, paidId]);
  expect([captures.get(refusedId), captures.get(queuedId), captures.get(paidId)]).toEqual([0, 1, 1]);
  expect(stubs.inventory.inventory.reservationsFor(refusedId).filter((r) => r.status !== 'RELEASED')).toEqual([]);

  checkout.child.kill('SIGTERM');
  worker.child.kill('SIGTERM');
  const [checkoutExit, workerExit] = await Promise.all([checkout.exited, worker.exited]);
  expect(checkoutExit.code).toBe(0);
  expect(workerExit.code).toBe(0);

  console.log(
    `broker down at start: checkout live, /health/ready 503 (broker ${before.body.checks?.broker?.details?.state ?? '?'}) while refused; ` +
      `order with payment failing → 503 PAYMENT_UNAVAILABLE, not charged; after the broker came back: ready in ${readyAfterMs} ms (same pid), ` +
      `worker consuming in ${consumingAfterMs} ms; orders → 202 (charged once by the worker) and 201; both exit 0 on SIGTERM; proxy accepted ${proxy.stats().accepted} connections`,
  );
});

test('a worker still waiting for RabbitMQ exits 0 on SIGTERM (nothing in flight)', async () => {
  buildServices(['checkout']);
  const refusing = await TcpProxy.forAmqp(AMQP_URL, { refusing: true });
  try {
    const env = checkoutEnv({ urls: { PAYMENT_URL: 'http://127.0.0.1:1', INVENTORY_URL: 'http://127.0.0.1:1', SHIPPING_URL: 'http://127.0.0.1:1', NOTIFICATION_URL: 'http://127.0.0.1:1' } }, amqpPrefix('worker-waiting'), {
      LOG_LEVEL: 'info',
      AMQP_URL: refusing.urlFor(AMQP_URL),
    });
    const worker = spawnWorker(env, 'checkout-worker-waiting');
    processes.push(worker);
    // Give it time to start and be refused (a real process: there is no clock to advance).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(worker.hasExited).toBe(false);
    expect(worker.entries().some((e) => e.message === 'payment-retry worker consuming')).toBe(false);
    worker.child.kill('SIGTERM');
    const exit = await worker.exited;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(worker.entries().some((e) => e.message === 'signal received before the broker answered: nothing in flight, exiting')).toBe(true);
    rmSync(env.DATA_DIR!, { recursive: true, force: true });
  } finally {
    await refusing.close();
  }
});
