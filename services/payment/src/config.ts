import { defineConfigSchema, portVar } from '@checkout/service-kit';
import type { z } from 'zod';

export const SERVICE_NAME = 'payment';

/**
 * The kit's base variables (LOG_LEVEL, FAULTS_ENABLED, ADMIN_TOKEN, FAULT_*…) with
 * payment's default port. Payment has no variables of its own: its ledger is in memory.
 */
export const configSchema = defineConfigSchema({
  PORT: portVar(3001),
});

export type PaymentConfig = z.output<typeof configSchema>;
