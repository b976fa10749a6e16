import { randomUUID } from 'node:crypto';

export interface Address {
  readonly name: string;
  readonly line1: string;
  readonly line2?: string;
  readonly city: string;
  readonly postalCode: string;
  /** ISO 3166-1 alpha-2, upper case. */
  readonly country: string;
}

export interface ShipmentItem {
  readonly sku: string;
  readonly quantity: number;
}

export interface ShipmentRequest {
  readonly orderId: string;
  readonly address: Address;
  readonly items?: readonly ShipmentItem[];
}

export interface Shipment {
  readonly shipmentId: string;
  readonly orderId: string;
  readonly status: 'SCHEDULED';
  readonly carrier: string;
  /** Calendar date (YYYY-MM-DD, UTC), counted in business days from scheduling. */
  readonly estimatedDelivery: string;
  readonly address: Address;
  readonly items?: readonly ShipmentItem[];
  readonly createdAt: string;
}

export type ScheduleResult =
  | { readonly kind: 'created' | 'existing'; readonly shipment: Shipment }
  /** The order already has a shipment to another address or with other items. */
  | { readonly kind: 'order_conflict'; readonly shipment: Shipment };

interface Route {
  readonly carrier: string;
  readonly businessDays: number;
}

/** Carrier and transit time by destination; anywhere else goes by UPS in 5 business days. */
const ROUTES: Readonly<Record<string, Route>> = {
  DE: { carrier: 'DHL', businessDays: 2 },
  AT: { carrier: 'DHL', businessDays: 3 },
  FR: { carrier: 'Colissimo', businessDays: 3 },
  NL: { carrier: 'PostNL', businessDays: 2 },
  BE: { carrier: 'PostNL', businessDays: 3 },
};
const DEFAULT_ROUTE: Route = { carrier: 'UPS', businessDays: 5 };

export function routeTo(country: string): Route {
  return ROUTES[country] ?? DEFAULT_ROUTE;
}

/** The date `days` business days (Monday to Friday) after `fromMs`, as YYYY-MM-DD (UTC). */
export function addBusinessDays(fromMs: number, days: number): string {
  const date = new Date(fromMs);
  let left = days;
  while (left > 0) {
    date.setUTCDate(date.getUTCDate() + 1);
    const weekday = date.getUTCDay();
    if (weekday !== 0 && weekday !== 6) left -= 1;
  }
  return date.toISOString().slice(0, 10);
}

/** What makes two requests for one order the same: the address and the items, whatever the key order. */
function contentOf({ address: a, items }: Pick<ShipmentRequest, 'address' | 'items'>): string {
  const lines = items?.map((item) => [item.sku, item.quantity]) ?? null;
  return JSON.stringify([a.name, a.line1, a.line2 ?? null, a.city, a.postalCode, a.country, lines]);
}

export interface ShipmentBookOptions {
  /** Time source of `createdAt` and the delivery estimate (default `Date.now`). */
  clock?: () => number;
  newId?: () => string;
}

/**
 * The shipping stub: one shipment per order. Scheduling again for the same order
 * with the same address and items returns the existing shipment; with others, it
 * is a conflict (an order is shipped once).
 */
export class ShipmentBook {
  private readonly byOrder = new Map<string, Shipment>();
  private readonly clock: () => number;
  private readonly newId: () => string;

  constructor(options: ShipmentBookOptions = {}) {
    this.clock = options.clock ?? Date.now;
    this.newId = options.newId ?? (() => `shp_${randomUUID()}`);
  }

  schedule(request: ShipmentRequest): ScheduleResult {
    const existing = this.byOrder.get(request.orderId);
    if (existing !== undefined) {
      return contentOf(existing) === contentOf(request) ? { kind: 'existing', shipment: existing } : { kind: 'order_conflict', shipment: existing };
    }
    const now = this.clock();
    const route = routeTo(request.address.country);
    const shipment: Shipment = Object.freeze({
      shipmentId: this.newId(),
      orderId: request.orderId,
      status: 'SCHEDULED',
      carrier: route.carrier,
      estimatedDelivery: addBusinessDays(now, route.businessDays),
      address: Object.freeze({ ...request.address }),
      ...(request.items === undefined ? {} : { items: Object.freeze(request.items.map((item) => Object.freeze({ ...item }))) }),
      createdAt: new Date(now).toISOString(),
    });
    this.byOrder.set(request.orderId, shipment);
    return { kind: 'created', shipment };
  }

  /** The shipments of an order (at most one). */
  shipmentsFor(orderId: string): Shipment[] {
    const shipment = this.byOrder.get(orderId);
    return shipment === undefined ? [] : [shipment];
  }
}
