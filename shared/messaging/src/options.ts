/**
 * Options of `connect`, their defaults (in one place) and their validation. The caller's object
 * is never mutated; validation throws TypeError/RangeError naming the option.
 */

/** A delay tier: given as milliseconds (5000) or as text ('150ms', '5s', '2m', '1h'). */
export type TierInput = number | string;

export interface DelayTier {
  /** Canonical label used in names: '5s', '30s', '2m', '150ms'. */
  readonly label: string;
  readonly ttlMs: number;
}

export type QueueTypePreference = 'auto' | 'quorum' | 'classic';

export interface ReconnectOptions {
  /** First delay after a drop. Default 100 ms. */
  initialMs?: number;
  /** Upper bound of any delay. Default 10 000 ms. */
  maxMs?: number;
  /** Growth per failed attempt. Default 2. */
  multiplier?: number;
  /** ± fraction of random spread, 0..1. Default 0.2. */
  jitter?: number;
}

export interface MessagingOptions {
  /** Prepended verbatim to every exchange and queue name ('test-1a2b.' → 'test-1a2b.payments.retry'). Default ''. */
  prefix?: string;
  /** Delay tiers, in order; retry n waits in tier min(n, last). Default ['5s', '30s', '2m']. */
  tiers?: readonly TierInput[];
  /** 'auto' (default) declares quorum queues and falls back to classic durable ones where the broker refuses. */
  queueType?: QueueTypePreference;
  /** AMQP heartbeat in seconds; a dead link is noticed after about two of them. Default 10. */
  heartbeatSeconds?: number;
  /** TCP connect + AMQP handshake deadline per attempt. Default 5 000 ms. */
  connectTimeoutMs?: number;
  /** How long `publish()` waits for the broker's confirm before rejecting. Default 5 000 ms. */
  confirmTimeoutMs?: number;
  /** Backoff between reconnection attempts. */
  reconnect?: ReconnectOptions;
  /** Resolve `connect()` only once connected (default true). With false it resolves at once and connects in the background. */
  waitForConnect?: boolean;
  /** Declare the topology on every (re)connect (default true). Tools that only read it (the parking CLI) pass false. */
  declareTopology?: boolean;
  /** Shown in the broker's connection list (client property `connection_name`). */
  connectionName?: string;
  /** Gives up the first connection: aborting before it succeeds closes the connection and rejects `connect()`. Ignored once connected. */
  signal?: AbortSignal;
}

export interface ResolvedOptions {
  readonly prefix: string;
  readonly tiers: readonly DelayTier[];
  readonly queueType: QueueTypePreference;
  readonly heartbeatSeconds: number;
  readonly connectTimeoutMs: number;
  readonly confirmTimeoutMs: number;
  readonly reconnect: Required<ReconnectOptions>;
  readonly waitForConnect: boolean;
  readonly declareTopology: boolean;
  readonly connectionName: string;
  readonly signal: AbortSignal | undefined;
}

export const DEFAULTS = {
  prefix: '',
  tiers: ['5s', '30s', '2m'] as readonly TierInput[],
  queueType: 'auto' as QueueTypePreference,
  heartbeatSeconds: 10,
  connectTimeoutMs: 5_000,
  confirmTimeoutMs: 5_000,
  reconnect: { initialMs: 100, maxMs: 10_000, multiplier: 2, jitter: 0.2 },
  waitForConnect: true,
  declareTopology: true,
  connectionName: '@checkout/messaging',
  prefetch: 10,
  requeueDelayMs: 1_000,
  closeTimeoutMs: 10_000,
} as const;

/** Largest x-message-ttl RabbitMQ accepts (2^32 - 1 ms). */
const MAX_TTL_MS = 4_294_967_295;

export function positiveNumber(name: string, value: unknown, fallback: number, { integer = false, allowZero = false } = {}): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`@checkout/messaging: ${name} must be a finite number, got ${String(value)}`);
  }
  if (value < 0 || (!allowZero && value === 0)) {
    throw new RangeError(`@checkout/messaging: ${name} must be ${allowZero ? '>= 0' : '> 0'}, got ${value}`);
  }
  if (integer && !Number.isInteger(value)) {
    throw new RangeError(`@checkout/messaging: ${name} must be an integer, got ${value}`);
  }
  return value;
}

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** '150ms' | '5s' | '2m' | 5000 → milliseconds. */
export function parseDuration(input: TierInput, name = 'tier'): number {
  let ms: number;
  if (typeof input === 'number') {
    ms = input;
  } else if (typeof input === 'string') {
    const match = /^\s*(\d+)\s*(ms|s|m|h)\s*$/.exec(input);
    if (!match) throw new TypeError(`@checkout/messaging: ${name} '${input}' is not a duration like '150ms', '5s', '2m' or a number of ms`);
    ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  } else {
    throw new TypeError(`@checkout/messaging: ${name} must be a number of ms or a string like '5s', got ${typeof input}`);
  }
  if (!Number.isInteger(ms) || ms <= 0 || ms > MAX_TTL_MS) {
    throw new RangeError(`@checkout/messaging: ${name} must be a whole number of ms in 1..${MAX_TTL_MS}, got ${String(input)}`);
  }
  return ms;
}

/** The shortest exact label: 120000 → '2m', 5000 → '5s', 1500 → '1500ms'. */
export function tierLabel(ms: number): string {
  if (ms % UNIT_MS.h === 0) return `${ms / UNIT_MS.h}h`;
  if (ms % UNIT_MS.m === 0) return `${ms / UNIT_MS.m}m`;
  if (ms % UNIT_MS.s === 0) return `${ms / UNIT_MS.s}s`;
  return `${ms}ms`;
}

export function resolveTiers(input: readonly TierInput[]): DelayTier[] {
  if (!Array.isArray(input) || input.length === 0) {
    throw new RangeError('@checkout/messaging: tiers must be a non-empty array of delays');
  }
  const tiers = input.map((value, i) => {
    const ttlMs = parseDuration(value, `tiers[${i}]`);
    return { label: tierLabel(ttlMs), ttlMs };
  });
  const seen = new Set<string>();
  for (const tier of tiers) {
    if (seen.has(tier.label)) throw new RangeError(`@checkout/messaging: tiers contains ${tier.label} twice`);
    seen.add(tier.label);
  }
  return tiers;
}

export function resolveOptions(options: MessagingOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('@checkout/messaging: options must be an object');
  const prefix = options.prefix ?? DEFAULTS.prefix;
  if (typeof prefix !== 'string' || prefix.length > 200) {
    throw new TypeError('@checkout/messaging: prefix must be a string of at most 200 characters');
  }
  const queueType = options.queueType ?? DEFAULTS.queueType;
  if (queueType !== 'auto' && queueType !== 'quorum' && queueType !== 'classic') {
    throw new TypeError(`@checkout/messaging: queueType must be 'auto', 'quorum' or 'classic', got ${String(queueType)}`);
  }
  const r = options.reconnect ?? {};
  const reconnect = {
    initialMs: positiveNumber('reconnect.initialMs', r.initialMs, DEFAULTS.reconnect.initialMs, { allowZero: true }),
    maxMs: positiveNumber('reconnect.maxMs', r.maxMs, DEFAULTS.reconnect.maxMs),
    multiplier: positiveNumber('reconnect.multiplier', r.multiplier, DEFAULTS.reconnect.multiplier),
    jitter: positiveNumber('reconnect.jitter', r.jitter, DEFAULTS.reconnect.jitter, { allowZero: true }),
  };
  if (reconnect.multiplier < 1) throw new RangeError(`@checkout/messaging: reconnect.multiplier must be >= 1, got ${reconnect.multiplier}`);
  if (reconnect.jitter > 1) throw new RangeError(`@checkout/messaging: reconnect.jitter must be within 0..1, got ${reconnect.jitter}`);
  if (reconnect.maxMs < reconnect.initialMs) {
    throw new RangeError(`@checkout/messaging: reconnect.maxMs (${reconnect.maxMs}) must be >= reconnect.initialMs (${reconnect.initialMs})`);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new TypeError('@checkout/messaging: signal must be an AbortSignal');
  }
  return {
    prefix,
    tiers: resolveTiers(options.tiers ?? DEFAULTS.tiers),
    queueType,
    heartbeatSeconds: positiveNumber('heartbeatSeconds', options.heartbeatSeconds, DEFAULTS.heartbeatSeconds, { integer: true, allowZero: true }),
    connectTimeoutMs: positiveNumber('connectTimeoutMs', options.connectTimeoutMs, DEFAULTS.connectTimeoutMs),
    confirmTimeoutMs: positiveNumber('confirmTimeoutMs', options.confirmTimeoutMs, DEFAULTS.confirmTimeoutMs),
    reconnect,
    waitForConnect: options.waitForConnect ?? DEFAULTS.waitForConnect,
    declareTopology: options.declareTopology ?? DEFAULTS.declareTopology,
    connectionName: options.connectionName ?? DEFAULTS.connectionName,
    signal: options.signal,
  };
}
