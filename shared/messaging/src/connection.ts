import * as amqp from 'amqplib';
import type { Channel, Options } from 'amqplib';
import { backoffDelay, settleBy, sleep } from './backoff';
import { type ConsumerOptions, type Handler, type ManagedConsumer, RetryingConsumer } from './consumer';
import { describeError, isTopologyError, NotConnectedError, type NotConnectedReason } from './errors';
import { Emitter, type Unsubscribe } from './events';
import { HEADERS, type Headers } from './headers';
import { DEFAULTS, type MessagingOptions, positiveNumber, type ResolvedOptions, resolveOptions } from './options';
import { newPublishCounters, type PublishCounters, ConfirmPublisher } from './publisher';
import { Session } from './session';
import {
  type DeclaredTopology,
  declareTopology,
  deleteTopology,
  type QueueDepths,
  type QueueType,
  readQueueDepths,
  type TopologyNames,
  topologyNames,
} from './topology';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closing' | 'closed';

/** One value per state, each carrying only its own data (STYLE 1). */
type InternalState =
  | { readonly kind: 'connecting' }
  | { readonly kind: 'connected'; readonly session: Session; readonly since: number }
  | { readonly kind: 'reconnecting'; readonly since: number; readonly lastError: Error }
  | { readonly kind: 'closing'; readonly session: Session | null }
  | { readonly kind: 'closed' };

const LEGAL: Record<ConnectionState, readonly ConnectionState[]> = {
  connecting: ['connected', 'closing'],
  connected: ['reconnecting', 'closing'],
  reconnecting: ['connected', 'closing'],
  closing: ['closed'],
  closed: [],
};

export interface ConnectionEvents {
  state: { from: ConnectionState; to: ConnectionState; reason?: string };
  connected: { connects: number; reconnects: number; topology: DeclaredTopology | null };
  disconnected: { error: Error };
  reconnectScheduled: { attempt: number; delayMs: number; error: Error };
  blocked: { reason: string };
  unblocked: Record<string, never>;
  /** Non-fatal trouble worth logging (a failed attempt's cause is in `reconnectScheduled`). */
  error: { error: Error; context: string };
}

export interface MessagingStats {
  state: ConnectionState;
  /** Type of the work queue as declared on this connection; null before the first declaration. */
  queueType: QueueType | null;
  /** The broker blocked publishers (resource alarm); publishes fail fast meanwhile. */
  blocked: boolean;
  /** Successful connections, the first included. */
  connects: number;
  /** Successful connections after the first. */
  reconnects: number;
  /** Established connections that were lost. */
  disconnects: number;
  /** Connection attempts that failed. */
  connectFailures: number;
  lastError: string | null;
  /** Epoch ms of the current connection; null while disconnected. */
  connectedSince: number | null;
  publish: PublishCounters & { inFlight: number };
  consumers: number;
  /** Event listeners that threw (their errors are swallowed so they cannot break the connection). */
  listenerErrors: number;
}

export interface PublishOptions {
  /** The idempotency key; becomes the AMQP messageId. Required. */
  messageId: string;
  /** The request id; becomes the AMQP correlationId. */
  correlationId?: string;
  /** Extra headers ('retry-count' is set to 0). */
  headers?: Headers;
  /** Overrides the connection's confirmTimeoutMs for this publish. */
  timeoutMs?: number;
}

export interface CloseOptions {
  /** How long in-flight handlers and outstanding confirms get. Default 10 000 ms. */
  timeoutMs?: number;
}

function withHeartbeat(url: string, seconds: number): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError('@checkout/messaging: url must be an amqp:// or amqps:// URL');
  }
  if (parsed.protocol !== 'amqp:' && parsed.protocol !== 'amqps:') {
    throw new TypeError(`@checkout/messaging: url must use amqp: or amqps:, got ${parsed.protocol}`);
  }
  if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(seconds));
  return parsed.toString();
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(describeError(error));
}

/** Failures where retrying the first connection is pointless: wrong credentials, a conflicting topology. */
function isFatalOnFirstConnect(error: Error): boolean {
  return isTopologyError(error) || /ACCESS[-_]REFUSED/.test(error.message);
}

/**
 * A supervised RabbitMQ connection: heartbeats, reconnection with capped, jittered backoff
 * (abortable), topology re-declared and consumers resumed on every reconnect, a confirmed
 * publisher that fails fast while disconnected. Create it with `connect()`.
 */
export class MessagingConnection {
  readonly names: TopologyNames;
  readonly options: ResolvedOptions;
  readonly #url: string;
  readonly #events: Emitter<ConnectionEvents>;
  readonly #stop = new AbortController();
  readonly #consumers = new Set<ManagedConsumer>();
  readonly #publishCounters = newPublishCounters();
  readonly #counters = { connects: 0, disconnects: 0, connectFailures: 0, listenerErrors: 0 };
  readonly #ready: Promise<void>;
  readonly #loop: Promise<void>;
  #resolveReady!: () => void;
  #rejectReady!: (error: Error) => void;
  #state: InternalState = { kind: 'connecting' };
  #queueType: QueueType | null = null;
  #lastError: string | null = null;
  #sessionSeq = 0;
  #closing: Promise<void> | undefined;

  /** Prefer `connect()`, which can wait for the first connection. */
  constructor(url: string, options: MessagingOptions = {}) {
    this.options = resolveOptions(options);
    this.#url = withHeartbeat(url, this.options.heartbeatSeconds);
    this.names = topologyNames(this.options.prefix, this.options.tiers);
    this.#events = new Emitter<ConnectionEvents>(() => {
      this.#counters.listenerErrors++;
    });
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.#ready.catch(() => {}); // only observed by those who await ready()
    // The signal bounds the wait for the first connection only (AbortSignal.timeout(…) is the
    // natural argument); afterwards the connection lives until close().
    const signal = this.options.signal;
    if (signal) {
      const onAbort = (): void => void this.close({ timeoutMs: 0 });
      if (signal.aborted) queueMicrotask(onAbort);
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        const off = (): void => signal.removeEventListener('abort', onAbort);
        this.#ready.then(off, off);
      }
    }
    this.#loop = this.#run();
  }

  get state(): ConnectionState {
    return this.#state.kind;
  }

  /** Connected, not blocked: publishes can be accepted (a readiness check). */
  get isReady(): boolean {
    return this.#state.kind === 'connected' && !this.#state.session.blocked;
  }

  on<K extends keyof ConnectionEvents>(event: K, listener: (payload: ConnectionEvents[K]) => void): Unsubscribe {
    return this.#events.on(event, listener);
  }

  /** Resolves on the first successful connection; rejects if closed (or a fatal error) before that. */
  ready(): Promise<void> {
    return this.#ready;
  }

  stats(): MessagingStats {
    const state = this.#state;
    const session = state.kind === 'connected' || state.kind === 'closing' ? state.session : null;
    return {
      state: state.kind,
      queueType: this.#queueType,
      blocked: session?.blocked ?? false,
      connects: this.#counters.connects,
      reconnects: Math.max(0, this.#counters.connects - 1),
      disconnects: this.#counters.disconnects,
      connectFailures: this.#counters.connectFailures,
      lastError: this.#lastError,
      connectedSince: state.kind === 'connected' ? state.since : null,
      publish: { ...this.#publishCounters, inFlight: session?.publisher?.inFlight ?? 0 },
      consumers: this.#consumers.size,
      listenerErrors: this.#counters.listenerErrors,
    };
  }

  /**
   * Publishes one payment-retry message (JSON) to the work exchange: persistent, mandatory,
   * `messageId` = idempotency key, `correlationId` = request id. Resolves only once the broker
   * confirmed it; rejects with NotConnectedError at once while disconnected, UnroutableError,
   * PublishNackedError, ConnectionLostError, or PublishTimeoutError after the confirm timeout.
   */
  publish(body: unknown, options: PublishOptions): Promise<void> {
    if (typeof options?.messageId !== 'string' || options.messageId === '') {
      return Promise.reject(new TypeError('@checkout/messaging: publish() needs options.messageId (the idempotency key)'));
    }
    let json: string | undefined;
    try {
      json = JSON.stringify(body);
    } catch (error) {
      return Promise.reject(new TypeError(`@checkout/messaging: publish() body is not JSON-serialisable: ${describeError(error)}`));
    }
    if (json === undefined) return Promise.reject(new TypeError('@checkout/messaging: publish() body must be JSON-serialisable'));
    const properties: Options.Publish = {
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      messageId: options.messageId,
      timestamp: Math.floor(Date.now() / 1000),
      headers: { ...options.headers, [HEADERS.retryCount]: 0 },
    };
    if (options.correlationId !== undefined) properties.correlationId = options.correlationId;
    return this.publishTo(this.names.workExchange, this.names.workRoutingKey, Buffer.from(json), properties, options);
  }

  /**
   * Low-level confirmed publish (persistent, mandatory) to any exchange; used for retries,
   * parking and replay. Same failure modes as `publish()`.
   */
  publishTo(exchange: string, routingKey: string, content: Buffer, properties: Options.Publish, options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = positiveNumber('timeoutMs', options.timeoutMs, this.options.confirmTimeoutMs);
    const state = this.#state;
    // While closing, the session stays usable so that in-flight handlers can still retry/park.
    const session = state.kind === 'connected' || state.kind === 'closing' ? state.session : null;
    let refusal: NotConnectedReason | undefined;
    if (!session || !session.alive || !session.publisher || session.publisher.closed) {
      refusal = state.kind === 'connected' ? 'reconnecting' : state.kind;
    } else if (session.blocked) {
      refusal = 'blocked';
    }
    if (refusal !== undefined || !session?.publisher) {
      this.#publishCounters.attempted++;
      this.#publishCounters.notConnected++;
      return Promise.reject(new NotConnectedError(refusal ?? 'reconnecting'));
    }
    return session.publisher.publish(exchange, routingKey, content, properties, timeoutMs);
  }

  /**
   * Registers a retrying consumer of the work queue. It starts now if connected (or when the
   * connection comes up) and is resumed after every reconnect.
   */
  async consume<T>(handler: Handler<T>, options: ConsumerOptions<T> = {}): Promise<RetryingConsumer<T>> {
    if (this.#state.kind === 'closing' || this.#state.kind === 'closed') throw new NotConnectedError(this.#state.kind);
    const consumer = new RetryingConsumer<T>(
      {
        names: this.names,
        publishTo: (exchange, routingKey, content, properties) => this.publishTo(exchange, routingKey, content, properties),
        removeConsumer: (c) => this.#consumers.delete(c),
      },
      handler,
      options,
      () => {
        this.#counters.listenerErrors++;
      },
    );
    this.#consumers.add(consumer);
    const state = this.#state;
    if (state.kind === 'connected') {
      try {
        await consumer.attach(state.session);
      } catch (error) {
        // The session is broken; the next one attaches this consumer again.
        state.session.fail(asError(error));
      }
    }
    return consumer;
  }

  /** Runs `fn` on a fresh channel of the current connection, closed afterwards (tools, tests). */
  async withChannel<R>(fn: (channel: Channel) => Promise<R>): Promise<R> {
    const state = this.#state;
    if (state.kind !== 'connected') throw new NotConnectedError(state.kind);
    const channel = await state.session.model.createChannel();
    channel.on('error', () => {}); // the failing call rejects with the same error
    try {
      return await fn(channel);
    } finally {
      await channel.close().catch(() => {});
    }
  }

  /** Ready-message counts and consumers of every queue of the topology. */
  async queueDepths(): Promise<QueueDepths> {
    const state = this.#state;
    if (state.kind !== 'connected') throw new NotConnectedError(state.kind);
    return readQueueDepths(state.session.model, this.names);
  }

  /** Deletes this connection's topology (its prefix). For tests and teardown; never in production paths. */
  async deleteTopology(): Promise<void> {
    const state = this.#state;
    if (state.kind !== 'connected') throw new NotConnectedError(state.kind);
    await deleteTopology(state.session.model, this.names);
  }

  /**
   * Graceful close: cancels consumers, lets in-flight handlers and their retry/park publishes
   * finish, waits for outstanding confirms (all until the deadline), closes the connection.
   * Unacked messages go back to their queue. Idempotent.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(positiveNumber('timeoutMs', options.timeoutMs, DEFAULTS.closeTimeoutMs, { allowZero: true }));
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const previous = this.#state;
    const session = previous.kind === 'connected' ? previous.session : null;
    this.#transition({ kind: 'closing', session }, 'close() called');
    this.#stop.abort(new NotConnectedError('closed'));
    this.#rejectReady(new NotConnectedError('closed'));
    await Promise.all([...this.#consumers].map((consumer) => consumer.close({ deadline })));
    if (session?.publisher) await session.publisher.drain(deadline);
    if (session) await session.dispose(Math.max(deadline, Date.now() + 1_000));
    await settleBy(this.#loop, Math.max(deadline, Date.now() + 1_000));
    this.#transition({ kind: 'closed' }, 'closed');
  }

  #transition(next: InternalState, reason?: string): void {
    const from = this.#state.kind;
    if (!LEGAL[from].includes(next.kind)) throw new Error(`@checkout/messaging: illegal state transition ${from} → ${next.kind}`);
    this.#state = next;
    if (this.#events.has('state')) this.#events.emit('state', reason === undefined ? { from, to: next.kind } : { from, to: next.kind, reason });
  }

  get #stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  /** The supervisor: connect, wait for the loss, back off, reconnect; until close(). */
  async #run(): Promise<void> {
    let failures = 0;
    let lastError: Error | undefined;
    while (!this.#stopped) {
      if (lastError) {
        const delayMs = backoffDelay(Math.max(1, failures), this.options.reconnect);
        this.#events.emit('reconnectScheduled', { attempt: failures + 1, delayMs, error: lastError });
        try {
          await sleep(delayMs, this.#stop.signal);
        } catch {
          break;
        }
      }
      let session: Session;
      try {
        session = await this.#openSession();
      } catch (error) {
        if (this.#stopped) break;
        lastError = asError(error);
        failures++;
        this.#counters.connectFailures++;
        this.#lastError = describeError(lastError);
        if (this.#state.kind === 'connecting' && isFatalOnFirstConnect(lastError)) {
          this.#rejectReady(lastError);
          void this.close({ timeoutMs: 0 });
          break;
        }
        if (isTopologyError(lastError)) this.#events.emit('error', { error: lastError, context: 'topology declaration failed' });
        continue;
      }
      if (this.#stopped) {
        await session.dispose(Date.now() + 1_000);
        break;
      }
      failures = 0;
      this.#counters.connects++;
      this.#transition({ kind: 'connected', session, since: Date.now() }, this.#counters.connects === 1 ? 'connected' : 'reconnected');
      this.#resolveReady();
      // A consumer registered while this session was being opened has not been attached yet.
      for (const consumer of this.#consumers) {
        if (consumer.session !== session) consumer.attach(session).catch((e: unknown) => session.fail(asError(e)));
      }
      this.#events.emit('connected', {
        connects: this.#counters.connects,
        reconnects: this.#counters.connects - 1,
        topology: session.topology,
      });
      const error = await session.lost;
      if (this.#stopped) break; // close() owns the session now
      lastError = error;
      failures = 1;
      this.#counters.disconnects++;
      this.#lastError = describeError(error);
      this.#transition({ kind: 'reconnecting', since: Date.now(), lastError: error }, describeError(error));
      this.#events.emit('disconnected', { error });
    }
  }

  async #openSession(): Promise<Session> {
    const model = await amqp.connect(this.#url, {
      timeout: this.options.connectTimeoutMs,
      clientProperties: { connection_name: this.options.connectionName },
    });
    const session = new Session(++this.#sessionSeq, model, {
      onBlocked: (s, reason) => {
        if (this.#isCurrent(s)) this.#events.emit('blocked', { reason });
      },
      onUnblocked: (s) => {
        if (this.#isCurrent(s)) this.#events.emit('unblocked', {});
      },
    });
    try {
      if (this.#stopped) throw new NotConnectedError('closing');
      if (this.options.declareTopology) {
        session.topology = await declareTopology(model, this.names, this.options.queueType);
        this.#queueType = session.topology.work;
      }
      const channel = await model.createConfirmChannel();
      channel.on('error', (error: Error) => this.#events.emit('error', { error, context: 'publish channel error' }));
      channel.on('close', () => session.channelClosed(new Error('publish channel closed')));
      session.publisher = new ConfirmPublisher(channel, this.#publishCounters, `${process.pid}.${session.id}.`);
      for (const consumer of this.#consumers) await consumer.attach(session);
      if (!session.alive) throw await session.lost;
      return session;
    } catch (error) {
      session.fail(asError(error));
      await session.dispose(Date.now() + 1_000);
      throw error;
    }
  }

  #isCurrent(session: Session): boolean {
    const state = this.#state;
    return (state.kind === 'connected' || state.kind === 'closing') && state.session === session;
  }
}

/**
 * Connects to RabbitMQ (heartbeats on), declares the topology and returns the supervised
 * connection. By default it resolves once connected, retrying with backoff meanwhile; pass
 * `signal` to give up, or `waitForConnect: false` to get the connection at once.
 */
export async function connect(url: string, options: MessagingOptions = {}): Promise<MessagingConnection> {
  const connection = new MessagingConnection(url, options);
  if (connection.options.waitForConnect) {
    try {
      await connection.ready();
    } catch (error) {
      await connection.close({ timeoutMs: 0 });
      throw connection.options.signal?.aborted ? (connection.options.signal.reason ?? error) : error;
    }
  }
  return connection;
}
