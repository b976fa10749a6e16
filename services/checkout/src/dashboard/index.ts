import { replayParked } from '@checkout/messaging';
import type { Router } from 'express';
import type { Checkout } from '../app';
import { createDashboardRouter, type DashboardDeps, type PipelineView } from './router';

export { createDashboardRouter, PAGE_CSP } from './router';
export type { DashboardDeps, PipelineView, ReplayView } from './router';
export { AnswerRecorder, CircuitHistory, classOf, percentile } from './recorder';
export type { AnswerSummary, CircuitBucket, CircuitHistoryView, Transition } from './recorder';

/** How long queue depths are reused (every open page polls; each read opens a channel). */
const DEPTH_CACHE_MS = 1_000;

/**
 * The dashboard of a checkout, with its dependencies taken from it. `checkout` is a getter
 * because the routes are built before the checkout object exists.
 */
export function dashboardFor(checkout: () => Checkout | undefined, overrides: Partial<DashboardDeps> = {}): Router {
  const config = () => checkout()?.service.config;
  let cached: { at: number; view: Promise<PipelineView> } | undefined;
  const deps: DashboardDeps = {
    breakers: () => {
      const clients = checkout()?.clients;
      return clients && Object.fromEntries(Object.values(clients).map((client) => [client.http.name, client.breaker]));
    },
    stubs: (): Record<string, string> => {
      const c = config();
      return c ? { payment: c.PAYMENT_URL, inventory: c.INVENTORY_URL, shipping: c.SHIPPING_URL, notification: c.NOTIFICATION_URL } : {};
    },
    adminToken: () => config()?.ADMIN_TOKEN,
    pipeline: () => {
      const now = Date.now();
      if (cached === undefined || now - cached.at > DEPTH_CACHE_MS) cached = { at: now, view: readPipeline(checkout()) };
      return cached.view;
    },
    replayParked: async (limit) => {
      const found = checkout();
      if (found === undefined) throw new Error('checkout is starting');
      cached = undefined;
      const result = await replayParked(found.connection, limit === undefined ? {} : { limit });
      return { replayed: result.replayed, failed: result.failed, remaining: result.remaining, errors: result.errors };
    },
    ...overrides,
  };
  return createDashboardRouter(deps);
}

async function readPipeline(checkout: Checkout | undefined): Promise<PipelineView> {
  if (checkout === undefined) return { available: false, broker: 'unknown', reason: 'checkout is starting' };
  const { connection } = checkout;
  if (!connection.isReady) return { available: false, broker: connection.state, reason: `the broker connection is ${connection.state}` };
  const depths = await connection.queueDepths();
  const prefix = connection.names.prefix;
  const ttl = new Map(connection.names.delayQueues.map((tier) => [tier.queue, tier]));
  return {
    available: true,
    broker: connection.state,
    work: { messages: depths.work.messages, consumers: depths.work.consumers },
    delays: depths.delays.map((delay) => ({ tier: ttl.get(delay.queue)?.label ?? delay.queue.slice(prefix.length), ttlMs: ttl.get(delay.queue)?.ttlMs ?? null, messages: delay.messages })),
    parked: depths.parking.messages,
    worker: depths.work.consumers > 0 ? { state: 'consuming', consumers: depths.work.consumers } : { state: 'no-consumer', consumers: 0 },
  };
}
