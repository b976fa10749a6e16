import { loadConfig } from '@checkout/service-kit';
import supertest from 'supertest';
import { createShippingApp } from './app';
import { configSchema } from './config';
import { describeStubContract, expectFieldErrors, ManualClock, testEnv } from '../../../shared/service-kit/src/testing/stub-contract.test.util';

const address = { name: 'Ada Lovelace', line1: 'Unter den Linden 1', city: 'Berlin', postalCode: '10117', country: 'DE' };
const body = { orderId: 'ord-1', address, items: [{ sku: 'KB-MECH-01', quantity: 2 }] };

function shippingApp() {
  const clock = new ManualClock('2025-03-03T09:00:00.000Z');
  const built = createShippingApp({ config: loadConfig(configSchema, testEnv()), clock: clock.now });
  return { ...built, app: built.service.app, clock };
}

const ship = (app: ReturnType<typeof shippingApp>['app'], payload: object) => supertest(app).post('/shipments').send(payload);

describe('shipping routes', () => {
  test('POST /shipments schedules a shipment: 201, listed by GET /shipments', async () => {
    const { app } = shippingApp();
    const res = await ship(app, body);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      shipmentId: expect.stringMatching(/^shp_/),
      orderId: 'ord-1',
      status: 'SCHEDULED',
      carrier: 'DHL',
      estimatedDelivery: '2025-03-05',
      address,
      items: body.items,
      createdAt: '2025-03-03T09:00:00.000Z',
    });
    const list = await supertest(app).get('/shipments').query({ orderId: 'ord-1' });
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ orderId: 'ord-1', shipments: [res.body] });
    expect((await supertest(app).get('/shipments?orderId=ord-none')).body).toEqual({ orderId: 'ord-none', shipments: [] });
  });

  test('items are optional and the country is upper-cased', async () => {
    const res = await ship(shippingApp().app, { orderId: 'ord-2', address: { ...address, country: 'fr', line2: 'Bâtiment B' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ carrier: 'Colissimo', address: { country: 'FR', line2: 'Bâtiment B' } });
    expect(res.body.items).toBeUndefined();
  });

  test('scheduling twice for one order returns the same shipment with 200', async () => {
    const { app, clock } = shippingApp();
    const first = await ship(app, body);
    clock.advance(86_400_000);
    const second = await ship(app, body);
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.body).toEqual(first.body);
    expect((await supertest(app).get('/shipments?orderId=ord-1')).body.shipments).toHaveLength(1);
  });

  test('the same order to another address is a 409 and the first shipment stands', async () => {
    const { app } = shippingApp();
    const first = await ship(app, body);
    const res = await ship(app, { ...body, address: { ...address, city: 'Hamburg', postalCode: '20095' } });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'ORDER_ALREADY_SHIPPED', shipmentId: first.body.shipmentId });
    expect((await supertest(app).get('/shipments?orderId=ord-1')).body.shipments).toEqual([first.body]);
  });

  describe('validation', () => {
    test('every bad field is named', async () => {
      const res = await ship(shippingApp().app, {
        orderId: 'has space',
        address: { name: ' ', line1: 'x', city: '', postalCode: '!', country: 'Germany', floor: 3 },
        items: [{ sku: 'KB-MECH-01', quantity: 0 }],
      });
      expectFieldErrors(res, ['orderId', 'address.name', 'address.city', 'address.postalCode', 'address.country', 'address.floor', 'items.0.quantity']);
    });

    test('a missing address is a 400 naming it', async () => {
      expectFieldErrors(await ship(shippingApp().app, { orderId: 'ord-1' }), ['address']);
    });

    test('GET /shipments needs an orderId', async () => {
      expectFieldErrors(await supertest(shippingApp().app).get('/shipments'), ['orderId']);
    });
  });
});

describe('config', () => {
  test('listens on 3003 by default', () => {
    expect(loadConfig(configSchema, {}).PORT).toBe(3003);
  });
});

describeStubContract('shipping', {
  build: (env, options) => createShippingApp({ config: loadConfig(configSchema, env), clock: options?.clock }).service,
  probe: { method: 'post', path: '/shipments', body },
  okStatuses: [200, 201],
});
