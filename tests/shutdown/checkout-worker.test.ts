/**
 * SIGTERM to checkout and to the payment-retry worker as real processes
 * (`node services/checkout/dist/main.js`, `node services/checkout/dist/worker.js`, built first with
 * `tsc -b`), with the four stubs in this process and the real broker under a prefix of this
 * test's own (deleted afterwards).
 *
 * Checkout, under load (keep-alive and connection-per-request clients; reservations take 150 ms,
 * payment fails 40 % of the time, so orders go through the queue and its confirms while SIGTERM
 * arrives):
 * - every HTTP answer is one checkout gives anyway: 201, 202 (queued, confirmed) or 402 (declined);
 *   never a 5xx;
 * - the only socket errors are those the stubs' suite allows (refusals after the listener closed,
 *   the keep-alive close race, resets of connections opened as it closed);
 * - it logs `shutdown complete` with `forced: false, cutRequests: 0` and exits 0 within
 *   SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS (+ 1.5 s of process teardown);
 * - afterwards (a worker taking what was queued), by payment's ledger (`GET /charges?orderId=`):
 *   every 201 order, and every 202 order with a good card, is captured exactly once (no confirmed
 *   message lost); every 402, and every 202 with the declining card (payment failed before it could
 *   decline; the worker gets the decline), is never captured, its stock released, the customer told.
 *
 * The worker, mid-processing (a queue of 202 orders, charges taking 400 ms, prefetch 5):
 * - it finishes the charges in flight (they complete after the signal), exits 0 within
 *   SHUTDOWN_TIMEOUT_MS (+ 1.5 s);
 * - a new worker takes the rest: every order is captured exactly once and shipped, each order is
 *   completed by exactly one of the two workers (no message lost, none processed twice), nothing
 *   is parked, the queues end empty.
 */
import { rmSync } from 'node:fs';
import type { MessagingConnection } from '@checkout/messaging';
import { buildServices, type NodeProcess, type ServiceProcess, spawnService, spawnWorker } from '../support/process';
import { classify, describeOutcome, runLoad } from '../support/shutdown';
import {
  ADMIN_TOKEN,
  amqpPrefix,
  capturesByOrder,
  checkoutConfig,
  checkoutEnv,
  dropTopology,
  observeTopology,
  order,
  putFaults,
  startCheckout,
  startStubs,
  startWorker,
  type Stubs,
  waitFor,
} from '../support/world';

jest.setTimeout(150_000);

const SHUTDOWN_TIMEOUT_MS = 5_000;
const SHUTDOWN_DELAY_MS = 300;
const SKUS = ['KB-MECH-01', 'MOUSE-WL-02', 'HUB-USBC-7', 'HEADSET-NC'];
/** Shared by every process of a test: short tiers, and payment's deadline above the injected latency. */
const ENV = {
  LOG_LEVEL: 'info',
  RETRY_TIERS: '200ms,500ms,1s',
  RETRY_MAX_ATTEMPTS: '6',
  PAYMENT_TIMEOUT_MS: '2000',
  PAYMENT_SLOW_CALL_MS: '1500',
  PAYMENT_OPEN_MS: '1000',
  // Slowness alone never trips a breaker, and inventory's deadline is far above its injected
  // latency: on a loaded machine a slow reservation must not turn into a 503 the shutdown did not cause.
  BREAKER_SLOW_CALL_RATE: '1',
  INVENTORY_TIMEOUT_MS: '5000',
  SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
  SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
  FAULTS_ENABLED: 'true',
  ADMIN_TOKEN,
};

let stubs: Stubs;
let processes: NodeProcess[] = [];
let observer: MessagingConnection | undefined;
/** The processes' DATA_DIRs (checkout's journal), removed after each test. */
let dataDirs: string[] = [];
const summary: string[] = [];
/** `checkoutEnv` for a process, its DATA_DIR remembered for the cleanup. */
const processEnv = (prefix: string, env: Record<string, string>): Record<string, string> => {
  const result = checkoutEnv(stubs, prefix, env);
  if (result.DATA_DIR) dataDirs.push(result.DATA_DIR);
  return result;
};

beforeAll(async () => {
  buildServices(['checkout']);
  stubs = await startStubs();
});
afterEach(async () => {
  for (const p of processes) p.kill();
  await Promise.all(processes.map((p) => p.exited));
  processes = [];
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  dataDirs = [];
  await dropTopology(observer);
  observer = undefined;
  if (stubs) await Promise.all(Object.values(stubs.urls).map((url) => putFaults(url, {})));
});
afterAll(async () => {
  await stubs?.stop();
  console.log(`shutdown of checkout and the worker:\n${summary.join('\n')}`);
});

interface Answer {
  orderId: string;
  status: number;
  /** Sent with `tok_decline`. */
  declineToken: boolean;
  endedAt: number;
}

const isDecline = (n: number): boolean => n % 11 === 10;

test('checkout: SIGTERM under load answers every accepted order as it would anyway, loses no confirmed message, exits 0 in time', async () => {
  const prefix = amqpPrefix('shutdown-checkout');
  const env = processEnv(prefix, ENV);
  observer = await observeTopology(checkoutConfig(stubs, prefix, ENV));
  const checkout: ServiceProcess = await spawnService('checkout', env);
  processes.push(checkout);
  await checkout.ready();
  await putFaults(stubs.urls.INVENTORY_URL, { latencyMs: 150, routes: ['POST /reservations'] });
  await putFaults(stubs.urls.PAYMENT_URL, { errorRate: 0.4, errorStatus: 503, routes: ['POST /charges'] });

  const tag = `${process.pid}-${Date.now().toString(36)}`;
  const load = runLoad({
    url: checkout.url,
    keepAliveClients: 6,
    freshClients: 6,
    timeoutMs: SHUTDOWN_TIMEOUT_MS + 5_000,
    gone: () => checkout.hasExited,
    request: (n) => ({
      path: '/checkout',
      body: order([{ sku: SKUS[n % SKUS.length]!, quantity: 1 }], isDecline(n) ? 'tok_decline' : 'tok_visa'),
      headers: { 'Idempotency-Key': `sd-checkout-${tag}-${n}` },
    }),
  });
  // Orders are flowing through both paths (charged, queued) before the signal.
  await waitFor(() => load.outcomes.filter((o) => o.status === 202).length >= 5 && load.outcomes.filter((o) => o.status === 201).length >= 5, {
    timeoutMs: 20_000,
    message: 'orders answered 201 and 202 before SIGTERM',
  });
  const sigtermAt = Date.now();
  checkout.child.kill('SIGTERM');
  const exit = await checkout.exited;
  await load.done;
  await putFaults(stubs.urls.PAYMENT_URL, {});
  await putFaults(stubs.urls.INVENTORY_URL, {});

  const entries = checkout.entries();
  const complete = entries.find((entry) => entry.message === 'shutdown complete');
  const c = classify(load.outcomes, sigtermAt, entries, SHUTDOWN_DELAY_MS);
  const answers: Answer[] = c.answered.map((o) => ({
    orderId: (JSON.parse(o.body ?? '{}') as { orderId?: string }).orderId ?? '',
    status: o.status!,
    declineToken: isDecline(o.n),
    endedAt: o.endedAt,
  }));
  const unexpected = c.answered.filter((o) => ![201, 202, 402].includes(o.status!));
  const byStatus = (status: number) => answers.filter((a) => a.status === status);
  const exitMs = exit.at - sigtermAt;

  expect(unexpected.map((o) => `${o.status} ${o.body}`)).toEqual([]);
  expect(c.badErrors.map((o) => describeOutcome(o, c.closeAt))).toEqual([]);
  expect(c.inFlightAtSigterm.length).toBeGreaterThan(0);
  expect(complete).toEqual(expect.objectContaining({ forced: false, cutRequests: 0 }));
  expect(exit.code).toBe(0);
  expect(exitMs).toBeLessThan(SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS + 1_500);

  // A worker takes what checkout queued. Then, by payment's ledger: every 201, and every 202 with
  // a good card, captured exactly once; a 202 with the declining card (payment failed before it
  // could decline) declined by the worker: never captured, stock released, customer told.
  const worker = await startWorker(checkoutConfig(stubs, prefix, { ...ENV, LOG_LEVEL: 'silent' }), undefined, `root-shutdown-verify-${tag}`);
  const toCapture = answers.filter((a) => a.status === 201 || (a.status === 202 && !a.declineToken)).map((a) => a.orderId);
  const toDecline = answers.filter((a) => a.status === 402 || (a.status === 202 && a.declineToken)).map((a) => a.orderId);
  const settled = (id: string, captures: Map<string, number>, shouldCapture: boolean): boolean =>
    shouldCapture
      ? captures.get(id) === 1
      : captures.get(id) === 0 &&
        stubs.inventory.inventory.reservationsFor(id).every((r) => r.status === 'RELEASED') &&
        stubs.notification.outbox.forOrder(id).some((n) => n.type === 'ORDER_FAILED');
  let captures = new Map<string, number>();
  try {
    await waitFor(
      async () => {
        captures = await capturesByOrder(stubs.urls.PAYMENT_URL, [...toCapture, ...toDecline]);
        if (!toCapture.every((id) => settled(id, captures, true)) || !toDecline.every((id) => settled(id, captures, false))) return false;
        const depths = await observer!.queueDepths();
        return depths.work.messages === 0 && depths.delays.every((d) => d.messages === 0) && worker.worker.consumer.stats().inFlight === 0;
      },
      { timeoutMs: 30_000, intervalMs: 250, message: 'every accepted order captured once (declined ones never) and the queues empty' },
    ).catch(async (error: Error) => {
      const wrong = [...toCapture.filter((id) => !settled(id, captures, true)), ...toDecline.filter((id) => !settled(id, captures, false))].map((id) => {
        const answer = answers.find((a) => a.orderId === id);
        const reservations = stubs.inventory.inventory.reservationsFor(id).map((r) => r.status);
        return `${id}: captures ${captures.get(id)}, answered ${answer?.status} (decline token ${answer?.declineToken}) ${answer ? answer.endedAt - sigtermAt : '?'} ms after SIGTERM, reservations ${reservations.join('/')}`;
      });
      const depths = await observer!.queueDepths().catch(() => undefined);
      throw new Error(
        `${error.message}; not settled: ${wrong.slice(0, 5).join('; ')} (${wrong.length} in all); ` +
          `queues ${JSON.stringify(depths)}; verifying worker ${JSON.stringify(worker.worker.counters)} ${JSON.stringify(worker.worker.consumer.stats())}`,
      );
    });
  } finally {
    await worker.stop();
  }
  const queuedAfterSigterm = c.answered.filter((o) => o.status === 202 && o.endedAt >= sigtermAt).length;

  summary.push(
    `  checkout: ${load.outcomes.length} requests; ${c.answered.length} answered (201×${byStatus(201).length}, 202×${byStatus(202).length}, 402×${byStatus(402).length}, other ${unexpected.length}), ` +
      `${c.inFlightAtSigterm.length} in flight at SIGTERM, ${c.acceptedAfterSigterm.length} accepted after it, ${queuedAfterSigterm} answered 202 (confirmed) after it, ` +
      `${c.refused.length} refused after the listener closed, ${c.keepAliveRace.length} keep-alive close races, ${c.listenerCloseRace.length} resets as the listener closed, ${c.badErrors.length} other errors; ` +
      `exit ${exit.code ?? exit.signal} after ${exitMs} ms; server: forced ${complete?.forced}, cut ${complete?.cutRequests}; ` +
      `ledger: ${toCapture.length} orders captured exactly once, ${toDecline.length} declined (402, or 202 then declined by the worker) never captured, stock released`,
  );
});

/**
 * 60 orders queued (202) for the worker: payment down while checkout (in this process) takes
 * them; then payment back with each charge taking 400 ms, so that with prefetch 5 about five
 * are always in flight. Returns the order ids and the workers' environment.
 */
async function queueOrders(label: string): Promise<{ orders: string[]; workerEnv: Record<string, string> }> {
  const prefix = amqpPrefix(label);
  const config = checkoutConfig(stubs, prefix, ENV);
  observer = await observeTopology(config);
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  await putFaults(stubs.urls.PAYMENT_URL, { down: true });
  const checkout = await startCheckout(checkoutConfig(stubs, prefix, { ...ENV, LOG_LEVEL: 'silent' }));
  const orders: string[] = [];
  try {
    for (let i = 0; i < 60; i += 1) {
      const response = await fetch(`${checkout.url}/checkout`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': `${label}-${tag}-${i}` },
        body: JSON.stringify(order([{ sku: SKUS[i % SKUS.length]!, quantity: 1 }])),
      });
      const body = (await response.json()) as { orderId: string };
      expect(response.status).toBe(202);
      orders.push(body.orderId);
    }
  } finally {
    // Not checkout.stop(): that deletes the topology, and the queue is what this test is about.
    await checkout.running.shutdown();
    if (checkout.checkout.service.config.DATA_DIR) dataDirs.push(checkout.checkout.service.config.DATA_DIR);
  }
  expect((await observer.queueDepths()).work.messages).toBe(orders.length);
  await putFaults(stubs.urls.PAYMENT_URL, { latencyMs: 400, routes: ['POST /charges'] });
  return { orders, workerEnv: processEnv(prefix, { ...ENV, WORKER_PREFETCH: '5' }) };
}

/** Waits until every order is captured exactly once (payment's ledger) and shipped once, and the queues are empty. */
async function everyOrderChargedOnce(orders: readonly string[]): Promise<Map<string, number>> {
  let captures = new Map<string, number>();
  await waitFor(
    async () => {
      captures = await capturesByOrder(stubs.urls.PAYMENT_URL, orders);
      if (!orders.every((id) => captures.get(id) === 1)) return false;
      if (!orders.every((id) => stubs.shipping.book.shipmentsFor(id).length === 1)) return false;
      const depths = await observer!.queueDepths();
      return depths.work.messages === 0 && depths.delays.every((d) => d.messages === 0);
    },
    { timeoutMs: 60_000, intervalMs: 250, message: 'every order captured once and shipped by the two workers' },
  ).catch((error: Error) => {
    const wrong = orders.filter((id) => captures.get(id) !== 1).map((id) => `${id}: ${captures.get(id)}`);
    throw new Error(`${error.message}; not captured exactly once: ${wrong.slice(0, 5).join(', ')} (${wrong.length} in all)`);
  });
  return captures;
}

const completed = (p: NodeProcess) => p.entries().filter((e) => e.message === 'deferred order completed');

test('worker: SIGTERM mid-processing finishes the charges in flight, exits 0 in time; a new worker takes the rest, each order processed once', async () => {
  const { orders, workerEnv } = await queueOrders('shutdown-worker');
  const first = spawnWorker(workerEnv, 'worker-1');
  processes.push(first);
  await waitFor(() => completed(first).length >= 8, { timeoutMs: 30_000, intervalMs: 50, message: 'the first worker completed 8 orders' });
  const sigtermAt = Date.now();
  first.child.kill('SIGTERM');
  const exit = await first.exited;
  const exitMs = exit.at - sigtermAt;
  const signalled = first.entries().find((e) => e.message === 'signal received: draining the worker');
  const afterSignal = completed(first).filter((e) => Date.parse(e.timestamp!) >= Date.parse(signalled!.timestamp!));
  const leftForTheSecond = (await observer!.queueDepths()).work.messages;

  expect(signalled).toBeDefined();
  expect(afterSignal.length).toBeGreaterThan(0); // it was mid-processing, and let those finish
  expect(exit.code).toBe(0);
  expect(exitMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 1_500);
  expect(leftForTheSecond).toBeGreaterThan(0);

  const second = spawnWorker(workerEnv, 'worker-2');
  processes.push(second);
  const captures = await everyOrderChargedOnce(orders);
  second.child.kill('SIGTERM');
  const secondExit = await second.exited;

  const processedBy = new Map<string, number>();
  for (const entry of [...completed(first), ...completed(second)]) processedBy.set(String(entry.orderId), (processedBy.get(String(entry.orderId)) ?? 0) + 1);
  expect(orders.filter((id) => processedBy.get(id) !== 1).map((id) => `${id} completed ${processedBy.get(id) ?? 0}×`)).toEqual([]);
  const depths = await observer!.queueDepths();
  expect(depths.parking.messages).toBe(0);
  expect(secondExit.code).toBe(0);

  summary.push(
    `  worker: ${orders.length} orders queued (202); first worker completed ${completed(first).length} (${afterSignal.length} of them after SIGTERM, in flight), ` +
      `exit ${exit.code ?? exit.signal} after ${exitMs} ms, ${leftForTheSecond} left in the queue; second worker completed ${completed(second).length}, exit ${secondExit.code}; ` +
      `ledger: ${orders.filter((id) => captures.get(id) === 1).length}/${orders.length} captured exactly once, each completed by exactly one worker, parked 0`,
  );
});

test('worker: SIGKILL mid-processing loses nothing and charges nothing twice: the broker redelivers what was in flight to the next worker', async () => {
  const { orders, workerEnv } = await queueOrders('kill-worker');
  // Charges fast, shipments slow: when the kill lands, the orders in flight are charged and wait on shipping.
  await putFaults(stubs.urls.PAYMENT_URL, {});
  await putFaults(stubs.urls.SHIPPING_URL, { latencyMs: 400, routes: ['POST /shipments'] });
  const first = spawnWorker(workerEnv, 'worker-killed');
  processes.push(first);
  await waitFor(() => completed(first).length >= 8, { timeoutMs: 30_000, intervalMs: 50, message: 'the first worker completed 8 orders' });
  first.child.kill('SIGKILL'); // charges in flight: some may be captured by payment, none is acked
  const exit = await first.exited;
  expect(exit.signal).toBe('SIGKILL');
  const doneByFirst = completed(first).length;
  // Charged by payment before the kill, never acked: the next worker must replay these, not charge them again.
  const doneIds = new Set(completed(first).map((e) => String(e.orderId)));
  const capturedUnacked = [...(await capturesByOrder(stubs.urls.PAYMENT_URL, orders.filter((id) => !doneIds.has(id))))].filter(([, n]) => n > 0).length;

  const second = spawnWorker(workerEnv, 'worker-after-kill');
  processes.push(second);
  const captures = await everyOrderChargedOnce(orders);
  second.child.kill('SIGTERM');
  expect((await second.exited).code).toBe(0);
  expect((await observer!.queueDepths()).parking.messages).toBe(0);

  summary.push(
    `  worker SIGKILL: ${orders.length} orders queued (202); the killed worker completed ${doneByFirst}, the next one ${completed(second).length} ` +
      `(${capturedUnacked} of them charged by payment before the kill but never acked: redelivered, the charge replayed, not repeated); ` +
      `ledger: ${orders.filter((id) => captures.get(id) === 1).length}/${orders.length} captured exactly once, each shipped once, parked 0`,
  );
});
