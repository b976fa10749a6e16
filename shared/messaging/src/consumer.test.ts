import type { DeliveryContext } from './consumer';
import { HandlerTimeoutError, PermanentError } from './errors';
import { HEADERS } from './headers';
import type { QueueTypePreference } from './options';
import { countParked, peekParked, replayParked } from './parking';
import { PARKING_DELIVERY_LIMIT, WORK_DELIVERY_LIMIT } from './topology';
import { gate, Harness, Ledger, waitFor } from './testing/harness';

jest.setTimeout(20_000);

interface Order {
  orderId: string;
  amount: number;
}

function validateOrder(body: unknown): Order {
  const b = body as Partial<Order> | null;
  if (typeof b !== 'object' || b === null) throw new Error('body must be an object');
  if (typeof b.orderId !== 'string') throw new Error('orderId is required');
  if (typeof b.amount !== 'number') throw new Error('amount is required');
  return { orderId: b.orderId, amount: b.amount };
}

describe('retrying consumer (real broker)', () => {
  let h: Harness;
  afterEach(async () => {
    await h.teardown();
  });

  describe.each<QueueTypePreference>(['quorum', 'classic'])('on %s queues', (queueType) => {
    it('walks a transient failure through every delay tier, in order, then succeeds', async () => {
      h = new Harness(`tiers-${queueType}`, ['60ms', '120ms', '180ms']);
      const mq = await h.connect({ queueType });
      expect(mq.stats().queueType).toBe(queueType);
      const ledger = new Ledger();
      const times = new Map<string, number[]>();
      const tiersUsed: string[] = [];
      const consumer = await mq.consume<Order>(
        (order, ctx) => {
          ledger.attempt(ctx.messageId, ctx.retryCount);
          times.set(ctx.messageId, [...(times.get(ctx.messageId) ?? []), Date.now()]);
          if (ctx.retryCount < 3) throw new Error(`payment unavailable for ${order.orderId}`);
          ledger.handle(ctx.messageId);
        },
        { validate: validateOrder, maxRetries: 3 },
      );
      consumer.on('retried', ({ tier, messageId }) => {
        if (messageId === 'o-0') tiersUsed.push(tier);
      });
      for (let i = 0; i < 5; i++) {
        await mq.publish({ orderId: `o-${i}`, amount: i }, { messageId: `o-${i}` });
        ledger.published.add(`o-${i}`);
      }
      await waitFor(() => ledger.handled.size === 5, { message: 'all 5 handled after 3 retries' });

      for (const id of ledger.published) expect(ledger.attempts.get(id)).toEqual([0, 1, 2, 3]);
      expect(tiersUsed).toEqual(['60ms', '120ms', '180ms']);
      // Each retry waited at least its tier's TTL (a lower bound the broker guarantees).
      const t = times.get('o-0') as number[];
      expect([t[1]! - t[0]!, t[2]! - t[1]!, t[3]! - t[2]!].map((gap, i) => gap >= [60, 120, 180][i]! - 5)).toEqual([true, true, true]);
      expect(consumer.stats()).toMatchObject({ handled: 5, retried: 15, parked: 0, moveFailures: 0 });
      expect(ledger.account(await h.parkedIds(mq))).toMatchObject({ published: 5, handled: 5, parked: 0, missing: [] });
      expect(await h.depths()).toEqual({ work: 0, parking: 0, delays: 0 });
    });
  });

  it('parks the message on the last attempt, with the reason, retry count and time in headers', async () => {
    h = new Harness('exhausted', ['30ms', '60ms']);
    const mq = await h.connect();
    const ledger = new Ledger();
    const consumer = await mq.consume<Order>(
      (_order, ctx) => {
        ledger.attempt(ctx.messageId, ctx.retryCount);
        if (ctx.messageId.startsWith('declined')) throw new PermanentError('card declined');
        throw new Error('payment service unavailable');
      },
      { validate: validateOrder, maxRetries: 2 },
    );
    const lastAttempts: boolean[] = [];
    consumer.on('parked', ({ retryCount }) => lastAttempts.push(retryCount === 2));
    for (const id of ['down-1', 'down-2', 'down-3', 'declined-1']) {
      await mq.publish({ orderId: id, amount: 1 }, { messageId: id, correlationId: `req-${id}` });
      ledger.published.add(id);
    }
    await waitFor(async () => (await countParked(mq)) === 4, { message: '4 parked' });

    const parked = await peekParked(mq, { limit: 10 });
    const byId = new Map(parked.map((p) => [p.messageId, p]));
    for (const id of ['down-1', 'down-2', 'down-3']) {
      expect(ledger.attempts.get(id)).toEqual([0, 1, 2]); // maxRetries 2 → 3 attempts
      const p = byId.get(id);
      expect(p).toMatchObject({ kind: 'exhausted', retryCount: 2, correlationId: `req-${id}` });
      expect(p?.reason).toBe('gave up after 3 attempts: Error: payment service unavailable');
      expect(p?.headers[HEADERS.parkedReason]).toBe(p?.reason);
      expect(Number.isNaN(Date.parse(String(p?.parkedAt)))).toBe(false);
      expect(JSON.parse(p?.body ?? '')).toEqual({ orderId: id, amount: 1 });
    }
    expect(ledger.attempts.get('declined-1')).toEqual([0]); // permanent: no retry
    expect(byId.get('declined-1')).toMatchObject({ kind: 'permanent', reason: 'PermanentError: card declined', retryCount: 0 });
    expect(consumer.stats()).toMatchObject({ handled: 0, parked: 4, retried: 6 });
    // peek left them in place
    expect(await countParked(mq)).toBe(4);
    expect(ledger.account(parked.map((p) => p.messageId))).toMatchObject({ published: 4, handled: 0, parked: 4, missing: [] });
  });

  it.each<QueueTypePreference>(['quorum', 'classic'])(
    'a paused consumer holds no delivery, so the %s queue reports no consumer; resumed, it handles every message on its first attempt',
    async (queueType) => {
      h = new Harness(`pause-empty-${queueType}`, ['40ms']);
      const mq = await h.connect({ queueType });
      const ledger = new Ledger();
      const refusal = new Error('circuit open');
      let open = false;
      for (let i = 0; i < 40; i++) {
        await mq.publish({ orderId: `e-${i}`, amount: i }, { messageId: `e-${i}` });
        ledger.published.add(`e-${i}`);
      }
      // A refused delivery pauses the consumer (as the worker does when its breaker opens) while
      // the rest of the prefetch is in flight or still on the wire.
      let pause: (() => Promise<void>) | undefined; // deliveries may come before consume() returns
      const consumer = await mq.consume<Order>(
        (_order, ctx) => {
          if (!open) {
            void pause?.();
            throw refusal;
          }
          ledger.attempt(ctx.messageId, ctx.retryCount);
          ledger.handle(ctx.messageId);
        },
        { validate: validateOrder, prefetch: 20, isDeferral: (error) => error === refusal },
      );
      pause = () => consumer.pause();
      // A quorum queue counts a cancelled consumer while it holds unacked deliveries: none are held.
      await waitFor(async () => consumer.stats().inFlight === 0 && (await mq.queueDepths()).work.consumers === 0, { message: 'no consumer while paused' });
      await waitFor(async () => (await h.depths()).work === 40, { message: 'all 40 back in the work queue, waiting' });
      expect(consumer.stats()).toMatchObject({ paused: true, handled: 0, retried: 0, parked: 0, requeued: 0 });
      expect(consumer.stats().deferred).toBeGreaterThan(0);

      open = true;
      await consumer.resume();
      await waitFor(() => ledger.handled.size === 40, { message: 'all handled after resume' });
      expect(ledger.account([])).toMatchObject({ published: 40, handled: 40, parked: 0, missing: [] });
      expect(ledger.handledOnce).toBe(true);
      expect(new Set([...ledger.attempts.values()].flat())).toEqual(new Set([0])); // no attempt used up
      expect(await h.depths()).toEqual({ work: 0, parking: 0, delays: 0 });
    },
  );

  it('defers a delivery its handler did not attempt (isDeferral): first delay tier, attempt not used up', async () => {
    h = new Harness('deferral', ['40ms', '80ms']);
    const mq = await h.connect();
    const notAttempted = new Error('circuit open');
    let refusals = 3;
    const counts: number[] = [];
    const consumer = await mq.consume<Order>(
      (_order, ctx) => {
        counts.push(ctx.retryCount);
        if (refusals-- > 0) throw notAttempted;
        if (ctx.retryCount === 0) throw new Error('payment failed'); // a real attempt: counted
      },
      { validate: validateOrder, maxRetries: 1, isDeferral: (error) => error === notAttempted },
    );
    const tiers: string[] = [];
    consumer.on('deferred', ({ tier, retryCount }) => tiers.push(`${tier}@${retryCount}`));
    await mq.publish({ orderId: 'half-open', amount: 1 }, { messageId: 'half-open' });
    await waitFor(() => consumer.stats().handled === 1, { message: 'handled after three deferrals and one failed attempt' });
    // Three refusals left the count at 0; the failed attempt made it 1; with maxRetries 1 that
    // was the last attempt allowed, and it succeeded instead of being parked.
    expect(counts).toEqual([0, 0, 0, 0, 1]);
    expect(tiers).toEqual(['40ms@0', '40ms@0', '40ms@0']);
    expect(consumer.stats()).toMatchObject({ deferred: 3, retried: 1, parked: 0, handled: 1 });
    // Count: 1 published = 1 handled + 0 parked, nothing left anywhere.
    expect(await h.depths()).toEqual({ work: 0, parking: 0, delays: 0 });
  });

  it('acks a failed message only once its move is confirmed: an unconfirmed retry or park requeues it, nothing is lost', async () => {
    h = new Harness('move-fails', ['30ms']);
    const mq = await h.connect();
    const admin = await h.admin();
    const tier = h.names.delayQueues[0]!;
    // The delay tier and the parking queue cannot take messages: a retry or a park is unroutable.
    await admin.unbindQueue(tier.queue, h.names.delayExchange, tier.routingKey);
    await admin.deleteQueue(h.names.parkingQueue);
    const ledger = new Ledger();
    const consumer = await mq.consume<Order>(
      (order, ctx) => {
        ledger.attempt(ctx.messageId, ctx.retryCount);
        if (order.orderId === 'declined') throw new PermanentError('card declined');
        if (ctx.retryCount === 0) throw new Error('payment unavailable');
        ledger.handle(ctx.messageId);
      },
      { validate: validateOrder, maxRetries: 1, requeueDelayMs: 20 },
    );
    const errors: string[] = [];
    consumer.on('error', ({ error, messageId }) => errors.push(`${messageId}: ${error.name}`));
    for (const id of ['transient', 'declined']) {
      await mq.publish({ orderId: id, amount: 1 }, { messageId: id });
      ledger.published.add(id);
    }
    await waitFor(() => consumer.stats().moveFailures >= 4, { message: 'moves refused a few times' });
    // Neither was acked: each went back to the work queue and was attempted again with the same count.
    expect(consumer.stats()).toMatchObject({ handled: 0, retried: 0, parked: 0 });
    expect(consumer.stats().requeued).toBeGreaterThanOrEqual(2);
    expect(new Set(ledger.attempts.get('transient'))).toEqual(new Set([0]));
    expect(errors).toEqual(expect.arrayContaining(['transient: UnroutableError', 'declined: UnroutableError']));

    // The broker can take them again: both move on, confirmed, then acked.
    await admin.bindQueue(tier.queue, h.names.delayExchange, tier.routingKey);
    await admin.assertQueue(h.names.parkingQueue, { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': PARKING_DELIVERY_LIMIT } });
    await waitFor(async () => ledger.handled.has('transient') && (await countParked(mq)) === 1, { message: 'retried and handled, declined parked' });
    expect(ledger.account(await h.parkedIds(mq))).toMatchObject({ published: 2, handled: 1, parked: 1, missing: [], both: [] });
    await waitFor(async () => (await h.depths()).work === 0 && consumer.stats().inFlight === 0, { message: 'work queue empty' });
    expect(await h.depths()).toEqual({ work: 0, parking: 1, delays: 0 });
  });

  it('replays parked messages back to the work queue with the retry count reset, confirmed before ack', async () => {
    h = new Harness('replay', ['30ms']);
    const mq = await h.connect();
    const ledger = new Ledger();
    let paymentUp = false;
    const retryCounts: number[] = [];
    await mq.consume<Order>(
      (_order, ctx) => {
        if (!paymentUp) throw new Error('payment down');
        retryCounts.push(ctx.retryCount);
        expect(ctx.headers[HEADERS.replayCount]).toBe(1);
        expect(ctx.headers[HEADERS.parkedReason]).toBeUndefined();
        ledger.handle(ctx.messageId);
      },
      { validate: validateOrder, maxRetries: 1 },
    );
    for (let i = 0; i < 6; i++) {
      await mq.publish({ orderId: `r-${i}`, amount: i }, { messageId: `r-${i}` });
      ledger.published.add(`r-${i}`);
    }
    await waitFor(async () => (await countParked(mq)) === 6, { message: 'all 6 parked' });
    expect(ledger.account((await peekParked(mq, { limit: 10 })).map((p) => p.messageId))).toMatchObject({ handled: 0, parked: 6, missing: [] });

    paymentUp = true;
    expect(await replayParked(mq, { limit: 2 })).toEqual({ replayed: 2, failed: 0, remaining: 4, errors: [] });
    expect(await replayParked(mq)).toEqual({ replayed: 4, failed: 0, remaining: 0, errors: [] });
    await waitFor(() => ledger.handled.size === 6, { message: 'all replayed messages handled' });
    expect(retryCounts).toEqual([0, 0, 0, 0, 0, 0]);
    expect(ledger.account([])).toMatchObject({ published: 6, handled: 6, parked: 0, missing: [] });
    expect(await h.depths()).toEqual({ work: 0, parking: 0, delays: 0 });
  });

  it('parks malformed messages and survives throwing handlers without ever stopping', async () => {
    h = new Harness('malformed', ['20ms']);
    const mq = await h.connect();
    const ledger = new Ledger();
    const thrownOnce = new Set<string>();
    const consumer = await mq.consume<Order>(
      (order, ctx) => {
        if (order.orderId.startsWith('throws') && !thrownOnce.has(ctx.messageId)) {
          thrownOnce.add(ctx.messageId);
          if (order.orderId === 'throws-string') throw 'a string, not an Error';
          if (order.orderId === 'throws-object') throw { status: 503 };
          throw new TypeError('handler bug');
        }
        ledger.handle(ctx.messageId);
      },
      { validate: validateOrder, maxRetries: 1 },
    );
    const errors: string[] = [];
    consumer.on('error', ({ error }) => errors.push(error.message));

    const good = async (id: string): Promise<void> => {
      await mq.publish({ orderId: id, amount: 1 }, { messageId: id });
      ledger.published.add(id);
    };
    const raw = async (id: string, content: string, headers: Record<string, unknown> = {}): Promise<void> => {
      await h.rawPublish(content, { messageId: id, headers });
      ledger.published.add(id);
    };
    await good('good-1');
    await raw('bad-json', '{"orderId": "x", ');
    await raw('bad-schema', JSON.stringify({ orderId: 'x' }));
    await raw('bad-retry', JSON.stringify({ orderId: 'x', amount: 1 }), { [HEADERS.retryCount]: 'lots' });
    await h.rawPublish(JSON.stringify({ orderId: 'no-id', amount: 1 })); // no messageId at all
    await good('throws-error');
    await good('throws-string');
    await good('throws-object');
    await good('good-2');

    await waitFor(() => ledger.handled.size === 5, { message: 'good and eventually-succeeding messages handled' });
    await waitFor(async () => (await countParked(mq)) === 4, { message: '4 malformed parked' });
    const parked = await peekParked(mq, { limit: 10 });
    const reasons = Object.fromEntries(parked.map((p) => [p.messageId ?? '(none)', p.reason]));
    expect(reasons).toEqual({
      'bad-json': expect.stringMatching(/^malformed: invalid JSON: /),
      'bad-schema': 'malformed: validation failed: Error: amount is required',
      'bad-retry': 'malformed: invalid retry-count header: lots',
      '(none)': 'malformed: missing messageId (the idempotency key)',
    });
    expect(parked.every((p) => p.kind === 'malformed')).toBe(true);
    expect(consumer.stats()).toMatchObject({ consuming: true, handled: 5, malformed: 4, parked: 4, retried: 3 });
    expect(errors).toEqual([]); // nothing unexpected happened inside the consumer

    // Still consuming: one more goes straight through.
    await good('good-3');
    await waitFor(() => ledger.handled.has('good-3'), { message: 'consumer still alive' });
    // 9 published with an id (+1 without): 6 handled + 4 parked (the id-less one counted by the queue).
    ledger.published.add('(none)');
    expect(ledger.account(parked.map((p) => p.messageId ?? '(none)'))).toMatchObject({ published: 10, handled: 6, parked: 4, missing: [], both: [] });
  });

  it('a message redelivered past the delivery limit (a worker-crashing poison message) is parked by the broker, not dropped', async () => {
    h = new Harness('poison');
    const mq = await h.connect();
    await mq.publish({ orderId: 'poison', amount: 1 }, { messageId: 'poison' });
    // Simulate workers that die holding it: take it and hand it back, again and again.
    const admin = await h.admin();
    let deliveries = 0;
    for (;;) {
      const msg = await admin.get(h.names.workQueue, { noAck: false });
      if (!msg) break;
      deliveries++;
      admin.nack(msg, false, true);
      expect(deliveries).toBeLessThanOrEqual(WORK_DELIVERY_LIMIT + 1);
    }
    const [parked] = await waitFor(async () => {
      const list = await peekParked(mq);
      return list.length === 1 ? list : undefined;
    }, { message: 'dead-lettered into parking' });
    expect(parked).toMatchObject({ messageId: 'poison', reason: `dead-lettered by the broker from ${h.names.workQueue} (delivery_limit)` });
    // Looking at it many times never drops it either.
    for (let i = 0; i < 3; i++) await peekParked(mq);
    expect(await countParked(mq)).toBe(1);
    expect(deliveries).toBeGreaterThan(WORK_DELIVERY_LIMIT); // 1 published = 0 handled + 1 parked
  });

  it('pause() stops deliveries (the breaker is open) and resume() picks up where it left off', async () => {
    h = new Harness('pause');
    const mq = await h.connect();
    const ledger = new Ledger();
    const consumer = await mq.consume<Order>((_o, ctx) => ledger.handle(ctx.messageId), { validate: validateOrder });
    await consumer.pause();
    expect(consumer.stats()).toMatchObject({ paused: true, consuming: false });
    for (let i = 0; i < 5; i++) {
      await mq.publish({ orderId: `p-${i}`, amount: i }, { messageId: `p-${i}` });
      ledger.published.add(`p-${i}`);
    }
    // No consumer on the queue and all five waiting: nothing can be delivered while paused.
    const depth = (await mq.queueDepths()).work;
    expect(depth).toMatchObject({ messages: 5, consumers: 0 });
    expect(ledger.handled.size).toBe(0);

    await consumer.resume();
    await waitFor(() => ledger.handled.size === 5, { message: 'handled after resume' });
    expect(ledger.account([])).toMatchObject({ published: 5, handled: 5, parked: 0 });
  });

  it('close() lets in-flight handlers finish and acks them before closing the connection', async () => {
    h = new Harness('graceful');
    const mq = await h.connect();
    const ledger = new Ledger();
    const hold = gate();
    let started = 0;
    const first = await mq.consume<Order>(
      async (_o, ctx) => {
        started++;
        await hold.promise;
        ledger.handle(ctx.messageId);
      },
      { validate: validateOrder, prefetch: 5 },
    );
    for (let i = 0; i < 5; i++) {
      await mq.publish({ orderId: `g-${i}`, amount: i }, { messageId: `g-${i}` });
      ledger.published.add(`g-${i}`);
    }
    await waitFor(() => started === 5, { message: '5 handlers in flight' });
    let closed = false;
    const closing = mq.close({ timeoutMs: 5_000 }).then(() => {
      closed = true;
    });
    // The consumer is cancelled first, while its handlers still run; nothing new is delivered.
    await waitFor(() => mq.state === 'closing' && !first.stats().consuming, { message: 'consumer cancelled' });
    await h.rawPublish(JSON.stringify({ orderId: 'late', amount: 0 }), { messageId: 'late' });
    expect(closed).toBe(false);
    expect(first.stats().inFlight).toBe(5);
    hold.open();
    await closing;
    expect(ledger.handled.size).toBe(5);
    // All five acked (none came back); the late one was never delivered: 6 published = 5 handled + 1 waiting.
    expect(await h.ready(h.names.workQueue)).toBe(1);
    ledger.published.add('late');
    await h.drain(ledger, 6);
    expect(ledger.account([])).toMatchObject({ published: 6, handled: 6, parked: 0, missing: [], unknown: [] });
    expect(ledger.handledOnce).toBe(true);
  });

  it('treats a handler past handlerTimeoutMs as a transient failure and aborts its signal', async () => {
    h = new Harness('handler-timeout', ['20ms']);
    const mq = await h.connect();
    const ledger = new Ledger();
    const reasons: unknown[] = [];
    await mq.consume<Order>(
      async (_o, ctx: DeliveryContext) => {
        ledger.attempt(ctx.messageId, ctx.retryCount);
        if (ctx.retryCount === 0) {
          await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
          reasons.push(ctx.signal.reason);
          return; // too late: the timeout already decided
        }
        ledger.handle(ctx.messageId);
      },
      { validate: validateOrder, handlerTimeoutMs: 100 },
    );
    await mq.publish({ orderId: 'slow', amount: 1 }, { messageId: 'slow' });
    ledger.published.add('slow');
    await waitFor(() => ledger.handled.has('slow'), { message: 'handled on the retry' });
    expect(ledger.attempts.get('slow')).toEqual([0, 1]);
    expect(reasons[0]).toBeInstanceOf(HandlerTimeoutError);
    expect(ledger.account([])).toMatchObject({ published: 1, handled: 1, parked: 0 });
  });
});
