import { loadConfig } from '@checkout/service-kit';
import supertest from 'supertest';
import { createNotificationApp } from './app';
import { configSchema } from './config';
import { describeStubContract, expectFieldErrors, ManualClock, testEnv } from '../../../shared/service-kit/src/testing/stub-contract.test.util';

const body = { orderId: 'ord-1', customerId: 'cus-1', type: 'ORDER_CONFIRMED' };

function notificationApp() {
  const clock = new ManualClock('2025-03-03T09:00:00.000Z');
  const built = createNotificationApp({ config: loadConfig(configSchema, testEnv()), clock: clock.now });
  return { ...built, app: built.service.app, clock };
}

type App = ReturnType<typeof notificationApp>['app'];
const notify = (app: App, payload: object, key?: string) => {
  const test = supertest(app).post('/notifications');
  return key === undefined ? test.send(payload) : test.set('Idempotency-Key', key).send(payload);
};
const listFor = async (app: App, orderId: string) => (await supertest(app).get('/notifications').query({ orderId }).expect(200)).body.notifications;

describe('notification routes', () => {
  test('POST /notifications stores the notification in the outbox: 201, listed by GET /notifications', async () => {
    const { app } = notificationApp();
    const res = await notify(app, body);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      notificationId: expect.stringMatching(/^ntf_/),
      idempotencyKey: 'ord-1:ORDER_CONFIRMED',
      orderId: 'ord-1',
      customerId: 'cus-1',
      type: 'ORDER_CONFIRMED',
      channel: 'email',
      subject: 'Your order ord-1 is confirmed',
      status: 'SENT',
      createdAt: '2025-03-03T09:00:00.000Z',
    });
    expect(await listFor(app, 'ord-1')).toEqual([res.body]);
  });

  test('without a key, one notification per order and type: a repeat is 200 with the same record', async () => {
    const { app, clock } = notificationApp();
    const first = await notify(app, body);
    clock.advance(1_000);
    const repeat = await notify(app, body);
    expect([first.status, repeat.status]).toEqual([201, 200]);
    expect(repeat.body).toEqual(first.body);
    const shipped = await notify(app, { ...body, type: 'ORDER_SHIPPED' });
    expect(shipped.status).toBe(201);
    expect((await listFor(app, 'ord-1')).map((n: { type: string }) => n.type)).toEqual(['ORDER_CONFIRMED', 'ORDER_SHIPPED']);
  });

  test('the key may come from the Idempotency-Key header or the body', async () => {
    const { app } = notificationApp();
    const byHeader = await notify(app, body, 'notify-1');
    expect(byHeader.status).toBe(201);
    expect(byHeader.body.idempotencyKey).toBe('notify-1');
    const byBody = await notify(app, { ...body, idempotencyKey: 'notify-1' });
    expect(byBody.status).toBe(200);
    expect(byBody.body).toEqual(byHeader.body);
    // Another explicit key is another notification, even of the same type.
    expect((await notify(app, body, 'notify-2')).status).toBe(201);
    expect(await listFor(app, 'ord-1')).toHaveLength(2);
  });

  test('the same key for another notification is a 409 and stores nothing', async () => {
    const { app } = notificationApp();
    const first = await notify(app, body, 'notify-1');
    const res = await notify(app, { ...body, type: 'ORDER_FAILED' }, 'notify-1');
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'IDEMPOTENCY_KEY_REUSED', notificationId: first.body.notificationId });
    expect(await listFor(app, 'ord-1')).toHaveLength(1);
  });

  test('GET /notifications without an orderId shows the newest of the outbox', async () => {
    const { app } = notificationApp();
    for (const orderId of ['a', 'b', 'c']) await notify(app, { ...body, orderId }).expect(201);
    const res = await supertest(app).get('/notifications?limit=2');
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(3);
    expect(res.body.notifications.map((n: { orderId: string }) => n.orderId)).toEqual(['b', 'c']);
  });

  describe('validation', () => {
    test('every bad field is named', async () => {
      const res = await notify(notificationApp().app, { orderId: '', type: 'ORDER_LOST', sms: true });
      expectFieldErrors(res, ['orderId', 'customerId', 'type', 'sms']);
    });

    test('a bad Idempotency-Key header, or one that differs from the body key, is a 400', async () => {
      const { app } = notificationApp();
      expectFieldErrors(await notify(app, body, 'k'.repeat(201)), ['Idempotency-Key']);
      expectFieldErrors(await notify(app, { ...body, idempotencyKey: 'body-key' }, 'header-key'), ['idempotencyKey']);
      expectFieldErrors(await notify(app, { ...body, idempotencyKey: '' }), ['idempotencyKey']);
      expect(await listFor(app, 'ord-1')).toEqual([]);
    });

    test('list parameters are checked', async () => {
      const { app } = notificationApp();
      expectFieldErrors(await supertest(app).get('/notifications?limit=0'), ['limit']);
      expectFieldErrors(await supertest(app).get('/notifications?limit=abc'), ['limit']);
      expectFieldErrors(await supertest(app).get('/notifications?orderId=a%20b'), ['orderId']);
    });
  });
});

describe('config', () => {
  test('listens on 3004 by default', () => {
    expect(loadConfig(configSchema, {}).PORT).toBe(3004);
  });
});

describeStubContract('notification', {
  build: (env, options) => createNotificationApp({ config: loadConfig(configSchema, env), clock: options?.clock }).service,
  probe: { method: 'post', path: '/notifications', body },
  okStatuses: [200, 201],
});
