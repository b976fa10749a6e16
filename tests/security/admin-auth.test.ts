/**
 * Who may change faults: every admin route of checkout and the four stubs answers 401 without a
 * bearer token, 403 with a wrong one, and only the right token gets through; a refused request
 * changes nothing; path and case variants do not get around the check; and the time a wrong
 * token takes does not depend on how much of the real token it shares.
 */
import { Agent, request as httpRequest } from 'node:http';
import { isClearError, type RawAnswer, send } from '../support/http';
import { ADMIN_TOKEN, amqpPrefix, checkoutConfig, order, type RunningCheckout, startCheckout, startStubs, type Stubs } from '../support/world';

jest.setTimeout(120_000);

let stubs: Stubs;
let checkout: RunningCheckout;
const counts = { requests: 0, unauthorized: 0, forbidden: 0, allowed: 0 };

const services = (): [string, string][] => [
  ['checkout', checkout.url],
  ['payment', stubs.urls.PAYMENT_URL],
  ['inventory', stubs.urls.INVENTORY_URL],
  ['shipping', stubs.urls.SHIPPING_URL],
  ['notification', stubs.urls.NOTIFICATION_URL],
];

beforeAll(async () => {
  stubs = await startStubs();
  checkout = await startCheckout(checkoutConfig(stubs, amqpPrefix('admin-auth'), { FAULTS_ENABLED: 'true', ADMIN_TOKEN }));
});

afterAll(async () => {
  await checkout?.stop();
  await stubs?.stop();
  console.log(
    `security admin auth: ${counts.requests} admin requests: ${counts.unauthorized} × 401, ${counts.forbidden} × 403, ${counts.allowed} allowed with the right token`,
  );
});

async function admin(base: string, method: string, path: string, authorization: string | undefined, body?: unknown): Promise<RawAnswer> {
  const headers: Record<string, string> = {};
  if (authorization !== undefined) headers.Authorization = authorization;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const answer = await send(base, { method, path, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  counts.requests += 1;
  if (answer.status === 401) counts.unauthorized += 1;
  if (answer.status === 403) counts.forbidden += 1;
  return answer;
}

const DOWN = { down: true };
const routes: [string, unknown][] = [
  ['GET', undefined],
  ['PUT', DOWN],
  ['DELETE', undefined],
];

describe.each(['checkout', 'payment', 'inventory', 'shipping', 'notification'])('%s /admin/faults', (name) => {
  const base = () => services().find(([n]) => n === name)![1];

  test.each(routes)('%s without a token is 401 with WWW-Authenticate', async (method, body) => {
    for (const authorization of [undefined, '', 'Bearer', 'Bearer ', `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`, `Token ${ADMIN_TOKEN}`, ADMIN_TOKEN]) {
      const answer = await admin(base(), method, '/admin/faults', authorization, body);
      expect({ authorization, status: answer.status }).toEqual({ authorization, status: 401 });
      expect(answer.headers['www-authenticate']).toMatch(/^Bearer realm=/);
      expect(isClearError(answer.json)).toBe(true);
    }
  });

  test.each(routes)('%s with a wrong token is 403', async (method, body) => {
    const wrong = [
      'Bearer wrong-token-123',
      `Bearer ${ADMIN_TOKEN.slice(0, -1)}`,
      `Bearer ${ADMIN_TOKEN}x`,
      `Bearer ${ADMIN_TOKEN.toUpperCase()}`,
      `Bearer ${'a'.repeat(5_000)}`,
      `Bearer ${ADMIN_TOKEN.slice(1)}`,
    ];
    for (const authorization of wrong) {
      const answer = await admin(base(), method, '/admin/faults', authorization, body);
      expect({ authorization: authorization.slice(0, 40), status: answer.status }).toEqual({ authorization: authorization.slice(0, 40), status: 403 });
      expect(isClearError(answer.json)).toBe(true);
      expect(answer.text).not.toContain(ADMIN_TOKEN);
    }
  });

  test('a refused PUT changes nothing; the right token works', async () => {
    await admin(base(), 'PUT', '/admin/faults', undefined, DOWN);
    await admin(base(), 'PUT', '/admin/faults', 'Bearer wrong-token-123', DOWN);
    const snapshot = await admin(base(), 'GET', '/admin/faults', `Bearer ${ADMIN_TOKEN}`);
    expect(snapshot.status).toBe(200);
    counts.allowed += 1;
    expect((snapshot.json as { settings: { down?: boolean } }).settings.down).toBeFalsy();
    expect(snapshot.text).not.toContain(ADMIN_TOKEN);
    const live = await send(base(), { method: 'GET', path: '/health/live' });
    expect(live.status).toBe(200);
  });

  test('path and case variants are behind the same check (never 2xx without the token)', async () => {
    const variants = ['/admin/faults/', '/ADMIN/FAULTS', '/Admin/Faults', '/admin//faults', '/admin/faults?x=1', '/admin/%66aults', '/admin/faults%2F', '/admin/./faults', '/admin/faults/../faults', '/admin', '/admin/', '/admin/anything'];
    for (const path of variants) {
      for (const method of ['GET', 'PUT', 'DELETE', 'POST', 'PATCH']) {
        const answer = await admin(base(), method, path, method === 'GET' ? undefined : 'Bearer nope-nope-nope', method === 'PUT' ? DOWN : undefined);
        expect({ method, path, status: answer.status }).toEqual({ method, path, status: expect.any(Number) });
        expect([401, 403, 404]).toContain(answer.status);
      }
    }
    const snapshot = await admin(base(), 'GET', '/admin/faults', `Bearer ${ADMIN_TOKEN}`);
    counts.allowed += 1;
    expect((snapshot.json as { settings: { down?: boolean } }).settings.down).toBeFalsy();
  });
});

test('with the right token a fault can be set and cleared, and orders still work afterwards', async () => {
  const auth = `Bearer ${ADMIN_TOKEN}`;
  const set = await admin(stubs.urls.SHIPPING_URL, 'PUT', '/admin/faults', auth, { errorRate: 1, errorStatus: 503, routes: ['POST /shipments'] });
  expect(set.status).toBe(200);
  const cleared = await admin(stubs.urls.SHIPPING_URL, 'DELETE', '/admin/faults', auth);
  expect(cleared.status).toBe(200);
  counts.allowed += 2;
  const placed = await send(checkout.url, { method: 'POST', path: '/checkout', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(order()) });
  expect(placed.status).toBe(201);
});

/** Median of the durations of `samples` requests, measured on one keep-alive connection (less noise). */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

test('timing does not reveal the token: wrong tokens sharing a long prefix or none take the same time', async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(stubs.urls.PAYMENT_URL);
  const timed = (token: string) =>
    new Promise<number>((resolve, reject) => {
      const started = process.hrtime.bigint();
      const req = httpRequest({ host: url.hostname, port: url.port, method: 'GET', path: '/admin/faults', agent, headers: { Authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 403) reject(new Error(`expected 403, got ${res.statusCode}`));
          else resolve(Number(process.hrtime.bigint() - started) / 1e3);
        });
      });
      req.on('error', reject);
      req.end();
    });
  // Same length as the real token: one differs only in its last character, the other in its first.
  const longPrefix = `${ADMIN_TOKEN.slice(0, -1)}${ADMIN_TOKEN.endsWith('0') ? '1' : '0'}`;
  const noPrefix = `${ADMIN_TOKEN.startsWith('x') ? 'y' : 'x'}${ADMIN_TOKEN.slice(1)}`;
  const SAMPLES = Number(process.env.TIMING_SAMPLES ?? 600);
  for (let i = 0; i < 100; i++) await timed(i % 2 === 0 ? longPrefix : noPrefix); // warm-up
  const long: number[] = [];
  const none: number[] = [];
  // Interleaved, in alternating order, so that drift and GC pauses hit both sides alike.
  for (let i = 0; i < SAMPLES; i++) {
    if (i % 2 === 0) {
      long.push(await timed(longPrefix));
      none.push(await timed(noPrefix));
    } else {
      none.push(await timed(noPrefix));
      long.push(await timed(longPrefix));
    }
  }
  agent.destroy();
  const ratio = median(long) / median(none);
  console.log(
    `security timing: ${SAMPLES} samples each; median ${median(long).toFixed(0)} µs with a ${longPrefix.length - 1}-character shared prefix, ${median(none).toFixed(0)} µs with none; ratio ${ratio.toFixed(3)}`,
  );
  // A byte-by-byte comparison on a local socket would still hide in the noise of one request,
  // so this bound is generous: it catches a check that does real work per matching character.
  expect(ratio).toBeGreaterThan(0.8);
  expect(ratio).toBeLessThan(1.25);
});
