/**
 * Bad input against every route of checkout and the four stubs, on real HTTP servers (port 0)
 * in this process, with the real broker under this run's own prefix.
 *
 * Every answer must be below 500; a 4xx must carry the kit's error shape (`error`, `message`,
 * `requestId`); input that cannot be right (malformed JSON, another content type, a body over
 * the limit, an oversized Idempotency-Key) must be a 4xx. Between the fuzz requests real
 * orders are placed and read back; at the end every service is alive and the heap is bounded.
 */
import fc from 'fast-check';
import { applyMutations, CONTENT_TYPES, idempotencyKeyHeader, mutation, nastyValue, pathSegment, queryFor, requestIdHeader } from './arbitraries';
import { isClearError, type RawAnswer, type RawRequest, send, StatusTally } from '../support/http';
import { ADMIN_TOKEN, amqpPrefix, checkoutConfig, order, type RunningCheckout, startCheckout, startStubs, type Stubs } from '../support/world';

jest.setTimeout(120_000);

/** Runs per property: the whole file stays well under a minute on 2 vCPUs. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

let stubs: Stubs;
let checkout: RunningCheckout;
const tally = new StatusTally();
const probes = { placed: 0, read: 0 };
let heapBefore = 0;

interface Target {
  name: string;
  base: () => string;
  method: string;
  path: string;
  template: unknown;
  keyHeader?: boolean;
}

const targets: Target[] = [
  { name: 'checkout POST /checkout', base: () => checkout.url, method: 'POST', path: '/checkout', template: order([{ sku: 'MOUSE-WL-02', quantity: 1 }]), keyHeader: true },
  {
    name: 'payment POST /charges',
    base: () => stubs.urls.PAYMENT_URL,
    method: 'POST',
    path: '/charges',
    template: { orderId: 'ord-fuzz', customerId: 'cus-1', amount: 4599, currency: 'EUR', paymentToken: 'tok_visa' },
    keyHeader: true,
  },
  { name: 'inventory POST /reservations', base: () => stubs.urls.INVENTORY_URL, method: 'POST', path: '/reservations', template: { orderId: 'ord-fuzz', items: [{ sku: 'HUB-USBC-7', quantity: 1 }] } },
  {
    name: 'shipping POST /shipments',
    base: () => stubs.urls.SHIPPING_URL,
    method: 'POST',
    path: '/shipments',
    template: { orderId: 'ord-fuzz', address: { name: 'A', line1: 'B', city: 'C', postalCode: '10115', country: 'DE' }, items: [{ sku: 'HUB-USBC-7', quantity: 1 }] },
  },
  {
    name: 'notification POST /notifications',
    base: () => stubs.urls.NOTIFICATION_URL,
    method: 'POST',
    path: '/notifications',
    template: { orderId: 'ord-fuzz', customerId: 'cus-1', type: 'ORDER_CONFIRMED' },
    keyHeader: true,
  },
];

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** What makes a body certainly wrong, whatever the route. */
type BodyKind = 'json' | 'malformed' | 'huge' | 'arbitraryJson' | 'empty';

const bodyOf = (template: unknown) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.array(mutation(), { minLength: 1, maxLength: 3 }).map((ms) => ({ kind: 'json' as BodyKind, text: JSON.stringify(applyMutations(template, ms)) ?? '' })) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.nat(), fc.constantFrom('', '}', ',', '\u0000', '{', "'", 'NaN', 'undefined'))
        .map(([cut, tail]) => {
          const text = JSON.stringify(template);
          const cutText = text.slice(0, 1 + (cut % (text.length - 1))) + tail;
          return { kind: 'malformed' as BodyKind, text: parses(cutText) ? `${cutText}#` : cutText };
        }),
    },
    { weight: 1, arbitrary: fc.constantFrom('{"a":1,}', "{'a':1}", '{"a":01}', '[1,2', '\u0000', 'tok_visa', '{"__proto__":', '{"a":"\\u12"}').map((text) => ({ kind: 'malformed' as BodyKind, text })) },
    { weight: 1, arbitrary: fc.integer({ min: 110_000, max: 3_000_000 }).map((n) => ({ kind: 'huge' as BodyKind, text: `{"pad":"${'x'.repeat(n)}"}` })) },
    { weight: 2, arbitrary: nastyValue.map((value) => ({ kind: 'arbitraryJson' as BodyKind, text: JSON.stringify(value) ?? 'null' })) },
    { weight: 1, arbitrary: fc.constant({ kind: 'empty' as BodyKind, text: '' }) },
  );

const headersArb = fc.record({
  contentType: fc.oneof({ weight: 5, arbitrary: fc.constant<string | undefined>('application/json') }, { weight: 3, arbitrary: fc.constantFrom<string | undefined>(...CONTENT_TYPES, undefined) }),
  key: idempotencyKeyHeader,
  requestId: requestIdHeader,
});

function headersOf(h: { contentType: string | undefined; key: string | string[] | undefined; requestId: string | string[] | undefined }): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  if (h.contentType !== undefined) headers['Content-Type'] = h.contentType;
  if (h.key !== undefined) headers['Idempotency-Key'] = h.key;
  if (h.requestId !== undefined) headers['X-Request-Id'] = h.requestId;
  return headers;
}

const isJsonType = (type: string | undefined) => type !== undefined && /^application\/(json|vnd\.api\+json)(;|$)/.test(type) && !/charset=(utf-16|latin1)/.test(type);

function check(req: RawRequest, answer: RawAnswer, mustBeClientError: boolean): void {
  tally.add(answer.status);
  const where = `${req.method} ${req.path.slice(0, 120)} → ${answer.status} ${answer.text.slice(0, 300)}`;
  if (answer.status >= 500) throw new Error(`5xx: ${where}`);
  if (mustBeClientError && (answer.status < 400 || answer.status >= 500)) throw new Error(`expected a 4xx: ${where}`);
  // 431 (headers too large) is answered by Node's HTTP parser itself, before any app code: no body.
  if (answer.status >= 400 && answer.status !== 431 && !isClearError(answer.json)) throw new Error(`4xx without the error shape: ${where}`);
}

/** A real order through checkout, and its status read back: the system still works between fuzz requests. */
async function probeOrder(): Promise<void> {
  const placed = await send(checkout.url, { method: 'POST', path: '/checkout', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(order([{ sku: 'KB-MECH-01', quantity: 1 }])) });
  if (placed.status !== 201) throw new Error(`probe order: ${placed.status} ${placed.text}`);
  const { orderId, status } = placed.json as { orderId: string; status: string };
  expect(status).toBe('SHIPPING_SCHEDULED');
  probes.placed += 1;
  const read = await send(checkout.url, { method: 'GET', path: `/orders/${encodeURIComponent(orderId)}` });
  if (read.status !== 200) throw new Error(`probe read: ${read.status} ${read.text}`);
  expect((read.json as { status: string }).status).toBe('SHIPPING_SCHEDULED');
  probes.read += 1;
}

let sinceProbe = 0;
async function maybeProbe(): Promise<void> {
  sinceProbe += 1;
  if (sinceProbe >= 25) {
    sinceProbe = 0;
    await probeOrder();
  }
}

const params = (runs = RUNS): fc.Parameters<unknown> => ({ numRuns: runs, ...(SEED === undefined ? {} : { seed: SEED }), endOnFailure: true });

beforeAll(async () => {
  stubs = await startStubs();
  checkout = await startCheckout(checkoutConfig(stubs, amqpPrefix('fuzz'), { FAULTS_ENABLED: 'true', ADMIN_TOKEN }));
  await probeOrder();
  heapBefore = process.memoryUsage().heapUsed;
});

afterAll(async () => {
  await checkout?.stop();
  await stubs?.stop();
  // The counts this suite prints (tests/README.md).
  console.log(`fuzz http: ${tally.toString()}; probe orders placed ${probes.placed}, read back ${probes.read}; heapUsed ${(heapBefore / 2 ** 20).toFixed(0)} → ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`);
});

describe('bad bodies and headers on every POST route', () => {
  test.each(targets.map((t) => [t.name, t] as const))('%s', async (_name, target) => {
    await fc.assert(
      fc.asyncProperty(bodyOf(target.template), headersArb, async (body, h) => {
        // Routes without an Idempotency-Key ignore it: send them a plain one.
        const key = target.keyHeader ? h.key : h.key === undefined ? undefined : 'ignored-key';
        const headers = headersOf({ ...h, key });
        const req: RawRequest = { method: target.method, path: target.path, headers, body: body.text };
        const answer = await send(target.base(), req);
        const badKey = typeof key === 'string' ? key.length > 200 : Array.isArray(key);
        const certainlyWrong = body.kind === 'malformed' || body.kind === 'huge' || body.kind === 'empty' || (body.text.length > 0 && !isJsonType(h.contentType)) || badKey;
        check(req, answer, certainlyWrong);
        await maybeProbe();
      }),
      params(),
    );
  });
});

describe('bad path parameters and query strings on every GET/DELETE route', () => {
  const routes: { name: string; base: () => string; method: string; path: (segment: string, query: string) => string; query: string }[] = [
    { name: 'checkout GET /orders/:id', base: () => checkout.url, method: 'GET', path: (s) => `/orders/${s}`, query: 'x' },
    { name: 'checkout GET /circuits', base: () => checkout.url, method: 'GET', path: (_s, q) => `/circuits${q}`, query: 'x' },
    { name: 'payment GET /charges', base: () => stubs.urls.PAYMENT_URL, method: 'GET', path: (_s, q) => `/charges${q}`, query: 'orderId' },
    { name: 'inventory GET /stock/:sku', base: () => stubs.urls.INVENTORY_URL, method: 'GET', path: (s) => `/stock/${s}`, query: 'x' },
    { name: 'inventory GET /reservations', base: () => stubs.urls.INVENTORY_URL, method: 'GET', path: (_s, q) => `/reservations${q}`, query: 'orderId' },
    { name: 'inventory DELETE /reservations/:id', base: () => stubs.urls.INVENTORY_URL, method: 'DELETE', path: (s) => `/reservations/${s}`, query: 'x' },
    { name: 'inventory GET /products', base: () => stubs.urls.INVENTORY_URL, method: 'GET', path: (_s, q) => `/products${q}`, query: 'x' },
    { name: 'shipping GET /shipments', base: () => stubs.urls.SHIPPING_URL, method: 'GET', path: (_s, q) => `/shipments${q}`, query: 'orderId' },
    { name: 'notification GET /notifications', base: () => stubs.urls.NOTIFICATION_URL, method: 'GET', path: (_s, q) => `/notifications${q}`, query: 'orderId' },
    { name: 'notification GET /notifications?limit', base: () => stubs.urls.NOTIFICATION_URL, method: 'GET', path: (_s, q) => `/notifications${q}`, query: 'limit' },
  ];
  test.each(routes.map((r) => [r.name, r] as const))('%s', async (_name, route) => {
    await fc.assert(
      fc.asyncProperty(pathSegment, queryFor(route.query), requestIdHeader, async (segment, query, requestId) => {
        const req: RawRequest = { method: route.method, path: route.path(segment, query), headers: requestId === undefined ? {} : { 'X-Request-Id': requestId } };
        check(req, await send(route.base(), req), false);
        await maybeProbe();
      }),
      params(Math.ceil(RUNS / 2)),
    );
  });
});

describe('the admin route with the right token and bad settings', () => {
  test.each(['payment', 'inventory', 'shipping', 'notification', 'checkout'] as const)('%s PUT /admin/faults refuses every bad body with a 4xx and changes nothing', async (name) => {
    const base = () => (name === 'checkout' ? checkout.url : stubs.urls[`${name.toUpperCase()}_URL` as keyof Stubs['urls']]);
    const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
    await fc.assert(
      fc.asyncProperty(
        // An unknown field makes any settings object invalid, so none of these may turn a fault on.
        fc.oneof(
          fc.record({ errorRate: nastyValue, down: nastyValue, unknownKnob: nastyValue }).map((v) => JSON.stringify(v)),
          fc.record({ routes: nastyValue, hang: fc.constant(true), bogus: fc.constant(1) }).map((v) => JSON.stringify(v)),
          nastyValue.filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)).map((v) => JSON.stringify(v) ?? 'null'),
          fc.constantFrom('{"down":true', '{"down":tru}', 'down=true', '{"errorRate":2}', '{"errorStatus":200}', '{"everyNth":0}', '{"latencyMs":-1}'),
        ),
        async (text) => {
          const req: RawRequest = { method: 'PUT', path: '/admin/faults', headers: { ...auth, 'Content-Type': 'application/json' }, body: text };
          check(req, await send(base(), req), true);
          const snapshot = await send(base(), { method: 'GET', path: '/admin/faults', headers: auth });
          expect(snapshot.status).toBe(200);
          expect((snapshot.json as { settings: Record<string, unknown> }).settings.down).toBeFalsy();
        },
      ),
      params(Math.ceil(RUNS / 3)),
    );
  });
});

describe('idempotency keys under abuse', () => {
  test('checkout: the same key and body twice is one order; another body is 409; a repeated header is 400', async () => {
    const key = `fuzz-dup-${Date.now()}`;
    const body = JSON.stringify(order([{ sku: 'CABLE-USBC-2M', quantity: 2 }]));
    const post = (b: string, k: string | string[]) => send(checkout.url, { method: 'POST', path: '/checkout', headers: { 'Content-Type': 'application/json', 'Idempotency-Key': k }, body: b });
    const [a, b] = await Promise.all([post(body, key), post(body, key)]);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect((a.json as { orderId: string }).orderId).toBe((b.json as { orderId: string }).orderId);
    expect([a.headers['idempotent-replayed'], b.headers['idempotent-replayed']]).toContain('true');
    const other = await post(JSON.stringify(order([{ sku: 'CABLE-USBC-2M', quantity: 3 }])), key);
    expect(other.status).toBe(409);
    expect(isClearError(other.json)).toBe(true);
    const repeated = await post(body, [key, key]);
    expect(repeated.status).toBe(400);
    const charges = stubs.payment.ledger.chargesFor((a.json as { orderId: string }).orderId);
    expect(charges.filter((c) => c.status === 'CAPTURED')).toHaveLength(1);
    for (const answer of [a, b, other, repeated]) tally.add(answer.status);
  });

  test('an Idempotency-Key or X-Request-Id beyond Node’s header limit is a 431 and the server keeps serving', async () => {
    for (const header of ['Idempotency-Key', 'X-Request-Id']) {
      const answer = await send(checkout.url, { method: 'POST', path: '/checkout', headers: { 'Content-Type': 'application/json', [header]: 'k'.repeat(70_000) }, body: JSON.stringify(order()) }).catch(
        (error: Error) => ({ status: -1, text: error.message }) as RawAnswer,
      );
      // Node answers 431 and closes; some clients see the reset first. Either way: no 5xx, no crash.
      expect(answer.status === 431 || answer.status === -1).toBe(true);
    }
    await probeOrder();
  });

  test('a bogus X-Request-Id is replaced, a sane one echoed', async () => {
    const bogus = await send(stubs.urls.PAYMENT_URL, { method: 'GET', path: '/charges?orderId=x', headers: { 'X-Request-Id': 'bad id <script>' } });
    expect(bogus.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const sane = await send(stubs.urls.PAYMENT_URL, { method: 'GET', path: '/charges?orderId=x', headers: { 'X-Request-Id': 'req-ok_1.2:3' } });
    expect(sane.headers['x-request-id']).toBe('req-ok_1.2:3');
  });
});

describe('afterwards', () => {
  test('every service is alive, orders still work and the heap is bounded', async () => {
    for (const base of [checkout.url, ...Object.values(stubs.urls)]) {
      const live = await send(base, { method: 'GET', path: '/health/live' });
      expect(live.status).toBe(200);
    }
    await probeOrder();
    const heapAfter = process.memoryUsage().heapUsed;
    // Generous: the services keep every order in memory, and V8 collects when it pleases.
    expect(heapAfter - heapBefore).toBeLessThan(300 * 2 ** 20);
  });
});
