import type { ConfirmChannel, Message, Options } from 'amqplib';
import { ConnectionLostError, PublishNackedError, PublishTimeoutError, UnroutableError } from './errors';
import { HEADERS } from './headers';

/** Counters shared by every publisher of one connection (plain numbers, cheap to read). */
export interface PublishCounters {
  attempted: number;
  confirmed: number;
  timeouts: number;
  unroutable: number;
  nacked: number;
  lost: number;
  /** Refused at once because the connection was down or blocked. */
  notConnected: number;
}

export function newPublishCounters(): PublishCounters {
  return { attempted: 0, confirmed: 0, timeouts: 0, unroutable: 0, nacked: 0, lost: 0, notConnected: 0 };
}

interface Pending {
  readonly messageId: string | undefined;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
  /** Set by basic.return, which the broker sends before the basic.ack of the same message. */
  returned: { exchange: string; routingKey: string; replyCode: number; replyText: string } | undefined;
  settled: boolean;
}

/**
 * Publishes on one confirm channel: every message `mandatory` and persistent, each call resolved
 * by its own broker confirm, rejected by a nack, a return, a timeout or the channel's end.
 * A per-publish tag header matches a basic.return to its publish (messageIds need not be unique).
 */
export class ConfirmPublisher {
  readonly #channel: ConfirmChannel;
  readonly #counters: PublishCounters;
  readonly #tagPrefix: string;
  readonly #pending = new Map<string, Pending>();
  #drainWaiters: Array<() => void> = [];
  #seq = 0;
  #closed = false;

  constructor(channel: ConfirmChannel, counters: PublishCounters, tagPrefix: string) {
    this.#channel = channel;
    this.#counters = counters;
    this.#tagPrefix = tagPrefix;
    channel.on('return', (message: Message) => this.#onReturn(message));
    // Prepended: amqplib's own close listener fails every outstanding confirm callback, and those
    // failures must be reported as a lost connection, not as broker nacks.
    channel.prependListener('close', () => this.#onClose());
  }

  /** Confirms still awaited from the broker (including ones whose caller already timed out). */
  get inFlight(): number {
    return this.#pending.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  publish(exchange: string, routingKey: string, content: Buffer, properties: Options.Publish, timeoutMs: number): Promise<void> {
    this.#counters.attempted++;
    const messageId = properties.messageId;
    if (this.#closed) {
      this.#counters.lost++;
      return Promise.reject(new ConnectionLostError(messageId));
    }
    const tag = `${this.#tagPrefix}${++this.#seq}`;
    return new Promise<void>((resolve, reject) => {
      const pending: Pending = { messageId, resolve, reject, timer: undefined, returned: undefined, settled: false };
      this.#pending.set(tag, pending);
      pending.timer = setTimeout(() => {
        if (pending.settled) return;
        pending.settled = true;
        this.#counters.timeouts++;
        // The entry stays until the broker answers or the channel closes, so close() can wait for it.
        reject(new PublishTimeoutError(timeoutMs, messageId));
      }, timeoutMs);
      try {
        this.#channel.publish(
          exchange,
          routingKey,
          content,
          { ...properties, persistent: true, mandatory: true, headers: { ...properties.headers, [HEADERS.publishTag]: tag } },
          (error: unknown) => this.#onConfirm(tag, error),
        );
      } catch (error) {
        // The channel is closing or closed: nothing went out.
        this.#pending.delete(tag);
        clearTimeout(pending.timer);
        pending.settled = true;
        this.#counters.lost++;
        reject(new ConnectionLostError(messageId, { cause: error }));
        this.#notifyDrained();
      }
    });
  }

  /** Resolves when no confirm is outstanding, or at `deadline` (epoch ms), whichever comes first. */
  async drain(deadline: number): Promise<boolean> {
    while (this.#pending.size > 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, remaining);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.#drainWaiters.push(done);
      });
    }
    return true;
  }

  #onReturn(message: Message): void {
    const tag = message.properties.headers?.[HEADERS.publishTag];
    const pending = typeof tag === 'string' ? this.#pending.get(tag) : undefined;
    if (!pending) return;
    const fields = message.fields as unknown as { exchange: string; routingKey: string; replyCode?: number; replyText?: string };
    pending.returned = {
      exchange: fields.exchange,
      routingKey: fields.routingKey,
      replyCode: fields.replyCode ?? 312,
      replyText: fields.replyText ?? 'NO_ROUTE',
    };
  }

  #onConfirm(tag: string, error: unknown): void {
    const pending = this.#pending.get(tag);
    if (!pending) return;
    this.#pending.delete(tag);
    clearTimeout(pending.timer);
    if (!pending.settled) {
      pending.settled = true;
      if (error) {
        if (this.#closed) {
          this.#counters.lost++;
          pending.reject(new ConnectionLostError(pending.messageId, { cause: error }));
        } else {
          this.#counters.nacked++;
          pending.reject(new PublishNackedError(pending.messageId));
        }
      } else if (pending.returned) {
        this.#counters.unroutable++;
        const r = pending.returned;
        pending.reject(new UnroutableError(r.exchange, r.routingKey, r.replyCode, r.replyText));
      } else {
        this.#counters.confirmed++;
        pending.resolve();
      }
    }
    this.#notifyDrained();
  }

  #onClose(): void {
    this.#closed = true;
    // amqplib calls every outstanding confirm callback with an error on close; this is the backstop.
    for (const tag of [...this.#pending.keys()]) this.#onConfirm(tag, new Error('channel closed'));
    this.#notifyDrained();
  }

  #notifyDrained(): void {
    if (this.#pending.size > 0 || this.#drainWaiters.length === 0) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const done of waiters) done();
  }
}
