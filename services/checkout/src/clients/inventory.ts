import type { HttpClient } from '@checkout/service-kit';
import { z } from 'zod';
import { type ClientOptions, dependencyClient, quickRetry } from './policies';

/** What checkout reads from inventory's answers (extra fields are ignored). */
const stockSchema = z.object({ sku: z.string(), available: z.number().int(), reserved: z.number().int().optional() });
export type StockLevel = z.output<typeof stockSchema>;

const reservationSchema = z.object({
  reservationId: z.string(),
  orderId: z.string(),
  items: z.array(z.object({ sku: z.string(), quantity: z.number().int(), unitPrice: z.number().int() })),
  total: z.number().int(),
  currency: z.string(),
  status: z.enum(['HELD', 'RELEASED']),
  releasedAt: z.string().optional(),
});
export type Reservation = z.output<typeof reservationSchema>;

const errorSchema = z.looseObject({ error: z.string().optional(), message: z.string().optional() });

export type StockAnswer = { kind: 'found'; stock: StockLevel } | { kind: 'unknown_sku' };

export type ReserveAnswer =
  | { kind: 'reserved'; reservation: Reservation }
  | { kind: 'unknown_sku'; message: string; details: unknown }
  | { kind: 'out_of_stock'; message: string; details: unknown }
  | { kind: 'conflict'; message: string; details: unknown };

/** Unexpected answer from a dependency (a contract mismatch): surfaces as a 502 rather than a breaker failure. */
export class ContractError extends Error {
  override readonly name = 'ContractError';
  constructor(dependency: string, what: string, readonly status: number) {
    super(`${dependency}: unexpected answer ${status} to ${what}`);
  }
}

export class InventoryClient {
  readonly http: HttpClient;

  constructor(options: ClientOptions) {
    // Stock reads are GETs: retried once inside the breaker. Reservations are keyed by orderId
    // (inventory returns the existing one for the same order and items), so they are idempotent
    // and retried too: a retry after a lost answer finds the reservation instead of leaking stock.
    this.http = dependencyClient('inventory', { ...options, retry: options.retry ?? quickRetry });
  }

  get breaker() {
    return this.http.breaker;
  }

  async stock(sku: string, signal?: AbortSignal): Promise<StockAnswer> {
    const res = await this.http.get(`/stock/${encodeURIComponent(sku)}`, signal ? { signal } : {});
    if (res.status === 404) return { kind: 'unknown_sku' };
    if (res.status !== 200) throw new ContractError('inventory', 'GET /stock', res.status);
    return { kind: 'found', stock: stockSchema.parse(res.data) };
  }

  async reserve(orderId: string, items: readonly { sku: string; quantity: number }[]): Promise<ReserveAnswer> {
    const res = await this.http.post('/reservations', { orderId, items }, { idempotent: true });
    if (res.status === 200 || res.status === 201) return { kind: 'reserved', reservation: reservationSchema.parse(res.data) };
    const body = errorSchema.safeParse(res.data);
    const message = (body.success ? body.data.message : undefined) ?? `inventory answered ${res.status}`;
    const details = body.success ? body.data : undefined;
    if (res.status === 404) return { kind: 'unknown_sku', message, details };
    if (res.status === 409 && body.success && body.data.error === 'OUT_OF_STOCK') return { kind: 'out_of_stock', message, details };
    if (res.status === 409) return { kind: 'conflict', message, details };
    throw new ContractError('inventory', 'POST /reservations', res.status);
  }

  /** Idempotent: releasing a released reservation is fine; an unknown one is treated as released. */
  async release(reservationId: string): Promise<void> {
    const res = await this.http.delete(`/reservations/${encodeURIComponent(reservationId)}`);
    if (res.status !== 200 && res.status !== 404) throw new ContractError('inventory', 'DELETE /reservations', res.status);
  }

  async reservationsOf(orderId: string): Promise<Reservation[]> {
    const res = await this.http.get('/reservations', { params: { orderId } });
    if (res.status !== 200) throw new ContractError('inventory', 'GET /reservations', res.status);
    return z.object({ reservations: z.array(reservationSchema) }).parse(res.data).reservations;
  }

  close(): void {
    this.http.close();
  }
}
