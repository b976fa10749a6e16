import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '@checkout/service-kit';
import { parse } from 'yaml';
import { configSchema as checkoutSchema } from '../../services/checkout/src/config';
import { configSchema as inventorySchema } from '../../services/inventory/src/config';
import { configSchema as notificationSchema } from '../../services/notification/src/config';
import { configSchema as paymentSchema } from '../../services/payment/src/config';
import { configSchema as shippingSchema } from '../../services/shipping/src/config';
import type { ServiceName } from './topology';

/** Helpers of infra's tests (not compiled into anything the launcher runs). */

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export function repoFile(...parts: string[]): string {
  return path.join(REPO_ROOT, ...parts);
}

export function readYaml<T = unknown>(...parts: string[]): T {
  // merge: resolves the `<<: *anchor` keys of docker-compose.yml as Compose does.
  return parse(readFileSync(repoFile(...parts), 'utf8'), { merge: true }) as T;
}

/** Each process's config schema: the worker is checkout's second entry point and reads checkout's. */
export const SCHEMAS = {
  checkout: checkoutSchema,
  worker: checkoutSchema,
  payment: paymentSchema,
  inventory: inventorySchema,
  shipping: shippingSchema,
  notification: notificationSchema,
} satisfies Record<ServiceName, unknown>;

export function schemaVariables(name: ServiceName): string[] {
  return Object.keys(SCHEMAS[name].shape);
}

/** A service's configuration with nothing set: its defaults. */
export function readSchemaDefaults(name: ServiceName): { PORT: number } & Record<string, unknown> {
  return loadConfig(SCHEMAS[name], {}) as { PORT: number } & Record<string, unknown>;
}
