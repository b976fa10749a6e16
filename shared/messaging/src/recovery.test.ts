import type { ConnectionState, MessagingConnection } from './connection';
import { NotConnectedError } from './errors';
import { AMQP_URL, closeConnectionFromBroker, gate, Harness, Ledger, waitFor } from './testing/harness';
import { TcpProxy } from './testing/tcp-proxy';

jest.setTimeout(30_000);

interface Order {
  orderId: string;
}

/** What a caller such as checkout does: a rejected publish was not accepted, so try again (the key dedups). */
async function publishUntilConfirmed(mq: MessagingConnection, id: string, ledger: Ledger): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await mq.publish({ orderId: id }, { messageId: id });
      ledger.published.add(id);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

async function publishAll(mq: MessagingConnection, ids: readonly string[], ledger: Ledger, concurrency: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < ids.length) await publishUntilConfirmed(mq, ids[next++] as string, ledger);
    }),
  );
}

const brokerPort = Number(new URL(AMQP_URL).port || 5672);

describe('connection recovery (real broker)', () => {
  let h: Harness;
  const proxies: TcpProxy[] = [];
  afterEach(async () => {
    await h.teardown();
    await Promise.all(proxies.splice(0).map((p) => p.stop()));
  });
  async function proxy(): Promise<TcpProxy> {
    const p = await new TcpProxy('127.0.0.1', brokerPort).start();
    proxies.push(p);
    return p;
  }

  it('survives network cuts mid-stream on both publisher and consumer: nothing lost, nothing left unacked', async () => {
    h = new Harness('cut');
    const pubProxy = await proxy();
    const conProxy = await proxy();
    const ledger = new Ledger();
    const consumerMq = await h.connect({}, conProxy.url(AMQP_URL));
    const publisherMq = await h.connect({}, pubProxy.url(AMQP_URL));
    const consumer = await consumerMq.consume<Order>(
      async (_order, ctx) => {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
        ledger.handle(ctx.messageId);
      },
      { prefetch: 20 },
    );

    const ids = Array.from({ length: 400 }, (_, i) => `cut-${i}`);
    const publishing = publishAll(publisherMq, ids, ledger, 8);
    await waitFor(() => ledger.handled.size >= 60, { message: '60 handled' });
    conProxy.cut(); // consumer link drops with deliveries in flight
    await waitFor(() => ledger.published.size >= 200, { message: '200 published' });
    pubProxy.cut(); // publisher link drops with confirms outstanding
    await waitFor(() => ledger.handled.size >= 250, { message: '250 handled' });
    conProxy.cut();
    pubProxy.cut();
    await publishing;

    await waitFor(() => [...ledger.published].every((id) => ledger.handled.has(id)), { timeoutMs: 15_000, message: 'every confirmed message handled' });
    expect(consumerMq.stats().reconnects).toBeGreaterThanOrEqual(2);
    expect(publisherMq.stats().reconnects).toBeGreaterThanOrEqual(2);
    await consumerMq.close();
    await publisherMq.close();
    // With every connection closed, an unacked message would be back in its queue: there is none.
    expect(await h.depths()).toEqual({ work: 0, parking: 0, delays: 0 });
    const account = ledger.account([]);
    expect(account).toMatchObject({ published: 400, handled: 400, parked: 0, missing: [], unknown: [] });
    // At-least-once: redeliveries after a cut are allowed, and bounded by what was in flight.
    expect(ledger.duplicates).toBeLessThanOrEqual(4 * 20 + 2 * 8);
    expect(consumer.stats().moveFailures).toBe(0);
  });

  it('recovers when the broker closes the consumer connection mid-delivery (rabbitmqctl close_connection)', async () => {
    h = new Harness('broker-close');
    const ledger = new Ledger();
    const name = `${h.prefix}consumer`;
    const publisherMq = await h.connect();
    const ids = Array.from({ length: 150 }, (_, i) => `bc-${i}`);
    await publishAll(publisherMq, ids, ledger, 4);

    const consumerMq = await h.connect({ connectionName: name });
    const disconnects: string[] = [];
    consumerMq.on('disconnected', ({ error }) => disconnects.push(error.message));
    const hold = gate();
    const redelivered = new Set<string>();
    const consumer = await consumerMq.consume<Order>(
      async (_order, ctx) => {
        if (ctx.redelivered) redelivered.add(ctx.messageId);
        await hold.promise;
        ledger.handle(ctx.messageId);
      },
      { prefetch: 10 },
    );
    // Ten deliveries are in flight, unacked, when the broker kills the connection.
    await waitFor(() => consumer.stats().inFlight === 10, { message: '10 in flight' });
    await closeConnectionFromBroker(name);
    await waitFor(() => consumerMq.stats().disconnects === 1, { message: 'loss noticed' });
    hold.open(); // the ten finish now, on a dead channel: their acks cannot be sent

    await waitFor(() => ledger.handled.size === 150, { timeoutMs: 10_000, message: 'all 150 handled' });
    expect(disconnects).toEqual([expect.stringContaining('CONNECTION_FORCED')]);
    expect(consumerMq.stats()).toMatchObject({ reconnects: 1, disconnects: 1, state: 'connected' });
    // At-least-once: exactly the ten unacked ones came back (redelivered) and were handled again.
    expect(consumer.stats().abandoned).toBe(10);
    expect(redelivered.size).toBe(10);
    expect(ledger.duplicates).toBe(10);
    await consumerMq.close();
    expect(await h.depths()).toEqual({ work: 0, parking: 0, delays: 0 });
    expect(ledger.account([])).toMatchObject({ published: 150, handled: 150, parked: 0, missing: [] });
  });

  it('backs off while the broker is unreachable, then re-declares the topology and resumes its consumer', async () => {
    h = new Harness('backoff');
    const link = await proxy();
    const ledger = new Ledger();
    const mq = await h.connect({ reconnect: { initialMs: 50, maxMs: 400, multiplier: 2, jitter: 0 } }, link.url(AMQP_URL));
    const transitions: string[] = [];
    const delays: number[] = [];
    mq.on('state', ({ from, to }) => transitions.push(`${from}->${to}`));
    mq.on('reconnectScheduled', ({ delayMs }) => delays.push(delayMs));
    await mq.consume<Order>((_o, ctx) => ledger.handle(ctx.messageId));

    link.down();
    await waitFor(() => mq.state === 'reconnecting', { message: 'loss noticed' });
    await expect(mq.publish({ orderId: 'x' }, { messageId: 'x' })).rejects.toBeInstanceOf(NotConnectedError);
    // While it is away, part of the topology disappears.
    const admin = await h.admin();
    await admin.deleteQueue(h.names.delayQueues[0]!.queue);
    await admin.deleteQueue(h.names.parkingQueue);
    await waitFor(() => delays.length >= 5, { message: 'five attempts scheduled' });
    expect(delays.slice(0, 5)).toEqual([50, 100, 200, 400, 400]);

    link.up();
    await waitFor(() => mq.state === 'connected', { timeoutMs: 5_000, message: 'reconnected' });
    expect(transitions).toEqual(['connected->reconnecting', 'reconnecting->connected']);
    expect(mq.stats()).toMatchObject({ reconnects: 1, disconnects: 1 });
    expect(mq.stats().connectFailures).toBeGreaterThanOrEqual(4);
    await admin.checkQueue(h.names.delayQueues[0]!.queue); // declared again
    await admin.checkQueue(h.names.parkingQueue);

    const direct = await h.connect();
    await direct.publish({ orderId: 'after' }, { messageId: 'after' });
    ledger.published.add('after');
    await waitFor(() => ledger.handled.has('after'), { message: 'consumer resumed' });
    expect(ledger.account([])).toMatchObject({ published: 1, handled: 1, parked: 0 });
  });

  it('close() aborts a pending reconnect backoff at once', async () => {
    h = new Harness('abort-backoff');
    const link = await proxy();
    const mq = await h.connect({ reconnect: { initialMs: 20_000, maxMs: 60_000 } }, link.url(AMQP_URL));
    const states: ConnectionState[] = [];
    mq.on('state', ({ to }) => states.push(to));
    link.down();
    await waitFor(() => mq.state === 'reconnecting', { message: 'loss noticed' });
    const started = Date.now();
    await mq.close();
    expect(Date.now() - started).toBeLessThan(2_000); // not the 20 s backoff
    expect(states).toEqual(['reconnecting', 'closing', 'closed']);
  });
});
