import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { isBulkheadFullError, isCircuitOpenError, isTimeoutError } from '@checkout/breaker';
import { isConnectionLostError, isPublishTimeoutError } from '@checkout/messaging';
import { getRequestId, isUpstreamError, type Journal, type Logger } from '@checkout/service-kit';
import NodeCache from 'node-cache';
import { ContractError, type InventoryClient, type Reservation } from './clients/inventory';
import type { NotificationClient } from './clients/notification';
import type { PaymentClient } from './clients/payment';
import type { ShipmentRequest, ShippingClient } from './clients/shipping';
import type { CheckoutAnswer, CheckoutRequest, OrderStatus, RetryMessage } from './model';
import type { Orders } from './orders';

/** Publishes to the payment-retry queue; resolves only once the broker confirmed. */
export interface RetryPublisher {
  publish(message: RetryMessage): Promise<void>;
}

export interface CachedStock {
  available: number;
  /** When inventory said so (ms, the flow's clock). */
  at: number;
}

/**
 * Last known stock per SKU (node-cache). Written on every successful read; read only when
 * inventory cannot be asked. `checkperiod: 0`: no interval timer, expired entries go on read.
 */
export class StockCache {
  private readonly cache: NodeCache;
  constructor(ttlSeconds: number) {
    this.cache = new NodeCache({ stdTTL: ttlSeconds, checkperiod: 0, useClones: false });
  }
  get(sku: string): CachedStock | undefined {
    return this.cache.get<CachedStock>(sku);
  }
  set(sku: string, stock: CachedStock): void {
    this.cache.set(sku, stock);
  }
  close(): void {
    this.cache.close();
  }
}

export interface CheckoutDeps {
  inventory: InventoryClient;
  payment: PaymentClient;
  shipping: ShippingClient;
  notification: NotificationClient;
  retryQueue: RetryPublisher;
  orders: Orders;
  stockCache: StockCache;
  logger: Logger;
  /** Where repairs still to be done are kept across a restart (none: this process's memory only). */
  journal?: Journal;
  clock?: () => number;
  newOrderId?: () => string;
}

/** Work checkout finishes off the response path, retried until done; journaled, so a restart resumes it. */
export type Repair =
  | { kind: 'release'; orderId: string; reservationId: string }
  | { kind: 'orphan release'; orderId: string }
  | { kind: 'shipment'; orderId: string; shipment: ShipmentRequest }
  /** An accepted order's payment message, published (again) until the broker confirms it. */
  | { kind: 'publish'; orderId: string; message: RetryMessage };

const REPAIR = 'repair:';

/** Why a dependency call failed, in words fit for a warning (no internals, no data). */
export function describeFailure(error: unknown): string {
  if (isCircuitOpenError(error)) return `circuit open, retry in ${Math.ceil(error.retryAfterMs / 1000)} s`;
  if (isTimeoutError(error)) return `no answer within ${error.timeoutMs} ms`;
  if (isBulkheadFullError(error)) return 'too many calls in flight';
  if (isUpstreamError(error)) return error.status !== undefined ? `answered ${error.status}` : `connection failed (${error.code ?? 'network error'})`;
  return 'unexpected error';
}

/** An order's items with each SKU once, in a stable order (what inventory reserves). */
export function combineItems(items: readonly { sku: string; quantity: number }[]): { sku: string; quantity: number }[] {
  const quantities = new Map<string, number>();
  for (const { sku, quantity } of items) quantities.set(sku, (quantities.get(sku) ?? 0) + quantity);
  return [...quantities].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([sku, quantity]) => ({ sku, quantity }));
}

type StockVerdict = { ok: true } | { ok: false; answer: CheckoutAnswer };

/**
 * The checkout flow (handbook, "Data flow of one checkout"):
 * 1. stock: read through inventory's breaker (cached); when inventory cannot answer, the cached
 *    level with its age as a warning; refused when the cache says it is gone; refused with 503
 *    when nothing is cached (we never guess stock: the document's "optimistic" answer oversells);
 * 2. reservation through inventory's breaker: it is the authority on stock and gives the prices;
 *    404/409 are business answers passed through;
 * 3. payment with the order id as idempotency key: decline → 402 and the reservation released;
 *    payment unavailable → queued (confirmed) → 202; queue unavailable too → released, 503;
 * 4. shipping for a paid order; deferred to the worker when shipping fails (the order stays paid);
 * 5. notification, fire-and-forget.
 */
/** Waits before each new copy of a payment message whose confirm was lost: about 2 s in all. */
const REPUBLISH_DELAYS_MS = [100, 200, 300, 400, 500, 500];

export class CheckoutFlow {
  private readonly clock: () => number;
  private readonly newOrderId: () => string;
  private readonly background = new Set<Promise<void>>();
  private readonly stopping = new AbortController();

  constructor(private readonly deps: CheckoutDeps) {
    // Every repair waiting out its delay listens on it: hundreds at once in an outage, by design.
    setMaxListeners(0, this.stopping.signal);
    this.clock = deps.clock ?? Date.now;
    this.newOrderId = deps.newOrderId ?? (() => `ord_${randomUUID()}`);
  }

  /** A new order id (the id `place` uses unless given one). */
  orderIdFor(): string {
    return this.newOrderId();
  }

  async place(request: CheckoutRequest, orderId = this.newOrderId()): Promise<CheckoutAnswer> {
    const warnings: string[] = [];
    const items = combineItems(request.items);
    const { logger } = this.deps;

    // 1. Stock, every SKU at once.
    const verdicts = await Promise.all(items.map((item) => this.checkStock(orderId, item, warnings)));
    const refused = verdicts.find((verdict): verdict is Extract<StockVerdict, { ok: false }> => !verdict.ok);
    if (refused) return refused.answer;

    // 2. Reservation.
    let reservation: Reservation;
    try {
      const answer = await this.deps.inventory.reserve(orderId, items);
      switch (answer.kind) {
        case 'reserved':
          reservation = answer.reservation;
          break;
        case 'unknown_sku':
          return reject(404, orderId, 'UNKNOWN_SKU', answer.message, warnings, { details: answer.details });
        case 'out_of_stock':
          this.learnShortage(answer.details);
          return reject(409, orderId, 'OUT_OF_STOCK', answer.message, warnings, { details: answer.details });
        case 'conflict':
          return reject(409, orderId, 'ORDER_CONFLICT', answer.message, warnings);
      }
    } catch (error) {
      if (error instanceof ContractError) throw error;
      logger.warn('reservation failed: inventory unavailable', { orderId, error });
      // The reservation may have been made before the answer was lost: give it back in the background.
      this.releaseOrphan(orderId);
      return reject(503, orderId, 'INVENTORY_UNAVAILABLE', 'Stock cannot be reserved right now; nothing was reserved or charged', [
        ...warnings,
        `inventory: ${describeFailure(error)}`,
      ]);
    }

    const money = { total: reservation.total, currency: reservation.currency };
    const message: RetryMessage = {
      kind: 'payment',
      orderId,
      customerId: request.customerId,
      reservationId: reservation.reservationId,
      amount: reservation.total,
      currency: reservation.currency,
      paymentToken: request.paymentToken,
      items,
      shippingAddress: request.shippingAddress,
    };
    this.deps.orders.record({ orderId, status: 'PENDING_PAYMENT', reservationId: reservation.reservationId, ...money, warnings: [] });

    // 3. Payment.
    let chargeId: string;
    try {
      const answer = await this.deps.payment.charge({
        orderId,
        customerId: request.customerId,
        amount: reservation.total,
        currency: reservation.currency,
        paymentToken: request.paymentToken,
      });
      if (answer.kind === 'declined') {
        const released = await this.release(reservation.reservationId, orderId, warnings);
        this.deps.orders.record({ orderId, status: 'FAILED', reason: 'PAYMENT_DECLINED', reservationId: reservation.reservationId, ...money, warnings: [] });
        this.deps.notification.notify({ orderId, customerId: request.customerId, type: 'ORDER_FAILED' });
        return {
          httpStatus: 402,
          body: { orderId, status: 'FAILED', error: 'PAYMENT_DECLINED', message: 'The payment was declined', reason: answer.reason, stockReleased: released, warnings, ...money },
        };
      }
      chargeId = answer.charge.chargeId;
    } catch (error) {
      if (error instanceof ContractError) {
        await this.release(reservation.reservationId, orderId, warnings);
        this.deps.orders.record({ orderId, status: 'FAILED', reason: 'PAYMENT_REFUSED', ...money, warnings: [] });
        throw error;
      }
      const deferred = await this.deferPayment(message, error, warnings, money);
      if ('httpStatus' in deferred) return deferred;
      chargeId = deferred.chargeId;
    }
    this.deps.orders.record({ orderId, status: 'PAID', reservationId: reservation.reservationId, chargeId, ...money, warnings: [] });

    // 4. Shipping, only for a paid order.
    let status: OrderStatus = 'PAID';
    let shipmentId: string | undefined;
    try {
      const shipment = await this.deps.shipping.schedule({ orderId, address: request.shippingAddress, items });
      shipmentId = shipment.shipmentId;
      status = 'SHIPPING_SCHEDULED';
    } catch (error) {
      logger.warn('shipping not scheduled: deferring to the worker', { orderId, error });
      this.deps.shipping.breaker.recordFallback(error);
      try {
        await this.deps.retryQueue.publish({ ...message, kind: 'shipping' });
        warnings.push(`shipping: ${describeFailure(error)}; the shipment will be scheduled later`);
      } catch (publishError) {
        logger.error('shipping could not be deferred', { orderId, error: publishError });
        // Neither shipping nor the queue: keep trying from here (the order is paid, it must ship).
        this.repair({ kind: 'shipment', orderId, shipment: { orderId, address: request.shippingAddress, items } });
        warnings.push(`shipping: ${describeFailure(error)}; the shipment will be scheduled later`);
      }
    }
    this.deps.orders.record({ orderId, status, reservationId: reservation.reservationId, chargeId, ...(shipmentId ? { shipmentId } : {}), ...money, warnings: [] });

    // 5. Notification: never on the response path.
    this.deps.notification.notify({ orderId, customerId: request.customerId, type: 'ORDER_CONFIRMED' });
    logger.info('order placed', { orderId, status, total: money.total });
    return { httpStatus: 201, body: { orderId, status, warnings, ...money, chargeId, ...(shipmentId ? { shipmentId } : {}) } };
  }

  /**
   * An order whose request was cut short by the end of an earlier checkout process (its
   * Idempotency-Key was journaled, its answer was not): nobody was told anything about it. A
   * captured charge means it stands: it is shipped and answered 201. Otherwise it is undone:
   * its stock released (the worker skips any queued copy of its payment once it is), and
   * answered 503 so that the client's retry with the same key places it again. Keeps asking
   * until inventory and payment answer; the replays of the key wait for this answer.
   */
  async recover(orderId: string, request: CheckoutRequest): Promise<CheckoutAnswer> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.settleInterrupted(orderId, request);
      } catch (error) {
        this.deps.logger.warn('interrupted order not settled yet', { orderId, attempt, error });
        await sleep(Math.min(10_000, 200 * 2 ** attempt), undefined, { signal: this.stopping.signal, ref: false });
      }
    }
  }

  private async settleInterrupted(orderId: string, request: CheckoutRequest): Promise<CheckoutAnswer> {
    const { inventory, payment, shipping, notification, orders, logger } = this.deps;
    const [reservations, charges] = await Promise.all([inventory.reservationsOf(orderId), payment.chargesOf(orderId)]);
    const reservation = reservations[0];
    const money = reservation ? { total: reservation.total, currency: reservation.currency } : {};
    const captured = charges.find((charge) => charge.status === 'CAPTURED');
    const warnings: string[] = [];
    if (captured) {
      const shipment: ShipmentRequest = { orderId, address: request.shippingAddress, items: combineItems(request.items) };
      let status: OrderStatus = 'PAID';
      let shipmentId: string | undefined;
      try {
        shipmentId = (await shipping.schedule(shipment)).shipmentId; // shipping returns the order's shipment if it exists
        status = 'SHIPPING_SCHEDULED';
      } catch (error) {
        shipping.breaker.recordFallback(error);
        this.repair({ kind: 'shipment', orderId, shipment });
        warnings.push(`shipping: ${describeFailure(error)}; the shipment will be scheduled later`);
      }
      orders.record({ orderId, status, chargeId: captured.chargeId, ...(shipmentId ? { shipmentId } : {}), ...money, warnings: [] });
      notification.notify({ orderId, customerId: request.customerId, type: 'ORDER_CONFIRMED' });
      logger.info('interrupted order recovered: it was paid', { orderId, status });
      return { httpStatus: 201, body: { orderId, status, warnings, ...money, chargeId: captured.chargeId, ...(shipmentId ? { shipmentId } : {}) } };
    }
    for (const held of reservations.filter((r) => r.status === 'HELD')) await inventory.release(held.reservationId);
    const declined = charges.find((charge) => charge.status === 'DECLINED');
    if (declined) {
      orders.record({ orderId, status: 'FAILED', reason: 'PAYMENT_DECLINED', ...money, warnings: [] });
      logger.info('interrupted order recovered: it was declined', { orderId });
      return {
        httpStatus: 402,
        body: { orderId, status: 'FAILED', error: 'PAYMENT_DECLINED', message: 'The payment was declined', reason: declined.reason ?? 'declined', stockReleased: true, warnings, ...money },
      };
    }
    orders.record({ orderId, status: 'FAILED', reason: 'INTERRUPTED: checkout stopped before answering; nothing was charged', ...money, warnings: [] });
    logger.info('interrupted order undone: nothing was charged, its stock is released', { orderId });
    return reject(503, orderId, 'ORDER_INTERRUPTED', 'Checkout stopped while placing this order; nothing was charged and no stock is held. Retry with the same key.', warnings);
  }

  /** Payment is unavailable: queue the charge (confirmed) → 202, or give the stock back → 503. */
  private async deferPayment(
    message: RetryMessage,
    error: unknown,
    warnings: string[],
    money: { total: number; currency: string },
  ): Promise<CheckoutAnswer | { chargeId: string }> {
    const { orderId } = message;
    const { logger } = this.deps;
    // While the circuit is open every order comes here: the opening was logged once (the
    // breaker's state change); one line per order would only repeat it.
    if (isCircuitOpenError(error)) logger.debug('payment circuit open: queueing the charge', { orderId });
    else logger.warn('payment unavailable: queueing the charge', { orderId, error });
    try {
      await this.deps.retryQueue.publish(message);
    } catch (firstError) {
      const publishError = await this.republishIfHeld(message, firstError);
      if (publishError === undefined) return this.queued(message, error, warnings, money);
      // A call that reached payment (timeout, reset) may have captured before its answer was lost,
      // and so may the worker from a copy the broker held: ask before telling the customer "nothing charged".
      const reachedPayment = !isCircuitOpenError(error) && !isBulkheadFullError(error);
      const captured = reachedPayment || mayBeHeld(firstError) ? await this.findCapture(orderId) : undefined;
      if (captured !== undefined) {
        logger.warn('payment answered late: the charge went through', { orderId });
        return { chargeId: captured };
      }
      if (mayBeHeld(firstError)) {
        // A copy may be in the queue: only a released reservation makes the worker skip it. If the
        // stock cannot be given back now, "nothing charged" cannot be promised: the order is kept
        // instead, in the journal (checkout's outbox), and published from there until confirmed.
        try {
          await this.deps.inventory.release(message.reservationId);
        } catch (releaseError) {
          logger.warn('confirm lost and stock not releasable: the order is kept and its payment queued from the journal', { orderId, error: releaseError });
          this.repair({ kind: 'publish', orderId, message });
          return this.queued(message, error, warnings, money, 'the payment will be queued as soon as the retry queue confirms it');
        }
      } else {
        await this.release(message.reservationId, orderId, warnings);
      }
      logger.error('payment could not be queued: the reservation is released', { orderId, error: publishError });
      this.deps.orders.record({ orderId, status: 'FAILED', reason: 'NOT_ACCEPTED: payment and retry queue unavailable', ...money, warnings: [] });
      return reject(503, orderId, 'PAYMENT_UNAVAILABLE', 'Payment is unavailable and could not be queued; nothing was charged', [
        ...warnings,
        `payment: ${describeFailure(error)}`,
        'retry-queue: unavailable',
      ]);
    }
    return this.queued(message, error, warnings, money);
  }

  /**
   * A publish whose confirm was lost (confirm timeout, connection dropped after sending) may
   * still be held by the broker, and the worker would charge it: answering 503 "nothing charged"
   * would then be a lie. Publish it again (the same messageId: a second copy is a replay for the
   * worker) while the connection comes back, so the answer can be an honest 202. Resolves to the
   * error that stands, or undefined once a copy is confirmed. Should every copy fail, the worker
   * still never charges it: checkout releases the reservation, and the worker skips an order
   * whose reservation was released.
   */
  private async republishIfHeld(message: RetryMessage, error: unknown): Promise<unknown> {
    if (!mayBeHeld(error)) return error;
    let last = error;
    for (const delayMs of REPUBLISH_DELAYS_MS) {
      await sleep(delayMs, undefined, { ref: false });
      try {
        await this.deps.retryQueue.publish(message);
        this.deps.logger.info('payment queued on a second try after a lost confirm', { orderId: message.orderId });
        return undefined;
      } catch (again) {
        last = again;
      }
    }
    return last;
  }

  private queued(message: RetryMessage, error: unknown, warnings: string[], money: { total: number; currency: string }, how = 'the payment is queued and will be retried'): CheckoutAnswer {
    const { orderId } = message;
    this.deps.payment.breaker.recordFallback(error);
    this.deps.orders.record({ orderId, status: 'PENDING_PAYMENT', reservationId: message.reservationId, ...money, warnings: [] });
    this.deps.notification.notify({ orderId, customerId: message.customerId, type: 'PAYMENT_PENDING' });
    return {
      httpStatus: 202,
      body: {
        orderId,
        status: 'PENDING_PAYMENT',
        warnings: [...warnings, `payment: ${describeFailure(error)}; ${how}`],
        ...money,
      },
    };
  }

  private async checkStock(orderId: string, item: { sku: string; quantity: number }, warnings: string[]): Promise<StockVerdict> {
    const { inventory, stockCache } = this.deps;
    try {
      const answer = await inventory.stock(item.sku);
      if (answer.kind === 'unknown_sku') {
        return { ok: false, answer: reject(404, orderId, 'UNKNOWN_SKU', `Unknown SKU: ${item.sku}`, warnings, { details: { skus: [item.sku] } }) };
      }
      stockCache.set(item.sku, { available: answer.stock.available, at: this.clock() });
      if (answer.stock.available < item.quantity) return { ok: false, answer: outOfStock(orderId, item, answer.stock.available, warnings) };
      return { ok: true };
    } catch (error) {
      const cached = stockCache.get(item.sku);
      if (cached === undefined) {
        // No cached level: we do not guess (the document answered "available: true" here and oversold).
        return {
          ok: false,
          answer: reject(503, orderId, 'INVENTORY_UNAVAILABLE', 'Stock cannot be checked right now; nothing was reserved or charged', [
            ...warnings,
            `inventory: ${describeFailure(error)}; no cached stock for ${item.sku}`,
          ]),
        };
      }
      inventory.breaker.recordFallback(error);
      const ageSeconds = Math.max(0, Math.round((this.clock() - cached.at) / 1000));
      warnings.push(`inventory: ${describeFailure(error)}; stock of ${item.sku} from cache, ${ageSeconds} s old`);
      if (cached.available < item.quantity) return { ok: false, answer: outOfStock(orderId, item, cached.available, warnings) };
      return { ok: true };
    }
  }

  /** A 409 from inventory tells the current level: keep it so the fallback does not sell it again. */
  private learnShortage(details: unknown): void {
    const shortages = (details as { shortages?: unknown } | undefined)?.shortages;
    if (!Array.isArray(shortages)) return;
    for (const shortage of shortages as { sku?: unknown; available?: unknown }[]) {
      if (typeof shortage.sku === 'string' && typeof shortage.available === 'number') {
        this.deps.stockCache.set(shortage.sku, { available: shortage.available, at: this.clock() });
      }
    }
  }

  /** The captured charge of an order, if payment can tell right now. */
  private async findCapture(orderId: string): Promise<string | undefined> {
    try {
      return (await this.deps.payment.chargesOf(orderId)).find((charge) => charge.status === 'CAPTURED')?.chargeId;
    } catch {
      return undefined;
    }
  }

  /**
   * Gives a reservation back; true when done. When inventory cannot be reached the release is
   * retried in the background (the answer says so in a warning): refused orders hold no stock.
   */
  private async release(reservationId: string, orderId: string, warnings: string[]): Promise<boolean> {
    try {
      await this.deps.inventory.release(reservationId);
      return true;
    } catch (error) {
      this.deps.logger.warn('reservation not released yet: retrying in the background', { orderId, reservationId, error });
      this.repair({ kind: 'release', orderId, reservationId });
      warnings.push(`inventory: ${describeFailure(error)}; the reserved stock will be released shortly`);
      return false;
    }
  }

  /** A reservation may have been made although its answer was lost: find it and give it back. */
  private releaseOrphan(orderId: string): void {
    this.repair({ kind: 'orphan release', orderId }, 500);
  }

  private async runRepair(repair: Repair): Promise<void> {
    switch (repair.kind) {
      case 'release':
        return this.deps.inventory.release(repair.reservationId);
      case 'orphan release':
        for (const reservation of await this.deps.inventory.reservationsOf(repair.orderId)) {
          if (reservation.status === 'HELD') await this.deps.inventory.release(reservation.reservationId);
        }
        return;
      case 'shipment':
        await this.deps.shipping.schedule(repair.shipment);
        return;
      case 'publish':
        return this.deps.retryQueue.publish(repair.message);
    }
  }

  /** Repairs journaled by an earlier process that did not get to finish them: run them now. */
  resumeRepairs(): number {
    const journal = this.deps.journal;
    if (!journal) return 0;
    let resumed = 0;
    for (const [key, repair] of [...journal.list<Repair>(REPAIR)]) {
      resumed += 1;
      this.deps.logger.info(`resuming a ${repair.kind} left by an earlier run`, { orderId: repair.orderId });
      this.retryInBackground(repair, key);
    }
    return resumed;
  }

  private repair(repair: Repair, firstDelayMs = 0): void {
    const key = `${REPAIR}${randomUUID()}`;
    this.deps.journal?.set(key, repair);
    this.retryInBackground(repair, key, firstDelayMs);
  }

  /**
   * Runs a repair off the response path until it succeeds: waits of 0.2 s growing to 10 s, about
   * a minute in all (the breakers make the attempts against a dead dependency cheap); then it
   * logs an error and gives up — except a payment to publish, the only record of an accepted
   * order, which is tried every 10 s for as long as it takes. `drain()` lets these finish at
   * shutdown; one cut short stays in the journal and the next start resumes it.
   */
  private retryInBackground(repair: Repair, key: string, firstDelayMs = 0): void {
    const first = [firstDelayMs, 200, 500, 1_000, 2_000, 5_000];
    const schedule = repair.kind === 'publish' ? endless(first, 10_000) : [...first, 10_000, 10_000, 10_000, 10_000, 10_000];
    const { orderId, kind } = repair;
    const run = (async () => {
      let last: unknown;
      for (const delay of schedule) {
        if (delay > 0) await sleep(delay, undefined, { signal: this.stopping.signal, ref: false });
        try {
          await this.runRepair(repair);
          this.deps.journal?.delete(key);
          this.deps.logger.info(`${kind} done in the background`, { orderId });
          return;
        } catch (error) {
          last = error;
        }
      }
      this.deps.journal?.delete(key);
      this.deps.logger.error(`${kind} failed for good`, { orderId, error: last });
    })().catch((error: unknown) => {
      this.deps.logger.warn(`${kind} interrupted at shutdown: the next start resumes it`, { orderId, error });
    });
    this.background.add(run);
    void run.finally(() => this.background.delete(run));
  }

  /** Background work in progress (releases, shipments), for tests and shutdown. */
  get pendingBackground(): number {
    return this.background.size;
  }

  /** Lets background work finish until `timeoutMs`, then abandons what is left (logged). */
  async drain(timeoutMs: number): Promise<void> {
    if (this.background.size > 0) {
      const timer = sleep(timeoutMs, undefined, { ref: false }).then(() => 'timeout' as const);
      await Promise.race([Promise.allSettled([...this.background]), timer]);
    }
    this.stopping.abort(new Error('checkout is shutting down'));
  }
}

/** `first`, then `then` for ever. */
function* endless(first: readonly number[], then: number): Generator<number> {
  yield* first;
  for (;;) yield then;
}

/** A publish that failed after the message went out: the broker may hold it. */
function mayBeHeld(publishError: unknown): boolean {
  return isPublishTimeoutError(publishError) || isConnectionLostError(publishError);
}

function reject(httpStatus: number, orderId: string, error: string, message: string, warnings: string[], extra: Record<string, unknown> = {}): CheckoutAnswer {
  return { httpStatus, body: { orderId, status: 'REJECTED', error, message, warnings, ...extra, requestId: getRequestId() } };
}

function outOfStock(orderId: string, item: { sku: string; quantity: number }, available: number, warnings: string[]): CheckoutAnswer {
  return reject(409, orderId, 'OUT_OF_STOCK', `Not enough stock of ${item.sku}: ${item.quantity} requested, ${available} available`, warnings, {
    details: { sku: item.sku, requested: item.quantity, available },
  });
}
