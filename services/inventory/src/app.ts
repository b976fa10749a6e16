import { createStubApp, HttpError, idSchema, type Logger, type StubApp, type StubAppOptions, validate, validateBody } from '@checkout/service-kit';
import type { Router } from 'express';
import { z } from 'zod';
import { type InventoryConfig, SERVICE_NAME } from './config';
import { Inventory, type Reservation } from './inventory';

export const MAX_ITEMS = 100;
export const MAX_QUANTITY = 10_000;

const id = idSchema;
const sku = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be a SKU such as KB-MECH-01');

/** `POST /reservations` body; unknown fields are refused. Items with the same SKU are combined. */
export const reservationBodySchema = z
  .object({
    orderId: id,
    items: z
      .array(z.object({ sku, quantity: z.number().int('must be a whole number').positive().max(MAX_QUANTITY) }).strict())
      .min(1, 'must have at least one item')
      .max(MAX_ITEMS),
  })
  .strict();
type ReservationBody = z.output<typeof reservationBodySchema>;

const skuParams = z.object({ sku });
const reservationParams = z.object({ id });
const reservationsQuery = z.object({ orderId: id });

function conflictOf(reservation: Reservation): HttpError {
  const details = { reservationId: reservation.reservationId, orderId: reservation.orderId, status: reservation.status };
  return reservation.status === 'RELEASED'
    ? new HttpError(409, 'RESERVATION_RELEASED', 'This order’s reservation was released; a new attempt needs a new order', { details })
    : new HttpError(409, 'ORDER_ALREADY_RESERVED', 'This order already holds a reservation with other items', { details });
}

function inventoryRoutes(router: Router, inventory: Inventory, logger: Logger): void {
  router.get('/products', (_req, res) => {
    res.json(inventory.catalog());
  });

  router.get('/stock/:sku', (req, res) => {
    const params = validate(skuParams, req.params, 'params');
    const level = inventory.stockOf(params.sku);
    if (level === undefined) throw new HttpError(404, 'UNKNOWN_SKU', `No product with SKU ${params.sku}`, { details: { sku: params.sku } });
    res.json(level);
  });

  router.post('/reservations', validateBody(reservationBodySchema), (req, res) => {
    const { orderId, items } = req.body as ReservationBody;
    const result = inventory.reserve(orderId, items);
    switch (result.kind) {
      case 'created':
        logger.info('stock reserved', { orderId, reservationId: result.reservation.reservationId, items: result.reservation.items.length });
        res.status(201).json(result.reservation);
        return;
      case 'existing':
        res.status(200).json(result.reservation);
        return;
      case 'unknown_sku':
        throw new HttpError(404, 'UNKNOWN_SKU', `Unknown SKU: ${result.skus.join(', ')}`, { details: { skus: result.skus } });
      case 'insufficient_stock': {
        const first = result.shortages[0]!;
        logger.info('reservation refused: not enough stock', { orderId, shortages: result.shortages });
        throw new HttpError(409, 'OUT_OF_STOCK', `Not enough stock of ${first.sku}: ${first.requested} requested, ${first.available} available`, {
          details: { ...first, shortages: result.shortages },
        });
      }
      case 'order_conflict':
        throw conflictOf(result.reservation);
    }
  });

  router.delete('/reservations/:id', (req, res) => {
    const params = validate(reservationParams, req.params, 'params');
    const result = inventory.release(params.id);
    if (result.kind === 'not_found') throw new HttpError(404, 'RESERVATION_NOT_FOUND', 'No reservation with this id', { details: { reservationId: params.id } });
    if (result.kind === 'released') logger.info('stock released', { orderId: result.reservation.orderId, reservationId: params.id });
    res.status(200).json(result.reservation);
  });

  router.get('/reservations', (req, res) => {
    const { orderId } = validate(reservationsQuery, req.query, 'query');
    res.json({ orderId, reservations: inventory.reservationsFor(orderId) });
  });
}

export type InventoryAppOptions = StubAppOptions<InventoryConfig, 'inventory', Inventory>;
export type InventoryApp = StubApp<InventoryConfig, 'inventory', Inventory>;

/** The inventory stub: the kit's stub app around its inventory (default: a new inventory with the catalog and the configured stock) and routes. */
export function createInventoryApp(options: InventoryAppOptions): InventoryApp {
  return createStubApp(SERVICE_NAME, 'inventory', options, (clock) => new Inventory({ initialStock: options.config.INITIAL_STOCK, stockBySku: options.config.INITIAL_STOCK_BY_SKU, clock }), inventoryRoutes);
}
