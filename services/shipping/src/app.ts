import { createStubApp, HttpError, idSchema, type Logger, type StubApp, type StubAppOptions, validate, validateBody } from '@checkout/service-kit';
import type { Router } from 'express';
import { z } from 'zod';
import { SERVICE_NAME, type ShippingConfig } from './config';
import { ShipmentBook } from './shipments';

const id = idSchema;
const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);

/** `POST /shipments` body; unknown fields are refused. `country` is ISO 3166-1 alpha-2 (upper-cased). */
export const shipmentBodySchema = z
  .object({
    orderId: id,
    address: z
      .object({
        name: text(200),
        line1: text(200),
        line2: text(200).optional(),
        city: text(100),
        postalCode: z.string().trim().regex(/^[A-Za-z0-9][A-Za-z0-9 -]{1,11}$/, 'must be a postal code such as 10115'),
        country: z
          .string()
          .regex(/^[A-Za-z]{2}$/, 'must be a two-letter ISO 3166 code such as DE')
          .transform((country) => country.toUpperCase()),
      })
      .strict(),
    items: z
      .array(z.object({ sku: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be a SKU'), quantity: z.number().int().positive() }).strict())
      .min(1)
      .max(100)
      .optional(),
  })
  .strict();
type ShipmentBody = z.output<typeof shipmentBodySchema>;

const shipmentsQuery = z.object({ orderId: id });

function shippingRoutes(router: Router, book: ShipmentBook, logger: Logger): void {
  router.post('/shipments', validateBody(shipmentBodySchema), (req, res) => {
    const result = book.schedule(req.body as ShipmentBody);
    const { shipment } = result;
    if (result.kind === 'order_conflict') {
      throw new HttpError(409, 'ORDER_ALREADY_SHIPPED', 'This order already has a shipment with another address or other items', {
        details: { shipmentId: shipment.shipmentId, orderId: shipment.orderId },
      });
    }
    if (result.kind === 'created') {
      // The address is personal data: it stays out of the logs.
      logger.info('shipment scheduled', { orderId: shipment.orderId, shipmentId: shipment.shipmentId, carrier: shipment.carrier });
    }
    res.status(result.kind === 'created' ? 201 : 200).json(shipment);
  });

  router.get('/shipments', (req, res) => {
    const { orderId } = validate(shipmentsQuery, req.query, 'query');
    res.json({ orderId, shipments: book.shipmentsFor(orderId) });
  });
}

export type ShippingAppOptions = StubAppOptions<ShippingConfig, 'book', ShipmentBook>;
export type ShippingApp = StubApp<ShippingConfig, 'book', ShipmentBook>;

/** The shipping stub: the kit's stub app around its book (default: a new in-memory book on `clock`) and routes. */
export function createShippingApp(options: ShippingAppOptions): ShippingApp {
  return createStubApp(SERVICE_NAME, 'book', options, (clock) => new ShipmentBook({ clock }), shippingRoutes);
}
