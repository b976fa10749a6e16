/**
 * Fault injection in production: off unless FAULTS_ENABLED=true, whatever FAULT_* variables say;
 * when it is explicitly on, the service says so in its log at `warn`. Checked in this process for
 * every service, and on a real payment process's stdout.
 */
import { configSchema as checkoutSchema } from '@checkout/checkout';
import { createInventoryApp, configSchema as inventorySchema } from '@checkout/inventory';
import { createNotificationApp, configSchema as notificationSchema } from '@checkout/notification';
import { createPaymentApp, configSchema as paymentSchema } from '@checkout/payment';
import { loadConfig, type RunningService, type Service, start } from '@checkout/service-kit';
import { createShippingApp, configSchema as shippingSchema } from '@checkout/shipping';
import { send } from '../support/http';
import { buildStubs, type ServiceProcess, spawnStub } from '../support/process';
import { ADMIN_TOKEN, LogCapture } from '../support/world';

jest.setTimeout(120_000);

/** Every FAULT_* knob that would break answers, as an operator might leave them in an env file. */
const FAULT_ENV = { FAULT_DOWN: 'true', FAULT_ERROR_RATE: '1', FAULT_ERROR_STATUS: '503', FAULT_LATENCY_MS: '5000' };
const PROD = { NODE_ENV: 'production', LOG_LEVEL: 'info', PORT: '0', ADMIN_TOKEN };

type Factory = (env: Record<string, string>, logs: LogCapture) => Service;
const factories: [string, Factory][] = [
  ['payment', (env, logs) => createPaymentApp({ config: loadConfig(paymentSchema, env), logger: logs.logger('payment', 'info') }).service],
  ['inventory', (env, logs) => createInventoryApp({ config: loadConfig(inventorySchema, env), logger: logs.logger('inventory', 'info') }).service],
  ['shipping', (env, logs) => createShippingApp({ config: loadConfig(shippingSchema, env), logger: logs.logger('shipping', 'info') }).service],
  ['notification', (env, logs) => createNotificationApp({ config: loadConfig(notificationSchema, env), logger: logs.logger('notification', 'info') }).service],
];

const counts = { services: 0, refusedAdmin: 0, warned: 0 };
afterAll(() => {
  console.log(`security production faults: ${counts.services} services checked; /admin/faults absent (404) in ${counts.refusedAdmin}; production warning logged by ${counts.warned}`);
});

describe.each(factories)('%s with NODE_ENV=production', (_name, make) => {
  test('without FAULTS_ENABLED: no injector, /admin/faults is 404 even with the token, FAULT_* ignored', async () => {
    const logs = new LogCapture();
    const service = make({ ...PROD, ...FAULT_ENV }, logs);
    expect(service.faults).toBeUndefined();
    const running: RunningService = await start(service, { port: 0, shutdownTimeoutMs: 500 });
    try {
      const adminAnswer = await send(running.url, { method: 'PUT', path: '/admin/faults', headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' }, body: '{"down":true}' });
      expect(adminAnswer.status).toBe(404);
      counts.refusedAdmin += 1;
      // Any answer: neither failed (down, error rate) nor delayed (latency) by the FAULT_* knobs.
      const answer = await send(running.url, { method: 'GET', path: '/no-such-route' });
      expect(answer.status).toBe(404);
      expect(answer.headers['x-fault-injected']).toBeUndefined();
      expect(answer.durationMs).toBeLessThan(2_000);
    } finally {
      await running.shutdown();
    }
    expect(logs.text).not.toMatch(/fault injection (is )?enabled/i);
    counts.services += 1;
  });

  test('with FAULTS_ENABLED=true: on, and a warning says so', () => {
    const logs = new LogCapture();
    const service = make({ ...PROD, FAULTS_ENABLED: 'true' }, logs);
    expect(service.faults).toBeDefined();
    const warning = logs.lines.map((line) => JSON.parse(line) as { level: string; message: string }).find((entry) => /fault injection is ENABLED in production/.test(entry.message));
    expect(warning?.level).toBe('warn');
    counts.warned += 1;
    expect(logs.text).not.toContain(ADMIN_TOKEN);
  });
});

test('checkout’s config follows the same rule (faults off in production unless enabled)', () => {
  const config = loadConfig(checkoutSchema, { ...PROD, ...FAULT_ENV });
  expect(config.FAULTS_ENABLED).toBe(false);
  expect(() => loadConfig(checkoutSchema, { NODE_ENV: 'production', FAULTS_ENABLED: 'true' })).toThrow(/ADMIN_TOKEN/);
});

describe('a real payment process', () => {
  let processes: ServiceProcess[] = [];
  beforeAll(() => buildStubs(['payment']));
  afterEach(() => {
    for (const p of processes) p.kill();
    processes = [];
  });

  test('production without FAULTS_ENABLED: FAULT_DOWN ignored, /admin/faults 404; with it: the warning is on stdout', async () => {
    const off = await spawnStub('payment', { ...PROD, ...FAULT_ENV });
    processes.push(off);
    await off.ready();
    expect((await send(off.url, { method: 'GET', path: '/admin/faults', headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(404);
    const charge = await send(off.url, {
      method: 'POST',
      path: '/charges',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'prod-1' },
      body: JSON.stringify({ orderId: 'prod-1', customerId: 'c', amount: 100, paymentToken: 'tok_visa' }),
    });
    expect(charge.status).toBe(201);
    off.child.kill('SIGTERM');
    expect((await off.exited).code).toBe(0);

    const on = await spawnStub('payment', { ...PROD, FAULTS_ENABLED: 'true' });
    processes.push(on);
    await on.ready();
    on.child.kill('SIGTERM');
    expect((await on.exited).code).toBe(0);
    const warning = on.output
      .join('')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: string; message: string })
      .find((entry) => /fault injection is ENABLED in production/.test(entry.message));
    expect(warning?.level).toBe('warn');
    expect(on.output.join('')).not.toContain(ADMIN_TOKEN);
  });
});
