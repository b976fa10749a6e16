import { Inventory } from './inventory';
import { ManualClock } from '../../../shared/service-kit/src/testing/stub-contract.test.util';

const catalog = [
  { sku: 'A', name: 'Apple', price: 100 },
  { sku: 'B', name: 'Banana', price: 250 },
];

function inventory(stock = 10, stockBySku: Record<string, number> = {}) {
  const clock = new ManualClock('2025-03-03T09:00:00.000Z');
  let n = 0;
  return { clock, inventory: new Inventory({ catalog, initialStock: stock, stockBySku, clock: clock.now, newId: () => `res_${++n}` }) };
}

describe('Inventory', () => {
  test('a reservation holds every item, prices it from the catalog and totals it', () => {
    const { inventory: inv } = inventory();
    const result = inv.reserve('ord-1', [{ sku: 'B', quantity: 2 }, { sku: 'A', quantity: 3 }]);
    expect(result).toEqual({
      kind: 'created',
      reservation: {
        reservationId: 'res_1',
        orderId: 'ord-1',
        items: [
          { sku: 'A', quantity: 3, unitPrice: 100 },
          { sku: 'B', quantity: 2, unitPrice: 250 },
        ],
        total: 800,
        currency: 'EUR',
        status: 'HELD',
        createdAt: '2025-03-03T09:00:00.000Z',
      },
    });
    expect(inv.stockOf('A')).toEqual({ sku: 'A', available: 7, reserved: 3 });
    expect(inv.stockOf('B')).toEqual({ sku: 'B', available: 8, reserved: 2 });
  });

  test('items with the same SKU are combined', () => {
    const { inventory: inv } = inventory();
    const result = inv.reserve('ord-1', [{ sku: 'A', quantity: 1 }, { sku: 'A', quantity: 2 }]);
    expect(result).toMatchObject({ kind: 'created', reservation: { items: [{ sku: 'A', quantity: 3 }], total: 300 } });
  });

  test('holds all or nothing: one short item leaves every stock untouched', () => {
    const { inventory: inv } = inventory(10, { B: 1 });
    const result = inv.reserve('ord-1', [{ sku: 'A', quantity: 5 }, { sku: 'B', quantity: 2 }]);
    expect(result).toEqual({ kind: 'insufficient_stock', shortages: [{ sku: 'B', requested: 2, available: 1 }] });
    expect(inv.stockOf('A')).toEqual({ sku: 'A', available: 10, reserved: 0 });
    expect(inv.reservationsFor('ord-1')).toEqual([]);
  });

  test('unknown SKUs are named and nothing is held', () => {
    const { inventory: inv } = inventory();
    expect(inv.reserve('ord-1', [{ sku: 'A', quantity: 1 }, { sku: 'Z', quantity: 1 }])).toEqual({ kind: 'unknown_sku', skus: ['Z'] });
    expect(inv.stockOf('A')!.reserved).toBe(0);
    expect(inv.stockOf('Z')).toBeUndefined();
  });

  test('reserving again for the same order with the same items returns the existing reservation and holds nothing more', () => {
    const { inventory: inv } = inventory();
    const first = inv.reserve('ord-1', [{ sku: 'A', quantity: 2 }]);
    const again = inv.reserve('ord-1', [{ sku: 'A', quantity: 1 }, { sku: 'A', quantity: 1 }]);
    expect(again.kind).toBe('existing');
    expect(first.kind === 'created' && again.kind === 'existing' && again.reservation === first.reservation).toBe(true);
    expect(inv.stockOf('A')).toEqual({ sku: 'A', available: 8, reserved: 2 });
  });

  test('the same order with other items is a conflict', () => {
    const { inventory: inv } = inventory();
    inv.reserve('ord-1', [{ sku: 'A', quantity: 2 }]);
    expect(inv.reserve('ord-1', [{ sku: 'A', quantity: 3 }])).toMatchObject({ kind: 'order_conflict', reservation: { status: 'HELD' } });
    expect(inv.stockOf('A')!.reserved).toBe(2);
  });

  test('release gives the stock back once, however often it is called', () => {
    const { inventory: inv, clock } = inventory();
    const created = inv.reserve('ord-1', [{ sku: 'A', quantity: 4 }]);
    if (created.kind !== 'created') throw new Error('not created');
    clock.advance(1_000);
    const released = inv.release(created.reservation.reservationId);
    expect(released).toMatchObject({ kind: 'released', reservation: { status: 'RELEASED', releasedAt: '2025-03-03T09:00:01.000Z' } });
    expect(inv.release(created.reservation.reservationId)).toMatchObject({ kind: 'already_released', reservation: { status: 'RELEASED' } });
    expect(inv.stockOf('A')).toEqual({ sku: 'A', available: 10, reserved: 0 });
    expect(inv.reservationsFor('ord-1')).toMatchObject([{ status: 'RELEASED' }]);
    expect(inv.release('res_unknown')).toEqual({ kind: 'not_found' });
  });

  test('an order whose reservation was released cannot hold stock again (a late retry must not)', () => {
    const { inventory: inv } = inventory();
    const created = inv.reserve('ord-1', [{ sku: 'A', quantity: 4 }]);
    if (created.kind !== 'created') throw new Error('not created');
    inv.release(created.reservation.reservationId);
    expect(inv.reserve('ord-1', [{ sku: 'A', quantity: 4 }])).toMatchObject({ kind: 'order_conflict', reservation: { status: 'RELEASED' } });
    expect(inv.stockOf('A')!.reserved).toBe(0);
  });

  test('the last units can be reserved, then the next order is short', () => {
    const { inventory: inv } = inventory(3);
    expect(inv.reserve('ord-1', [{ sku: 'A', quantity: 3 }]).kind).toBe('created');
    expect(inv.reserve('ord-2', [{ sku: 'A', quantity: 1 }])).toEqual({ kind: 'insufficient_stock', shortages: [{ sku: 'A', requested: 1, available: 0 }] });
  });
});
