import { addBusinessDays, ShipmentBook, type ShipmentRequest } from './shipments';
import { ManualClock } from '../../../shared/service-kit/src/testing/stub-contract.test.util';

const address = { name: 'Ada Lovelace', line1: 'Unter den Linden 1', city: 'Berlin', postalCode: '10117', country: 'DE' };
const request: ShipmentRequest = { orderId: 'ord-1', address, items: [{ sku: 'KB-MECH-01', quantity: 1 }] };

describe('addBusinessDays', () => {
  test.each([
    ['2025-03-03T09:00:00.000Z', 2, '2025-03-05'], // Monday + 2 → Wednesday
    ['2025-03-06T09:00:00.000Z', 2, '2025-03-10'], // Thursday + 2 → Monday
    ['2025-03-08T09:00:00.000Z', 1, '2025-03-10'], // Saturday + 1 → Monday
    ['2025-03-07T23:30:00.000Z', 5, '2025-03-14'], // Friday + 5 → Friday
  ])('from %s plus %d business days is %s', (from, days, expected) => {
    expect(addBusinessDays(Date.parse(from), days)).toBe(expected);
  });
});

describe('ShipmentBook', () => {
  test('schedules a shipment with the carrier and estimate of the destination', () => {
    const clock = new ManualClock('2025-03-03T09:00:00.000Z');
    const book = new ShipmentBook({ clock: clock.now, newId: () => 'shp_1' });
    expect(book.schedule(request)).toEqual({
      kind: 'created',
      shipment: {
        shipmentId: 'shp_1',
        orderId: 'ord-1',
        status: 'SCHEDULED',
        carrier: 'DHL',
        estimatedDelivery: '2025-03-05',
        address,
        items: [{ sku: 'KB-MECH-01', quantity: 1 }],
        createdAt: '2025-03-03T09:00:00.000Z',
      },
    });
    expect(book.schedule({ orderId: 'ord-2', address: { ...address, country: 'JP' } })).toMatchObject({
      shipment: { carrier: 'UPS', estimatedDelivery: '2025-03-10' },
    });
  });

  test('the same order with the same address and items (in any key order) is the same shipment', () => {
    const book = new ShipmentBook();
    const first = book.schedule(request);
    const reordered = { country: 'DE', postalCode: '10117', city: 'Berlin', line1: 'Unter den Linden 1', name: 'Ada Lovelace' };
    const again = book.schedule({ items: [{ quantity: 1, sku: 'KB-MECH-01' }], address: reordered, orderId: 'ord-1' });
    expect(again.kind).toBe('existing');
    expect(again.shipment).toBe(first.shipment);
    expect(book.shipmentsFor('ord-1')).toHaveLength(1);
  });

  test('the same order to another address, or without its items, is a conflict', () => {
    const book = new ShipmentBook();
    book.schedule(request);
    expect(book.schedule({ ...request, address: { ...address, city: 'Hamburg' } }).kind).toBe('order_conflict');
    expect(book.schedule({ orderId: 'ord-1', address }).kind).toBe('order_conflict');
    expect(book.shipmentsFor('ord-1')).toHaveLength(1);
    expect(book.shipmentsFor('ord-2')).toEqual([]);
  });
});
