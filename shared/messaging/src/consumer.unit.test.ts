import { EventEmitter } from 'node:events';
import type { ConsumeMessage } from 'amqplib';
import { type ConsumerHost, RetryingConsumer } from './consumer';
import { HEADERS } from './headers';
import { resolveTiers } from './options';
import type { Session } from './session';
import { topologyNames } from './topology';

/** The few channel calls a consumer makes, recorded. */
class FakeChannel extends EventEmitter {
  deliver: ((msg: ConsumeMessage | null) => void) | undefined;
  readonly acked: number[] = [];
  readonly nacked: number[] = [];
  cancelled = 0;
  async prefetch(): Promise<void> {}
  async consume(_queue: string, onMessage: (msg: ConsumeMessage | null) => void): Promise<{ consumerTag: string }> {
    this.deliver = onMessage;
    return { consumerTag: 'tag-1' };
  }
  async cancel(): Promise<void> {
    this.cancelled++;
  }
  ack(msg: ConsumeMessage): void {
    this.acked.push(msg.fields.deliveryTag);
  }
  nack(msg: ConsumeMessage): void {
    this.nacked.push(msg.fields.deliveryTag);
  }
  async close(): Promise<void> {
    this.emit('close');
  }
}

function message(tag: number, body: unknown, headers: Record<string, unknown> = {}): ConsumeMessage {
  return {
    content: Buffer.from(JSON.stringify(body)),
    fields: { deliveryTag: tag, redelivered: false, exchange: 'x', routingKey: 'payment.retry', consumerTag: 'tag-1' },
    properties: { messageId: `m-${tag}`, headers } as unknown as ConsumeMessage['properties'],
  };
}

const NAMES = topologyNames('unit.', resolveTiers(['1s']));

interface Published {
  exchange: string;
  routingKey: string;
  messageId: unknown;
  retryCount: unknown;
}

function setup(options: { publishFails?: boolean } = {}): {
  consumer: RetryingConsumer<{ n: number }>;
  channel: FakeChannel;
  handled: number[];
  session: Session;
  published: Published[];
} {
  const channel = new FakeChannel();
  const session = { model: { createChannel: async () => channel }, fail: () => {}, channelClosed: () => {} } as unknown as Session;
  const published: Published[] = [];
  const host: ConsumerHost = {
    names: NAMES,
    publishTo: async (exchange, routingKey, _content, properties) => {
      if (options.publishFails) throw new Error('not confirmed');
      published.push({ exchange, routingKey, messageId: properties.messageId, retryCount: properties.headers?.[HEADERS.retryCount] });
    },
    removeConsumer: () => {},
  };
  const handled: number[] = [];
  const consumer = new RetryingConsumer<{ n: number }>(host, (body) => {
    handled.push(body.n);
  }, { requeueDelayMs: 0 });
  return { consumer, channel, handled, session, published };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('RetryingConsumer without a broker', () => {
  it('defers deliveries that arrive after pause() to the first delay tier, unhandled, and acks them: nothing held, nothing requeued', async () => {
    const { consumer, channel, handled, session, published } = setup();
    await consumer.attach(session);
    channel.deliver?.(message(1, { n: 1 }));
    await flush();
    await consumer.pause();
    expect(channel.cancelled).toBe(1);
    channel.deliver?.(message(2, { n: 2 }, { [HEADERS.retryCount]: 2 })); // was already on the wire when we cancelled
    await flush();
    expect(handled).toEqual([1]);
    // to the first tier, its retry count unchanged (no attempt used), then acked
    expect(published).toEqual([{ exchange: NAMES.delayExchange, routingKey: NAMES.delayQueues[0]!.routingKey, messageId: 'm-2', retryCount: 2 }]);
    expect(channel.acked).toEqual([1, 2]);
    expect(channel.nacked).toEqual([]);
    expect(consumer.stats()).toMatchObject({ paused: true, deferred: 1, requeued: 0, handled: 1, inFlight: 0 });

    await consumer.resume();
    expect(consumer.stats()).toMatchObject({ paused: false, consuming: true });
    channel.deliver?.(message(3, { n: 3 }));
    await flush();
    expect(handled).toEqual([1, 3]);
  });

  it('parks a malformed delivery that arrives after pause(), as it would when running', async () => {
    const { consumer, channel, session, published } = setup();
    await consumer.attach(session);
    await consumer.pause();
    channel.deliver?.(message(4, { n: 4 }, { [HEADERS.retryCount]: 'many' }));
    await flush();
    expect(published).toEqual([{ exchange: '', routingKey: NAMES.parkingQueue, messageId: 'm-4', retryCount: 'many' }]);
    expect(channel.acked).toEqual([4]);
    expect(consumer.stats()).toMatchObject({ parked: 1, malformed: 1, deferred: 0 });
  });

  it('requeues a delivery that arrives after pause() when its deferral cannot be published', async () => {
    const { consumer, channel, session, published } = setup({ publishFails: true });
    await consumer.attach(session);
    await consumer.pause();
    channel.deliver?.(message(7, { n: 7 }));
    await consumer.close({ deadline: Date.now() + 1_000 });
    expect(published).toEqual([]);
    expect(channel.nacked).toEqual([7]);
    expect(channel.acked).toEqual([]);
    expect(consumer.stats()).toMatchObject({ moveFailures: 1, requeued: 1 });
  });
});
