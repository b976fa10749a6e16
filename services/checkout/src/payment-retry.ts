import { type CircuitBreaker, isBulkheadFullError, isCircuitOpenError } from '@checkout/breaker';
import { type DeliveryContext, type MessagingConnection, PermanentError, type RetryingConsumer } from '@checkout/messaging';
import { type Logger, runWithRequestId } from '@checkout/service-kit';
import { describeFailure } from './checkout';
import { ContractError, type InventoryClient } from './clients/inventory';
import type { NotificationClient } from './clients/notification';
import type { PaymentClient } from './clients/payment';
import type { ShippingClient } from './clients/shipping';
import { type RetryMessage, retryMessageSchema } from './model';

export interface PaymentRetryDeps {
  connection: MessagingConnection;
  payment: PaymentClient;
  inventory: InventoryClient;
  shipping: ShippingClient;
  notification: NotificationClient;
  logger: Logger;
  /** Transient failures retried before parking (attempts = maxRetries + 1). */
  maxRetries: number;
  prefetch: number;
}

export interface PaymentRetryWorker {
  readonly consumer: RetryingConsumer<RetryMessage>;
  /** What it did, for tests and logs. */
  readonly counters: { charged: number; declined: number; shipped: number; failed: number; abandoned: number; pausedTimes: number };
  /** Stops taking messages; in-flight ones get until `deadline` (epoch ms; default 10 s from now). */
  close(deadline?: number): Promise<void>;
}

/**
 * The payment-retry worker: finishes orders whose payment (or shipment) checkout had to defer.
 *
 * - Charges with the order id as idempotency key, so a redelivered message, a second worker or a
 *   charge that succeeded before its answer was lost never charges twice (payment replays it).
 * - Has its own payment breaker (its own client). While that breaker is open the consumer is
 *   paused, and resumed when the open period ends (the next charge is a half-open probe):
 *   messages stay in the queue instead of burning their attempts on a known outage.
 * - A call refused by its own open circuit or full bulkhead (the deliveries beyond the half-open
 *   probes) is deferred, not counted as an attempt.
 * - An order whose reservation was released before it was charged (checkout refused it) is
 *   acked without a charge.
 * - A decline is an answer: the reservation is released, the customer told, the message acked.
 * - On the last failed attempt: the reservation is released, the customer told, and the message
 *   is parked (thrown as permanent); the order reads FAILED from then on.
 * - A paid order whose shipment cannot be scheduled is retried (the charge is replayed, not
 *   repeated) and, on the last attempt, parked without releasing anything: it is paid.
 */
export async function startPaymentRetryWorker(deps: PaymentRetryDeps): Promise<PaymentRetryWorker> {
  const { payment, inventory, shipping, notification, logger } = deps;
  const counters = { charged: 0, declined: 0, shipped: 0, failed: 0, abandoned: 0, pausedTimes: 0 };

  const handle = async (message: RetryMessage, context: DeliveryContext): Promise<void> => {
    const { orderId } = message;
    try {
      if (message.kind === 'payment' && (await wasAbandoned(message))) {
        counters.abandoned++;
        logger.warn('order refused before its payment (reservation released): not charging', { orderId, reservationId: message.reservationId });
        return;
      }
      const answer = await payment.charge(
        { orderId, customerId: message.customerId, amount: message.amount, currency: message.currency, paymentToken: message.paymentToken },
        context.signal,
      );
      if (answer.kind === 'declined') {
        counters.declined++;
        await inventory.release(message.reservationId);
        notification.notify({ orderId, customerId: message.customerId, type: 'ORDER_FAILED' });
        logger.info('queued payment declined: reservation released', { orderId });
        return;
      }
      if (message.kind === 'payment') counters.charged++;
    } catch (error) {
      if (notAttempted(error)) throw error; // deferred by the consumer: no attempt used up
      if (error instanceof ContractError || context.isLastAttempt) {
        await giveUp(message, error);
        throw new PermanentError(`order ${orderId}: payment not completed (${describeFailure(error)})`, { cause: error });
      }
      throw error; // transient: the next delay tier
    }

    try {
      await shipping.schedule({ orderId, address: message.shippingAddress, items: message.items });
      counters.shipped++;
    } catch (error) {
      if (notAttempted(error)) throw error;
      logger.warn('shipment not scheduled by the worker', { orderId, attempt: context.retryCount, error });
      // Paid: never release. Retry (the charge above is replayed by its key), park after the last attempt.
      if (context.isLastAttempt) throw new PermanentError(`order ${orderId}: paid, shipment not scheduled (${describeFailure(error)})`, { cause: error });
      throw error;
    }
    notification.notify({ orderId, customerId: message.customerId, type: 'ORDER_CONFIRMED' });
    logger.info('deferred order completed', { orderId, kind: message.kind, attempt: context.retryCount });
  };

  /**
   * Checkout answered 503 and released the reservation although the broker held this message
   * (its confirm was lost), or the order already failed for good: charging it now would take
   * money for an order the customer was told did not happen. A reservation inventory no longer
   * knows (inventory restarted) is not a refusal. A failed look-up is transient (retried).
   */
  const wasAbandoned = async (message: RetryMessage): Promise<boolean> => {
    const reservations = await inventory.reservationsOf(message.orderId);
    return reservations.some((r) => r.reservationId === message.reservationId && r.status === 'RELEASED');
  };

  /** The last attempt failed: stock back, customer told; the caller parks the message. */
  const giveUp = async (message: RetryMessage, error: unknown): Promise<void> => {
    counters.failed++;
    logger.error('payment retries exhausted: releasing the reservation', { orderId: message.orderId, error });
    try {
      await inventory.release(message.reservationId);
    } catch (releaseError) {
      // Parked anyway; replaying the parked message retries the whole order (while its stock is still held).
      logger.error('reservation not released after the last attempt', { orderId: message.orderId, error: releaseError });
    }
    notification.notify({
      orderId: message.orderId,
      customerId: message.customerId,
      type: 'ORDER_FAILED',
    });
  };

  const consumer = await deps.connection.consume<RetryMessage>(
    (message, context) => runWithRequestId(context.correlationId ?? `retry-${message.orderId}`, () => handle(message, context)),
    { validate: (body) => retryMessageSchema.parse(body), maxRetries: deps.maxRetries, prefetch: deps.prefetch, isDeferral: notAttempted },
  );

  const stopPausing = pauseWhileOpen(payment.breaker, consumer, logger, () => counters.pausedTimes++);

  return {
    consumer,
    counters,
    async close(deadline?: number) {
      stopPausing();
      await consumer.close(deadline === undefined ? {} : { deadline });
    },
  };
}

/**
 * A call our own breaker or bulkhead refused before trying it: the delivery is deferred (the
 * consumer puts it back in the first delay tier without counting an attempt). While the
 * payment circuit is half-open only its probes go through; the other deliveries of the
 * prefetch would otherwise each burn one of their attempts on an outage nobody tried.
 */
function notAttempted(error: unknown): boolean {
  return isCircuitOpenError(error) || isBulkheadFullError(error);
}

/**
 * Pauses the consumer while the breaker is open, resumes it when the open period is over
 * (the breaker turns half-open on the next call, which is the probe) or when it closes.
 */
export function pauseWhileOpen(breaker: CircuitBreaker, consumer: { pause(): Promise<void>; resume(): Promise<void> }, logger: Logger, onPause: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const resume = (): void => {
    clearTimeout(timer);
    timer = undefined;
    consumer.resume().catch((error: unknown) => logger.error('could not resume the payment-retry consumer', { error }));
  };
  const off = breaker.on('stateChange', ({ to }) => {
    if (to === 'OPEN' || to === 'FORCED_OPEN') {
      onPause();
      logger.warn('payment circuit open: pausing the payment-retry consumer', { state: to });
      consumer.pause().catch((error: unknown) => logger.error('could not pause the payment-retry consumer', { error }));
      clearTimeout(timer);
      if (to === 'OPEN') {
        const wait = Math.max(0, breaker.snapshot().retryAfterMs ?? 0);
        timer = setTimeout(resume, wait);
        timer.unref();
      }
    } else if (to === 'CLOSED' || to === 'DISABLED') {
      resume();
    }
  });
  return () => {
    off();
    clearTimeout(timer);
  };
}
