import type { GetMessage, Options } from 'amqplib';
import type { MessagingConnection } from './connection';
import { describeError } from './errors';
import { carriedHeaders, copyProperties, HEADERS, type Headers, type ParkedKind, readRetryCount } from './headers';
import { positiveNumber } from './options';

/** A parked message as the tools show it. */
export interface ParkedMessage {
  readonly messageId: string | undefined;
  readonly correlationId: string | undefined;
  readonly kind: ParkedKind | undefined;
  readonly reason: string | undefined;
  readonly parkedAt: string | undefined;
  /** The retry-count the message had when it was parked. */
  readonly retryCount: number | undefined;
  readonly replayCount: number;
  /** The body as text (UTF-8), cut at 2 000 characters. */
  readonly body: string;
  readonly headers: Readonly<Headers>;
}

export interface ReplayResult {
  /** Moved back to the work queue (confirmed) and removed from parking. */
  readonly replayed: number;
  /** Could not be republished; left in (requeued to) the parking queue. */
  readonly failed: number;
  /** Ready messages left in the parking queue afterwards. */
  readonly remaining: number;
  readonly errors: readonly string[];
}

const PARKING_HEADERS = [
  HEADERS.parkedReason,
  HEADERS.parkedAt,
  HEADERS.parkedKind,
  HEADERS.parkedRetryCount,
  HEADERS.parkedFrom,
  HEADERS.lastError,
  HEADERS.retryCount,
  HEADERS.replayCount,
  HEADERS.replayedAt,
];

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}

/** A message the broker dead-lettered into parking itself (delivery limit) carries x-death, not our headers. */
function brokerReason(h: Headers): string | undefined {
  // x-death is most recent first.
  const latest = Array.isArray(h['x-death']) ? (h['x-death'][0] as Headers | undefined) : undefined;
  const reason = text(latest?.reason) ?? text(h['x-first-death-reason']);
  const queue = text(latest?.queue) ?? text(h['x-first-death-queue']) ?? '?';
  return reason === undefined ? undefined : `dead-lettered by the broker from ${queue} (${reason})`;
}

function toParked(msg: GetMessage): ParkedMessage {
  const h: Headers = carriedHeaders(msg.properties.headers, [], { keepBrokerHeaders: true });
  const retry = h[HEADERS.parkedRetryCount];
  const body = msg.content.toString('utf8');
  return {
    messageId: text(msg.properties.messageId),
    correlationId: text(msg.properties.correlationId),
    kind: text(h[HEADERS.parkedKind]) as ParkedKind | undefined,
    reason: text(h[HEADERS.parkedReason]) ?? brokerReason(h),
    parkedAt: text(h[HEADERS.parkedAt]),
    retryCount: retry === undefined ? undefined : readRetryCount({ [HEADERS.retryCount]: retry }),
    replayCount: readRetryCount({ [HEADERS.retryCount]: h[HEADERS.replayCount] }) ?? 0,
    body: body.length > 2_000 ? `${body.slice(0, 1_999)}…` : body,
    headers: h,
  };
}

/** Ready messages in the parking queue. */
export async function countParked(connection: MessagingConnection): Promise<number> {
  return connection.withChannel(async (channel) => (await channel.checkQueue(connection.names.parkingQueue)).messageCount);
}

/**
 * The first `limit` parked messages, left in place: they are fetched unacked and handed back
 * (on quorum queues this bumps their x-delivery-count; order is kept).
 */
export async function peekParked(connection: MessagingConnection, options: { limit?: number } = {}): Promise<ParkedMessage[]> {
  const limit = positiveNumber('limit', options.limit, 10, { integer: true });
  return connection.withChannel(async (channel) => {
    const out: ParkedMessage[] = [];
    try {
      while (out.length < limit) {
        const msg = await channel.get(connection.names.parkingQueue, { noAck: false });
        if (!msg) break;
        out.push(toParked(msg));
      }
    } finally {
      channel.nackAll(true);
    }
    return out;
  });
}

function replayProperties(msg: GetMessage): Options.Publish {
  const p = msg.properties;
  const headers = carriedHeaders(p.headers, PARKING_HEADERS);
  headers[HEADERS.retryCount] = 0;
  headers[HEADERS.replayCount] = (readRetryCount({ [HEADERS.retryCount]: p.headers?.[HEADERS.replayCount] }) ?? 0) + 1;
  headers[HEADERS.replayedAt] = new Date().toISOString();
  return copyProperties(msg, headers);
}

/**
 * Moves parked messages back to the work exchange with retry-count 0 (and x-replay-count + 1).
 * Each message is acked from parking only after its republish was confirmed, so a crash
 * mid-replay duplicates at worst, never loses. Stops at `limit`, at the number of messages parked
 * when it started (so messages that fail again and are re-parked meanwhile are not replayed in a
 * loop), or at the first failed batch.
 */
export async function replayParked(connection: MessagingConnection, options: { limit?: number; batchSize?: number } = {}): Promise<ReplayResult> {
  const limit = options.limit === undefined ? Number.POSITIVE_INFINITY : positiveNumber('limit', options.limit, 0, { integer: true });
  const batchSize = positiveNumber('batchSize', options.batchSize, 100, { integer: true });
  const { names } = connection;
  return connection.withChannel(async (channel) => {
    const atStart = (await channel.checkQueue(names.parkingQueue)).messageCount;
    const budget = Math.min(limit, atStart);
    let replayed = 0;
    let failed = 0;
    const errors: string[] = [];
    while (replayed < budget && failed === 0) {
      const batch: GetMessage[] = [];
      while (batch.length < batchSize && replayed + batch.length < budget) {
        const msg = await channel.get(names.parkingQueue, { noAck: false });
        if (!msg) break;
        batch.push(msg);
      }
      if (batch.length === 0) break;
      const results = await Promise.allSettled(
        batch.map((msg) => connection.publishTo(names.workExchange, names.workRoutingKey, msg.content, replayProperties(msg))),
      );
      results.forEach((result, i) => {
        const msg = batch[i] as GetMessage;
        if (result.status === 'fulfilled') {
          channel.ack(msg);
          replayed++;
        } else {
          channel.nack(msg, false, true);
          failed++;
          if (errors.length < 10) errors.push(describeError(result.reason));
        }
      });
    }
    const remaining = (await channel.checkQueue(names.parkingQueue)).messageCount;
    return { replayed, failed, remaining, errors };
  });
}
