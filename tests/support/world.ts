/**
 * The root suites' world: the four real stubs and checkout in this process on port 0, the real
 * RabbitMQ under a prefix of this run's own (deleted afterwards), and loggers that can be captured.
 *
 * Built only on the packages' public exports (`@checkout/<pkg>`), so it type-checks against
 * their declarations and does not depend on another package's test helpers.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PassThrough } from 'node:stream';
import { type Checkout, type CheckoutConfig, configSchema as checkoutSchema, connectBroker, createCheckout, createWorker, type RunningWorker } from '@checkout/checkout';
import { createInventoryApp, type InventoryApp, configSchema as inventorySchema } from '@checkout/inventory';
import type { MessagingConnection } from '@checkout/messaging';
import { createNotificationApp, type NotificationApp, configSchema as notificationSchema } from '@checkout/notification';
import { createPaymentApp, type PaymentApp, configSchema as paymentSchema } from '@checkout/payment';
import { createLogger, type Logger, loadConfig, type RunningService, start } from '@checkout/service-kit';
import { createShippingApp, type ShippingApp, configSchema as shippingSchema } from '@checkout/shipping';
import winston from 'winston';

export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
/** The admin token of every service this world starts (faults enabled). */
export const ADMIN_TOKEN = `root-suite-admin-${randomBytes(12).toString('hex')}`;

export const ADDRESS = { name: 'Ada Lovelace', line1: '12 Analytical Row', city: 'London', postalCode: 'N1 9GU', country: 'GB' };

export function order(items: { sku: string; quantity: number }[] = [{ sku: 'KB-MECH-01', quantity: 1 }], paymentToken = 'tok_visa'): Record<string, unknown> {
  return { customerId: 'cust-root-suite', items, paymentToken, shippingAddress: ADDRESS };
}

/** A unique prefix for this run's exchanges and queues. */
export function amqpPrefix(label: string): string {
  return `test-root-${label}-${process.pid}-${randomBytes(3).toString('hex')}.`;
}

/** Polls until `probe` returns something truthy; one poller for every suite. */
import { waitFor } from '../../services/checkout/src/testing/world.test.util';
export { waitFor };

/** Every line every captured logger wrote (one JSON entry each). */
export class LogCapture {
  readonly lines: string[] = [];
  private readonly stream = new PassThrough();
  constructor() {
    this.stream.setEncoding('utf8');
    let rest = '';
    this.stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const part of parts) if (part.length > 0) this.lines.push(part);
    });
  }
  /** A kit logger (redaction, request ids) writing here at `level`. */
  logger(service: string, level: 'silly' | 'debug' | 'info' = 'silly'): Logger {
    return createLogger({ service, level, transports: [new winston.transports.Stream({ stream: this.stream })] });
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

export interface Stubs {
  payment: PaymentApp;
  inventory: InventoryApp;
  shipping: ShippingApp;
  notification: NotificationApp;
  running: { payment: RunningService; inventory: RunningService; shipping: RunningService; notification: RunningService };
  urls: { PAYMENT_URL: string; INVENTORY_URL: string; SHIPPING_URL: string; NOTIFICATION_URL: string };
  stop(): Promise<void>;
}

export interface WorldOptions {
  /** Captures the logs of every service (else they are silent). */
  logs?: LogCapture;
  /** Extra environment of every stub. */
  stubEnv?: Record<string, string>;
}

export async function startStubs(options: WorldOptions = {}): Promise<Stubs> {
  const env = { NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '0', FAULTS_ENABLED: 'true', ADMIN_TOKEN, ...options.stubEnv };
  const logger = (name: string) => options.logs?.logger(name);
  const payment = createPaymentApp({ config: loadConfig(paymentSchema, env), logger: logger('payment') });
  const inventory = createInventoryApp({ config: loadConfig(inventorySchema, { ...env, INITIAL_STOCK: '1000000' }), logger: logger('inventory') });
  const shipping = createShippingApp({ config: loadConfig(shippingSchema, env), logger: logger('shipping') });
  const notification = createNotificationApp({ config: loadConfig(notificationSchema, env), logger: logger('notification') });
  const [p, i, s, n] = await Promise.all(
    [payment, inventory, shipping, notification].map((app) => start(app.service, { port: 0, shutdownTimeoutMs: 500 })),
  );
  const running = { payment: p!, inventory: i!, shipping: s!, notification: n! };
  return {
    payment,
    inventory,
    shipping,
    notification,
    running,
    urls: { PAYMENT_URL: p!.url, INVENTORY_URL: i!.url, SHIPPING_URL: s!.url, NOTIFICATION_URL: n!.url },
    async stop() {
      await Promise.all(Object.values(running).map((r) => r.shutdown()));
    },
  };
}

/** Checkout's (and the worker's) environment against these stubs and this prefix: what `checkoutConfig` loads, and what a real process gets. */
export function checkoutEnv(stubs: Pick<Stubs, 'urls'>, prefix: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PORT: '0',
    AMQP_URL,
    AMQP_PREFIX: prefix,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'checkout-data-')),
    RATE_LIMIT_PER_MINUTE: '1000000',
    RETRY_TIERS: '100ms,200ms',
    RETRY_MAX_ATTEMPTS: '3',
    PUBLISH_CONFIRM_TIMEOUT_MS: '2000',
    PAYMENT_TIMEOUT_MS: '400',
    PAYMENT_SLOW_CALL_MS: '300',
    ...stubs.urls,
    ...env,
  };
}

export function checkoutConfig(stubs: Stubs, prefix: string, env: Record<string, string> = {}): CheckoutConfig {
  return loadConfig(checkoutSchema, checkoutEnv(stubs, prefix, env));
}

/**
 * A connection of the test's own to the topology of `config` (straight to the broker, declared
 * with the same arguments): to read queue depths and consumers while services run as processes,
 * and to delete the topology afterwards (`deleteTopology()`, then `close()`).
 */
export async function observeTopology(config: CheckoutConfig, name = `root-suite-observer-${config.AMQP_PREFIX}`): Promise<MessagingConnection> {
  const connection = await connectBroker({ ...config, AMQP_URL }, name);
  await connection.ready();
  return connection;
}

/**
 * Deletes a run's queues and exchanges through a connection of the test's own (observeTopology,
 * or a publisher), then closes it: the last step of a suite, after everything using them stopped.
 */
export async function dropTopology(connection: MessagingConnection | undefined): Promise<void> {
  if (connection === undefined) return;
  await connection.deleteTopology().catch(() => {});
  await connection.close({ timeoutMs: 1_000 });
}

/** The charges payment's ledger holds for an order, read over HTTP (`GET /charges?orderId=`). */
export async function chargesOf(paymentUrl: string, orderId: string): Promise<{ chargeId: string; status: string }[]> {
  const response = await fetch(`${paymentUrl}/charges?orderId=${encodeURIComponent(orderId)}`);
  if (response.status !== 200) throw new Error(`GET /charges?orderId=${orderId}: ${response.status}`);
  return ((await response.json()) as { charges: { chargeId: string; status: string }[] }).charges;
}

/** How many CAPTURED charges payment's ledger holds for each order (`GET /charges?orderId=`, a few at a time). */
export async function capturesByOrder(paymentUrl: string, orderIds: readonly string[]): Promise<Map<string, number>> {
  const result = new Map<string, number>();
  for (let i = 0; i < orderIds.length; i += 20) {
    const batch = orderIds.slice(i, i + 20);
    const counts = await Promise.all(batch.map(async (id) => (await chargesOf(paymentUrl, id)).filter((c) => c.status === 'CAPTURED').length));
    batch.forEach((id, n) => result.set(id, counts[n]!));
  }
  return result;
}

export interface RunningCheckout {
  checkout: Checkout;
  running: RunningService;
  url: string;
  /** Its DATA_DIR (the journal). */
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * Checkout on port 0. With `connectionName`, on a broker connection of its own under that name
 * (so that a test can close it from the broker side without touching anyone else's); closed by `stop`.
 * `shutdownTimeoutMs` (default 1 s) is how long its drain lets requests in flight finish;
 * `dataDir`: the DATA_DIR of a stopped instance to start on (it resumes that journal's repairs).
 */
export async function startCheckout(
  config: CheckoutConfig,
  logger?: Logger,
  options: { connectionName?: string; shutdownTimeoutMs?: number; dataDir?: string } = {},
): Promise<RunningCheckout> {
  const own = options.connectionName === undefined ? undefined : await connectBroker(config, options.connectionName);
  // Each instance its own journal (a second instance, as in a hand-over, must not share it) —
  // unless told to take over a stopped one's (`dataDir`, left to its owner to remove).
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'checkout-data-'));
  const checkout = await createCheckout({ ...config, DATA_DIR: dataDir }, { ...(logger ? { logger } : {}), ...(own ? { connection: own } : {}) });
  await waitFor(() => checkout.connection.isReady, { message: 'checkout connected to RabbitMQ' });
  const running = await start(checkout.service, { port: 0, shutdownTimeoutMs: options.shutdownTimeoutMs ?? 1_000 });
  return {
    checkout,
    running,
    url: running.url,
    dataDir,
    async stop() {
      if (checkout.connection.isReady) await checkout.connection.deleteTopology().catch(() => {});
      await running.shutdown();
      await own?.close({ timeoutMs: 1_000 });
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type { RunningWorker };

/** A payment-retry worker as `npm run worker` builds it (prefetch 5): its own connection and clients. */
export function startWorker(
  config: CheckoutConfig,
  logger: Logger = createLogger({ service: 'checkout-worker', level: 'silent' }),
  connectionName = `root-suite-worker-${config.AMQP_PREFIX}`,
): Promise<RunningWorker> {
  return createWorker(config, { logger, connectionName, prefetch: 5 });
}

/** Closes, from the broker side, the connection whose client property connection_name is `name` (only that one). */
export async function closeConnectionFromBroker(name: string): Promise<void> {
  const run = promisify(execFile);
  const { stdout } = await run('rabbitmqctl', ['list_connections', '-q', '--no-table-headers', 'pid', 'client_properties']);
  const line = stdout.split('\n').find((l) => l.includes(`{"connection_name","${name}"}`));
  if (!line) throw new Error(`no broker connection named ${name}`);
  await run('rabbitmqctl', ['close_connection', line.split('\t')[0]!, 'closed by the root chaos suite']);
}

/** `PUT /admin/faults` on a stub (with this world's admin token); `{}` heals it. */
export async function putFaults(serviceUrl: string, settings: object): Promise<void> {
  const response = await fetch(`${serviceUrl}/admin/faults`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(settings),
  });
  if (response.status !== 200) throw new Error(`PUT ${serviceUrl}/admin/faults ${JSON.stringify(settings)}: ${response.status} ${await response.text()}`);
}
