import { EventEmitter } from 'node:events';
import type { ConsumeMessage } from 'amqplib';
import { type ConsumerHost, RetryingConsumer } from './consumer';
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

function message(tag: number, body: unknown): ConsumeMessage {
  return {
    content: Buffer.from(JSON.stringify(body)),
    fields: { deliveryTag: tag, redelivered: false, exchange: 'x', routingKey: 'payment.retry', consumerTag: 'tag-1' },
    properties: { messageId: `m-${tag}`, headers: {} } as unknown as ConsumeMessage['properties'],
  };
}

function setup(): { consumer: RetryingConsumer<{ n: number }>; channel: FakeChannel; handled: number[]; session: Session } {
  const channel = new FakeChannel();
  const session = { model: { createChannel: async () => channel }, fail: () => {}, channelClosed: () => {} } as unknown as Session;
  const host: ConsumerHost = {
    names: topologyNames('unit.', resolveTiers(['1s'])),
    publishTo: async () => {},
    removeConsumer: () => {},
  };
  const handled: number[] = [];
  const consumer = new RetryingConsumer<{ n: number }>(host, (body) => {
    handled.push(body.n);
  });
  return { consumer, channel, handled, session };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('RetryingConsumer without a broker', () => {
  it('holds deliveries that arrive after pause() and handles them on resume(), without requeueing', async () => {
    const { consumer, channel, handled, session } = setup();
    await consumer.attach(session);
    channel.deliver?.(message(1, { n: 1 }));
    await flush();
    await consumer.pause();
    expect(channel.cancelled).toBe(1);
    channel.deliver?.(message(2, { n: 2 })); // was already on the wire when we cancelled
    await flush();
    expect(handled).toEqual([1]);
    expect(consumer.stats()).toMatchObject({ held: 1, paused: true, requeued: 0 });

    await consumer.resume();
    await flush();
    expect(handled).toEqual([1, 2]);
    expect(channel.acked).toEqual([1, 2]);
    expect(channel.nacked).toEqual([]);
    expect(consumer.stats()).toMatchObject({ held: 0, paused: false, consuming: true, handled: 2 });
  });

  it('hands held deliveries back to the queue when closed while paused', async () => {
    const { consumer, channel, session } = setup();
    await consumer.attach(session);
    await consumer.pause();
    channel.deliver?.(message(7, { n: 7 }));
    await consumer.close({ deadline: Date.now() + 1_000 });
    expect(channel.nacked).toEqual([7]);
    expect(channel.acked).toEqual([]);
  });
});
