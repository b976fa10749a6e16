import { ConfigError, loadConfig } from '@checkout/service-kit';
import { combineItems } from './checkout';
import { configSchema } from './config';
import { IdempotencyStore } from './idempotency';
import type { CheckoutAnswer } from './model';
import { deriveStatus } from './orders';

describe('config', () => {
  it('has a different deadline per dependency, slow calls counted, breakers on', () => {
    const config = loadConfig(configSchema, {});
    expect(config.PORT).toBe(3000);
    const deadlines = [config.INVENTORY_TIMEOUT_MS, config.PAYMENT_TIMEOUT_MS, config.SHIPPING_TIMEOUT_MS, config.NOTIFICATION_TIMEOUT_MS];
    expect(new Set(deadlines).size).toBe(4);
    expect(config.BREAKER_SLOW_CALL_RATE).toBeLessThan(1);
    expect(config.INVENTORY_SLOW_CALL_MS).toBeLessThan(config.INVENTORY_TIMEOUT_MS);
    expect(config.BREAKERS).toBe('on');
    expect(config.RETRY_TIERS).toEqual(['5s', '30s', '2m']);
  });

  it('names every bad variable', () => {
    expect(() => loadConfig(configSchema, { PAYMENT_URL: 'not a url', PAYMENT_TIMEOUT_MS: '0', BREAKERS: 'maybe' })).toThrow(ConfigError);
    try {
      loadConfig(configSchema, { PAYMENT_URL: 'not a url', PAYMENT_TIMEOUT_MS: '0', BREAKERS: 'maybe' });
    } catch (error) {
      expect((error as ConfigError).issues.map((issue) => issue.variable).sort()).toEqual(['BREAKERS', 'PAYMENT_TIMEOUT_MS', 'PAYMENT_URL']);
    }
  });
});

describe('IdempotencyStore', () => {
  const answer = (httpStatus: number): CheckoutAnswer => ({ httpStatus, body: { orderId: 'o1', status: 'PAID', warnings: [] } });
  const flush = () => new Promise((resolve) => setImmediate(resolve));

  it('replays the same body, refuses another one', async () => {
    const store = new IdempotencyStore(60);
    const first = store.begin('k', { a: 1 });
    expect(first.kind).toBe('new');
    if (first.kind === 'new') first.complete(Promise.resolve(answer(201)));
    const again = store.begin('k', { a: 1 });
    expect(again.kind).toBe('replay');
    if (again.kind === 'replay') expect((await again.answer).httpStatus).toBe(201);
    expect(store.begin('k', { a: 2 }).kind).toBe('mismatch');
    store.close();
  });

  it('forgets a 503 (nothing was done) so that a retry runs again', async () => {
    const store = new IdempotencyStore(60);
    const first = store.begin('k', { a: 1 });
    if (first.kind === 'new') first.complete(Promise.resolve(answer(503)));
    await flush();
    expect(store.begin('k', { a: 1 }).kind).toBe('new');
    store.close();
  });
});

describe('deriveStatus', () => {
  const reservation = (status: 'HELD' | 'RELEASED') => ({ reservationId: 'r1', orderId: 'o1', items: [], total: 100, currency: 'EUR', status });
  const charge = (status: 'CAPTURED' | 'DECLINED') => ({ chargeId: 'c1', orderId: 'o1', amount: 100, currency: 'EUR', status });

  it.each([
    ['held, no charge', [reservation('HELD')], [], [], 'PENDING_PAYMENT'],
    ['captured, no shipment', [reservation('HELD')], [charge('CAPTURED')], [], 'PAID'],
    ['captured and shipped', [reservation('HELD')], [charge('CAPTURED')], [{ shipmentId: 's1', orderId: 'o1' }], 'SHIPPING_SCHEDULED'],
    ['declined', [reservation('RELEASED')], [charge('DECLINED')], [], 'FAILED'],
    ['released without a charge (retries exhausted)', [reservation('RELEASED')], [], [], 'FAILED'],
  ])('%s → %s', (_name, reservations, charges, shipments, status) => {
    expect(deriveStatus('o1', reservations, charges, shipments)?.status).toBe(status);
  });

  it('knows nothing of an order nobody has heard of', () => {
    expect(deriveStatus('o1', [], [], [])).toBeUndefined();
  });
});

describe('combineItems', () => {
  it('adds up the same SKU and sorts', () => {
    expect(combineItems([{ sku: 'B', quantity: 1 }, { sku: 'A', quantity: 2 }, { sku: 'B', quantity: 3 }])).toEqual([
      { sku: 'A', quantity: 2 },
      { sku: 'B', quantity: 4 },
    ]);
  });
});
