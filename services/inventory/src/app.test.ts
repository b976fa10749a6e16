import { ConfigError, loadConfig } from '@checkout/service-kit';
import supertest from 'supertest';
import { createInventoryApp } from './app';
import { CATALOG } from './catalog';
import { configSchema } from './config';
import {
  adminHeaders,
  describeStubContract,
  expectFieldErrors,
  faultEnv,
  ManualClock,
  testEnv,
} from '../../../shared/service-kit/src/testing/stub-contract.test.util';

function inventoryApp(env: Record<string, string> = {}) {
  const clock = new ManualClock('2025-03-03T09:00:00.000Z');
  const built = createInventoryApp({ config: loadConfig(configSchema, testEnv(env)), clock: clock.now });
  return { ...built, app: built.service.app, clock };
}

type App = ReturnType<typeof inventoryApp>['app'];
const reserve = (app: App, body: object) => supertest(app).post('/reservations').send(body);
const stockOf = async (app: App, sku: string) => (await supertest(app).get(`/stock/${sku}`).expect(200)).body;

describe('inventory routes', () => {
  test('GET /products lists the catalog with prices in cents', async () => {
    const res = await supertest(inventoryApp().app).get('/products');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(CATALOG);
    expect(res.body.length).toBeGreaterThanOrEqual(5);
    for (const product of res.body) expect(Number.isInteger(product.price) && product.price > 0).toBe(true);
  });

  test('GET /stock/:sku shows available and reserved units; unknown SKU 404; malformed SKU 400', async () => {
    const { app } = inventoryApp({ INITIAL_STOCK: '50' });
    expect(await stockOf(app, 'KB-MECH-01')).toEqual({ sku: 'KB-MECH-01', available: 50, reserved: 0 });
    const unknown = await supertest(app).get('/stock/NOPE-1');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: 'UNKNOWN_SKU', sku: 'NOPE-1' });
    expectFieldErrors(await supertest(app).get(`/stock/${'X'.repeat(65)}`), ['sku']);
  });

  test('POST /reservations holds the stock: 201 with priced items and total', async () => {
    const { app } = inventoryApp({ INITIAL_STOCK: '10' });
    const res = await reserve(app, { orderId: 'ord-1', items: [{ sku: 'MON-27-4K', quantity: 1 }, { sku: 'KB-MECH-01', quantity: 2 }] });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      reservationId: expect.stringMatching(/^res_/),
      orderId: 'ord-1',
      items: [
        { sku: 'KB-MECH-01', quantity: 2, unitPrice: 8_999 },
        { sku: 'MON-27-4K', quantity: 1, unitPrice: 34_900 },
      ],
      total: 2 * 8_999 + 34_900,
      currency: 'EUR',
      status: 'HELD',
      createdAt: '2025-03-03T09:00:00.000Z',
    });
    expect(await stockOf(app, 'KB-MECH-01')).toEqual({ sku: 'KB-MECH-01', available: 8, reserved: 2 });
    const listed = await supertest(app).get('/reservations?orderId=ord-1');
    expect(listed.body).toEqual({ orderId: 'ord-1', reservations: [res.body] });
  });

  test('reserving twice for one order is one hold: 200 with the same reservation', async () => {
    const { app } = inventoryApp({ INITIAL_STOCK: '10' });
    const body = { orderId: 'ord-1', items: [{ sku: 'WEBCAM-HD', quantity: 3 }] };
    const first = await reserve(app, body);
    const second = await reserve(app, body);
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.body).toEqual(first.body);
    expect(await stockOf(app, 'WEBCAM-HD')).toEqual({ sku: 'WEBCAM-HD', available: 7, reserved: 3 });

    const other = await reserve(app, { orderId: 'ord-1', items: [{ sku: 'WEBCAM-HD', quantity: 4 }] });
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ error: 'ORDER_ALREADY_RESERVED', reservationId: first.body.reservationId });
  });

  test('simultaneous reservations never sell more than the stock', async () => {
    const { app } = inventoryApp({ INITIAL_STOCK_BY_SKU: 'HEADSET-NC=5' });
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => reserve(app, { orderId: `ord-${i}`, items: [{ sku: 'HEADSET-NC', quantity: 1 }] })),
    );
    expect(answers.filter((res) => res.status === 201)).toHaveLength(5);
    expect(answers.filter((res) => res.status === 409)).toHaveLength(7);
    expect(await stockOf(app, 'HEADSET-NC')).toEqual({ sku: 'HEADSET-NC', available: 0, reserved: 5 });
  });

  test('an unknown SKU is a 404 naming it, and nothing is held', async () => {
    const { app } = inventoryApp({ INITIAL_STOCK: '10' });
    const res = await reserve(app, { orderId: 'ord-1', items: [{ sku: 'KB-MECH-01', quantity: 1 }, { sku: 'NOPE-1', quantity: 1 }] });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: 'UNKNOWN_SKU', skus: ['NOPE-1'] });
    expect((await stockOf(app, 'KB-MECH-01')).reserved).toBe(0);
  });

  test('not enough stock is a 409 saying which SKU, how many were requested and how many are available', async () => {
    const { app } = inventoryApp({ INITIAL_STOCK: '10', INITIAL_STOCK_BY_SKU: 'MON-27-4K=1' });
    const res = await reserve(app, { orderId: 'ord-1', items: [{ sku: 'KB-MECH-01', quantity: 2 }, { sku: 'MON-27-4K', quantity: 2 }] });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'OUT_OF_STOCK', sku: 'MON-27-4K', requested: 2, available: 1, shortages: [{ sku: 'MON-27-4K', requested: 2, available: 1 }] });
    expect((await stockOf(app, 'KB-MECH-01')).reserved).toBe(0);
    expect((await supertest(app).get('/reservations?orderId=ord-1')).body.reservations).toEqual([]);
  });

  test('DELETE /reservations/:id releases the stock; releasing twice is fine; GET /reservations shows it released', async () => {
    const { app, clock } = inventoryApp({ INITIAL_STOCK: '10' });
    const created = await reserve(app, { orderId: 'ord-1', items: [{ sku: 'STAND-LAPTOP', quantity: 4 }] });
    clock.advance(30_000);
    const first = await supertest(app).delete(`/reservations/${created.body.reservationId}`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ reservationId: created.body.reservationId, status: 'RELEASED', releasedAt: '2025-03-03T09:00:30.000Z' });
    const second = await supertest(app).delete(`/reservations/${created.body.reservationId}`);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(await stockOf(app, 'STAND-LAPTOP')).toEqual({ sku: 'STAND-LAPTOP', available: 10, reserved: 0 });
    expect((await supertest(app).get('/reservations?orderId=ord-1')).body.reservations).toMatchObject([{ status: 'RELEASED' }]);

    const again = await reserve(app, { orderId: 'ord-1', items: [{ sku: 'STAND-LAPTOP', quantity: 4 }] });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: 'RESERVATION_RELEASED', status: 'RELEASED' });
    expect((await stockOf(app, 'STAND-LAPTOP')).reserved).toBe(0);
  });

  test('releasing an unknown reservation is a 404', async () => {
    const res = await supertest(inventoryApp().app).delete('/reservations/res_nope');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: 'RESERVATION_NOT_FOUND' });
  });

  describe('validation', () => {
    test('bad reservations name every bad field', async () => {
      const res = await reserve(inventoryApp().app, {
        orderId: '',
        items: [{ sku: 'KB-MECH-01', quantity: 0 }, { sku: 'bad sku', quantity: 1.5 }, { sku: 'A', quantity: 1, price: 1 }],
        extra: true,
      });
      expectFieldErrors(res, ['orderId', 'items.0.quantity', 'items.1.sku', 'items.1.quantity', 'items.2.price', 'extra']);
    });

    test.each([
      ['no items', { orderId: 'o', items: [] }, 'items'],
      ['items not a list', { orderId: 'o', items: 'KB-MECH-01' }, 'items'],
      ['a quantity as a string', { orderId: 'o', items: [{ sku: 'KB-MECH-01', quantity: '2' }] }, 'items.0.quantity'],
      ['a quantity above the maximum', { orderId: 'o', items: [{ sku: 'KB-MECH-01', quantity: 10_001 }] }, 'items.0.quantity'],
      ['too many lines', { orderId: 'o', items: Array.from({ length: 101 }, () => ({ sku: 'KB-MECH-01', quantity: 1 })) }, 'items'],
    ])('%s is a 400', async (_name, body, field) => {
      expectFieldErrors(await reserve(inventoryApp().app, body), [field]);
    });

    test('GET /reservations needs an orderId', async () => {
      expectFieldErrors(await supertest(inventoryApp().app).get('/reservations'), ['orderId']);
    });
  });

  test('a reservation failed by an injected fault holds nothing', async () => {
    const { app } = inventoryApp(faultEnv({ INITIAL_STOCK: '10' }));
    await supertest(app).put('/admin/faults').set(adminHeaders).send({ errorRate: 1, errorStatus: 500, routes: ['POST /reservations'] }).expect(200);
    expect((await reserve(app, { orderId: 'ord-1', items: [{ sku: 'KB-MECH-01', quantity: 1 }] })).status).toBe(500);
    expect(await stockOf(app, 'KB-MECH-01')).toEqual({ sku: 'KB-MECH-01', available: 10, reserved: 0 });
  });
});

describe('config', () => {
  test('defaults: port 3002 and 100 000 units of every SKU', () => {
    const config = loadConfig(configSchema, {});
    expect(config.PORT).toBe(3002);
    expect(config.INITIAL_STOCK).toBe(100_000);
  });

  test('INITIAL_STOCK_BY_SKU overrides some SKUs', async () => {
    const { app } = inventoryApp({ INITIAL_STOCK: '7', INITIAL_STOCK_BY_SKU: 'MON-27-4K=0, WEBCAM-HD=3' });
    expect((await stockOf(app, 'MON-27-4K')).available).toBe(0);
    expect((await stockOf(app, 'WEBCAM-HD')).available).toBe(3);
    expect((await stockOf(app, 'KB-MECH-01')).available).toBe(7);
  });

  test.each([
    [{ INITIAL_STOCK: '-1' }, 'INITIAL_STOCK'],
    [{ INITIAL_STOCK: 'lots' }, 'INITIAL_STOCK'],
    [{ INITIAL_STOCK_BY_SKU: 'NOPE-1=3' }, 'INITIAL_STOCK_BY_SKU'],
    [{ INITIAL_STOCK_BY_SKU: 'MON-27-4K' }, 'INITIAL_STOCK_BY_SKU'],
  ])('a bad stock setting fails at start naming the variable (%o)', (env, variable) => {
    expect(() => loadConfig(configSchema, env)).toThrow(ConfigError);
    expect(() => loadConfig(configSchema, env)).toThrow(new RegExp(`^Invalid configuration: ${variable} `));
  });
});

describeStubContract('inventory', {
  build: (env, options) => createInventoryApp({ config: loadConfig(configSchema, env), clock: options?.clock }).service,
  probe: { method: 'post', path: '/reservations', body: { orderId: 'probe-order', items: [{ sku: 'KB-MECH-01', quantity: 1 }] } },
  okStatuses: [200, 201],
});
