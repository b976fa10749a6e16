import type { Journal } from '@checkout/service-kit';
import type { InventoryClient, Reservation } from './clients/inventory';
import type { Charge, PaymentClient } from './clients/payment';
import type { Shipment, ShippingClient } from './clients/shipping';
import type { OrderStatus } from './model';

const FAILED = 'failed:';

export interface OrderView {
  orderId: string;
  status: OrderStatus;
  reason?: string;
  total?: number;
  currency?: string;
  reservationId?: string;
  chargeId?: string;
  shipmentId?: string;
  warnings: string[];
}

const RANK: Record<OrderStatus, number> = { PENDING_PAYMENT: 0, PAID: 1, SHIPPING_SCHEDULED: 2, FAILED: 3 };

/**
 * What an order's state is, from the systems of record: inventory's reservation, payment's
 * charges and shipping's shipments. Checkout and any number of workers change those, never a
 * shared table of ours, so this answer is the same from every checkout process and after a
 * restart.
 */
export function deriveStatus(orderId: string, reservations: Reservation[], charges: Charge[], shipments: Shipment[] | undefined): OrderView | undefined {
  const reservation = reservations[0];
  const captured = charges.find((charge) => charge.status === 'CAPTURED');
  const declined = charges.find((charge) => charge.status === 'DECLINED');
  if (reservation === undefined && charges.length === 0) return undefined;
  const base: OrderView = {
    orderId,
    status: 'PENDING_PAYMENT',
    warnings: [],
    ...(reservation ? { total: reservation.total, currency: reservation.currency, reservationId: reservation.reservationId } : {}),
  };
  if (captured) {
    const shipment = shipments?.[0];
    return shipment
      ? { ...base, status: 'SHIPPING_SCHEDULED', chargeId: captured.chargeId, shipmentId: shipment.shipmentId }
      : { ...base, status: 'PAID', chargeId: captured.chargeId };
  }
  if (declined) return { ...base, status: 'FAILED', reason: 'PAYMENT_DECLINED', chargeId: declined.chargeId };
  if (reservation?.status === 'RELEASED') {
    return { ...base, status: 'FAILED', reason: 'PAYMENT_NOT_COMPLETED: the payment could not be made and the reservation was released' };
  }
  return base;
}

/**
 * Orders as this process knows them (what it answered), plus the derivation above for
 * everything that happens elsewhere (the worker) or before a restart. The systems of record
 * are the truth; the local view fills in why an order failed (journaled, so it survives a
 * restart) and covers a dependency that cannot be asked right now (with a warning).
 */
export class Orders {
  private readonly local = new Map<string, OrderView>();
  private static readonly MAX_LOCAL = 100_000;

  constructor(
    private readonly inventory: InventoryClient,
    private readonly payment: PaymentClient,
    private readonly shipping: ShippingClient,
    /** Keeps why orders failed (the reason is ours; the systems of record only say "released"). */
    private readonly journal?: Journal,
  ) {
    for (const [, view] of journal?.list<OrderView>(FAILED) ?? []) this.local.set(view.orderId, view);
  }

  record(view: OrderView): void {
    if (this.local.size >= Orders.MAX_LOCAL) {
      const oldest = this.local.keys().next();
      if (!oldest.done) {
        this.local.delete(oldest.value);
        this.journal?.delete(FAILED + oldest.value);
      }
    }
    this.local.delete(view.orderId); // the latest view goes to the end: evicted last
    this.local.set(view.orderId, view);
    if (view.status === 'FAILED') this.journal?.set(FAILED + view.orderId, view);
  }

  async get(orderId: string): Promise<{ view: OrderView } | { unavailable: string[] } | undefined> {
    const known = this.local.get(orderId);
    // Final states do not change any more: no need to ask anyone.
    if (known && (known.status === 'FAILED' || known.status === 'SHIPPING_SCHEDULED')) return { view: known };

    const [reservations, charges, shipments] = await Promise.allSettled([
      this.inventory.reservationsOf(orderId),
      this.payment.chargesOf(orderId),
      this.shipping.shipmentsOf(orderId),
    ]);
    const unavailable: string[] = [];
    if (reservations.status === 'rejected') unavailable.push('inventory');
    if (charges.status === 'rejected') unavailable.push('payment');
    if (shipments.status === 'rejected') unavailable.push('shipping');

    // A released reservation is final whatever payment says (declined, or never completed);
    // anything else needs both inventory and payment.
    const released = reservations.status === 'fulfilled' && reservations.value[0]?.status === 'RELEASED';
    const derived =
      reservations.status === 'fulfilled' && (charges.status === 'fulfilled' || released)
        ? deriveStatus(orderId, reservations.value, charges.status === 'fulfilled' ? charges.value : [], shipments.status === 'fulfilled' ? shipments.value : undefined)
        : undefined;
    const warnings = unavailable.map((name) => `${name}: unavailable, the status may be behind`);
    if (derived && known) {
      const best = RANK[derived.status] >= RANK[known.status] ? { ...known, ...derived } : known;
      if (best.status === 'FAILED' && known.reason && derived.status === 'FAILED' && !derived.reason?.startsWith('PAYMENT_DECLINED')) best.reason = known.reason;
      return { view: { ...best, warnings } };
    }
    if (derived) return { view: { ...derived, warnings } };
    if (known) return { view: { ...known, warnings } };
    if (unavailable.includes('inventory') || unavailable.includes('payment')) return { unavailable };
    return undefined;
  }
}
