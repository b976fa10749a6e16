import type { Router } from 'express';
import { createApp, type Service } from './app';
import type { BaseConfig } from './config';
import type { Logger } from './logger';

/**
 * What a stub service's factory takes: its config, a clock and a logger, and optionally its
 * store under the store's own name (`ledger`, `inventory`, `book`, `outbox`); a new one is
 * made when it is absent.
 */
export type StubAppOptions<C extends BaseConfig, K extends string, S> = {
  config: C;
  /** Time source of the store and of fault flapping (default `Date.now`); tests pass a fake clock. */
  clock?: () => number;
  logger?: Logger;
} & { [P in K]?: S };

/** A stub service: the kit's service and its store under the store's own name. */
export type StubApp<C extends BaseConfig, K extends string, S> = { readonly service: Service<C> } & { readonly [P in K]: S };

/**
 * A stub service: the kit's app (faults, admin, health, metrics, request ids, JSON errors)
 * around one in-memory domain store and the routes that serve it.
 *
 * ```ts
 * export type ShippingApp = StubApp<ShippingConfig, 'book', ShipmentBook>;
 * export const createShippingApp = (options: StubAppOptions<ShippingConfig, 'book', ShipmentBook>): ShippingApp =>
 *   createStubApp('shipping', 'book', options, (clock) => new ShipmentBook({ clock }), shippingRoutes);
 * ```
 */
export function createStubApp<C extends BaseConfig, K extends string, S>(
  name: string,
  storeKey: K,
  options: StubAppOptions<C, K, S>,
  makeStore: (clock: () => number) => S,
  routes: (router: Router, store: S, logger: Logger) => void,
): StubApp<C, K, S> {
  const clock = options.clock ?? Date.now;
  const store = (options as Partial<Record<K, S>>)[storeKey] ?? makeStore(clock);
  const service = createApp({
    name,
    config: options.config,
    logger: options.logger,
    clock,
    routes: (router, svc) => routes(router, store, svc.logger),
  });
  return { service, [storeKey]: store } as StubApp<C, K, S>;
}
