import { randomUUID } from 'node:crypto';
import { CATALOG, CURRENCY, type Product } from './catalog';

export interface StockLevel {
  readonly sku: string;
  /** Units that can be reserved now. */
  readonly available: number;
  /** Units held by reservations. */
  readonly reserved: number;
}

export interface ItemRequest {
  readonly sku: string;
  readonly quantity: number;
}

export interface ReservedItem {
  readonly sku: string;
  readonly quantity: number;
  /** Price of one unit when reserved, in cents. */
  readonly unitPrice: number;
}

export type ReservationStatus = 'HELD' | 'RELEASED';

export interface Reservation {
  readonly reservationId: string;
  readonly orderId: string;
  readonly items: readonly ReservedItem[];
  /** Sum of quantity × unitPrice, in cents. */
  readonly total: number;
  readonly currency: string;
  readonly status: ReservationStatus;
  readonly createdAt: string;
  readonly releasedAt?: string;
}

export interface Shortage {
  readonly sku: string;
  readonly requested: number;
  readonly available: number;
}

export type ReserveResult =
  | { readonly kind: 'created' | 'existing'; readonly reservation: Reservation }
  | { readonly kind: 'unknown_sku'; readonly skus: readonly string[] }
  | { readonly kind: 'insufficient_stock'; readonly shortages: readonly Shortage[] }
  /** The order already has a reservation with other items, or one that was released. */
  | { readonly kind: 'order_conflict'; readonly reservation: Reservation };

export type ReleaseResult =
  | { readonly kind: 'released' | 'already_released'; readonly reservation: Reservation }
  | { readonly kind: 'not_found' };

export interface InventoryOptions {
  catalog?: readonly Product[];
  /** Units of every SKU at start. */
  initialStock: number;
  /** Units of some SKUs at start, overriding `initialStock`. */
  stockBySku?: Readonly<Record<string, number>>;
  /** Time source of `createdAt`/`releasedAt` (default `Date.now`). */
  clock?: () => number;
  newId?: () => string;
}

interface StockCell {
  onHand: number;
  reserved: number;
}

/** Items with the same SKU are combined; the result is sorted by SKU (also the order of the answer). */
function combine(items: readonly ItemRequest[]): ItemRequest[] {
  const quantities = new Map<string, number>();
  for (const { sku, quantity } of items) quantities.set(sku, (quantities.get(sku) ?? 0) + quantity);
  return [...quantities].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([sku, quantity]) => ({ sku, quantity }));
}

const sameItems = (a: readonly ItemRequest[], b: readonly ItemRequest[]) =>
  a.length === b.length && a.every((item, i) => item.sku === b[i]!.sku && item.quantity === b[i]!.quantity);

/**
 * The inventory stub: a catalog with prices, stock per SKU, and reservations
 * that hold stock for an order until they are released.
 *
 * - A reservation holds every item or none (checked first, then applied, with no
 *   await in between, so no other request can interleave).
 * - One reservation per order: reserving again with the same items returns it;
 *   with other items, or after it was released, it is a conflict — a late retry
 *   must never hold stock again for an order that gave it back.
 * - Releasing is idempotent.
 */
export class Inventory {
  private readonly products: ReadonlyMap<string, Product>;
  private readonly stock = new Map<string, StockCell>();
  private readonly reservations = new Map<string, Reservation>();
  private readonly byOrder = new Map<string, string>();
  private readonly clock: () => number;
  private readonly newId: () => string;

  constructor(options: InventoryOptions) {
    const catalog = options.catalog ?? CATALOG;
    this.products = new Map(catalog.map((product) => [product.sku, product]));
    for (const { sku } of catalog) {
      this.stock.set(sku, { onHand: options.stockBySku?.[sku] ?? options.initialStock, reserved: 0 });
    }
    this.clock = options.clock ?? Date.now;
    this.newId = options.newId ?? (() => `res_${randomUUID()}`);
  }

  catalog(): Product[] {
    return [...this.products.values()];
  }

  stockOf(sku: string): StockLevel | undefined {
    const cell = this.stock.get(sku);
    return cell === undefined ? undefined : { sku, available: cell.onHand - cell.reserved, reserved: cell.reserved };
  }

  reserve(orderId: string, items: readonly ItemRequest[]): ReserveResult {
    const wanted = combine(items);
    const existingId = this.byOrder.get(orderId);
    if (existingId !== undefined) {
      const existing = this.reservations.get(existingId)!;
      const same = existing.status === 'HELD' && sameItems(existing.items, wanted);
      return same ? { kind: 'existing', reservation: existing } : { kind: 'order_conflict', reservation: existing };
    }

    const unknown = wanted.filter((item) => !this.products.has(item.sku)).map((item) => item.sku);
    if (unknown.length > 0) return { kind: 'unknown_sku', skus: unknown };
    const shortages: Shortage[] = [];
    for (const { sku, quantity } of wanted) {
      const available = this.stockOf(sku)!.available;
      if (quantity > available) shortages.push({ sku, requested: quantity, available });
    }
    if (shortages.length > 0) return { kind: 'insufficient_stock', shortages };

    for (const { sku, quantity } of wanted) this.stock.get(sku)!.reserved += quantity;
    const lines = wanted.map(({ sku, quantity }) => Object.freeze({ sku, quantity, unitPrice: this.products.get(sku)!.price }));
    const reservation: Reservation = Object.freeze({
      reservationId: this.newId(),
      orderId,
      items: Object.freeze(lines),
      total: lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0),
      currency: CURRENCY,
      status: 'HELD',
      createdAt: new Date(this.clock()).toISOString(),
    });
    this.reservations.set(reservation.reservationId, reservation);
    this.byOrder.set(orderId, reservation.reservationId);
    return { kind: 'created', reservation };
  }

  release(reservationId: string): ReleaseResult {
    const reservation = this.reservations.get(reservationId);
    if (reservation === undefined) return { kind: 'not_found' };
    if (reservation.status === 'RELEASED') return { kind: 'already_released', reservation };
    for (const { sku, quantity } of reservation.items) this.stock.get(sku)!.reserved -= quantity;
    const released: Reservation = Object.freeze({ ...reservation, status: 'RELEASED', releasedAt: new Date(this.clock()).toISOString() });
    this.reservations.set(reservationId, released);
    return { kind: 'released', reservation: released };
  }

  /** The reservations of an order (at most one), held or released. */
  reservationsFor(orderId: string): Reservation[] {
    const id = this.byOrder.get(orderId);
    return id === undefined ? [] : [this.reservations.get(id)!];
  }
}
