import { connect, MessagingConnection } from './connection';
import type { DeliveryContext } from './consumer';
import { isNotConnectedError, isPublishTimeoutError, isUnroutableError, NotConnectedError, UnroutableError } from './errors';
import { AMQP_URL, Harness, Ledger, waitFor } from './testing/harness';
import { closedPort, TcpProxy } from './testing/tcp-proxy';

jest.setTimeout(20_000);

describe('confirmed publisher (real broker)', () => {
  let h: Harness;
  afterEach(async () => {
    await h.teardown();
  });

  it('declares the topology idempotently, as quorum queues on this broker (connect signal only bounds the first connection)', async () => {
    h = new Harness('topology');
    const startup = new AbortController();
    const first = await h.connect({ signal: startup.signal });
    startup.abort(); // the signal bounds the first connection only
    expect(first.state).toBe('connected');
    const second = await h.connect(); // declares the same names again
    expect(first.stats().queueType).toBe('quorum');
    expect(second.stats().queueType).toBe('quorum');
    const depths = await second.queueDepths();
    expect(depths.delays.map((d) => d.queue)).toEqual(h.names.delayQueues.map((t) => t.queue));
    expect(depths.work.messages).toBe(0);
  });

  it('resolves only once the broker holds the message, and the message survives a consumer restart', async () => {
    h = new Harness('survive');
    const ledger = new Ledger();
    const publisher = await h.connect();
    for (let i = 0; i < 30; i++) {
      const id = `order-${i}`;
      await publisher.publish({ orderId: id, amount: 100 + i }, { messageId: id, correlationId: `req-${i}` });
      ledger.published.add(id);
    }
    // Confirmed means held: every one is in the queue before any consumer exists.
    expect(await h.ready(h.names.workQueue)).toBe(30);

    const seen: DeliveryContext[] = [];
    const handler = async (body: { orderId: string }, ctx: DeliveryContext): Promise<void> => {
      seen.push(ctx);
      expect(body.orderId).toBe(ctx.messageId);
      await new Promise((resolve) => setTimeout(resolve, 5));
      ledger.handle(ctx.messageId);
    };
    const first = await h.connect();
    await first.consume(handler, { prefetch: 3 });
    await waitFor(() => ledger.handled.size >= 10, { message: '10 handled by the first consumer' });
    await first.close(); // graceful: in-flight handlers finish and are acked

    const second = await h.connect();
    await second.consume(handler, { prefetch: 3 });
    await waitFor(() => ledger.handled.size === 30, { message: 'all 30 handled' });
    expect(ledger.handledOnce).toBe(true);
    expect(seen.find((c) => c.messageId === 'order-7')?.correlationId).toBe('req-7');
    expect(ledger.account(await h.parkedIds(second))).toMatchObject({ published: 30, handled: 30, parked: 0, missing: [] });
    expect(await h.depths()).toEqual({ work: 0, parking: 0, delays: 0 });
  });

  it('rejects an unroutable publish (mandatory + basic.return) instead of dropping it', async () => {
    h = new Harness('unroutable');
    const mq = await h.connect();
    const admin = await h.admin();
    await admin.unbindQueue(h.names.workQueue, h.names.workExchange, h.names.workRoutingKey);

    const error = await mq.publish({ orderId: 'o-1' }, { messageId: 'o-1' }).catch((e: unknown) => e);
    expect(isUnroutableError(error)).toBe(true);
    expect(error).toBeInstanceOf(UnroutableError);
    expect(error).toMatchObject({ exchange: h.names.workExchange, routingKey: 'payment.retry', replyCode: 312 });

    // Routable again: the next publish is confirmed, the channel survived the return.
    await admin.bindQueue(h.names.workQueue, h.names.workExchange, h.names.workRoutingKey);
    await mq.publish({ orderId: 'o-2' }, { messageId: 'o-2' });
    expect(mq.stats().publish).toMatchObject({ unroutable: 1, confirmed: 1 });
    // Count: 2 published, 1 refused by the broker (never held), 1 held.
    expect(await h.ready(h.names.workQueue)).toBe(1);
  });

  it('fails fast while the broker is unreachable, and connect() gives up when its signal aborts', async () => {
    h = new Harness('unreachable');
    const url = `amqp://guest:guest@127.0.0.1:${await closedPort()}`;
    const mq = h.track(new MessagingConnection(url, h.options({ waitForConnect: false, confirmTimeoutMs: 1_000 })));
    const scheduled: number[] = [];
    mq.on('reconnectScheduled', ({ delayMs }) => scheduled.push(delayMs));

    const started = Date.now();
    const error = await mq.publish({ orderId: 'o-1' }, { messageId: 'o-1' }).catch((e: unknown) => e);
    expect(isNotConnectedError(error)).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_000); // well within the confirm timeout: nothing was buffered
    await waitFor(() => mq.stats().connectFailures >= 3, { message: 'three failed attempts' });
    expect(mq.state).toBe('connecting');
    expect(scheduled.length).toBeGreaterThanOrEqual(2);
    expect(mq.stats().publish).toMatchObject({ attempted: 1, notConnected: 1, confirmed: 0 });

    const abort = new AbortController();
    const pending = connect(url, h.options({ signal: abort.signal }));
    abort.abort(new Error('gave up'));
    await expect(pending).rejects.toThrow('gave up');
    // Nothing reached the broker: the topology was never even declared through this URL.
  });

  it('rejects after the confirm timeout when the link is silently partitioned, then fails fast once the loss is noticed', async () => {
    h = new Harness('partition');
    const proxy = await new TcpProxy('127.0.0.1', Number(new URL(AMQP_URL).port || 5672)).start();
    try {
      const mq = await h.connect({ heartbeatSeconds: 1, confirmTimeoutMs: 300 }, proxy.url(AMQP_URL));
      await mq.publish({ orderId: 'before' }, { messageId: 'before' });

      proxy.freeze();
      const started = Date.now();
      const error = await mq.publish({ orderId: 'during' }, { messageId: 'during' }).catch((e: unknown) => e);
      const elapsed = Date.now() - started;
      expect(isPublishTimeoutError(error)).toBe(true);
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(1_500);

      // Heartbeats notice the dead link; from then on publishes are refused at once.
      await waitFor(() => mq.state === 'reconnecting', { timeoutMs: 6_000, message: 'heartbeat timeout noticed' });
      const refused = await mq.publish({ orderId: 'after' }, { messageId: 'after' }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(NotConnectedError);

      proxy.thaw();
      await waitFor(() => mq.state === 'connected', { timeoutMs: 6_000, message: 'reconnected' });
      await mq.publish({ orderId: 'later' }, { messageId: 'later' });
      expect(mq.stats()).toMatchObject({ reconnects: 1, disconnects: 1 });
      // 'during' timed out: it may or may not have reached the broker (here it did not: the bytes were dropped).
      expect(await h.ready(h.names.workQueue)).toBe(2);
    } finally {
      await proxy.stop();
    }
  });

  it('waits for outstanding confirms on close, and refuses publishes afterwards', async () => {
    h = new Harness('close-confirms');
    const mq = await h.connect();
    const inFlight = Array.from({ length: 50 }, (_, i) => mq.publish({ n: i }, { messageId: `m-${i}` }));
    const closed = mq.close();
    await expect(Promise.all(inFlight)).resolves.toHaveLength(50);
    await closed;
    expect(mq.state).toBe('closed');
    await expect(mq.publish({}, { messageId: 'late' })).rejects.toMatchObject({ reason: 'closed' });
    expect(await h.ready(h.names.workQueue)).toBe(50);
  });
});
