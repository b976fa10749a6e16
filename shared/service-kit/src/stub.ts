import type { Router } from 'express';
import { createApp, type Service } from './app';
import type { BaseConfig } from './config';
import type { Logger } from './logger';

/** What every stub service's factory takes besides its own store. */
export interface StubAppOptions<C extends BaseConfig> {
  config: C;
  /** Time source of the store and of fault flapping (default `Date.now`); tests pass a fake clock. */
  clock?: () => number;
  logger?: Logger;
}

/**
 * A stub service: the kit's app (faults, admin, health, metrics, request ids, JSON errors)
 * around one in-memory domain store (`makeStore(clock)`) and the routes that serve it.
 *
 * ```ts
 * const { service, store } = createStubApp('shipping', options, (clock) => new ShipmentBook({ clock }), shippingRoutes);
 * ```
 */
export function createStubApp<C extends BaseConfig, S>(
  name: string,
  options: StubAppOptions<C>,
  makeStore: (clock: () => number) => S,
  routes: (router: Router, store: S, logger: Logger) => void,
): { service: Service<C>; store: S } {
  const clock = options.clock ?? Date.now;
  const store = makeStore(clock);
  const service = createApp({
    name,
    config: options.config,
    logger: options.logger,
    clock,
    routes: (router, svc) => routes(router, store, svc.logger),
  });
  return { service, store };
}
