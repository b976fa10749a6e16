/**
 * The component tests' world: the four real stubs and checkout in this process on port 0,
 * the real RabbitMQ under a prefix of this run's own (deleted afterwards).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInventoryApp, type InventoryApp, configSchema as inventorySchema } from '@checkout/inventory';
import { connect, type MessagingConnection } from '@checkout/messaging';
import { createNotificationApp, type NotificationApp, configSchema as notificationSchema } from '@checkout/notification';
import { createPaymentApp, type PaymentApp, configSchema as paymentSchema } from '@checkout/payment';
import { createLogger, faultSettingsSchema, loadConfig, type RunningService, start } from '@checkout/service-kit';
import { createShippingApp, type ShippingApp, configSchema as shippingSchema } from '@checkout/shipping';
import { createCheckout, type Checkout, createWorker, type RunningWorker } from '../app';
import { type CheckoutConfig, configSchema } from '../config';
import { waitFor as pollUntil } from '../../../../shared/messaging/src/testing/harness';

export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const ADMIN_TOKEN = 'checkout-test-admin-token';
const stubEnv = { NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '0', FAULTS_ENABLED: 'true', ADMIN_TOKEN };

/** Polls until `probe` returns something truthy (the messaging harness's poller, with checkout's longer defaults). */
export function waitFor<T>(probe: () => T | Promise<T>, options: { timeoutMs?: number; intervalMs?: number; message?: string } = {}): Promise<NonNullable<T>> {
  return pollUntil(probe, { timeoutMs: 10_000, intervalMs: 20, ...options });
}

/** A clock that moves only when told (the stock cache's age). */
export class ManualClock {
  constructor(private ms = Date.now()) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface Stubs {
  payment: PaymentApp;
  inventory: InventoryApp;
  shipping: ShippingApp;
  notification: NotificationApp;
  running: RunningService[];
  urls: { PAYMENT_URL: string; INVENTORY_URL: string; SHIPPING_URL: string; NOTIFICATION_URL: string };
}

export async function startStubs(): Promise<Stubs> {
  const payment = createPaymentApp({ config: loadConfig(paymentSchema, stubEnv) });
  // WEBCAM-HD has no stock, MON-27-4K little: the 409 cases.
  const inventory = createInventoryApp({ config: loadConfig(inventorySchema, { ...stubEnv, INITIAL_STOCK: '1000', INITIAL_STOCK_BY_SKU: 'WEBCAM-HD=0,MON-27-4K=3' }) });
  const shipping = createShippingApp({ config: loadConfig(shippingSchema, stubEnv) });
  const notification = createNotificationApp({ config: loadConfig(notificationSchema, stubEnv) });
  const running = await Promise.all([payment, inventory, shipping, notification].map((app) => start(app.service, { port: 0, shutdownTimeoutMs: 500 })));
  const [p, i, s, n] = running as [RunningService, RunningService, RunningService, RunningService];
  return { payment, inventory, shipping, notification, running, urls: { PAYMENT_URL: p.url, INVENTORY_URL: i.url, SHIPPING_URL: s.url, NOTIFICATION_URL: n.url } };
}

/** Sets faults on a stub (the same settings as PUT /admin/faults); `{}` clears them. */
export function setFaults(app: { service: { faults: { set(settings: never): void } | undefined } }, settings: Record<string, unknown>): void {
  const faults = app.service.faults;
  if (faults === undefined) throw new Error('faults are not enabled on this stub');
  (faults.set as (settings: unknown) => void)(faultSettingsSchema.parse(settings));
}

export function checkoutConfig(stubs: Stubs, env: Record<string, string> = {}): CheckoutConfig {
  return loadConfig(configSchema, {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PORT: '0',
    AMQP_URL,
    AMQP_PREFIX: `test-checkout-${process.pid}-${randomBytes(3).toString('hex')}.`,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'checkout-data-')),
    RATE_LIMIT_PER_MINUTE: '1000000',
    RETRY_TIERS: '100ms,200ms',
    RETRY_MAX_ATTEMPTS: '10',
    PUBLISH_CONFIRM_TIMEOUT_MS: '2000',
    PAYMENT_TIMEOUT_MS: '400',
    PAYMENT_SLOW_CALL_MS: '300',
    ...stubs.urls,
    ...env,
  });
}

export interface RunningCheckout {
  checkout: Checkout;
  running: RunningService;
  url: string;
  stop(): Promise<void>;
}

/**
 * Deletes a run's queues and exchanges from a connection of its own, after everything using them
 * stopped (a live connection would declare them again when it notices they are gone).
 */
export async function deleteTopologyOf(config: CheckoutConfig): Promise<void> {
  let connection: MessagingConnection | undefined;
  try {
    connection = await connect(config.AMQP_URL, {
      prefix: config.AMQP_PREFIX,
      tiers: config.RETRY_TIERS,
      declareTopology: false,
      connectTimeoutMs: 1_000,
      signal: AbortSignal.timeout(2_000),
      connectionName: `${config.AMQP_PREFIX}cleanup`,
    });
    await connection.deleteTopology();
  } catch {
    // No broker at this URL (the tests of a missing broker): nothing was declared.
  } finally {
    await connection?.close({ timeoutMs: 1_000 });
  }
}

export async function startCheckout(config: CheckoutConfig, options: { clock?: () => number } = {}): Promise<RunningCheckout> {
  const checkout = await createCheckout(config, options);
  const running = await start(checkout.service, { port: 0, shutdownTimeoutMs: 1_000 });
  return {
    checkout,
    running,
    url: running.url,
    async stop() {
      await running.shutdown();
      await deleteTopologyOf(config);
    },
  };
}

export type { RunningWorker };

/** A worker as `npm run worker` builds it (prefetch 5). */
export function startWorker(config: CheckoutConfig): Promise<RunningWorker> {
  return createWorker(config, { logger: silentLogger(), connectionName: 'checkout-worker-test', prefetch: 5 });
}

function silentLogger() {
  return createLogger({ service: 'checkout-worker', level: 'silent' });
}

export const ADDRESS = { name: 'Ada Lovelace', line1: '12 Analytical Row', city: 'London', postalCode: 'N1 9GU', country: 'GB' };

export function order(items: { sku: string; quantity: number }[], paymentToken = 'tok_visa'): Record<string, unknown> {
  return { customerId: 'cust-1', items, paymentToken, shippingAddress: ADDRESS };
}
