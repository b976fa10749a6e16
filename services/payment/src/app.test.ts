import { loadConfig } from '@checkout/service-kit';
import supertest from 'supertest';
import { createPaymentApp, type PaymentAppOptions } from './app';
import { configSchema } from './config';
import { type Authorization, ChargeLedger } from './ledger';
import {
  adminHeaders,
  describeStubContract,
  expectFieldErrors,
  faultEnv,
  ManualClock,
  testEnv,
  until,
} from '../../../shared/service-kit/src/testing/stub-contract.test.util';

const body = { orderId: 'ord-1', customerId: 'cus-1', amount: 4599, currency: 'EUR', paymentToken: 'tok_visa' };

function payment(options: Partial<PaymentAppOptions> = {}, env: Record<string, string> = {}) {
  const clock = new ManualClock('2025-03-03T09:00:00.000Z');
  const built = createPaymentApp({ config: loadConfig(configSchema, testEnv(env)), clock: clock.now, ...options });
  return { ...built, app: built.service.app, clock };
}

const charge = (app: ReturnType<typeof payment>['app'], key: string | undefined, payload: object = body) => {
  const test = supertest(app).post('/charges');
  return key === undefined ? test.send(payload) : test.set('Idempotency-Key', key).send(payload);
};

describe('POST /charges', () => {
  test('captures a charge: 201 with the charge, listed by GET /charges', async () => {
    const { app } = payment();
    const res = await charge(app, 'key-1');
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      chargeId: expect.stringMatching(/^ch_/),
      orderId: 'ord-1',
      customerId: 'cus-1',
      amount: 4599,
      currency: 'EUR',
      status: 'CAPTURED',
      createdAt: '2025-03-03T09:00:00.000Z',
    });
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    const list = await supertest(app).get('/charges').query({ orderId: 'ord-1' });
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ orderId: 'ord-1', charges: [res.body] });
  });

  test('currency defaults to EUR', async () => {
    const { app } = payment();
    const { currency: _omitted, ...withoutCurrency } = body;
    const res = await charge(app, 'key-1', withoutCurrency);
    expect(res.status).toBe(201);
    expect(res.body.currency).toBe('EUR');
  });

  test('tok_decline is declined: 402 DECLINED with a reason, recorded and replayed like any answer', async () => {
    const { app } = payment();
    const declined = await charge(app, 'key-d', { ...body, paymentToken: 'tok_decline' });
    expect(declined.status).toBe(402);
    expect(declined.body).toMatchObject({ error: 'PAYMENT_DECLINED', status: 'DECLINED', reason: 'card_declined', orderId: 'ord-1', amount: 4599 });

    const replay = await charge(app, 'key-d', { ...body, paymentToken: 'tok_decline' });
    expect(replay.status).toBe(402);
    expect(replay.body).toEqual(declined.body);
    expect(replay.headers['idempotent-replayed']).toBe('true');

    const list = await supertest(app).get('/charges?orderId=ord-1');
    expect(list.body.charges.map((c: { status: string }) => c.status)).toEqual(['DECLINED']);
  });

  describe('validation', () => {
    test('a missing Idempotency-Key and a bad body are reported together as field errors', async () => {
      const { app, ledger } = payment();
      const res = await charge(app, undefined, { orderId: '', amount: 12.5, paymentToken: '4242424242424242', extra: 1 });
      expectFieldErrors(res, ['Idempotency-Key', 'orderId', 'customerId', 'amount', 'paymentToken', 'extra']);
      expect(res.body.fields).toContainEqual({ path: 'Idempotency-Key', message: 'header is required' });
      expect(ledger.keys).toBe(0);
    });

    test.each([
      ['zero', 0],
      ['negative', -100],
      ['a decimal (amounts are integer cents)', 45.99],
      ['a string', '4599'],
      ['above the maximum', 100_000_001],
    ])('amount %s is refused', async (_name, amount) => {
      expectFieldErrors(await charge(payment().app, 'key-1', { ...body, amount }), ['amount']);
    });

    test.each([
      ['lower-case currency', { currency: 'eur' }, 'currency'],
      ['token without tok_', { paymentToken: 'card_4242' }, 'paymentToken'],
      ['customerId with spaces', { customerId: 'a b' }, 'customerId'],
      ['orderId not a string', { orderId: 42 }, 'orderId'],
    ])('%s is refused', async (_name, change, field) => {
      expectFieldErrors(await charge(payment().app, 'key-1', { ...body, ...change }), [field]);
    });

    test('the Idempotency-Key is bounded to 200 visible characters', async () => {
      const { app } = payment();
      expect((await charge(app, 'k'.repeat(200))).status).toBe(201);
      expectFieldErrors(await charge(app, 'k'.repeat(201)), ['Idempotency-Key']);
      expectFieldErrors(await charge(app, 'has space'), ['Idempotency-Key']);
    });

    test('a request without a body is a 400, not a 500', async () => {
      const res = await supertest(payment().app).post('/charges').set('Idempotency-Key', 'key-1');
      expectFieldErrors(res, ['']);
    });

    test('GET /charges needs an orderId', async () => {
      const { app } = payment();
      expectFieldErrors(await supertest(app).get('/charges'), ['orderId']);
      expectFieldErrors(await supertest(app).get('/charges?orderId=a&orderId=b'), ['orderId']);
    });
  });

  describe('idempotency', () => {
    test('the same key and body replays the first answer (same status and body) without charging again', async () => {
      const { app, clock } = payment();
      const first = await charge(app, 'key-1');
      clock.advance(5 * 60_000);
      // Key order and an explicit default do not make a different request.
      const replay = await charge(app, 'key-1', { paymentToken: 'tok_visa', amount: 4599, customerId: 'cus-1', orderId: 'ord-1' });
      expect(replay.status).toBe(first.status);
      expect(replay.body).toEqual(first.body);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect((await supertest(app).get('/charges?orderId=ord-1')).body.charges).toHaveLength(1);
    });

    test('the same key with a different body is a 409 and charges nothing', async () => {
      const { app } = payment();
      await charge(app, 'key-1');
      const res = await charge(app, 'key-1', { ...body, amount: 4600 });
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ error: 'IDEMPOTENCY_KEY_REUSED' });
      const other = await charge(app, 'key-1', { ...body, orderId: 'ord-2' });
      expect(other.status).toBe(409);
      expect((await supertest(app).get('/charges?orderId=ord-1')).body.charges).toHaveLength(1);
      expect((await supertest(app).get('/charges?orderId=ord-2')).body.charges).toHaveLength(0);
    });

    test('two keys for one order make two charges, and GET /charges shows the duplicate', async () => {
      const { app } = payment();
      await charge(app, 'key-1').expect(201);
      await charge(app, 'key-2').expect(201);
      const list = await supertest(app).get('/charges?orderId=ord-1');
      expect(list.body.charges.filter((c: { status: string }) => c.status === 'CAPTURED')).toHaveLength(2);
    });

    test('concurrent requests with the same key: the second waits for the first, exactly one charge', async () => {
      const approvals: Array<(value: Authorization) => void> = [];
      const authorize = jest.fn(() => new Promise<Authorization>((resolve) => approvals.push(resolve)));
      const approveAll = () => approvals.splice(0).forEach((approve) => approve({ approved: true }));
      const ledger = new ChargeLedger({ authorize, clock: new ManualClock().now });
      const { app } = payment({ ledger });
      const enter = jest.spyOn(ledger, 'charge');
      try {
        const first = charge(app, 'key-1').then((res) => res);
        await until(() => authorize.mock.calls.length === 1);
        const second = charge(app, 'key-1').then((res) => res);
        await until(() => enter.mock.calls.length === 2); // the second is inside the ledger while the first is in flight
        let conflicting: supertest.Response | undefined;
        void charge(app, 'key-1', { ...body, amount: 1 }).then((res) => (conflicting = res));
        await until(() => conflicting !== undefined); // answered at once, while the first is still in flight
        expect(conflicting!.status).toBe(409);
        expect(conflicting!.body.message).toMatch(/right now/);

        approveAll();
        const answers = await Promise.all([first, second]);
        expect(authorize).toHaveBeenCalledTimes(1);
        expect(answers.map((res) => res.status)).toEqual([201, 201]);
        expect(answers[1]!.body).toEqual(answers[0]!.body);
        expect(answers.map((res) => res.headers['idempotent-replayed'])).toEqual([undefined, 'true']);
        expect((await supertest(app).get('/charges?orderId=ord-1')).body.charges).toHaveLength(1);
      } finally {
        approveAll(); // a failed expectation must not leave requests open
      }
    });

    test('a burst of simultaneous requests with one key makes exactly one charge', async () => {
      const { app } = payment();
      const answers = await Promise.all(Array.from({ length: 20 }, () => charge(app, 'burst-key')));
      expect(new Set(answers.map((res) => res.status))).toEqual(new Set([201]));
      expect(new Set(answers.map((res) => res.body.chargeId)).size).toBe(1);
      expect(answers.filter((res) => res.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
      expect((await supertest(app).get('/charges?orderId=ord-1')).body.charges).toHaveLength(1);
    });
  });

  test('a request failed by an injected fault charges nothing', async () => {
    const { app } = payment({}, faultEnv());
    await supertest(app).put('/admin/faults').set(adminHeaders).send({ errorRate: 1, errorStatus: 503 }).expect(200);
    expect((await charge(app, 'key-1')).status).toBe(503);
    await supertest(app).delete('/admin/faults').set(adminHeaders).expect(200);
    expect((await supertest(app).get('/charges?orderId=ord-1')).body.charges).toEqual([]);
    // The key was never used, so the retry is a first request.
    const retry = await charge(app, 'key-1');
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
  });

  test('never logs the payment token or the request body', async () => {
    const { app, service } = payment({}, { LOG_LEVEL: 'debug' });
    const lines: unknown[] = [];
    jest.spyOn(service.logger, 'write').mockImplementation((info: unknown) => {
      lines.push(info);
      return true;
    });
    await charge(app, 'key-1', { ...body, paymentToken: 'tok_secret_4242' }).expect(201);
    await charge(app, 'key-2', { ...body, paymentToken: 'tok_decline' }).expect(402);
    await charge(app, 'key-3', { ...body, paymentToken: 'tok_secret_4242', amount: -1 }).expect(400);
    const text = JSON.stringify(lines);
    expect(lines.length).toBeGreaterThan(0);
    expect(text).toContain('charge captured');
    expect(text).not.toContain('tok_secret_4242');
    expect(text).not.toContain('paymentToken');
  });
});

describeStubContract('payment', {
  build: (env, options) => createPaymentApp({ config: loadConfig(configSchema, env), clock: options?.clock }).service,
  probe: { method: 'post', path: '/charges', headers: { 'Idempotency-Key': 'probe-key' }, body },
  okStatuses: [201],
});

describe('config', () => {
  test('listens on 3001 by default', () => {
    expect(loadConfig(configSchema, {}).PORT).toBe(3001);
  });
});
