import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, Journal, loadConfig } from '@checkout/service-kit';
import { combineItems } from './checkout';
import { configSchema } from './config';
import { IdempotencyStore } from './idempotency';
import type { CheckoutAnswer, CheckoutRequest } from './model';
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
  const answer = (httpStatus: number, orderId = 'o1'): CheckoutAnswer => ({ httpStatus, body: { orderId, status: 'PAID', warnings: [] } });
  const request = (customerId = 'c1'): CheckoutRequest => ({
    customerId,
    items: [{ sku: 'KB-MECH-01', quantity: 1 }],
    paymentToken: 'tok_visa',
    shippingAddress: { name: 'Ada', line1: '1 Row', city: 'London', postalCode: 'N1 9GU', country: 'GB' },
  });
  const flush = () => new Promise((resolve) => setImmediate(resolve));
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'idempotency-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replays the same body, refuses another one', async () => {
    const store = new IdempotencyStore(60);
    const first = store.begin('k', request(), () => 'o1');
    expect(first).toMatchObject({ kind: 'new', orderId: 'o1' });
    if (first.kind === 'new') first.complete(Promise.resolve(answer(201)));
    const again = store.begin('k', request(), () => 'o2');
    expect(again.kind).toBe('replay');
    if (again.kind === 'replay') expect((await again.answer).httpStatus).toBe(201);
    expect(store.begin('k', request('c2'), () => 'o3').kind).toBe('mismatch');
  });

  it('forgets a 503 (nothing was done) so that a retry runs again', async () => {
    const store = new IdempotencyStore(60);
    const first = store.begin('k', request(), () => 'o1');
    if (first.kind === 'new') first.complete(Promise.resolve(answer(503)));
    await flush();
    expect(store.begin('k', request(), () => 'o2')).toMatchObject({ kind: 'new', orderId: 'o2' });
  });

  it('expires a key its TTL after the first request (injected clock)', async () => {
    let now = 1_000_000;
    const store = new IdempotencyStore(60, undefined, () => now);
    const first = store.begin('k', request(), () => 'o1');
    if (first.kind === 'new') first.complete(Promise.resolve(answer(201)));
    await flush();
    now += 59_999;
    expect(store.begin('k', request(), () => 'o2').kind).toBe('replay');
    now += 1;
    expect(store.begin('k', request(), () => 'o3')).toMatchObject({ kind: 'new', orderId: 'o3' });
  });

  it('replays an answer given before a restart (the journal keeps it)', async () => {
    const path = join(dir, 'checkout.journal');
    const before = Journal.open(path);
    const first = new IdempotencyStore(60, before).begin('k', request(), () => 'o1');
    if (first.kind === 'new') first.complete(Promise.resolve(answer(201, 'o1')));
    await flush();
    before.close();

    const after = new IdempotencyStore(60, Journal.open(path));
    const recover = jest.fn();
    expect(after.restore(recover)).toBe(0);
    expect(recover).not.toHaveBeenCalled();
    const again = after.begin('k', request(), () => 'o2');
    expect(again.kind).toBe('replay');
    if (again.kind === 'replay') expect(await again.answer).toEqual(answer(201, 'o1'));
    expect(after.begin('k', request('c2'), () => 'o3').kind).toBe('mismatch');
  });

  it('hands a key cut short by a crash (no answer journaled) to recovery, and replays what it settles', async () => {
    const path = join(dir, 'checkout.journal');
    const before = Journal.open(path);
    expect(new IdempotencyStore(60, before).begin('k', request(), () => 'o1').kind).toBe('new');
    before.close(); // the process ends before the answer

    const after = new IdempotencyStore(60, Journal.open(path));
    const recover = jest.fn(async () => answer(201, 'o1'));
    expect(after.restore(recover)).toBe(1);
    expect(recover).toHaveBeenCalledWith('o1', request());
    const again = after.begin('k', request(), () => 'o2');
    expect(again.kind).toBe('replay');
    if (again.kind === 'replay') expect((await again.answer).body.orderId).toBe('o1');
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
