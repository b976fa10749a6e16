import { join } from 'node:path';
import { connect, type MessagingConnection } from '@checkout/messaging';
import { createApp, fieldErrors, getRequestId, HttpError, idSchema, Journal, type Logger, type Service, visibleAscii } from '@checkout/service-kit';
import type { Request, RequestHandler, Response, Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import { z } from 'zod';
import { CheckoutFlow, type RetryPublisher, StockCache } from './checkout';
import { ContractError, InventoryClient } from './clients/inventory';
import { NotificationClient } from './clients/notification';
import { PaymentClient } from './clients/payment';
import { policyOf } from './clients/policies';
import { ShippingClient } from './clients/shipping';
import { type CheckoutConfig, SERVICE_NAME } from './config';
import { dashboardFor } from './dashboard';
import { IdempotencyStore } from './idempotency';
import { type CheckoutAnswer, checkoutBodySchema } from './model';
import { Orders } from './orders';
import { type PaymentRetryWorker, startPaymentRetryWorker } from './payment-retry';

export interface Clients {
  inventory: InventoryClient;
  payment: PaymentClient;
  shipping: ShippingClient;
  notification: NotificationClient;
}

/** One client per dependency, each with its own breaker, deadline and bulkhead (config.ts explains the defaults). */
export function createClients(config: CheckoutConfig, logger: Logger | undefined, clock?: () => number): Clients {
  const common = { config, logger, ...(clock ? { clock } : {}) };
  return {
    inventory: new InventoryClient({ ...common, baseURL: config.INVENTORY_URL, policy: policyOf(config, 'INVENTORY') }),
    payment: new PaymentClient({ ...common, baseURL: config.PAYMENT_URL, policy: policyOf(config, 'PAYMENT') }),
    shipping: new ShippingClient({ ...common, baseURL: config.SHIPPING_URL, policy: policyOf(config, 'SHIPPING') }),
    notification: new NotificationClient({ ...common, baseURL: config.NOTIFICATION_URL, policy: policyOf(config, 'NOTIFICATION') }),
  };
}

/** The broker connection of checkout and of the worker: same topology, names from config. */
export function connectBroker(config: CheckoutConfig, connectionName: string): Promise<MessagingConnection> {
  return connect(config.AMQP_URL, {
    prefix: config.AMQP_PREFIX,
    tiers: config.RETRY_TIERS,
    confirmTimeoutMs: config.PUBLISH_CONFIRM_TIMEOUT_MS,
    connectionName,
    // Checkout starts without the broker (orders whose payment succeeds need no queue);
    // readiness reports it, and the 202 path answers 503 while it is missing.
    waitForConnect: false,
  });
}

export interface RunningWorker {
  readonly worker: PaymentRetryWorker;
  readonly connection: MessagingConnection;
  readonly clients: Clients;
  /** Stops taking messages, lets in-flight ones finish, settles notifications, closes the connection and clients, all within `timeoutMs` (default SHUTDOWN_TIMEOUT_MS). */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * The payment-retry worker as `npm run worker` runs it: clients of its own (its own payment
 * breaker), a broker connection of its own named `connectionName`, consuming the work queue.
 */
export async function createWorker(
  config: CheckoutConfig,
  options: { logger: Logger; connectionName?: string; prefetch?: number },
): Promise<RunningWorker> {
  const clients = createClients(config, options.logger);
  const connection = await connectBroker(config, options.connectionName ?? 'checkout-worker');
  await connection.ready();
  const worker = await startPaymentRetryWorker({
    connection,
    ...clients,
    logger: options.logger,
    maxRetries: config.RETRY_MAX_ATTEMPTS,
    prefetch: options.prefetch ?? config.WORKER_PREFETCH,
  });
  return {
    worker,
    connection,
    clients,
    async stop(timeoutMs = config.SHUTDOWN_TIMEOUT_MS) {
      // One deadline for the whole drain: in-flight charges, notifications, the connection.
      const deadline = Date.now() + timeoutMs;
      await worker.close(deadline);
      await clients.notification.settle();
      await connection.close({ timeoutMs: Math.max(0, deadline - Date.now()) });
      for (const client of Object.values(clients)) client.close();
    },
  };
}

const idempotencyKeySchema = visibleAscii(200);

export interface CheckoutOptions {
  logger?: Logger;
  /** Time source of the stock cache's age (tests); the breakers keep real time, their deadlines need it. */
  clock?: () => number;
  /** Use this connection instead of connecting to AMQP_URL (it is not closed by checkout). */
  connection?: MessagingConnection;
  newOrderId?: () => string;
}

export interface Checkout {
  readonly service: Service<CheckoutConfig>;
  readonly flow: CheckoutFlow;
  readonly clients: Clients;
  readonly connection: MessagingConnection;
  readonly orders: Orders;
  readonly stockCache: StockCache;
  readonly journal: Journal;
}

function send(res: Response, answer: CheckoutAnswer, replayed = false): void {
  if (replayed) res.setHeader('Idempotent-Replayed', 'true');
  res.status(answer.httpStatus).json(answer.body);
}

/** Builds the checkout service: the kit's app, the clients, the broker connection, the routes. */
export async function createCheckout(config: CheckoutConfig, options: CheckoutOptions = {}): Promise<Checkout> {
  const connection = options.connection ?? (await connectBroker(config, 'checkout'));
  let checkout!: Checkout;
  /** Open SSE answers of /circuits/stream: ended when draining starts. */
  const streams = new Set<() => void>();
  const journal = Journal.open(join(config.DATA_DIR, 'checkout.journal'));
  const idempotency = new IdempotencyStore(config.IDEMPOTENCY_TTL_SECONDS, journal);
  const service = createApp({
    name: SERVICE_NAME,
    config,
    ...(options.logger ? { logger: options.logger } : {}),
    routes: (router) => {
      router.use(dashboardFor(() => checkout)); // GET /dashboard, its API, and the answers it shows
      checkoutRoutes(router, () => checkout, idempotency, streams, config.RATE_LIMIT_PER_MINUTE);
    },
  });
  const clients = createClients(config, service.logger);
  service.onDrain('circuit-streams', () => {
    for (const end of [...streams]) end();
  });
  const stockCache = new StockCache(config.STOCK_CACHE_TTL_SECONDS);
  const orders = new Orders(clients.inventory, clients.payment, clients.shipping, journal);
  const retryQueue: RetryPublisher = {
    publish: (message) => connection.publish(message, { messageId: `${message.kind}:${message.orderId}`, ...correlation() }),
  };
  const flow = new CheckoutFlow({
    ...clients,
    retryQueue,
    orders,
    journal,
    stockCache,
    logger: service.logger,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.newOrderId ? { newOrderId: options.newOrderId } : {}),
  });
  checkout = { service, flow, clients, connection, orders, stockCache, journal };
  // What an earlier process left unfinished: orders cut short before their answer, repairs.
  const recovered = idempotency.restore((orderId, request) => flow.recover(orderId, request));
  const resumed = flow.resumeRepairs();
  if (journal.skipped > 0) service.logger.warn('journal lines that could not be read were skipped', { skipped: journal.skipped });
  if (recovered + resumed > 0) service.logger.info('resuming what the last run left unfinished', { interruptedOrders: recovered, repairs: resumed });

  for (const client of Object.values(clients)) {
    service.registerBreaker(client.breaker);
    service.onClose(`${client.http.name}-client`, () => client.close());
  }
  service.addReadinessCheck('broker', () => ({ ok: connection.isReady, details: { state: connection.state } }));
  registerQueueDepth(service, connection);
  service.onClose('notifications', () => clients.notification.settle());
  // Releases and shipments still being retried off the response path (before the clients close).
  service.onClose('background-work', () => flow.drain(Math.min(config.SHUTDOWN_TIMEOUT_MS, 5_000)));
  service.onClose('caches', () => {
    stockCache.close();
    idempotency.close();
    journal.close();
  });
  if (options.connection === undefined) service.onClose('broker', () => connection.close());
  return checkout;
}

/** The request id travels as the AMQP correlationId. */
function correlation(): { correlationId?: string } {
  const id = getRequestId();
  return id === undefined ? {} : { correlationId: id };
}

/**
 * `retry_queue_messages{queue}`: ready messages of the work, delay and parking queues, read at
 * scrape time. Built as a plain collector on the kit's registry (checkout does not depend on
 * prom-client itself: adding it would need a lock-file change).
 */
function registerQueueDepth(service: Service<CheckoutConfig>, connection: MessagingConnection): void {
  const name = 'retry_queue_messages';
  const help = 'Ready messages in the payment-retry queues (work, delay tiers, parking)';
  let last: { labels: { queue: string }; value: number }[] = [];
  const collector = {
    name,
    help,
    type: 'gauge',
    aggregator: 'sum',
    async get() {
      if (connection.isReady) {
        try {
          const depths = await connection.queueDepths();
          last = [
            { labels: { queue: 'work' }, value: depths.work.messages },
            { labels: { queue: 'parking' }, value: depths.parking.messages },
            ...depths.delays.map((delay) => ({ labels: { queue: delay.queue.slice(connection.names.prefix.length) }, value: delay.messages })),
          ];
        } catch {
          // The scrape still answers, with the last values.
        }
      }
      return { name, help, type: 'gauge', aggregator: 'sum', values: last };
    },
    reset() {
      last = [];
    },
  };
  service.metrics.registry.registerMetric(collector as unknown as Parameters<typeof service.metrics.registry.registerMetric>[0]);
}

/**
 * The request rate limit of POST /checkout, per client address (express-rate-limit, one-minute
 * window, in memory): 429 in the shape of every refusal, with `Retry-After` and the standard
 * `RateLimit` headers. Reads and operations routes are not limited.
 */
function checkoutRateLimit(perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (req: Request, res: Response) => {
      const resetTime = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const retryAfter = Math.max(1, Math.ceil(((resetTime?.getTime() ?? Date.now() + 60_000) - Date.now()) / 1000));
      res.setHeader('Retry-After', String(retryAfter));
      res.status(429).json({
        error: 'RATE_LIMITED',
        message: `Too many checkout requests from this address: at most ${perMinute} a minute; retry in ${retryAfter} s`,
        orderId: null,
        status: 'REJECTED',
        warnings: [],
        requestId: getRequestId(),
      });
    },
  });
}

function checkoutRoutes(router: Router, checkout: () => Checkout, idempotency: IdempotencyStore, streams: Set<() => void>, perMinute: number): void {
  router.post('/checkout', checkoutRateLimit(perMinute), async (req: Request, res: Response) => {
    const parsed = checkoutBodySchema.safeParse(req.body);
    const keyHeader = req.get('Idempotency-Key');
    const key = keyHeader === undefined ? undefined : idempotencyKeySchema.safeParse(keyHeader);
    if (!parsed.success || (key !== undefined && !key.success)) {
      const fields = [
        ...(parsed.success ? [] : fieldErrors(parsed.error)),
        ...(key === undefined || key.success ? [] : fieldErrors(key.error).map((field) => ({ ...field, path: 'Idempotency-Key' }))),
      ];
      res.status(400).json({ error: 'VALIDATION_FAILED', message: 'Invalid checkout request', orderId: null, status: 'REJECTED', warnings: [], fields, requestId: getRequestId() });
      return;
    }
    const run = async (orderId?: string): Promise<CheckoutAnswer> => {
      try {
        return await checkout().flow.place(parsed.data, orderId);
      } catch (error) {
        if (error instanceof ContractError) throw new HttpError(502, 'BAD_GATEWAY', 'A dependency gave an unexpected answer', { cause: error });
        throw error;
      }
    };
    if (key === undefined) {
      send(res, await run());
      return;
    }
    const outcome = idempotency.begin(key.data, parsed.data, () => checkout().flow.orderIdFor());
    if (outcome.kind === 'mismatch') {
      throw new HttpError(409, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different body', {
        details: { orderId: null, status: 'REJECTED', warnings: [] },
      });
    }
    if (outcome.kind === 'replay') {
      send(res, await outcome.answer, true);
      return;
    }
    const answer = run(outcome.orderId);
    outcome.complete(answer);
    send(res, await answer);
  });

  router.get('/orders/:id', async (req: Request, res: Response) => {
    const id = String(req.params.id);
    if (!idSchema.safeParse(id).success) throw new HttpError(400, 'BAD_ORDER_ID', 'Not an order id');
    const found = await checkout().orders.get(id);
    if (found === undefined) throw new HttpError(404, 'ORDER_NOT_FOUND', `No order ${id}`, { details: { orderId: id } });
    if ('unavailable' in found) {
      throw new HttpError(503, 'ORDER_STATUS_UNAVAILABLE', 'The order cannot be looked up right now', {
        details: { orderId: id, warnings: found.unavailable.map((name) => `${name}: unavailable`) },
        headers: { 'Retry-After': '5' },
      });
    }
    res.json(found.view);
  });

  router.get('/circuits', (_req: Request, res: Response) => {
    res.json({ circuits: snapshots(checkout()) });
  });

  router.get('/circuits/stream', (req: Request, res: Response) => {
    const { clients } = checkout();
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    const write = (): void => {
      res.write(`data: ${JSON.stringify({ circuits: snapshots(checkout()), at: new Date().toISOString() })}\n\n`);
    };
    write();
    const offs = Object.values(clients).map((client) => client.breaker.on('stateChange', write));
    const timer = setInterval(write, 1_000);
    const end = (): void => {
      if (!streams.delete(end)) return;
      clearInterval(timer);
      for (const off of offs) off();
      res.end();
    };
    streams.add(end);
    req.on('close', end);
  });
}

function snapshots(checkout: Checkout): Record<string, object> {
  return Object.fromEntries(Object.values(checkout.clients).map((client) => [client.http.name, client.breaker.snapshot()]));
}
