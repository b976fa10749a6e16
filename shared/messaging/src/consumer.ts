import type { Channel, ConsumeMessage, Options } from 'amqplib';
import { settleBy, sleep } from './backoff';
import { describeError, HandlerTimeoutError, isPermanentError } from './errors';
import { Emitter, type Unsubscribe } from './events';
import { carriedHeaders, copyProperties, HEADERS, type Headers, type ParkedKind, readRetryCount, truncate } from './headers';
import { DEFAULTS, positiveNumber } from './options';
import type { Session } from './session';
import { LazyLinkedSignal } from './signals';
import type { TopologyNames } from './topology';

/** What a handler gets besides the decoded body. */
export interface DeliveryContext {
  /** The idempotency key (AMQP messageId). Handlers must be idempotent by it: delivery is at-least-once. */
  readonly messageId: string;
  /** The request id that published the message (AMQP correlationId). */
  readonly correlationId: string | undefined;
  /** 0 on the first attempt, n on the n-th retry. */
  readonly retryCount: number;
  /** True when a transient failure now parks the message instead of retrying it. */
  readonly isLastAttempt: boolean;
  /** The broker delivered this message before (to a consumer that did not ack it). */
  readonly redelivered: boolean;
  readonly headers: Readonly<Headers>;
  /** Aborts on `handlerTimeoutMs`, when the channel that delivered the message is gone, or at the close deadline. */
  readonly signal: AbortSignal;
}

/**
 * Resolve (with anything) = success → ack. Throw a `PermanentError` (or anything `isPermanent`
 * accepts) = park now. Throw anything else = transient → next delay tier, parked after the last.
 */
export type Handler<T> = (body: T, context: DeliveryContext) => unknown;

export interface ConsumerOptions<T> {
  /** Unacked deliveries at once, which is also the handler concurrency. Default 10. */
  prefetch?: number;
  /** Transient failures retried before parking; attempts = maxRetries + 1. Default: the number of tiers. */
  maxRetries?: number;
  /** Decodes the parsed JSON; throw (or reject) to have the message parked as malformed. `schema.parse` fits. */
  validate?: (body: unknown) => T | Promise<T>;
  /** Which handler errors are permanent. Default: `isPermanentError`. */
  isPermanent?: (error: unknown) => boolean;
  /**
   * Which handler errors mean "not attempted" (an open circuit or a full bulkhead refused the
   * call before anything was tried): the message goes to the first delay tier with its
   * retry-count unchanged, so it does not use up an attempt. Default: none.
   */
  isDeferral?: (error: unknown) => boolean;
  /** A handler running longer is a transient failure (its signal aborts). Default: none. */
  handlerTimeoutMs?: number;
  /** When moving a message (retry/park) fails, wait this long, then requeue it. Default 1 000 ms. */
  requeueDelayMs?: number;
  /** Start paused (no deliveries until `resume()`). */
  paused?: boolean;
}

export interface ConsumerStats {
  /** Deliveries received (redeliveries count again). */
  received: number;
  /** Handler succeeded and the message was acked. */
  handled: number;
  /** Moved to a delay tier (confirmed) and acked. */
  retried: number;
  /** Not attempted (`isDeferral`, or delivered after pause()): moved to the first delay tier without using up an attempt. */
  deferred: number;
  /** Moved to the parking queue (confirmed) and acked; includes `malformed`. */
  parked: number;
  malformed: number;
  /** Handed back to the queue (delivered while closing, or a failed move). */
  requeued: number;
  /** A retry or park publish that failed (the message was requeued, not lost). */
  moveFailures: number;
  /** Outcomes not acted upon because the delivering channel was gone: the broker redelivers those. */
  abandoned: number;
  inFlight: number;
  paused: boolean;
  consuming: boolean;
}

export interface ConsumerEvents {
  handled: { messageId: string; retryCount: number; durationMs: number };
  retried: { messageId: string; retryCount: number; tier: string; error: string };
  deferred: { messageId: string; retryCount: number; tier: string; error: string };
  parked: { messageId: string | undefined; kind: ParkedKind; reason: string; retryCount: number | undefined };
  error: { error: Error; context: string; messageId?: string | undefined };
}

/** What a consumer needs from its connection (kept narrow so the two modules stay apart). */
export interface ConsumerHost {
  readonly names: TopologyNames;
  publishTo(exchange: string, routingKey: string, content: Buffer, properties: Options.Publish): Promise<void>;
  removeConsumer(consumer: ManagedConsumer): void;
}

/** The side of a consumer its connection drives. */
export interface ManagedConsumer {
  readonly session: Session | null;
  attach(session: Session): Promise<void>;
  close(options: { deadline?: number }): Promise<void>;
}

interface Attachment {
  readonly session: Session;
  readonly channel: Channel;
  /** Aborted when this channel closes: outcomes of its deliveries can no longer be acked. */
  readonly gone: AbortController;
  tag: string | null;
  /** basic.consume sent, consume-ok not yet back. */
  starting: boolean;
  open: boolean;
  closingOnPurpose: boolean;
}

type Parsed<T> =
  | { ok: true; body: T; messageId: string; retryCount: number }
  | { ok: false; reason: string; messageId: string | undefined; retryCount: number | undefined };

type Outcome = { kind: 'success' } | { kind: 'permanent'; error: unknown } | { kind: 'transient'; error: unknown } | { kind: 'deferred'; error: unknown };

const noop = (): void => {};

export class RetryingConsumer<T> implements ManagedConsumer {
  readonly #host: ConsumerHost;
  readonly #handler: Handler<T>;
  readonly #prefetch: number;
  readonly #maxRetries: number;
  readonly #validate: ((body: unknown) => T | Promise<T>) | undefined;
  readonly #isPermanent: (error: unknown) => boolean;
  readonly #isDeferral: (error: unknown) => boolean;
  readonly #handlerTimeoutMs: number | undefined;
  readonly #requeueDelayMs: number;
  readonly #events: Emitter<ConsumerEvents>;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #closeAbort = new AbortController();
  #idleWaiters: Array<() => void> = [];
  #attachment: Attachment | null = null;
  #session: Session | null = null;
  #paused: boolean;
  #closing: Promise<void> | undefined;
  readonly #stats = { received: 0, handled: 0, retried: 0, deferred: 0, parked: 0, malformed: 0, requeued: 0, moveFailures: 0, abandoned: 0 };

  constructor(host: ConsumerHost, handler: Handler<T>, options: ConsumerOptions<T> = {}, onListenerError: (e: unknown, event: string) => void = noop) {
    if (typeof handler !== 'function') throw new TypeError('@checkout/messaging: consume(handler): handler must be a function');
    this.#host = host;
    this.#handler = handler;
    this.#prefetch = positiveNumber('prefetch', options.prefetch, DEFAULTS.prefetch, { integer: true });
    if (this.#prefetch > 65_535) throw new RangeError(`@checkout/messaging: prefetch must be <= 65535, got ${this.#prefetch}`);
    this.#maxRetries = positiveNumber('maxRetries', options.maxRetries, host.names.delayQueues.length, { integer: true, allowZero: true });
    this.#validate = options.validate;
    this.#isPermanent = options.isPermanent ?? isPermanentError;
    this.#isDeferral = options.isDeferral ?? (() => false);
    this.#handlerTimeoutMs = options.handlerTimeoutMs === undefined ? undefined : positiveNumber('handlerTimeoutMs', options.handlerTimeoutMs, 0);
    this.#requeueDelayMs = positiveNumber('requeueDelayMs', options.requeueDelayMs, DEFAULTS.requeueDelayMs, { allowZero: true });
    this.#paused = options.paused ?? false;
    this.#events = new Emitter<ConsumerEvents>(onListenerError);
  }

  on<K extends keyof ConsumerEvents>(event: K, listener: (payload: ConsumerEvents[K]) => void): Unsubscribe {
    return this.#events.on(event, listener);
  }

  get paused(): boolean {
    return this.#paused;
  }

  stats(): ConsumerStats {
    return { ...this.#stats, inFlight: this.#inFlight.size, paused: this.#paused, consuming: this.#attachment?.tag != null };
  }

  /**
   * Stop taking deliveries (in-flight handlers finish). The few deliveries already on their way
   * when the consumer is cancelled are deferred unhandled, as a handler's deferral is: to the
   * first delay tier, their retry count unchanged, then acked. Not requeued: a requeue counts as
   * a delivery on quorum queues, and a flapping breaker must not push messages towards the
   * delivery limit. Not held either: a quorum queue goes on counting a cancelled consumer as
   * long as it holds unacked deliveries, so a paused worker would look like it was consuming.
   */
  async pause(): Promise<void> {
    if (this.#paused) return;
    this.#paused = true;
    const att = this.#attachment;
    if (att?.tag) await this.#cancel(att);
  }

  /** Take deliveries again (now, or as soon as the connection is back). */
  async resume(): Promise<void> {
    if (!this.#paused || this.#closing) return;
    this.#paused = false;
    const att = this.#attachment;
    if (att && att.open && !att.tag && !att.starting) {
      await this.#startConsuming(att).catch((error: unknown) => att.session.fail(asError(error)));
    }
  }

  /**
   * Cancels the consumer, lets in-flight handlers (and their retry/park publishes) finish until
   * `deadline` (epoch ms; then their signals abort and their messages go back to the queue), then
   * closes the channel.
   */
  close(options: { deadline?: number } = {}): Promise<void> {
    this.#closing ??= this.#close(options.deadline ?? Date.now() + DEFAULTS.closeTimeoutMs);
    return this.#closing;
  }

  async #close(deadline: number): Promise<void> {
    const att = this.#attachment;
    if (att?.tag) await settleBy(this.#cancel(att), deadline);
    const idle = await this.#waitIdle(deadline);
    if (!idle) this.#closeAbort.abort(new Error('consumer close deadline passed'));
    if (att && att.open) {
      att.closingOnPurpose = true;
      await settleBy(att.channel.close(), Math.max(deadline, Date.now() + 500));
    }
    this.#attachment = null;
    this.#host.removeConsumer(this);
  }

  /** @internal The session this consumer last attached (or is attaching) to. */
  get session(): Session | null {
    return this.#session;
  }

  /** @internal Called by the connection on every (re)connect. */
  async attach(session: Session): Promise<void> {
    if (this.#closing || this.#session === session) return;
    this.#session = session;
    const channel = await session.model.createChannel();
    const att: Attachment = { session, channel, gone: new AbortController(), tag: null, starting: false, open: true, closingOnPurpose: false };
    channel.on('error', (error: Error) => this.#report(error, 'consumer channel error'));
    channel.on('close', () => {
      att.open = false;
      att.tag = null;
      att.gone.abort(new Error('channel closed'));
      if (this.#attachment === att) this.#attachment = null;
      // An unexpected close (queue deleted, precondition failed…) rebuilds the whole connection.
      if (!att.closingOnPurpose) session.channelClosed(new Error(`consumer channel of '${this.#host.names.workQueue}' closed`));
    });
    await channel.prefetch(this.#prefetch);
    this.#attachment = att;
    if (!this.#paused) await this.#startConsuming(att);
  }

  async #startConsuming(att: Attachment): Promise<void> {
    att.starting = true;
    try {
      const { consumerTag } = await att.channel.consume(this.#host.names.workQueue, (msg) => this.#onDelivery(att, msg), { noAck: false });
      att.tag = consumerTag;
    } finally {
      att.starting = false;
    }
    // pause() or close() may have been called while consume-ok was on its way.
    if (this.#paused || this.#closing) await this.#cancel(att);
  }

  async #cancel(att: Attachment): Promise<void> {
    const tag = att.tag;
    if (!tag) return;
    att.tag = null;
    try {
      await att.channel.cancel(tag);
    } catch (error) {
      this.#report(asError(error), 'cancel failed');
    }
  }

  #onDelivery(att: Attachment, msg: ConsumeMessage | null): void {
    if (msg === null) {
      // The broker cancelled us (queue deleted, leader moved): rebuild from scratch.
      att.tag = null;
      if (!this.#closing) att.session.fail(new Error(`consumer of '${this.#host.names.workQueue}' cancelled by the broker`));
      return;
    }
    this.#stats.received++;
    if (this.#closing) {
      this.#nack(att, msg);
      return;
    }
    this.#dispatch(att, msg, this.#paused);
  }

  /** `paused`: arrived after pause(); deferred (or parked when malformed) without running the handler. */
  #dispatch(att: Attachment, msg: ConsumeMessage, paused: boolean): void {
    const work = this.#process(att, msg, paused).finally(() => {
      this.#inFlight.delete(work);
      if (this.#inFlight.size === 0) {
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const done of waiters) done();
      }
    });
    this.#inFlight.add(work);
  }

  async #process(att: Attachment, msg: ConsumeMessage, paused: boolean): Promise<void> {
    try {
      const parsed = await this.#parse(msg);
      if (!parsed.ok) {
        await this.#move(att, msg, parsed.messageId, () => this.#park(msg, 'malformed', `malformed: ${parsed.reason}`, parsed.retryCount));
        return;
      }
      const started = Date.now();
      const outcome: Outcome = paused ? { kind: 'deferred', error: new Error('delivered after the consumer was paused') } : await this.#runHandler(att, msg, parsed);
      const { messageId, retryCount } = parsed;
      if (outcome.kind === 'success') {
        if (this.#ack(att, msg)) {
          this.#stats.handled++;
          this.#events.emit('handled', { messageId, retryCount, durationMs: Date.now() - started });
        }
      } else if (outcome.kind === 'deferred') {
        await this.#move(att, msg, messageId, () => this.#retry(msg, messageId, retryCount, outcome.error, { deferred: true }));
      } else if (outcome.kind === 'permanent') {
        await this.#move(att, msg, messageId, () => this.#park(msg, 'permanent', describeError(outcome.error), retryCount));
      } else if (retryCount >= this.#maxRetries) {
        const reason = `gave up after ${retryCount + 1} attempts: ${describeError(outcome.error)}`;
        await this.#move(att, msg, messageId, () => this.#park(msg, 'exhausted', reason, retryCount));
      } else {
        await this.#move(att, msg, messageId, () => this.#retry(msg, messageId, retryCount, outcome.error));
      }
    } catch (error) {
      // A bug of ours must not lose the message or stop the consumer: hand it back later.
      this.#report(asError(error), 'unexpected error while processing a delivery', msg.properties.messageId);
      await sleep(this.#requeueDelayMs, this.#closeAbort.signal).catch(noop);
      this.#nack(att, msg);
    }
  }

  async #parse(msg: ConsumeMessage): Promise<Parsed<T>> {
    const props = msg.properties;
    const messageId = typeof props.messageId === 'string' && props.messageId !== '' ? props.messageId : undefined;
    const retryCount = readRetryCount(props.headers);
    if (messageId === undefined) return { ok: false, reason: 'missing messageId (the idempotency key)', messageId, retryCount };
    if (retryCount === undefined) {
      return { ok: false, reason: `invalid ${HEADERS.retryCount} header: ${truncate(String(props.headers?.[HEADERS.retryCount]), 100)}`, messageId, retryCount };
    }
    let json: unknown;
    try {
      json = JSON.parse(msg.content.toString('utf8'));
    } catch (error) {
      return { ok: false, reason: `invalid JSON: ${(error as Error).message}`, messageId, retryCount };
    }
    if (!this.#validate) return { ok: true, body: json as T, messageId, retryCount };
    try {
      return { ok: true, body: await this.#validate(json), messageId, retryCount };
    } catch (error) {
      return { ok: false, reason: `validation failed: ${describeError(error)}`, messageId, retryCount };
    }
  }

  async #runHandler(att: Attachment, msg: ConsumeMessage, parsed: Extract<Parsed<T>, { ok: true }>): Promise<Outcome> {
    const link = new LazyLinkedSignal([att.gone.signal, this.#closeAbort.signal]);
    let timer: NodeJS.Timeout | undefined;
    let timedOut: Promise<never> | undefined;
    if (this.#handlerTimeoutMs !== undefined) {
      const timeoutMs = this.#handlerTimeoutMs;
      timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new HandlerTimeoutError(timeoutMs);
          link.abort(error);
          reject(error);
        }, timeoutMs);
      });
    }
    const context: DeliveryContext = {
      messageId: parsed.messageId,
      correlationId: typeof msg.properties.correlationId === 'string' ? msg.properties.correlationId : undefined,
      retryCount: parsed.retryCount,
      isLastAttempt: parsed.retryCount >= this.#maxRetries,
      redelivered: msg.fields.redelivered,
      headers: carriedHeaders(msg.properties.headers, [], { keepBrokerHeaders: true }),
      get signal() {
        return link.signal;
      },
    };
    try {
      const run = Promise.resolve().then(() => this.#handler(parsed.body, context));
      if (timedOut) {
        run.catch(noop); // a handler that fails after its timeout must not become an unhandled rejection
        await Promise.race([run, timedOut]);
      } else {
        await run;
      }
      return { kind: 'success' };
    } catch (error) {
      let kind: 'permanent' | 'transient' | 'deferred' = 'transient';
      try {
        kind = this.#isPermanent(error) ? 'permanent' : this.#isDeferral(error) ? 'deferred' : 'transient';
      } catch (classifyError) {
        this.#report(asError(classifyError), 'isPermanent or isDeferral threw; treating the failure as transient', parsed.messageId);
      }
      return { kind, error };
    } finally {
      clearTimeout(timer);
      link.dispose();
    }
  }

  /** Publishes the message elsewhere (confirmed), then acks it; on failure requeues it after a pause. */
  async #move(att: Attachment, msg: ConsumeMessage, messageId: string | undefined, publish: () => Promise<void>): Promise<void> {
    if (!att.open) {
      this.#stats.abandoned++; // the broker already took it back and redelivers it
      return;
    }
    try {
      await publish();
    } catch (error) {
      this.#stats.moveFailures++;
      this.#report(asError(error), 'could not move the message; it will be requeued', messageId);
      await sleep(this.#requeueDelayMs, this.#closeAbort.signal).catch(noop);
      this.#nack(att, msg);
      return;
    }
    this.#ack(att, msg);
  }

  /** To the next delay tier with retry-count + 1; deferred: to the first tier, the count unchanged. */
  async #retry(msg: ConsumeMessage, messageId: string, retryCount: number, error: unknown, options: { deferred?: boolean } = {}): Promise<void> {
    const tiers = this.#host.names.delayQueues;
    const tier = options.deferred ? tiers[0] : tiers[Math.min(retryCount, tiers.length - 1)];
    if (!tier) throw new Error('no delay tier configured');
    const reason = describeError(error);
    const nextCount = options.deferred ? retryCount : retryCount + 1;
    const headers = carriedHeaders(msg.properties.headers);
    headers[HEADERS.retryCount] = nextCount;
    headers[HEADERS.lastError] = truncate(reason);
    await this.#host.publishTo(this.#host.names.delayExchange, tier.routingKey, msg.content, copyProperties(msg, headers));
    if (options.deferred) {
      this.#stats.deferred++;
      this.#events.emit('deferred', { messageId, retryCount: nextCount, tier: tier.label, error: reason });
    } else {
      this.#stats.retried++;
      this.#events.emit('retried', { messageId, retryCount: nextCount, tier: tier.label, error: reason });
    }
  }

  async #park(msg: ConsumeMessage, kind: ParkedKind, reason: string, retryCount: number | undefined): Promise<void> {
    const headers = carriedHeaders(msg.properties.headers);
    headers[HEADERS.parkedReason] = truncate(reason);
    headers[HEADERS.parkedAt] = new Date().toISOString();
    headers[HEADERS.parkedKind] = kind;
    headers[HEADERS.parkedFrom] = this.#host.names.workQueue;
    if (retryCount !== undefined) headers[HEADERS.parkedRetryCount] = retryCount;
    await this.#host.publishTo('', this.#host.names.parkingQueue, msg.content, copyProperties(msg, headers));
    this.#stats.parked++;
    if (kind === 'malformed') this.#stats.malformed++;
    this.#events.emit('parked', { messageId: msg.properties.messageId as string | undefined, kind, reason, retryCount });
  }

  #ack(att: Attachment, msg: ConsumeMessage): boolean {
    if (!att.open) {
      this.#stats.abandoned++;
      return false;
    }
    try {
      att.channel.ack(msg);
      return true;
    } catch {
      this.#stats.abandoned++; // closed under our feet: the broker redelivers
      return false;
    }
  }

  #nack(att: Attachment, msg: ConsumeMessage): void {
    if (!att.open) return;
    try {
      att.channel.nack(msg, false, true);
      this.#stats.requeued++;
    } catch {
      // closed under our feet: the broker requeues it anyway
    }
  }

  #waitIdle(deadline: number): Promise<boolean> {
    if (this.#inFlight.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.#inFlight.size === 0), Math.max(0, deadline - Date.now()));
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  #report(error: Error, context: string, messageId?: string): void {
    this.#events.emit('error', { error, context, messageId });
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(describeError(error));
}

