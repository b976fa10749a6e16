/**
 * A payment message whose confirm is lost, while inventory cannot release stock.
 *
 * Checkout (in this process) reaches RabbitMQ through a TCP proxy of this test; the worker
 * straight. Payment fails every charge (so checkout queues the order) and inventory fails every
 * release. Then the proxy freezes checkout's link one way: the publish reaches the broker (which
 * holds the message and hands it to the worker), the confirm never comes back. Checkout publishes
 * again until it gives up and finds no capture. It cannot answer 503 "nothing charged": the
 * worker skips a queued payment only once its reservation is RELEASED, and the release fails. So
 * the order is kept — 202, its payment published from checkout's journal until confirmed — and
 * the worker charges it exactly once when payment recovers.
 *
 * The invariant of the chaos suite: an order answered 503 is never captured and holds no stock;
 * one answered 202 is captured exactly once (or failed with its stock released).
 */
import type { MessagingConnection } from '@checkout/messaging';
import { jsonRequest, send } from '../support/http';
import { TcpProxy } from '../support/tcp-proxy';
import {
  AMQP_URL,
  amqpPrefix,
  checkoutConfig,
  dropTopology,
  observeTopology,
  order,
  putFaults,
  type RunningCheckout,
  type RunningWorker,
  startCheckout,
  startStubs,
  startWorker,
  type Stubs,
  waitFor,
} from '../support/world';

jest.setTimeout(90_000);

let stubs: Stubs | undefined;
let proxy: TcpProxy | undefined;
let checkout: RunningCheckout | undefined;
let worker: RunningWorker | undefined;
let observer: MessagingConnection | undefined;

afterAll(async () => {
  await worker?.stop();
  proxy?.drop();
  await checkout?.stop();
  await proxy?.close();
  await dropTopology(observer);
  await stubs?.stop();
});

test('after a lost confirm and a failed release, the order is kept (202, queued from the journal) and charged once, never a 503 that gets charged', async () => {
  stubs = await startStubs();
  proxy = await TcpProxy.forAmqp(AMQP_URL);
  const prefix = amqpPrefix('lost-confirm');
  const env = { RETRY_TIERS: '500ms,1s', RETRY_MAX_ATTEMPTS: '10', PUBLISH_CONFIRM_TIMEOUT_MS: '300', PAYMENT_OPEN_MS: '500', INVENTORY_OPEN_MS: '500' };
  observer = await observeTopology(checkoutConfig(stubs, prefix, env));
  checkout = await startCheckout(checkoutConfig(stubs, prefix, { ...env, AMQP_URL: proxy.urlFor(AMQP_URL) }));
  worker = await startWorker(checkoutConfig(stubs, prefix, env), undefined, `root-lost-confirm-worker-${prefix}`);

  await putFaults(stubs.urls.PAYMENT_URL, { errorRate: 1, errorStatus: 503, routes: ['POST /charges'] });
  await putFaults(stubs.urls.INVENTORY_URL, { errorRate: 1, errorStatus: 503, routes: ['DELETE /reservations/:id'] });
  expect(proxy.freeze()).toBeGreaterThan(0);

  const t0 = Date.now();
  const marks: string[] = [];
  const mark = (what: string) => marks.push(`${what} ${Date.now() - t0} ms`);
  const answer = await send(checkout.url, jsonRequest('POST', '/checkout', order(), { 'Idempotency-Key': `${prefix}order` }), 30_000);
  const body = answer.json as { orderId: string; status: string; error?: string; warnings: string[] };
  const orderId = body.orderId;
  mark('answered');
  // The broker did get the message (the worker has seen it): only the confirm was lost.
  await waitFor(() => worker!.worker.consumer.stats().received > 0, { timeoutMs: 10_000, message: 'the worker got the queued payment' });

  // Payment recovers; inventory still cannot release for a while.
  await putFaults(stubs.urls.PAYMENT_URL, {});
  const captures = () => stubs!.payment.ledger.chargesFor(orderId).filter((c) => c.status === 'CAPTURED').length;
  const held = () => stubs!.inventory.inventory.reservationsFor(orderId).filter((r) => r.status !== 'RELEASED').length;
  // Until the worker is done with every copy of the message (charged, skipped or parked).
  await waitFor(
    async () => {
      const depths = await observer!.queueDepths();
      return depths.work.messages + depths.delays.reduce((sum, d) => sum + d.messages, 0) === 0 && worker!.worker.consumer.stats().inFlight === 0;
    },
    { timeoutMs: 30_000, intervalMs: 100, message: 'the queued payment handled' },
  );
  const capturedWhileHeld = captures();
  mark('worker done');
  await putFaults(stubs.urls.INVENTORY_URL, {});
  proxy.drop();
  // The link is back: the copy kept in checkout's journal is published (confirmed) and the
  // worker gets it too — a replay of the same charge, never a second one.
  await waitFor(() => checkout!.checkout.flow.pendingBackground === 0, { timeoutMs: 30_000, intervalMs: 100, message: 'the kept payment published' });
  await waitFor(
    async () => {
      const depths = await observer!.queueDepths();
      return depths.work.messages + depths.delays.reduce((sum, d) => sum + d.messages, 0) === 0 && worker!.worker.consumer.stats().inFlight === 0;
    },
    { timeoutMs: 30_000, intervalMs: 100, message: 'the second copy handled' },
  );
  mark('journal copy handled');
  console.log(
    `lost confirm + failed release (${marks.join(', ')}): answered ${answer.status} ${body.status} ${body.error ?? ''} (${body.warnings.join(' | ')}); ` +
      `afterwards captures ${captures()}, shipments ${stubs.shipping.book.shipmentsFor(orderId).length}, reservations ${stubs.inventory.inventory.reservationsFor(orderId).map((r) => r.status).join('/')}; ` +
      `worker ${JSON.stringify(worker.worker.counters)}`,
  );
  expect({ status: answer.status, body: body.status }).toEqual({ status: 202, body: 'PENDING_PAYMENT' });
  expect(body.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/will be queued as soon as the retry queue confirms it/)]));
  expect({ capturedWhileHeld, captures: captures(), shipments: stubs.shipping.book.shipmentsFor(orderId).length, held: held() }).toEqual({
    capturedWhileHeld: 1,
    captures: 1,
    shipments: 1,
    held: 1,
  });
});
