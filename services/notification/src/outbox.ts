import { randomUUID } from 'node:crypto';

export const NOTIFICATION_TYPES = ['ORDER_CONFIRMED', 'PAYMENT_PENDING', 'ORDER_FAILED', 'ORDER_SHIPPED'] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export interface NotificationRequest {
  readonly orderId: string;
  readonly customerId: string;
  readonly type: NotificationType;
}

export interface Notification extends NotificationRequest {
  readonly notificationId: string;
  readonly idempotencyKey: string;
  /** The stub "sends" e-mail by keeping it here. */
  readonly channel: 'email';
  readonly subject: string;
  readonly status: 'SENT';
  readonly createdAt: string;
}

export type AddResult =
  | { readonly kind: 'created' | 'existing'; readonly notification: Notification }
  /** The key was used for another notification (another order, customer or type). */
  | { readonly kind: 'key_reused'; readonly notification: Notification };

const SUBJECTS: Readonly<Record<NotificationType, (orderId: string) => string>> = {
  ORDER_CONFIRMED: (orderId) => `Your order ${orderId} is confirmed`,
  PAYMENT_PENDING: (orderId) => `We received your order ${orderId}; the payment is being processed`,
  ORDER_FAILED: (orderId) => `Your order ${orderId} could not be completed`,
  ORDER_SHIPPED: (orderId) => `Your order ${orderId} is on its way`,
};

/** The key used when the caller gives none: one notification of each type per order. */
export function defaultKey(request: Pick<NotificationRequest, 'orderId' | 'type'>): string {
  return `${request.orderId}:${request.type}`;
}

export interface OutboxOptions {
  /** Time source of `createdAt` (default `Date.now`). */
  clock?: () => number;
  newId?: () => string;
}

/**
 * The notification stub's outbox: every notification "sent", in order, idempotent
 * by key — the same key again returns the stored notification instead of sending
 * a second one (the checkout sends fire-and-forget and may repeat itself).
 */
export class Outbox {
  private readonly byKey = new Map<string, Notification>();
  private readonly all: Notification[] = [];
  private readonly byOrder = new Map<string, Notification[]>();
  private readonly clock: () => number;
  private readonly newId: () => string;

  constructor(options: OutboxOptions = {}) {
    this.clock = options.clock ?? Date.now;
    this.newId = options.newId ?? (() => `ntf_${randomUUID()}`);
  }

  add(idempotencyKey: string, request: NotificationRequest): AddResult {
    const existing = this.byKey.get(idempotencyKey);
    if (existing !== undefined) {
      const same = existing.orderId === request.orderId && existing.customerId === request.customerId && existing.type === request.type;
      return { kind: same ? 'existing' : 'key_reused', notification: existing };
    }
    const notification: Notification = Object.freeze({
      notificationId: this.newId(),
      idempotencyKey,
      orderId: request.orderId,
      customerId: request.customerId,
      type: request.type,
      channel: 'email',
      subject: SUBJECTS[request.type](request.orderId),
      status: 'SENT',
      createdAt: new Date(this.clock()).toISOString(),
    });
    this.byKey.set(idempotencyKey, notification);
    this.all.push(notification);
    const list = this.byOrder.get(request.orderId);
    if (list === undefined) this.byOrder.set(request.orderId, [notification]);
    else list.push(notification);
    return { kind: 'created', notification };
  }

  /** The notifications of an order, oldest first. */
  forOrder(orderId: string): Notification[] {
    return [...(this.byOrder.get(orderId) ?? [])];
  }

  /** The last `limit` notifications of all orders, oldest first. */
  recent(limit: number): Notification[] {
    return this.all.slice(Math.max(0, this.all.length - limit));
  }

  get size(): number {
    return this.all.length;
  }
}
