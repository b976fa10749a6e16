import type { Channel, ChannelModel } from 'amqplib';
import { TopologyError } from './errors';
import type { DelayTier, QueueTypePreference } from './options';

/**
 * ```
 * publish ─▶ [payments.retry] ─payment.retry─▶ (payments.retry.work) ─▶ consumer
 *                  ▲                                                     │ transient: retry-count+1
 *                  │ dead-letter, routing key payment.retry               ▼
 *   (payments.delay.<tier>) ◀─delay.<tier>─ [payments.delay] ◀──────────┘
 *      x-message-ttl = tier                                               │ permanent / exhausted / malformed
 *                                                                          ▼
 *                                                           (payments.parking) via the default exchange
 * ```
 */
export interface DelayQueueNames {
  readonly label: string;
  readonly ttlMs: number;
  readonly queue: string;
  readonly routingKey: string;
}

export interface TopologyNames {
  readonly prefix: string;
  readonly workExchange: string;
  readonly workQueue: string;
  readonly workRoutingKey: string;
  readonly delayExchange: string;
  readonly delayQueues: readonly DelayQueueNames[];
  readonly parkingQueue: string;
}

export type QueueType = 'quorum' | 'classic';

export function topologyNames(prefix: string, tiers: readonly DelayTier[]): TopologyNames {
  return {
    prefix,
    workExchange: `${prefix}payments.retry`,
    workQueue: `${prefix}payments.retry.work`,
    workRoutingKey: 'payment.retry',
    delayExchange: `${prefix}payments.delay`,
    delayQueues: tiers.map((tier) => ({
      label: tier.label,
      ttlMs: tier.ttlMs,
      queue: `${prefix}payments.delay.${tier.label}`,
      routingKey: `delay.${tier.label}`,
    })),
    parkingQueue: `${prefix}payments.parking`,
  };
}

function queueArgs(type: QueueType): Record<string, unknown> {
  return type === 'quorum' ? { 'x-queue-type': 'quorum' } : {};
}

/**
 * Deliveries of one message from the work queue (quorum only) before the broker gives up on it:
 * a message that crashes every worker that takes it would otherwise loop forever. RabbitMQ 4
 * applies 20 to every quorum queue by default; we set it explicitly so 3.x behaves the same, and
 * dead-letter such a message to the parking queue rather than let the broker drop it.
 */
export const WORK_DELIVERY_LIMIT = 20;

/**
 * Peeking at the parking queue hands messages back unacked, which counts as a delivery on quorum
 * queues: the limit is set out of reach so that looking at a parked message can never drop it
 * (RabbitMQ 4 would otherwise drop it after 20 peeks; -1, "unlimited" on 4.x, means "drop at once" on 3.x).
 */
export const PARKING_DELIVERY_LIMIT = 1_000_000_000;

function workQueueArgs(type: QueueType, names: TopologyNames): Record<string, unknown> {
  const args: Record<string, unknown> = {
    ...queueArgs(type),
    // Anything the broker itself dead-letters from the work queue lands in the parking lot.
    'x-dead-letter-exchange': '',
    'x-dead-letter-routing-key': names.parkingQueue,
  };
  if (type === 'quorum') {
    args['x-delivery-limit'] = WORK_DELIVERY_LIMIT;
    args['x-dead-letter-strategy'] = 'at-least-once';
    args['x-overflow'] = 'reject-publish';
  }
  return args;
}

function parkingQueueArgs(type: QueueType): Record<string, unknown> {
  return type === 'quorum' ? { ...queueArgs(type), 'x-delivery-limit': PARKING_DELIVERY_LIMIT } : {};
}

function delayQueueArgs(type: QueueType, names: TopologyNames, tier: DelayQueueNames): Record<string, unknown> {
  const args: Record<string, unknown> = {
    ...queueArgs(type),
    'x-message-ttl': tier.ttlMs,
    'x-dead-letter-exchange': names.workExchange,
    'x-dead-letter-routing-key': names.workRoutingKey,
  };
  if (type === 'quorum') {
    // Quorum queues (RabbitMQ >= 3.10) can dead-letter at-least-once: an expired message stays in
    // the delay queue until the work queue has confirmed it. That mode requires reject-publish.
    args['x-dead-letter-strategy'] = 'at-least-once';
    args['x-overflow'] = 'reject-publish';
  }
  return args;
}

/** AMQP channel-level errors carry the reply code; 406 PRECONDITION_FAILED and 540 NOT_IMPLEMENTED mean "not like this". */
function replyCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

async function withChannel<T>(model: ChannelModel, fn: (channel: Channel) => Promise<T>): Promise<T> {
  const channel = await model.createChannel();
  // A failed declaration closes the channel with an error; the rejection of the call reports it.
  channel.on('error', () => {});
  try {
    return await fn(channel);
  } finally {
    await channel.close().catch(() => {});
  }
}

async function declareQueue(
  model: ChannelModel,
  names: TopologyNames,
  queue: string,
  attempts: readonly QueueType[],
  args: (type: QueueType) => Record<string, unknown>,
  bind?: { exchange: string; routingKey: string },
): Promise<QueueType> {
  let lastError: unknown;
  for (const type of attempts) {
    try {
      await withChannel(model, async (channel) => {
        await channel.assertQueue(queue, { durable: true, arguments: args(type) });
        if (bind) await channel.bindQueue(queue, bind.exchange, bind.routingKey);
      });
      return type;
    } catch (error) {
      const code = replyCode(error);
      if (code !== 406 && code !== 540) throw error; // connection trouble: the caller retries
      lastError = error;
    }
  }
  throw new TopologyError(
    `cannot declare queue '${queue}' (prefix '${names.prefix}') as ${attempts.join(' or ')}: ${(lastError as Error | undefined)?.message}`,
    { cause: lastError },
  );
}

/** The queue type chosen for each queue of the topology. */
export interface DeclaredTopology {
  readonly work: QueueType;
  readonly parking: QueueType;
  readonly delays: readonly QueueType[];
}

/**
 * Declares everything, idempotently. With 'auto', each queue is declared as a quorum queue first
 * and as a classic durable queue when the broker refuses (no quorum support, no TTL or
 * at-least-once dead-lettering on quorum queues before 3.10, or the queue already exists as a
 * classic queue). A failed declaration closes its channel, so each attempt gets its own.
 */
export async function declareTopology(model: ChannelModel, names: TopologyNames, preference: QueueTypePreference): Promise<DeclaredTopology> {
  const attempts: QueueType[] = preference === 'auto' ? ['quorum', 'classic'] : [preference];
  await withChannel(model, async (channel) => {
    await channel.assertExchange(names.workExchange, 'direct', { durable: true });
    await channel.assertExchange(names.delayExchange, 'direct', { durable: true });
  }).catch((error: unknown) => {
    const code = replyCode(error);
    if (code === 406) throw new TopologyError(`cannot declare the exchanges with prefix '${names.prefix}': ${(error as Error).message}`, { cause: error });
    throw error;
  });
  // Parking first: the work queue dead-letters into it.
  const parking = await declareQueue(model, names, names.parkingQueue, attempts, parkingQueueArgs);
  const work = await declareQueue(model, names, names.workQueue, attempts, (type) => workQueueArgs(type, names), {
    exchange: names.workExchange,
    routingKey: names.workRoutingKey,
  });
  const delays: QueueType[] = [];
  for (const tier of names.delayQueues) {
    delays.push(
      await declareQueue(model, names, tier.queue, attempts, (type) => delayQueueArgs(type, names, tier), {
        exchange: names.delayExchange,
        routingKey: tier.routingKey,
      }),
    );
  }
  return { work, parking, delays };
}

/** Deletes every exchange and queue of the topology (tests, teardown). Missing ones are fine. */
export async function deleteTopology(model: ChannelModel, names: TopologyNames): Promise<void> {
  await withChannel(model, async (channel) => {
    for (const queue of [names.workQueue, ...names.delayQueues.map((t) => t.queue), names.parkingQueue]) {
      await channel.deleteQueue(queue);
    }
    await channel.deleteExchange(names.workExchange);
    await channel.deleteExchange(names.delayExchange);
  });
}

export interface QueueDepth {
  readonly queue: string;
  /** Ready messages (not counting those delivered and not yet acked). */
  readonly messages: number;
  readonly consumers: number;
}

export interface QueueDepths {
  readonly work: QueueDepth;
  readonly parking: QueueDepth;
  readonly delays: readonly QueueDepth[];
}

export async function readQueueDepths(model: ChannelModel, names: TopologyNames): Promise<QueueDepths> {
  return withChannel(model, async (channel) => {
    const depth = async (queue: string): Promise<QueueDepth> => {
      const ok = await channel.checkQueue(queue);
      return { queue, messages: ok.messageCount, consumers: ok.consumerCount };
    };
    const work = await depth(names.workQueue);
    const parking = await depth(names.parkingQueue);
    const delays: QueueDepth[] = [];
    for (const tier of names.delayQueues) delays.push(await depth(tier.queue));
    return { work, parking, delays };
  });
}
