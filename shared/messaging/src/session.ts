import type { ChannelModel } from 'amqplib';
import { settleBy } from './backoff';
import type { ConfirmPublisher } from './publisher';
import type { DeclaredTopology } from './topology';

/**
 * One AMQP connection and what lives on it. A session fails once, for good: the connection
 * supervisor then opens a new one. Anything that notices trouble (a channel closed by the broker,
 * a consumer cancelled) calls `fail`, which closes the whole connection so that everything is
 * rebuilt from a known state.
 */
export class Session {
  readonly lost: Promise<Error>;
  publisher: ConfirmPublisher | undefined;
  topology: DeclaredTopology | null = null;
  blocked = false;
  #resolveLost!: (error: Error) => void;
  #failed = false;
  #disposed: Promise<void> | undefined;

  constructor(
    readonly id: number,
    readonly model: ChannelModel,
    hooks: { onBlocked(session: Session, reason: string): void; onUnblocked(session: Session): void },
  ) {
    this.lost = new Promise((resolve) => {
      this.#resolveLost = resolve;
    });
    // amqplib emits 'error' (abnormal close, heartbeat timeout) and then 'close'.
    model.on('error', (error: Error) => this.fail(error));
    model.on('close', (error?: Error) => this.fail(error ?? new Error('connection closed')));
    model.on('blocked', (reason: string) => {
      this.blocked = true;
      hooks.onBlocked(this, reason);
    });
    model.on('unblocked', () => {
      this.blocked = false;
      hooks.onUnblocked(this);
    });
  }

  get alive(): boolean {
    return !this.#failed;
  }

  /** Marks the session lost (first error wins) and closes the connection. */
  fail(error: Error): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#resolveLost(error);
    // Deferred: this may run inside one of amqplib's own event emissions.
    setImmediate(() => void this.dispose(Date.now() + 1_000));
  }

  /**
   * For a channel that closed: fail on the next turn, so that when the whole connection went
   * down (amqplib closes the channels first) the connection's own error is the reported cause.
   */
  channelClosed(error: Error): void {
    setImmediate(() => this.fail(error));
  }

  /** Closes the connection politely until `deadline`, then destroys the socket (a frozen link never answers close). */
  dispose(deadline: number): Promise<void> {
    this.#disposed ??= (async () => {
      if (!this.#failed) {
        this.#failed = true;
        this.#resolveLost(new Error('connection closed by the client'));
      }
      await settleBy(this.model.close(), deadline);
      const stream = (this.model as unknown as { connection?: { stream?: { destroyed?: boolean; destroy(): void } } }).connection?.stream;
      if (stream && !stream.destroyed) stream.destroy();
    })();
    return this.#disposed;
  }
}
