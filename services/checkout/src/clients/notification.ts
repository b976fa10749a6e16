import type { HttpClient, Logger } from '@checkout/service-kit';
import { type ClientOptions, dependencyClient } from './policies';

/** The notification stub's types. A decline is an ORDER_FAILED. */
export type NotificationType = 'ORDER_CONFIRMED' | 'PAYMENT_PENDING' | 'ORDER_FAILED' | 'ORDER_SHIPPED';

export interface NotificationRequest {
  orderId: string;
  customerId: string;
  type: NotificationType;
}

export class NotificationClient {
  readonly http: HttpClient;
  private readonly logger: Logger | undefined;
  /** Notifications that failed (counted, logged; never retried: an email is not worth an outage). */
  failed = 0;
  private readonly pending = new Set<Promise<void>>();

  constructor(options: ClientOptions) {
    this.http = dependencyClient('notification', options);
    this.logger = options.logger;
  }

  get breaker() {
    return this.http.breaker;
  }

  /** Sends and waits (the worker, which has no customer waiting). */
  /** Idempotent: the stub keys a notification by `${orderId}:${type}`, so a retry never sends twice. */
  async send(request: NotificationRequest): Promise<void> {
    const res = await this.http.post('/notifications', request, { idempotent: true });
    if (res.status >= 300) throw new Error(`notification: POST /notifications answered ${res.status}`);
  }

  /**
   * Fire-and-forget: never awaited by the caller, never throws; failures are logged and counted.
   * The request leaves on the next turn of the event loop, after the caller's answer has been
   * written: it never holds up the response it belongs to.
   */
  notify(request: NotificationRequest): void {
    const sending = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.send(request)).catch((error: unknown) => {
      this.failed++;
      this.breaker.recordFallback(error); // the fallback: logged and counted, never retried
      this.logger?.warn('notification not sent', { orderId: request.orderId, type: request.type, error });
    });
    this.pending.add(sending);
    void sending.finally(() => this.pending.delete(sending));
  }

  /** Waits for notifications in flight (shutdown drain, tests). */
  async settle(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  close(): void {
    this.http.close();
  }
}
