import { defineConfigSchema, intVar, portVar } from '@checkout/service-kit';
import { z } from 'zod';
import { SKUS } from './catalog';

export const SERVICE_NAME = 'inventory';

export const MAX_STOCK = 1_000_000_000;

/** `INITIAL_STOCK_BY_SKU=MON-27-4K=3,WEBCAM-HD=0`: stock of some SKUs at start, overriding INITIAL_STOCK. */
const stockBySku = z.string().transform((value, ctx) => {
  const stock: Record<string, number> = {};
  for (const entry of value.split(',').map((item) => item.trim()).filter((item) => item.length > 0)) {
    const match = /^([^=\s]+)\s*=\s*(\d{1,10})$/.exec(entry);
    const quantity = match === null ? Number.NaN : Number(match[2]);
    if (match === null || quantity > MAX_STOCK) {
      ctx.addIssue({ code: 'custom', message: `has a bad entry "${entry}": expected SKU=quantity (0..${MAX_STOCK})` });
      return z.NEVER;
    }
    if (!SKUS.includes(match[1]!)) {
      ctx.addIssue({ code: 'custom', message: `names unknown SKU "${match[1]}" (known: ${SKUS.join(', ')})` });
      return z.NEVER;
    }
    stock[match[1]!] = quantity;
  }
  return stock;
});

export const configSchema = defineConfigSchema({
  PORT: portVar(3002),
  /** Units of every SKU at start: enough for long load runs by default. */
  INITIAL_STOCK: intVar(0, MAX_STOCK).default(100_000),
  INITIAL_STOCK_BY_SKU: stockBySku.optional(),
});

export type InventoryConfig = z.output<typeof configSchema>;
