import { defineConfigSchema, portVar } from '@checkout/service-kit';
import { z } from 'zod';

export const SERVICE_NAME = 'payment';

/**
 * The kit's base variables (LOG_LEVEL, FAULTS_ENABLED, ADMIN_TOKEN, FAULT_*…) with
 * payment's default port, and where its ledger is kept.
 */
export const configSchema = defineConfigSchema({
  PORT: portVar(3001),
  /**
   * Directory of the ledger's journal (`payment.journal`): charges survive a restart or a
   * kill, as a PSP's books survive its outages. Unset: the ledger is in memory only (tests).
   * The root `npm start` (launcher) and Compose set it; `npm start -w services/payment` alone does not.
   */
  DATA_DIR: z.string().min(1).optional(),
});

export type PaymentConfig = z.output<typeof configSchema>;
