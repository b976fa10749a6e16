import { idSchema } from '@checkout/service-kit';
import { z } from 'zod';

/** Ids that end up in URLs, logs and other services' ids: visible ASCII, no spaces. */
const id = idSchema;

export const shippingAddressSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    line1: z.string().trim().min(1).max(200),
    line2: z.string().trim().min(1).max(200).optional(),
    city: z.string().trim().min(1).max(100),
    postalCode: z.string().trim().regex(/^[A-Za-z0-9][A-Za-z0-9 -]{1,11}$/, 'must be a postal code such as 10115'),
    country: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166 alpha-2 code, e.g. DE'),
  })
  .strict();
export type ShippingAddress = z.output<typeof shippingAddressSchema>;

export const MAX_ITEMS = 100;

/** `POST /checkout` body. No prices: they come from inventory. Unknown fields are refused. */
export const checkoutBodySchema = z
  .object({
    customerId: id,
    items: z
      .array(
        z
          .object({
            sku: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be a SKU such as KB-MECH-01'),
            quantity: z.number().int('must be a whole number').positive().max(10_000),
          })
          .strict(),
      )
      .min(1, 'must have at least one item')
      .max(MAX_ITEMS),
    paymentToken: z.string().max(200).regex(/^tok_[\x21-\x7e]+$/, 'must be a token starting with "tok_"'),
    shippingAddress: shippingAddressSchema,
  })
  .strict();
export type CheckoutRequest = z.output<typeof checkoutBodySchema>;

export type OrderStatus = 'PENDING_PAYMENT' | 'PAID' | 'SHIPPING_SCHEDULED' | 'FAILED';

/** Every answer of POST /checkout has `orderId`, `status`, `warnings`. */
export interface CheckoutAnswer {
  httpStatus: number;
  body: {
    orderId: string;
    status: OrderStatus | 'REJECTED';
    warnings: string[];
    error?: string;
    message?: string;
    total?: number;
    currency?: string;
    [key: string]: unknown;
  };
}

/**
 * The payment-retry message: everything the worker needs to finish the order without
 * asking checkout. `kind: 'payment'` charges first; `kind: 'shipping'` is an order already
 * paid whose shipment could not be scheduled (the charge is replayed by its key, never repeated).
 * The payment token is a PSP token, not card data; it is never logged.
 */
export const retryMessageSchema = z.object({
  kind: z.enum(['payment', 'shipping']),
  orderId: id,
  customerId: id,
  reservationId: z.string().min(1),
  amount: z.number().int().positive(),
  currency: z.string().regex(/^[A-Z]{3}$/),
  paymentToken: z.string().min(1),
  items: z.array(z.object({ sku: z.string(), quantity: z.number().int().positive() })).min(1),
  shippingAddress: shippingAddressSchema,
});
export type RetryMessage = z.output<typeof retryMessageSchema>;
