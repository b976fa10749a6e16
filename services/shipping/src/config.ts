import { defineConfigSchema, portVar } from '@checkout/service-kit';
import type { z } from 'zod';

export const SERVICE_NAME = 'shipping';

/** The kit's base variables with shipping's default port; shipments are kept in memory. */
export const configSchema = defineConfigSchema({
  PORT: portVar(3003),
});

export type ShippingConfig = z.output<typeof configSchema>;
