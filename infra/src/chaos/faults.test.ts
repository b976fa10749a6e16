import net, { type AddressInfo } from 'node:net';
import { loadConfig, type RunningService, start } from '@checkout/service-kit';
import { createPaymentApp } from '../../../services/payment/src/app';
import { configSchema } from '../../../services/payment/src/config';
import type { ServiceName } from '../topology';
import { type ChaosContext, runChaos } from './cli';
import { formatTable, summarizeFaults } from './client';

/** The fault commands against a real payment stub, in-process on a free port, with fault injection on. */

const TOKEN = 'chaos-test-admin-token';

describe('chaos fault switches against a real stub', () => {
  let payment: RunningService;
  let context: ChaosContext;
  const output = { out: '', err: '' };
  const io = { out: (text: string) => (output.out += text), err: (text: string) => (output.err += text) };

  beforeAll(async () => {
    const config = loadConfig(configSchema, { LOG_LEVEL: 'silent', FAULTS_ENABLED: 'true', ADMIN_TOKEN: TOKEN });
    payment = await start(createPaymentApp({ config }).service, { port: 0, host: '127.0.0.1' });
    // Every other service points at a closed port: status must report them as down, not hang.
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    context = { token: TOKEN, launcher: undefined, url: (name: ServiceName) => (name === 'payment' ? payment.url : `http://127.0.0.1:${closedPort}`) };
  });

  afterAll(() => payment.shutdown());

  beforeEach(() => {
    output.out = '';
    output.err = '';
  });

  const faults = async () => (await (await fetch(`${payment.url}/admin/faults`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json()) as { settings: Record<string, unknown>; active: boolean };
  const charge = () =>
    fetch(`${payment.url}/charges`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': `k-${Math.random()}` },
      body: JSON.stringify({ orderId: 'o-1', customerId: 'c-1', amount: 1000, paymentToken: 'tok_ok' }),
    });

  test('errors 1 503: every charge gets 503', async () => {
    await expect(runChaos(['payment', 'errors', '1', '503'], {}, io, context)).resolves.toBe(0);
    expect(output.out).toBe('payment: faults errors 100% (503)\n');
    expect((await faults()).settings).toMatchObject({ errorRate: 1, errorStatus: 503 });
    expect((await charge()).status).toBe(503);
  });

  test('down, then clear: healthy again', async () => {
    await expect(runChaos(['payment', 'down'], {}, io, context)).resolves.toBe(0);
    expect((await charge()).status).toBe(503);
    await expect(runChaos(['payment', 'clear'], {}, io, context)).resolves.toBe(0);
    expect(output.out).toContain('payment: faults cleared');
    expect((await faults()).active).toBe(false);
    expect((await charge()).status).toBe(201);
  });

  test('latency, hang, reset and flap reach the stub as the kit expects them', async () => {
    await expect(runChaos(['payment', 'latency', '150', '10'], {}, io, context)).resolves.toBe(0);
    expect((await faults()).settings).toMatchObject({ latencyMs: 150, jitterMs: 10 });
    await expect(runChaos(['payment', 'flap', '60000', '0.25'], {}, io, context)).resolves.toBe(0);
    expect((await faults()).settings).toMatchObject({ flap: { periodMs: 60_000, dutyCycle: 0.25 }, latencyMs: 0 });
    await expect(runChaos(['payment', 'reset'], {}, io, context)).resolves.toBe(0);
    await expect(charge()).rejects.toThrow();
    await expect(runChaos(['payment', 'hang'], {}, io, context)).resolves.toBe(0);
    const hanging = charge();
    const settled = await Promise.race([hanging.then(() => 'answered', () => 'failed'), new Promise((resolve) => setTimeout(() => resolve('hanging'), 300))]);
    expect(settled).toBe('hanging');
    await expect(runChaos(['payment', 'clear'], {}, io, context)).resolves.toBe(0); // releases the hanging request
    await hanging.catch(() => undefined);
    expect(output.err).toBe('');
  });

  test('on <routes>: only those routes fail', async () => {
    await expect(runChaos(['payment', 'errors', '1', 'on', 'GET /charges'], {}, io, context)).resolves.toBe(0);
    expect(output.out).toBe('payment: faults errors 100% (500), on GET /charges\n');
    expect((await fetch(`${payment.url}/charges?orderId=o-1`)).status).toBe(500);
    expect((await charge()).status).toBe(201);
    await runChaos(['payment', 'clear'], {}, io, context);
  });

  test('a wrong token: exit 1 and a message that says what to check', async () => {
    await expect(runChaos(['payment', 'down'], {}, io, { ...context, token: 'not-the-token' })).resolves.toBe(1);
    expect(output.err).toContain('403');
    expect(output.err).toContain('ADMIN_TOKEN');
    expect((await faults()).active).toBe(false);
  });

  test('no token at all: exit 1, nothing sent', async () => {
    await expect(runChaos(['payment', 'down'], {}, io, { ...context, token: undefined })).resolves.toBe(1);
    expect(output.err).toContain('no admin token');
  });

  test('bad arguments: usage on stderr and exit 2', async () => {
    await expect(runChaos(['payment', 'errors', 'lots'], {}, io, context)).resolves.toBe(2);
    expect(output.err).toContain('errors: expected a rate between 0 and 1');
    expect(output.err).toContain('Usage: npm run chaos --');
  });

  test('kill without a running launcher says how to get one', async () => {
    await expect(runChaos(['kill', 'payment'], {}, io, context)).resolves.toBe(1);
    expect(output.err).toContain('no local launcher is running');
  });

  test("status: every service's health and faults; services that do not answer are shown down", async () => {
    await runChaos(['payment', 'latency', '5'], {}, io, context);
    output.out = '';
    await expect(runChaos(['status'], {}, io, context)).resolves.toBe(0);
    const lines = output.out.split('\n');
    expect(lines[0]).toMatch(/^SERVICE\s+PROCESS\s+URL\s+HEALTH\s+FAULTS$/);
    expect(lines.find((line) => line.startsWith('payment'))).toMatch(/ready\s+latency 5 ms$/);
    expect(lines.find((line) => line.startsWith('inventory'))).toContain('down (ECONNREFUSED)');
    expect(lines.find((line) => line.startsWith('worker'))).toMatch(/\? \(checkout does not answer: .*ECONNREFUSED\) +-$/);
    expect(output.out).toContain('circuits: checkout does not answer');
    await runChaos(['payment', 'clear'], {}, io, context);
  });
});

describe('formatting', () => {
  test('summarizeFaults names what is switched on', () => {
    expect(summarizeFaults({ settings: { errorRate: 0, latencyMs: 0, hang: false } })).toBe('none');
    expect(summarizeFaults({ settings: { errorRate: 0.25, errorStatus: 429, latencyMs: 300, jitterMs: 50, down: true } })).toBe('down, errors 25% (429), latency 300±50 ms');
    expect(summarizeFaults({ settings: { flap: { periodMs: 1000, dutyCycle: 0.5 }, routes: ['POST /charges'] } })).toBe('flap 1000 ms × 0.5, on POST /charges');
    expect(summarizeFaults(undefined)).toBe('?');
  });

  test('formatTable pads every column but the last', () => {
    expect(formatTable([['A', 'BB', 'C'], ['aaa', 'b', 'c']])).toBe('A    BB  C\naaa  b   c');
  });
});
