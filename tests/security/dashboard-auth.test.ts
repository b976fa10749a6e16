/**
 * The dashboard's fault and replay controls go through the same check as the stubs' admin API:
 * 401 without a bearer token, 403 with a wrong one, whether checkout has its own ADMIN_TOKEN or
 * leaves the decision to the stubs; a refused change reaches no stub. The page itself carries
 * the security headers (with its own CSP).
 */
import { isClearError, jsonRequest, type RawRequest, send } from '../support/http';
import { ADMIN_TOKEN, amqpPrefix, checkoutConfig, type RunningCheckout, startCheckout, startStubs, type Stubs } from '../support/world';

jest.setTimeout(60_000);

let stubs: Stubs;
const counts = { requests: 0, unauthorized: 0, forbidden: 0 };

beforeAll(async () => {
  stubs = await startStubs();
});
afterAll(async () => {
  await stubs?.stop();
  console.log(`security dashboard auth: ${counts.requests} requests to the dashboard's controls: ${counts.unauthorized} × 401, ${counts.forbidden} × 403`);
});

const controls = (): RawRequest[] => [
  { method: 'GET', path: '/dashboard/api/faults' },
  jsonRequest('PUT', '/dashboard/api/faults/payment', { down: true }),
  { method: 'DELETE', path: '/dashboard/api/faults/payment' },
  jsonRequest('POST', '/dashboard/api/parked/replay', { limit: 1 }),
];

const withAuth = (req: RawRequest, authorization: string | undefined): RawRequest => ({
  ...req,
  headers: { ...req.headers, ...(authorization === undefined ? {} : { Authorization: authorization }) },
});

describe.each([
  ['with its own ADMIN_TOKEN', { ADMIN_TOKEN }],
  ['without one (the stubs decide)', {}],
] as const)('checkout %s', (_label, env) => {
  let checkout: RunningCheckout;
  beforeAll(async () => {
    checkout = await startCheckout(checkoutConfig(stubs, amqpPrefix('dashboard-auth'), env));
  });
  afterAll(async () => {
    await checkout?.stop();
  });

  test('401 without a bearer token, 403 with a wrong one; nothing reaches the stub', async () => {
    for (const req of controls()) {
      for (const authorization of [undefined, 'Basic abc', 'Bearer']) {
        const answer = await send(checkout.url, withAuth(req, authorization));
        counts.requests += 1;
        if (answer.status === 401) counts.unauthorized += 1;
        expect({ req: `${req.method} ${req.path}`, authorization, status: answer.status }).toEqual({ req: `${req.method} ${req.path}`, authorization, status: 401 });
        expect(isClearError(answer.json)).toBe(true);
      }
      for (const authorization of ['Bearer wrong-token-123', `Bearer ${ADMIN_TOKEN}x`, `Bearer ${ADMIN_TOKEN.slice(0, -1)}`]) {
        const answer = await send(checkout.url, withAuth(req, authorization));
        counts.requests += 1;
        if (answer.status === 403) counts.forbidden += 1;
        expect({ req: `${req.method} ${req.path}`, status: answer.status }).toEqual({ req: `${req.method} ${req.path}`, status: 403 });
        expect(answer.text).not.toContain(ADMIN_TOKEN);
      }
    }
    expect(stubs.payment.service.faults!.snapshot().settings.down).toBeFalsy();
  });

  test('the right token sets and clears a stub’s fault through the dashboard', async () => {
    const auth = `Bearer ${ADMIN_TOKEN}`;
    const set = await send(checkout.url, withAuth(jsonRequest('PUT', '/dashboard/api/faults/payment', { down: true }), auth));
    expect(set.status).toBe(200);
    expect(stubs.payment.service.faults!.snapshot().settings.down).toBe(true);
    const cleared = await send(checkout.url, withAuth({ method: 'DELETE', path: '/dashboard/api/faults/payment' }, auth));
    expect(cleared.status).toBe(200);
    expect(stubs.payment.service.faults!.snapshot().settings.down).toBeFalsy();
  });

  test('the page carries the security headers', async () => {
    for (const path of ['/dashboard', '/dashboard/api/overview']) {
      const answer = await send(checkout.url, { method: 'GET', path });
      expect(answer.status).toBe(200);
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['x-frame-options']).toBe('DENY');
      expect(answer.headers['referrer-policy']).toBe('no-referrer');
      expect(answer.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
      expect(answer.headers['x-powered-by']).toBeUndefined();
    }
  });
});
