import { boolVar, defineConfigSchema, intVar, portVar, rateVar } from '@checkout/service-kit';
import { z } from 'zod';

export const SERVICE_NAME = 'checkout';

const url = z.url();
const ms = (max = 600_000) => intVar(1, max);

/**
 * Checkout's variables on top of the kit's base (LOG_LEVEL, SHUTDOWN_*, …).
 *
 * Every dependency has its own deadline, slow-call threshold and open period: the
 * document's "same timeout everywhere" waits 30 s for a notification and trips the
 * payment breaker only on errors, never on slowness. The defaults (why, per line):
 *
 * - inventory: a fast in-memory read/reserve (p99 ≈ tens of ms) on the critical path of
 *   every order → 800 ms deadline, slow above 300 ms, short 10 s open period (it is
 *   usually back quickly, and stale cache covers reads meanwhile).
 * - payment: a card authorisation legitimately takes longer (p99 ≈ 1-2 s at real PSPs)
 *   → 2 500 ms deadline, slow above 1 500 ms, 30 s open period (a PSP outage lasts);
 *   a failure here is not fatal (the order goes to the retry queue), so we prefer
 *   failing fast over holding the client.
 * - shipping: not needed for the answer to be right (deferred on failure) → 1 000 ms.
 * - notification: fire-and-forget, off the response path; it may be slow without
 *   hurting anyone, but a hung one must not pile up sockets → 2 000 ms, small bulkhead.
 *
 * Slow calls count (`*_SLOW_CALL_MS`, slow-call rate 0.5): a dependency that answers in
 * 90 % of its deadline is as bad for our latency as one that fails.
 */
export const configSchema = defineConfigSchema({
  PORT: portVar(3000),
  AMQP_URL: url.default('amqp://guest:guest@127.0.0.1:5672'),
  /** Prefix of every exchange/queue name (tests use their own). */
  AMQP_PREFIX: z.string().max(200).default(''),
  /** Delay tiers of the payment-retry queue, comma-separated durations. */
  RETRY_TIERS: z
    .string()
    .default('5s,30s,2m')
    .transform((value) => value.split(',').map((tier) => tier.trim()).filter((tier) => tier.length > 0)),
  /** Transient failures the worker retries before parking (attempts = this + 1). */
  RETRY_MAX_ATTEMPTS: intVar(0, 100).default(3),
  /** How long checkout waits for the broker's confirm before answering 503. */
  PUBLISH_CONFIRM_TIMEOUT_MS: ms(60_000).default(2_000),

  INVENTORY_URL: url.default('http://127.0.0.1:3002'),
  PAYMENT_URL: url.default('http://127.0.0.1:3001'),
  SHIPPING_URL: url.default('http://127.0.0.1:3003'),
  NOTIFICATION_URL: url.default('http://127.0.0.1:3004'),

  INVENTORY_TIMEOUT_MS: ms().default(800),
  INVENTORY_SLOW_CALL_MS: ms().default(300),
  INVENTORY_OPEN_MS: ms().default(10_000),
  INVENTORY_MAX_CONCURRENT: intVar(1, 10_000).default(50),

  PAYMENT_TIMEOUT_MS: ms().default(2_500),
  PAYMENT_SLOW_CALL_MS: ms().default(1_500),
  PAYMENT_OPEN_MS: ms().default(30_000),
  PAYMENT_MAX_CONCURRENT: intVar(1, 10_000).default(30),

  SHIPPING_TIMEOUT_MS: ms().default(1_000),
  SHIPPING_SLOW_CALL_MS: ms().default(500),
  SHIPPING_OPEN_MS: ms().default(20_000),
  SHIPPING_MAX_CONCURRENT: intVar(1, 10_000).default(20),

  NOTIFICATION_TIMEOUT_MS: ms().default(2_000),
  NOTIFICATION_SLOW_CALL_MS: ms().default(1_000),
  NOTIFICATION_OPEN_MS: ms().default(60_000),
  NOTIFICATION_MAX_CONCURRENT: intVar(1, 10_000).default(10),

  /** Count window of every breaker, and the calls needed before it judges. */
  BREAKER_WINDOW_SIZE: intVar(1, 10_000).default(20),
  BREAKER_MINIMUM_CALLS: intVar(1, 10_000).default(10),
  BREAKER_FAILURE_RATE: rateVar().default(0.5),
  BREAKER_SLOW_CALL_RATE: rateVar().default(0.5),
  /** `BREAKERS=off` runs with every breaker disabled (the load tests' "before" side). */
  BREAKERS: z.enum(['on', 'off']).default('on'),

  /** How long a stock level stays in the cache for the fallback (it is refreshed on every read). */
  STOCK_CACHE_TTL_SECONDS: intVar(1, 86_400).default(300),
  /**
   * Where checkout keeps what a restart must not lose (Idempotency-Keys and their answers, why
   * orders failed, repairs still to do): `checkout.journal` in this directory, created if
   * missing. One checkout process per directory.
   */
  DATA_DIR: z.string().min(1).default('data'),
  /**
   * POST /checkout per client address and minute (429 with Retry-After beyond it). A person
   * places a few orders an hour; 6 000 leaves room for a shop's backend on one address and for
   * the default load runs (30/s). The load tool's own system sets it out of the way.
   */
  RATE_LIMIT_PER_MINUTE: intVar(1, 100_000_000).default(6_000),
  /** How long an Idempotency-Key is remembered. */
  IDEMPOTENCY_TTL_SECONDS: intVar(1, 7 * 86_400).default(86_400),
  WORKER_PREFETCH: intVar(1, 1_000).default(10),
});

export type CheckoutConfig = z.output<typeof configSchema>;
