import type { MessageProperties, Options } from 'amqplib';
/** Header names of the retry pipeline, in one place. */
export const HEADERS = {
  /** Our own retry counter (x-death no longer counts client republishes on current brokers). */
  retryCount: 'retry-count',
  /** Last transient error, on messages waiting in a delay tier. */
  lastError: 'x-last-error',
  parkedReason: 'x-parked-reason',
  parkedAt: 'x-parked-at',
  /** 'permanent' | 'exhausted' | 'malformed'. */
  parkedKind: 'x-parked-kind',
  /** The retry-count the message had when it was parked. */
  parkedRetryCount: 'x-parked-retry-count',
  parkedFrom: 'x-parked-from',
  replayCount: 'x-replay-count',
  replayedAt: 'x-replayed-at',
  /** Per-publish token matching a basic.return to its publish; internal. */
  publishTag: 'x-publish-tag',
} as const;

export type ParkedKind = 'permanent' | 'exhausted' | 'malformed';

/** Headers the broker (or we) set for one hop only; dropped when a message is republished. */
const TRANSIENT_HEADERS = new Set([
  'x-death',
  'x-first-death-exchange',
  'x-first-death-queue',
  'x-first-death-reason',
  'x-last-death-exchange',
  'x-last-death-queue',
  'x-last-death-reason',
  'x-delivery-count',
  HEADERS.publishTag,
]);

export type Headers = Record<string, unknown>;

/**
 * A copy of `headers` without the one-hop ones (x-death…, our publish tag) and without `drop`.
 * With keepBrokerHeaders, only our publish tag is removed (for showing a message).
 */
export function carriedHeaders(headers: Headers | undefined, drop: readonly string[] = [], { keepBrokerHeaders = false } = {}): Headers {
  const out: Headers = {};
  if (!headers) return out;
  for (const [key, value] of Object.entries(headers)) {
    if (key === HEADERS.publishTag || (!keepBrokerHeaders && TRANSIENT_HEADERS.has(key)) || drop.includes(key)) continue;
    out[key] = value;
  }
  return out;
}

/** A non-negative integer retry count, 0 when absent, `undefined` when present but unusable. */
export function readRetryCount(headers: Headers | undefined): number | undefined {
  const value = headers?.[HEADERS.retryCount];
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'bigint' && value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
  if (typeof value === 'string' && /^\d{1,9}$/.test(value)) return Number(value);
  return undefined;
}

/** Header values are capped: a long stack in a header is not worth a 64 KiB frame limit error. */
export function truncate(text: string, max = 500): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The properties a moved message keeps; expiration and priority are deliberately dropped. */
export function copyProperties(msg: { properties: MessageProperties }, headers: Headers): Options.Publish {
  const p = msg.properties;
  const out: Options.Publish = { headers };
  if (typeof p.contentType === 'string') out.contentType = p.contentType;
  if (typeof p.contentEncoding === 'string') out.contentEncoding = p.contentEncoding;
  if (typeof p.messageId === 'string') out.messageId = p.messageId;
  if (typeof p.correlationId === 'string') out.correlationId = p.correlationId;
  if (typeof p.timestamp === 'number') out.timestamp = p.timestamp;
  if (typeof p.type === 'string') out.type = p.type;
  if (typeof p.appId === 'string') out.appId = p.appId;
  return out;
}
