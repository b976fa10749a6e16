import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ChaosContext, chaosContext, runChaos } from './chaos/cli';
import { deleteQueues, launch, type Run, stopLauncher } from './launch.test.util';

/**
 * The README's tour, step by step, on the real processes started by the launcher: kill
 * payment and checkout still accepts orders (202) in milliseconds; bring it back and the
 * queue drains; break inventory's stock reads and checkout sells from its cache; make
 * shipping hang and orders are still paid, shipping scheduled later.
 * Short retry delays and open periods (through the launcher's environment) keep it quick.
 */

jest.setTimeout(90_000);

const PREFIX = `infra-tour-test-${process.pid}.`;
const TIERS = ['1s', '2s'];
const TOKEN = 'tour-test-admin-token';

const ORDER = {
  customerId: 'tour-customer',
  items: [{ sku: 'KB-MECH-01', quantity: 1 }],
  paymentToken: 'tok_tour',
  shippingAddress: { name: 'Ada Lovelace', line1: 'Street 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
};

interface Answer {
  status: number;
  ms: number;
  body: { orderId: string; status: string; warnings: string[] };
}

describe('the tour', () => {
  let dir: string;
  let run: Run;
  let checkout: string;
  let context: ChaosContext;
  const io = { out: jest.fn(), err: jest.fn() };

  const chaos = async (...argv: string[]) => {
    const code = await runChaos(argv, {}, io, context);
    if (code !== 0) throw new Error(`chaos ${argv.join(' ')} exited ${code}: ${io.err.mock.calls.flat().join('')}`);
  };

  const order = async (): Promise<Answer> => {
    const started = performance.now();
    const res = await fetch(`${checkout}/checkout`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(ORDER) });
    return { status: res.status, ms: performance.now() - started, body: (await res.json()) as Answer['body'] };
  };

  const orderStatus = async (id: string): Promise<string> => ((await (await fetch(`${checkout}/orders/${id}`)).json()) as { status: string }).status;

  const eventually = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> => {
    const end = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  const queued = async (): Promise<number> => {
    const text = await (await fetch(`${checkout}/metrics`)).text();
    return [...text.matchAll(/^retry_queue_messages\{[^}]*\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tour-test-'));
    const stateFile = path.join(dir, 'launcher.json');
    run = await launch(
      { ADMIN_TOKEN: TOKEN, RETRY_TIERS: TIERS.join(','), PAYMENT_OPEN_MS: '1000', INVENTORY_OPEN_MS: '1000', SHIPPING_OPEN_MS: '1000' },
      stateFile,
      PREFIX,
    );
    await run.waitFor('ready: every service answers /health/live');
    checkout = `http://127.0.0.1:${run.env.CHECKOUT_PORT}`;
    context = chaosContext({ LAUNCHER_STATE_FILE: stateFile, ADMIN_TOKEN: TOKEN });
  });

  afterAll(async () => {
    if (run !== undefined) await stopLauncher(run);
    rmSync(dir, { recursive: true, force: true });
    await deleteQueues(PREFIX, TIERS);
  });

  test('all healthy: an order completes (201)', async () => {
    const answer = await order();
    expect(answer.status).toBe(201);
    expect(answer.body.status).toBe('SHIPPING_SCHEDULED');
  });

  let pending: string[] = [];

  test('kill payment: checkout still accepts orders, 202 in milliseconds', async () => {
    await chaos('kill', 'payment');
    const answers = [await order(), await order(), await order()];
    for (const answer of answers) {
      expect(answer.status).toBe(202);
      expect(answer.body.status).toBe('PENDING_PAYMENT');
      expect(answer.body.warnings.length).toBeGreaterThan(0);
      expect(answer.ms).toBeLessThan(1_000); // typically ~20 ms; generous for a loaded CI machine
    }
    pending = answers.map((answer) => answer.body.orderId);
    expect(await orderStatus(pending[0]!)).toBe('PENDING_PAYMENT');
  });

  test('start payment: the retry queue drains and the orders complete', async () => {
    await chaos('start', 'payment');
    await eventually('every pending order shipped', async () => (await Promise.all(pending.map(orderStatus))).every((status) => status === 'SHIPPING_SCHEDULED'));
    await eventually('the retry queues empty', async () => (await queued()) === 0);
  });

  test("break inventory's stock reads: checkout answers from its cached stock, with a warning", async () => {
    await chaos('inventory', 'errors', '1', 'on', 'GET /stock/:sku');
    try {
      const answer = await order();
      expect(answer.status).toBe(201);
      expect(answer.body.warnings.join(' ')).toMatch(/cache/i);
    } finally {
      await chaos('inventory', 'clear');
    }
  });

  test('make shipping hang: orders are still paid, and shipped once shipping is back', async () => {
    await chaos('shipping', 'hang');
    let answer: Answer;
    try {
      answer = await order();
      expect(answer.status).toBe(201);
      expect(answer.body.status).toBe('PAID');
      expect(answer.body.warnings.join(' ')).toMatch(/shipping/i);
      expect(answer.ms).toBeLessThan(3_000); // shipping's deadline, not forever
    } finally {
      await chaos('shipping', 'clear');
    }
    await eventually('the order shipped by the worker', async () => (await orderStatus(answer.body.orderId)) === 'SHIPPING_SCHEDULED');
  });

  test('where to look: chaos status, GET /circuits, the dashboard and the prefixed logs', async () => {
    io.out.mockClear();
    await chaos('status');
    const table = io.out.mock.calls.flat().join('');
    // Every process with its health and faults (all cleared by now), then checkout's circuits.
    expect(table).toMatch(/^checkout +running \d+ +http:\/\/127\.0\.0\.1:\d+ +ready +-$/m);
    // The worker has no HTTP server: its health is checkout's view of the work queue's consumer.
    expect(table).toMatch(/^worker +running \d+ +- +consuming \(\d+ waiting\) +-$/m);
    for (const stub of ['payment', 'inventory', 'shipping', 'notification']) expect(table).toMatch(new RegExp(`^${stub} +running \\d+ +http://127\\.0\\.0\\.1:\\d+ +ready +none$`, 'm'));
    expect(table).toMatch(/^CIRCUIT +STATE +FAILURE RATE +REJECTED$/m);
    for (const breaker of ['inventory', 'payment', 'shipping', 'notification']) expect(table).toMatch(new RegExp(`^${breaker} +(CLOSED|OPEN|HALF_OPEN) +\\d+% +\\d+$`, 'm'));

    const circuits = (await (await fetch(`${checkout}/circuits`)).json()) as { circuits: Record<string, { state: string }> };
    expect(Object.keys(circuits.circuits).sort()).toEqual(['inventory', 'notification', 'payment', 'shipping']);
    const dashboard = await fetch(`${checkout}/dashboard`);
    expect(dashboard.status).toBe(200);
    expect(dashboard.headers.get('content-type')).toMatch(/^text\/html/);
    await dashboard.arrayBuffer();
    // The services' JSON logs in the launcher's output, each line prefixed by its service: the
    // kill of payment above was answered with warnings from checkout.
    expect(run.output()).toMatch(/^checkout +\| \{.*"level":"warn".*"service":"checkout"/m);
    expect(run.output()).toMatch(/^launcher +\| ✖ payment was killed/m);
  });
});
