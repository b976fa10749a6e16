/**
 * Security headers on every answer of every service: successes, every kind of error the kit
 * makes (400, 401, 403, 404, 409, 413, 415, injected 503), health, metrics, checkout's SSE
 * stream, and generated requests to random paths and methods.
 */
import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { type RawAnswer, type RawRequest, jsonRequest, send } from '../support/http';
import { ADMIN_TOKEN, amqpPrefix, checkoutConfig, order, type RunningCheckout, startCheckout, startStubs, type Stubs } from '../support/world';

jest.setTimeout(60_000);

let stubs: Stubs;
let checkout: RunningCheckout;
const seen = new Map<number, number>();

const EXPECTED: Record<string, string | RegExp> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
  'content-security-policy': /default-src 'none'/,
};

function expectSecure(what: string, answer: Pick<RawAnswer, 'status' | 'headers'>): void {
  seen.set(answer.status, (seen.get(answer.status) ?? 0) + 1);
  const actual: Record<string, unknown> = {};
  for (const name of Object.keys(EXPECTED)) actual[name] = answer.headers[name];
  const expected: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(EXPECTED)) expected[name] = typeof value === 'string' ? value : expect.stringMatching(value);
  expect({ what, status: answer.status, ...actual }).toEqual({ what, status: answer.status, ...expected });
  expect({ what, poweredBy: answer.headers['x-powered-by'] }).toEqual({ what, poweredBy: undefined });
}

beforeAll(async () => {
  stubs = await startStubs();
  checkout = await startCheckout(checkoutConfig(stubs, amqpPrefix('headers'), { FAULTS_ENABLED: 'true', ADMIN_TOKEN }));
});

afterAll(async () => {
  await checkout?.stop();
  await stubs?.stop();
  const parts = [...seen.entries()].sort(([a], [b]) => a - b).map(([status, n]) => `${status}×${n}`);
  console.log(`security headers: ${[...seen.values()].reduce((a, b) => a + b, 0)} answers checked (${parts.join(', ')})`);
});

const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };

/** For every service, requests that give each kind of answer. */
function casesFor(name: string): RawRequest[] {
  const common: RawRequest[] = [
    { method: 'GET', path: '/health/live' },
    { method: 'GET', path: '/health/ready' },
    { method: 'GET', path: '/metrics' },
    { method: 'GET', path: '/nope' },
    { method: 'GET', path: '/admin/faults' },
    { method: 'GET', path: '/admin/faults', headers: { Authorization: 'Bearer wrong-wrong' } },
    { method: 'GET', path: '/admin/faults', headers: auth },
    { method: 'POST', path: '/x', headers: { 'Content-Type': 'text/plain' }, body: 'hello' },
    { method: 'POST', path: '/x', headers: { 'Content-Type': 'application/json' }, body: '{"a":' },
    { method: 'POST', path: '/x', headers: { 'Content-Type': 'application/json' }, body: `{"a":"${'x'.repeat(200_000)}"}` },
  ];
  const specific: Record<string, RawRequest[]> = {
    checkout: [
      jsonRequest('POST', '/checkout', order()),
      jsonRequest('POST', '/checkout', { nope: 1 }),
      jsonRequest('POST', '/checkout', order([{ sku: 'NOPE-1', quantity: 1 }])),
      jsonRequest('POST', '/checkout', order([{ sku: 'KB-MECH-01', quantity: 1 }], 'tok_decline')),
      { method: 'GET', path: '/orders/ord-unknown' },
      { method: 'GET', path: '/orders/%ZZ' },
      { method: 'GET', path: '/circuits' },
    ],
    payment: [
      jsonRequest('POST', '/charges', { orderId: 'h-1', customerId: 'c', amount: 100, paymentToken: 'tok_visa' }, { 'Idempotency-Key': 'h-1' }),
      jsonRequest('POST', '/charges', { orderId: 'h-1', customerId: 'c', amount: 200, paymentToken: 'tok_visa' }, { 'Idempotency-Key': 'h-1' }),
      jsonRequest('POST', '/charges', { orderId: 'h-2', customerId: 'c', amount: 100, paymentToken: 'tok_decline' }, { 'Idempotency-Key': 'h-2' }),
      { method: 'GET', path: '/charges?orderId=h-1' },
      { method: 'GET', path: '/charges' },
    ],
    inventory: [
      { method: 'GET', path: '/products' },
      { method: 'GET', path: '/stock/KB-MECH-01' },
      { method: 'GET', path: '/stock/NOPE' },
      jsonRequest('POST', '/reservations', { orderId: 'h-1', items: [{ sku: 'KB-MECH-01', quantity: 1 }] }),
      jsonRequest('POST', '/reservations', { orderId: 'h-1', items: [{ sku: 'KB-MECH-01', quantity: 2 }] }),
      { method: 'DELETE', path: '/reservations/none' },
    ],
    shipping: [jsonRequest('POST', '/shipments', { orderId: 'h-1', address: { name: 'A', line1: 'B', city: 'C', postalCode: '10115', country: 'DE' } }), { method: 'GET', path: '/shipments?orderId=h-1' }],
    notification: [jsonRequest('POST', '/notifications', { orderId: 'h-1', customerId: 'c', type: 'ORDER_CONFIRMED' }), { method: 'GET', path: '/notifications' }],
  };
  return [...common, ...specific[name]!];
}

const baseOf = (name: string): string => (name === 'checkout' ? checkout.url : stubs.urls[`${name.toUpperCase()}_URL` as keyof Stubs['urls']]);

describe.each(['checkout', 'payment', 'inventory', 'shipping', 'notification'])('%s', (name) => {
  test('every kind of answer carries the security headers', async () => {
    for (const req of casesFor(name)) expectSecure(`${name} ${req.method} ${req.path.slice(0, 60)}`, await send(baseOf(name), req));
  });

  test('answers failed or delayed by an injected fault carry them too', async () => {
    const base = baseOf(name);
    for (const settings of [{ down: true }, { errorRate: 1, errorStatus: 429 }, { errorRate: 1, errorStatus: 500 }, { latencyMs: 5 }]) {
      expect((await send(base, jsonRequest('PUT', '/admin/faults', settings, auth))).status).toBe(200);
      const answer = await send(base, { method: 'GET', path: '/whatever' });
      expect(answer.headers['x-fault-injected']).toBeDefined();
      expectSecure(`${name} fault ${JSON.stringify(settings)}`, answer);
    }
    expect((await send(base, { method: 'DELETE', path: '/admin/faults', headers: auth })).status).toBe(200);
  });

  test('generated methods and paths', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
        fc.array(fc.string({ unit: fc.constantFrom(...'abcXYZ019-_.~%'.split('')), maxLength: 12 }), { maxLength: 4 }),
        async (method, segments) => {
          const path = `/${segments.join('/')}`.replace(/%(?![0-9A-Fa-f]{2})/g, '%25');
          expectSecure(`${name} ${method} ${path}`, await send(baseOf(name), { method, path }));
        },
      ),
      { numRuns: 40 },
    );
  });
});

test('checkout’s event stream (/circuits/stream) carries them', async () => {
  const url = new URL(checkout.url);
  const answer = await new Promise<Pick<RawAnswer, 'status' | 'headers'>>((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path: '/circuits/stream', method: 'GET' }, (res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
      res.destroy();
    });
    req.on('error', reject);
    req.end();
  });
  expect(answer.headers['content-type']).toMatch(/text\/event-stream/);
  expectSecure('checkout GET /circuits/stream', answer);
});
