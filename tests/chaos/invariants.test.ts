/**
 * Chaos invariants (in this process, the real broker under this run's prefix).
 *
 * While a steady stream of orders flows through checkout, the test crashes and restarts payment
 * (twice), makes it flap, cuts checkout's link to RabbitMQ through a TCP proxy of its own (every
 * connection reset, new ones refused for a while, then accepted again), closes the payment-retry
 * worker's broker connection from the broker side while it has charges in flight (as a crashed
 * worker looks to the broker), closes checkout's broker connection from the broker side, restarts
 * checkout (a new instance takes over, the old one drains), makes inventory (reads, reservations
 * and releases) and shipping fail part of the time, cuts the worker's link through its proxy, and
 * resets checkout's link once more. Then everything is healed and, within a bounded time:
 *
 * - every order answered 201 or 202 is CAPTURED exactly once by the payment ledger and shipped,
 *   or (202 only) has no capture, its stock released and the customer told ORDER_FAILED;
 * - every order answered 402, 409, 404 or 503 was never captured and holds no stock (a release
 *   that failed is retried in the background: this is waited for);
 * - no order anywhere has two captures;
 * - the work and delay queues are empty; every parked message has a reason;
 * - the proxies did cut connections, and checkout and the worker reconnected through them.
 *
 * Payment "crashes" by having every connection cut and its listener closed; it comes back on the
 * same port with the same ledger (the ledger stands for the PSP's books, which survive its
 * outages — the real stub's in-memory ledger would not, and could not judge "exactly once").
 *
 * Size: CHAOS_LOAD_MS of load (default 14 s) by CHAOS_CLIENTS clients (default 4); the schedule
 * repeats every CHAOS_CYCLE_MS (default 14 s), so `npm run soak` (CHAOS_LOAD_MS=210000,
 * CHAOS_CLIENTS=8: fifteen cycles, thousands of orders) is the same test, longer.
 */
import { randomBytes } from 'node:crypto';
import { peekParked } from '@checkout/messaging';
import { type PaymentApp, configSchema as paymentSchema, createPaymentApp } from '@checkout/payment';
import { faultSettingsSchema, loadConfig, type RunningService, start } from '@checkout/service-kit';
import { jsonRequest, send } from '../support/http';
import { TcpProxy } from '../support/tcp-proxy';
import {
  ADMIN_TOKEN,
  AMQP_URL,
  amqpPrefix,
  checkoutConfig,
  closeConnectionFromBroker,
  order,
  type RunningCheckout,
  type RunningWorker,
  startCheckout,
  startStubs,
  startWorker,
  type Stubs,
  waitFor,
} from '../support/world';

const LOAD_MS = Number(process.env.CHAOS_LOAD_MS ?? 14_000);
const CLIENTS = Number(process.env.CHAOS_CLIENTS ?? 4);
const CYCLE_MS = Number(process.env.CHAOS_CYCLE_MS ?? 14_000);
/** The schedule runs this many times, each over LOAD_MS / CYCLES. */
const CYCLES = Math.max(1, Math.round(LOAD_MS / CYCLE_MS));

// The load, then up to 90 s of settling, plus starting and stopping everything.
jest.setTimeout(LOAD_MS + 150_000);
const SKUS = ['KB-MECH-01', 'MOUSE-WL-02', 'HUB-USBC-7', 'HEADSET-NC', 'CABLE-USBC-2M', 'STAND-LAPTOP'];

interface Placed {
  orderId: string | null;
  httpStatus: number;
  status: string;
  /** error code and message, for the failure report */
  detail: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Adds work that runs alongside the schedule to `list` (awaited at the end, where a failure fails the test; never an unhandled rejection meanwhile). */
function alongside(list: Promise<void>[], work: Promise<unknown>): void {
  const done = work.then(() => undefined);
  done.catch(() => {});
  list.push(done);
}

test('orders survive crashes, flapping, broker cuts and restarts: nothing lost, nothing charged twice', async () => {
  const prefix = amqpPrefix('chaos');
  const tag = randomBytes(3).toString('hex');
  const stubs: Stubs = await startStubs();
  // Checkout's instances reach the broker through one proxy, the worker through another.
  const checkoutProxy = await TcpProxy.forAmqp(AMQP_URL);
  const workerProxy = await TcpProxy.forAmqp(AMQP_URL);
  const env = {
    RETRY_TIERS: '200ms,500ms,1s',
    RETRY_MAX_ATTEMPTS: '6',
    PAYMENT_OPEN_MS: '1000',
    INVENTORY_OPEN_MS: '1000',
    SHIPPING_OPEN_MS: '1000',
    BREAKER_MINIMUM_CALLS: '5',
    BREAKER_WINDOW_SIZE: '10',
  };
  const config = checkoutConfig(stubs, prefix, { ...env, AMQP_URL: checkoutProxy.urlFor(AMQP_URL) });
  const workerConfig = checkoutConfig(stubs, prefix, { ...env, AMQP_URL: workerProxy.urlFor(AMQP_URL) });
  const paymentConfig = loadConfig(paymentSchema, { NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '0', FAULTS_ENABLED: 'true', ADMIN_TOKEN });
  const paymentPort = stubs.running.payment.port;
  let payment: { app: PaymentApp; running: RunningService | undefined } = { app: stubs.payment, running: stubs.running.payment };
  const ledger = stubs.payment.ledger;

  /** Checkout instance n is on a broker connection of its own named so (closed from the broker side by name). */
  const checkoutName = (n: number) => `root-chaos-checkout-${n}-${tag}`;
  let instance = 0;
  // A retired instance drains for up to 10 s: an order in flight is never cut by the test's own deadline.
  const drainMs = 10_000;
  let checkout: RunningCheckout = await startCheckout(config, undefined, { connectionName: checkoutName(instance), shutdownTimeoutMs: drainMs });
  let checkoutUrl = checkout.url;
  const workerName = `root-chaos-worker-${tag}`;
  const worker: RunningWorker = await startWorker(workerConfig, undefined, workerName);
  const retired: RunningCheckout[] = [];
  const events: string[] = [];
  const placed: Placed[] = [];
  const noAnswer: string[] = [];
  /** Reconnections of checkout's instances (retired ones included), for the check that the cuts were felt. */
  const checkoutReconnects = () => [checkout, ...retired].reduce((sum, c) => sum + c.checkout.connection.stats().reconnects, 0);

  const setFaults = (app: { service: { faults: { set(s: never): void } | undefined } }, settings: object): void => {
    (app.service.faults!.set as (s: unknown) => void)(faultSettingsSchema.parse(settings));
  };

  const crashPayment = async (): Promise<void> => {
    const running = payment.running!;
    payment.running = undefined;
    running.server.closeAllConnections();
    await new Promise<void>((resolve) => running.server.close(() => resolve()));
  };
  const restartPayment = async (): Promise<void> => {
    const app = createPaymentApp({ config: paymentConfig, ledger });
    payment = { app, running: await start(app.service, { port: paymentPort, shutdownTimeoutMs: 500 }) };
  };
  /**
   * Once `connected()` (a cut must hit a live connection: an earlier cut may still be healing),
   * resets every connection through the proxy and refuses new ones for `ms`, then accepts again.
   * In the background; the schedule goes on.
   */
  const outages: Promise<void>[] = [];
  const linkDown = (proxy: TcpProxy, ms: number, connected: () => boolean): void => {
    alongside(
      outages,
      (async () => {
        await waitFor(connected, { timeoutMs: 10_000, message: 'connected before the cut' });
        await proxy.refuse();
        await sleep(ms);
        await proxy.accept();
      })(),
    );
  };

  // The stream of orders.
  let loading = true;
  /** One order in this many is paid with the declining card (the schedule raises it for a while). */
  let declineEvery = 23;
  const client = async (n: number): Promise<void> => {
    let i = 0;
    while (loading) {
      i += 1;
      const decline = i % declineEvery === 0;
      const items = [{ sku: SKUS[(n + i) % SKUS.length]!, quantity: 1 + (i % 2) }];
      try {
        const answer = await send(checkoutUrl, jsonRequest('POST', '/checkout', order(items, decline ? 'tok_decline' : 'tok_visa'), { 'Idempotency-Key': `chaos-${tag}-${n}-${i}` }), 15_000);
        const body = answer.json as { orderId?: string | null; status?: string; error?: string; message?: string; warnings?: string[] };
        placed.push({
          orderId: body.orderId ?? null,
          httpStatus: answer.status,
          status: body.status ?? '',
          detail: `${body.error ?? ''} ${body.message ?? ''} ${(body.warnings ?? []).join(' | ')}`,
        });
      } catch (error) {
        noAnswer.push((error as Error).message);
        await sleep(20);
      }
    }
  };
  const clients = Array.from({ length: CLIENTS }, (_, n) => client(n));

  // The chaos schedule: fractions of a cycle, the cycle repeated CYCLES times.
  const cycleMs = LOAD_MS / CYCLES;
  const started = Date.now();
  let cycle = 0;
  const at = async (fraction: number, what: string, action: () => Promise<void> | void): Promise<void> => {
    await sleep(Math.max(0, (cycle + fraction) * cycleMs - (Date.now() - started)));
    events.push(`${CYCLES > 1 ? `#${cycle + 1} ` : ''}${((Date.now() - started) / 1000).toFixed(1)}s ${what}`);
    await action();
  };
  // rabbitmqctl takes seconds: the cuts run alongside the schedule, and must all have worked.
  const cuts: Promise<void>[] = [];
  const drains: Promise<void>[] = [];
  let journalsReopened = 0;
  for (; cycle < CYCLES; cycle += 1) {
    await at(0.07, 'payment crashed', crashPayment);
    await at(0.17, 'payment restarted', restartPayment);
    await at(0.22, 'payment flapping (500 ms of every 1 s failing)', () => setFaults(payment.app, { flap: { periodMs: 1_000, dutyCycle: 0.5 } }));
    await at(0.27, 'checkout’s link to RabbitMQ cut at the proxy (connections reset, new ones refused for 1.2 s)', () => linkDown(checkoutProxy, 1_200, () => checkout.checkout.connection.isReady));
    await at(0.36, 'payment steady but slow (250 ms)', () => setFaults(payment.app, { latencyMs: 250, routes: ['POST /charges'] }));
    await at(0.38, 'worker’s broker connection closed by the broker mid-processing', () => {
      alongside(cuts, closeConnectionFromBroker(workerName));
    });
    await at(0.45, 'payment healthy', () => setFaults(payment.app, {}));
    await at(0.47, 'checkout’s broker connection closed by the broker', () => {
      alongside(cuts, closeConnectionFromBroker(checkoutName(instance)));
    });
    await at(0.55, 'checkout restarting (a new instance starts, takes the traffic once ready; the old one drains)', () => {
      const n = instance + 1;
      const label = CYCLES > 1 ? `#${cycle + 1} ` : '';
      // Alongside the schedule: connecting can take seconds while rabbitmqctl loads the machine.
      alongside(
        drains,
        (async () => {
          const next = await startCheckout(config, undefined, { connectionName: checkoutName(n), shutdownTimeoutMs: drainMs });
          events.push(`${label}${((Date.now() - started) / 1000).toFixed(1)}s new checkout instance ready: traffic switched`);
          instance = n;
          checkoutUrl = next.url;
          const old = checkout;
          checkout = next;
          retired.push(old);
          await old.running.shutdown();
          // Repairs (background releases, shipments) it could not finish in its drain stay in its
          // journal: its own DATA_DIR comes back (as a restarted pod's volume would) and finishes them.
          if ([...old.checkout.journal.list('repair:')].length > 0) {
            retired.push(await startCheckout(config, undefined, { dataDir: old.dataDir, shutdownTimeoutMs: drainMs }));
            journalsReopened += 1;
            events.push(`${label}${((Date.now() - started) / 1000).toFixed(1)}s the old instance's journal reopened to finish its repairs`);
          }
        })(),
      );
    });
    // Declines are what make checkout release stock on the answer path: one order in three is
    // declined while releases fail, so that failed releases (retried in the background) happen.
    await at(0.62, 'inventory failing 30 % (stock reads, reservations, releases), shipping failing 50 %, one order in 3 declined', () => {
      setFaults(stubs.inventory, { errorRate: 0.3, errorStatus: 503, routes: ['GET /stock/:sku', 'POST /reservations', 'DELETE /reservations/:id'] });
      setFaults(stubs.shipping, { errorRate: 0.5, errorStatus: 500 });
      declineEvery = 3;
    });
    await at(0.68, 'worker’s link to RabbitMQ cut at the proxy (connections reset, new ones refused for 1 s)', () => linkDown(workerProxy, 1_000, () => worker.connection.isReady));
    // Releases recover first: checkout retries a failed one with waits growing to 10 s, and the
    // bounded run should not spend its settling time waiting for the last of those.
    await at(0.73, 'inventory releases healthy (reads and reservations still failing 30 %), one order in 23 declined', () => {
      setFaults(stubs.inventory, { errorRate: 0.3, errorStatus: 503, routes: ['GET /stock/:sku', 'POST /reservations'] });
      declineEvery = 23;
    });
    await at(0.75, 'payment crashed again', crashPayment);
    await at(0.82, 'payment restarted', restartPayment);
    await at(0.88, 'inventory and shipping healthy', () => {
      setFaults(stubs.inventory, {});
      setFaults(stubs.shipping, {});
    });
    await at(0.93, 'checkout’s link to RabbitMQ reset at the proxy (accepting at once)', () => linkDown(checkoutProxy, 0, () => checkout.checkout.connection.isReady));
  }
  cycle = CYCLES - 1;
  await at(1, 'load stopped', () => {
    loading = false;
  });
  await Promise.all(clients);
  await Promise.all(cuts);
  await Promise.all(outages);
  await Promise.all(drains);
  const healedAt = Date.now();

  try {
    const accepted = placed.filter((p) => (p.httpStatus === 201 || p.httpStatus === 202) && p.orderId !== null);
    const refused = placed.filter((p) => p.httpStatus !== 201 && p.httpStatus !== 202);
    const refusedWithId = refused.filter((p) => p.orderId !== null);
    expect(accepted.length).toBeGreaterThan(50);
    expect(placed.filter((p) => p.httpStatus >= 500 && p.httpStatus !== 503).map((p) => `${p.orderId} ${p.httpStatus} ${p.status} ${p.detail}`)).toEqual([]);

    const captures = (orderId: string) => ledger.chargesFor(orderId).filter((c) => c.status === 'CAPTURED').length;
    const shipped = (orderId: string) => stubs.shipping.book.shipmentsFor(orderId).length;
    const held = (orderId: string) => stubs.inventory.inventory.reservationsFor(orderId).filter((r) => r.status !== 'RELEASED').length;
    const toldFailed = (orderId: string) => stubs.notification.outbox.forOrder(orderId).some((n) => n.type === 'ORDER_FAILED');

    /** The end state of an accepted order, or why it is not there yet. */
    const settled = (p: Placed): string | true => {
      const id = p.orderId!;
      const c = captures(id);
      if (c === 1 && shipped(id) === 1) return true;
      if (c === 0 && p.httpStatus === 202 && held(id) === 0 && toldFailed(id)) return true;
      return `${id} (${p.httpStatus} ${p.status}): captures ${c}, shipments ${shipped(id)}, held ${held(id)}, told failed ${toldFailed(id)}`;
    };
    /** A refused order whose stock is still held (its release may still be retried in the background). */
    const holding = (p: Placed): boolean => held(p.orderId!) > 0;
    const names = worker.connection.names;
    const holdingWhenHealed = refusedWithId.filter(holding).length;
    let lastDepths = '';
    await waitFor(
      async () => {
        const depths = await worker.connection.queueDepths();
        const busy = depths.work.messages + depths.delays.reduce((sum, d) => sum + d.messages, 0);
        lastDepths = `work ${depths.work.messages}, delays ${depths.delays.map((d) => d.messages).join('/')}`;
        return busy === 0 && worker.worker.consumer.stats().inFlight === 0 && accepted.every((p) => settled(p) === true) && !refusedWithId.some(holding);
      },
      { timeoutMs: 90_000, intervalMs: 250, message: 'every accepted order settled, every refused one holding no stock, the queues empty' },
    ).catch((error: Error) => {
      const unsettled = accepted.map(settled).filter((r) => r !== true);
      const stillHolding = refusedWithId.filter(holding).map((p) => `${p.orderId} ${p.httpStatus} ${p.detail}`);
      throw new Error(
        `${error.message}: ${unsettled.length} accepted orders not settled (${unsettled.slice(0, 5).join('; ')}); ` +
          `${stillHolding.length} refused orders holding stock (${stillHolding.slice(0, 3).join('; ')}); queues: ${lastDepths}`,
      );
    });
    const settleMs = Date.now() - healedAt;

    const paid = accepted.filter((p) => captures(p.orderId!) === 1);
    const failed = accepted.filter((p) => captures(p.orderId!) === 0);
    expect(accepted.filter((p) => captures(p.orderId!) > 1)).toEqual([]);
    // Refused orders: never captured, no stock held.
    expect(
      refusedWithId
        .filter((p) => captures(p.orderId!) > 0 || held(p.orderId!) > 0)
        .map((p) => `${p.orderId} ${p.httpStatus} ${p.status} captures ${captures(p.orderId!)} held ${held(p.orderId!)}: ${p.detail}`),
    ).toEqual([]);
    const parked = await peekParked(worker.connection, { limit: 1_000 });
    expect(parked.filter((m) => !m.reason)).toEqual([]);
    const depths = await worker.connection.queueDepths();
    expect(depths.work.messages).toBe(0);

    // The proxies cut live connections (each cut waited for one), and the services came back
    // through them. (Not one reconnection per cut: a broker-side close that lands while a proxy
    // cut is healing costs no extra reconnection.)
    const checkoutCut = checkoutProxy.stats();
    const workerCut = workerProxy.stats();
    expect(checkoutCut.dropped).toBeGreaterThanOrEqual(2 * CYCLES);
    expect(workerCut.dropped).toBeGreaterThanOrEqual(CYCLES);
    expect(checkoutReconnects()).toBeGreaterThanOrEqual(CYCLES + 1);
    expect(worker.connection.stats().reconnects).toBeGreaterThanOrEqual(CYCLES);
    const releasesRetried = refusedWithId.filter((p) => p.detail.includes('will be released shortly')).length;

    const byStatus = new Map<string, number>();
    for (const p of placed) byStatus.set(`${p.httpStatus}`, (byStatus.get(`${p.httpStatus}`) ?? 0) + 1);
    const refusedBy = new Map<string, number>();
    for (const p of refused) {
      const code = `${p.httpStatus} ${p.detail.trim().split(' ')[0] ?? ''}`;
      refusedBy.set(code, (refusedBy.get(code) ?? 0) + 1);
    }
    const schedule = CYCLES > 1 ? [...events.filter((e) => e.startsWith('#1 ')), `… ${CYCLES} cycles of ${(cycleMs / 1000).toFixed(1)} s`, events[events.length - 1]!] : events;
    console.log(
      [
        `chaos: ${placed.length} orders answered in ${(LOAD_MS / 1000).toFixed(0)} s by ${CLIENTS} clients (${[...byStatus].sort().map(([s, n]) => `${s}×${n}`).join(', ')}), ${noAnswer.length} requests not accepted${noAnswer.length > 0 ? ` (${[...new Set(noAnswer)].slice(0, 3).join('; ')})` : ''}`,
        `  accepted (201/202): ${accepted.length} → PAID exactly once and shipped ${paid.length}, FAILED with stock released and customer told ${failed.length}; double charges 0`,
        `  refused (4xx/503) with an order id: ${refusedWithId.length} (${[...refusedBy].sort().map(([code, n]) => `${code}×${n}`).join(', ')}), none charged, none holding stock (${holdingWhenHealed} still held when the load stopped, released since; ${releasesRetried} answers said "released shortly")`,
        `  settled ${settleMs} ms after healing; work and delay queues empty; parked ${parked.length} (all with a reason; queue ${names.parkingQueue})`,
        `  worker: charged ${worker.worker.counters.charged}, declined ${worker.worker.counters.declined}, shipped ${worker.worker.counters.shipped}, failed ${worker.worker.counters.failed}, abandoned ${worker.worker.counters.abandoned}, paused ${worker.worker.counters.pausedTimes}×; reconnected ${worker.connection.stats().reconnects}×`,
        `  broker links: checkout's proxy reset ${checkoutCut.dropped} connections (accepted ${checkoutCut.accepted}), checkout reconnected ${checkoutReconnects()}× over ${instance + 1} instances (+${journalsReopened} reopened on a retired one's journal to finish its repairs); worker's proxy reset ${workerCut.dropped} (accepted ${workerCut.accepted})`,
        `  schedule: ${schedule.join('; ')}`,
      ].join('\n'),
    );
  } finally {
    await worker.stop();
    await checkout.stop();
    // Newest first: an instance that took over a journal stops before the owner removes its directory.
    for (const old of [...retired].reverse()) await old.stop().catch(() => {});
    if (payment.running) await payment.running.shutdown();
    await Promise.all([stubs.running.inventory, stubs.running.shipping, stubs.running.notification].map((r) => r.shutdown()));
    await checkoutProxy.close();
    await workerProxy.close();
  }
});
