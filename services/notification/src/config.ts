import { defineConfigSchema, portVar } from '@checkout/service-kit';
import type { z } from 'zod';

export const SERVICE_NAME = 'notification';

/** The kit's base variables with notification's default port; the outbox is kept in memory. */
export const configSchema = defineConfigSchema({
  PORT: portVar(3004),
});

export type NotificationConfig = z.output<typeof configSchema>;
