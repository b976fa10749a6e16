/**
 * Malformed and poisoned messages on the payment-retry work queue (the real broker, this run's
 * own prefix): every one is parked with a kind and a reason, none is lost, the worker keeps
 * going, and a good message published after them is still charged exactly once.
 */
import { randomBytes } from 'node:crypto';
import { connectBroker, retryMessageSchema } from '@checkout/checkout';
import { type MessagingConnection, type ParkedMessage, peekParked } from '@checkout/messaging';
import fc from 'fast-check';
import { nastyValue } from './arbitraries';
import { ADDRESS, amqpPrefix, checkoutConfig, dropTopology, type RunningWorker, startStubs, startWorker, type Stubs, waitFor } from '../support/world';

jest.setTimeout(60_000);

const GENERATED = Number(process.env.FUZZ_QUEUE_MESSAGES ?? 40);

let stubs: Stubs;
let worker: RunningWorker;
let publisher: MessagingConnection;

function goodMessage(orderId: string): Record<string, unknown> {
  return {
    kind: 'payment',
    orderId,
    customerId: 'cus-queue-fuzz',
    reservationId: `res_${orderId}`,
    amount: 1_299,
    currency: 'EUR',
    paymentToken: 'tok_visa',
    items: [{ sku: 'CABLE-USBC-2M', quantity: 1 }],
    shippingAddress: ADDRESS,
  };
}

interface Garbage {
  id: string | undefined;
  content: Buffer;
  headers?: Record<string, unknown>;
  /** A wrong field may still pass the worker's schema and be refused by payment instead: then it is `permanent`. */
  expectKind: 'malformed' | 'permanent' | 'malformed or permanent';
}

/** Fields replaced by wrong values: fails the worker's schema. */
const wrongShape = fc
  .tuple(fc.constantFrom('kind', 'orderId', 'customerId', 'reservationId', 'amount', 'currency', 'paymentToken', 'items', 'shippingAddress'), nastyValue, fc.boolean())
  .map(([field, value, drop]) => {
    const message = goodMessage('wrong-shape');
    if (drop) delete message[field];
    else message[field] = field === 'amount' && typeof value === 'number' && Number.isInteger(value) && value > 0 ? -1 : value;
    return JSON.stringify(message);
  })
  .filter((text) => text !== JSON.stringify(goodMessage('wrong-shape')));

const garbageBody = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ content: Buffer.from(bytes), kind: 'malformed' as const })),
  nastyValue.map((value) => ({ content: Buffer.from(JSON.stringify(value) ?? 'undefined'), kind: 'malformed' as const })),
  wrongShape.map((text) => ({ content: Buffer.from(text), kind: 'malformed or permanent' as const })),
);

function fixedGarbage(tag: string): Garbage[] {
  const id = (name: string) => `${tag}-${name}`;
  return [
    { id: id('empty'), content: Buffer.alloc(0), expectKind: 'malformed' },
    { id: id('truncated'), content: Buffer.from(JSON.stringify(goodMessage('t')).slice(0, 40)), expectKind: 'malformed' },
    { id: id('huge'), content: Buffer.from(JSON.stringify({ ...goodMessage('h'), items: Array.from({ length: 50_000 }, () => ({ sku: 'X', quantity: 1 })) })).subarray(0, 1_000_000), expectKind: 'malformed' },
    { id: id('proto'), content: Buffer.from('{"__proto__":{"polluted":true},"kind":"payment"}'), expectKind: 'malformed' },
    { id: undefined, content: Buffer.from(JSON.stringify(goodMessage(`${tag}-no-id`))), expectKind: 'malformed' },
    { id: id('bad-retry-count'), content: Buffer.from(JSON.stringify(goodMessage(`${tag}-brc`))), headers: { 'retry-count': 'many' }, expectKind: 'malformed' },
    { id: id('negative-retry-count'), content: Buffer.from(JSON.stringify(goodMessage(`${tag}-nrc`))), headers: { 'retry-count': -5 }, expectKind: 'malformed' },
    // Poisoned: the right shape, but payment refuses it (400: not a token, an amount over its maximum). Parked at once, with the reason.
    { id: id('poison-token'), content: Buffer.from(JSON.stringify({ ...goodMessage(`${tag}-pt`), paymentToken: 'not-a-token' })), expectKind: 'permanent' },
    { id: id('poison-amount'), content: Buffer.from(JSON.stringify({ ...goodMessage(`${tag}-pa`), amount: 10 ** 12 })), expectKind: 'permanent' },
  ];
}

beforeAll(async () => {
  stubs = await startStubs();
  const config = checkoutConfig(stubs, amqpPrefix('queue-fuzz'), { RETRY_TIERS: '50ms,100ms', RETRY_MAX_ATTEMPTS: '2' });
  worker = await startWorker(config);
  publisher = await connectBroker(config, 'root-suite-queue-fuzz-publisher');
  await publisher.ready();
});

afterAll(async () => {
  await worker?.stop();
  await dropTopology(publisher);
  await stubs?.stop();
});

test('every malformed or poisoned message is parked with a reason; a good one after them is charged once', async () => {
  const tag = `qf-${randomBytes(3).toString('hex')}`;
  const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
  const generated: Garbage[] = fc
    .sample(garbageBody, { numRuns: GENERATED, ...(seed === undefined ? {} : { seed }) })
    .map((g, i): Garbage => ({ id: `${tag}-gen-${i}`, content: g.content, expectKind: g.kind }));
  const garbage = [...fixedGarbage(tag), ...generated];
  const outcomes = new Map<string, 'handled' | 'parked'>();
  const offs = [
    worker.worker.consumer.on('handled', ({ messageId }) => outcomes.set(messageId, 'handled')),
    worker.worker.consumer.on('parked', ({ messageId }) => outcomes.set(messageId ?? '(none)', 'parked')),
  ];
  const { workExchange, workRoutingKey } = publisher.names;
  for (const g of garbage) {
    await publisher.publishTo(workExchange, workRoutingKey, g.content, {
      persistent: true,
      contentType: 'application/json',
      ...(g.id === undefined ? {} : { messageId: g.id }),
      headers: { 'retry-count': 0, ...g.headers },
    });
  }
  const goodId = `${tag}-good`;
  await publisher.publish(goodMessage(goodId), { messageId: `payment:${goodId}` });

  // Every message ends handled or parked: wait until all are accounted for.
  await waitFor(() => outcomes.size >= garbage.length + 1, { timeoutMs: 30_000, message: `${garbage.length + 1} messages handled or parked` });
  await waitFor(() => stubs.payment.ledger.chargesFor(goodId).length === 1, { message: 'the good message charged' });
  expect(outcomes.get(`payment:${goodId}`)).toBe('handled');

  const parked: ParkedMessage[] = await peekParked(publisher, { limit: garbage.length + 10 });
  const byId = new Map(parked.map((p) => [p.messageId ?? '(none)', p]));
  const kinds: Record<string, number> = {};
  let handledGarbage = 0;
  for (const g of garbage) {
    const key = g.id ?? '(none)';
    const body = g.content.toString('utf8', 0, 300);
    if (outcomes.get(key) === 'handled') {
      // Only a message the worker's schema accepts may be handled (a generated one can happen to be valid).
      let json: unknown;
      try {
        json = JSON.parse(g.content.toString('utf8'));
      } catch {
        json = undefined;
      }
      expect({ id: key, body, valid: retryMessageSchema.safeParse(json).success }).toEqual({ id: key, body, valid: true });
      expect(g.expectKind).toBe('malformed or permanent');
      handledGarbage += 1;
      continue;
    }
    const p = byId.get(key);
    expect({ id: key, body, parked: p !== undefined }).toEqual({ id: key, body, parked: true });
    const allowed = g.expectKind === 'malformed or permanent' ? ['malformed', 'permanent'] : [g.expectKind];
    expect({ id: key, body, kind: p!.kind, reason: p!.reason }).toEqual(expect.objectContaining({ kind: expect.stringMatching(new RegExp(`^(${allowed.join('|')})$`)) }));
    expect(typeof p!.reason).toBe('string');
    expect(p!.reason!.length).toBeGreaterThan(5);
    kinds[p!.kind!] = (kinds[p!.kind!] ?? 0) + 1;
  }
  expect(parked).toHaveLength(garbage.length - handledGarbage);
  // Poison is refused by payment: nothing captured for it.
  for (const name of ['pt', 'pa']) expect(stubs.payment.ledger.chargesFor(`${tag}-${name}`).filter((c) => c.status === 'CAPTURED')).toHaveLength(0);
  expect(stubs.payment.ledger.chargesFor(goodId).map((c) => c.status)).toEqual(['CAPTURED']);
  // Nothing left behind in the work queue, and the worker is still consuming.
  await waitFor(async () => (await publisher.queueDepths()).work.messages === 0, { message: 'work queue empty' });
  expect(worker.worker.consumer.stats().consuming).toBe(true);
  for (const off of offs) off();
  console.log(`fuzz retry queue: ${garbage.length} bad messages published, ${parked.length} parked (${Object.entries(kinds).map(([k, n]) => `${k} ${n}`).join(', ')}), ${handledGarbage} generated ones turned out valid and were handled; good message charged ${stubs.payment.ledger.chargesFor(goodId).length}×`);
});
