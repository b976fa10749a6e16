/**
 * SIGTERM under load, on real stub processes (`node services/<name>/dist/main.js`, built first
 * with `tsc -b`, each on a free port). A stream of writes runs from keep-alive clients and from
 * clients opening a connection per request; every request takes ~150 ms (injected latency), so
 * many are in flight when the signal arrives. Afterwards:
 *
 * - every request that got an HTTP answer got a 2xx (no accepted request failed);
 * - the only socket errors are refusals after the listener closed (ECONNREFUSED); on a reused
 *   keep-alive socket, the close race Node documents (`req.reusedSocket`: the server closed an
 *   idle connection as the client wrote to it); and resets of connections opened from 100 ms
 *   before the listener closes (per the process's log) until the first refusal (their request
 *   was never read). Any error on a request started earlier fails the test;
 * - the process says it cut nothing (`shutdown complete` with `forced: false, cutRequests: 0`);
 * - it exits 0 within SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS (+ 1.5 s of process teardown).
 */
import { buildStubs, type ServiceProcess, spawnStub, STUBS, type StubName } from '../support/process';
import { classify, describeOutcome, runLoad } from '../support/shutdown';
import { ADMIN_TOKEN, ADDRESS } from '../support/world';

jest.setTimeout(120_000);

const SHUTDOWN_TIMEOUT_MS = 5_000;
const SHUTDOWN_DELAY_MS = 300;
const LATENCY_MS = 150;
const KEEP_ALIVE_CLIENTS = 8;
const FRESH_CLIENTS = 8;
const LOAD_BEFORE_SIGTERM_MS = 800;

const WRITES: Record<StubName, { path: string; route: string; body: (id: string) => object; headers?: (id: string) => Record<string, string> }> = {
  payment: {
    path: '/charges',
    route: 'POST /charges',
    body: (id) => ({ orderId: id, customerId: 'c-shutdown', amount: 1_000, paymentToken: 'tok_visa' }),
    headers: (id) => ({ 'Idempotency-Key': id }),
  },
  inventory: { path: '/reservations', route: 'POST /reservations', body: (id) => ({ orderId: id, items: [{ sku: 'KB-MECH-01', quantity: 1 }] }) },
  shipping: { path: '/shipments', route: 'POST /shipments', body: (id) => ({ orderId: id, address: ADDRESS }) },
  notification: { path: '/notifications', route: 'POST /notifications', body: (id) => ({ orderId: id, customerId: 'c-shutdown', type: 'ORDER_CONFIRMED' }) },
};

let processes: ServiceProcess[] = [];
const summary: string[] = [];

beforeAll(() => buildStubs());
afterEach(() => {
  for (const p of processes) p.kill();
  processes = [];
});
afterAll(() => {
  console.log(`shutdown under load:\n${summary.join('\n')}`);
});

test.each(STUBS.map((name) => [name]))('%s: SIGTERM under load loses no accepted request and exits 0 in time', async (name) => {
  const write = WRITES[name];
  const stub = await spawnStub(name, {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
    FAULTS_ENABLED: 'true',
    ADMIN_TOKEN,
    FAULT_LATENCY_MS: String(LATENCY_MS),
    FAULT_ROUTES: write.route,
  });
  processes.push(stub);
  await stub.ready();

  const load = runLoad({
    url: stub.url,
    keepAliveClients: KEEP_ALIVE_CLIENTS,
    freshClients: FRESH_CLIENTS,
    timeoutMs: SHUTDOWN_TIMEOUT_MS + 5_000,
    gone: () => stub.hasExited,
    request: (n) => {
      const id = `sd-${name}-${process.pid}-${n}`;
      return { path: write.path, body: write.body(id), ...(write.headers ? { headers: write.headers(id) } : {}) };
    },
  });
  const outcomes = load.outcomes;

  await new Promise((resolve) => setTimeout(resolve, LOAD_BEFORE_SIGTERM_MS));
  const sigtermAt = Date.now();
  stub.child.kill('SIGTERM');
  const exit = await stub.exited;
  await load.done;

  const entries = stub.entries() as { message: string; timestamp?: string; forced?: boolean; cutRequests?: number }[];
  const complete = entries.find((entry) => entry.message === 'shutdown complete');
  const { answered, inFlightAtSigterm, acceptedAfterSigterm, refused, keepAliveRace, listenerCloseRace, badErrors, closeAt } = classify(outcomes, sigtermAt, stub.entries(), SHUTDOWN_DELAY_MS);
  const failedAnswers = answered.filter((o) => o.status! < 200 || o.status! >= 300);

  const exitMs = exit.at - sigtermAt;

  summary.push(
    `  ${name}: ${outcomes.length} requests; ${answered.length} answered (${answered.length - failedAnswers.length} 2xx, ${failedAnswers.length} failed), ` +
      `${inFlightAtSigterm.length} in flight at SIGTERM, ${acceptedAfterSigterm.length} accepted after it, ${refused.length} refused after the listener closed, ` +
      `${keepAliveRace.length} keep-alive close races, ${listenerCloseRace.length} resets of connections opened as the listener closed, ${badErrors.length} other errors; exit ${exit.code ?? exit.signal} after ${exitMs} ms; ` +
      `server: forced ${complete?.forced}, cut ${complete?.cutRequests}`,
  );

  expect(failedAnswers.map((o) => o.status)).toEqual([]);
  expect(badErrors.map((o) => describeOutcome(o, closeAt))).toEqual([]);
  expect(inFlightAtSigterm.length).toBeGreaterThan(0);
  expect(complete).toEqual(expect.objectContaining({ forced: false, cutRequests: 0 }));
  expect(exit.code).toBe(0);
  expect(exitMs).toBeLessThan(SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS + 1_500);
});
