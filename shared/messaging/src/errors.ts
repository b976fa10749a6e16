/**
 * Named errors of @checkout/messaging. Each carries a brand so that its `isX` guard
 * works across duplicate copies of the package (instanceof does not).
 */

/** Brand property; compared by value so that guards work across package copies. */
export const BRAND: unique symbol = Symbol.for('@checkout/messaging.error') as never;

type Brand =
  | 'NotConnectedError'
  | 'PublishTimeoutError'
  | 'UnroutableError'
  | 'PublishNackedError'
  | 'ConnectionLostError'
  | 'TopologyError'
  | 'PermanentError'
  | 'HandlerTimeoutError';

function hasBrand(value: unknown, brand: Brand): boolean {
  return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === brand;
}

/** Base class: every error thrown by this package (except option validation) is one. */
export abstract class MessagingError extends Error {
  abstract readonly code: string;
}

/** Why a publish was refused without reaching the broker. */
export type NotConnectedReason = 'connecting' | 'reconnecting' | 'blocked' | 'closing' | 'closed';

/** The connection is down (or the broker blocked publishers): fail fast, nothing was sent. */
export class NotConnectedError extends MessagingError {
  readonly code = 'NOT_CONNECTED';
  readonly [BRAND] = 'NotConnectedError';
  override readonly name = 'NotConnectedError';
  constructor(
    readonly reason: NotConnectedReason,
    options?: { cause?: unknown },
  ) {
    super(`messaging: not connected to RabbitMQ (${reason}); nothing was published`, options);
  }
}
export const isNotConnectedError = (e: unknown): e is NotConnectedError => hasBrand(e, 'NotConnectedError');

/** The broker did not confirm within the timeout. The broker may or may not hold the message. */
export class PublishTimeoutError extends MessagingError {
  readonly code = 'PUBLISH_TIMEOUT';
  readonly [BRAND] = 'PublishTimeoutError';
  override readonly name = 'PublishTimeoutError';
  constructor(
    readonly timeoutMs: number,
    readonly messageId: string | undefined,
  ) {
    super(`messaging: publish of message '${messageId ?? '?'}' not confirmed by the broker within ${timeoutMs} ms`);
  }
}
export const isPublishTimeoutError = (e: unknown): e is PublishTimeoutError => hasBrand(e, 'PublishTimeoutError');

/** A `mandatory` publish that no queue was bound to receive (basic.return). The broker dropped it. */
export class UnroutableError extends MessagingError {
  readonly code = 'UNROUTABLE';
  readonly [BRAND] = 'UnroutableError';
  override readonly name = 'UnroutableError';
  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    readonly replyCode: number,
    readonly replyText: string,
  ) {
    super(`messaging: message to exchange '${exchange}' with routing key '${routingKey}' is unroutable (${replyCode} ${replyText})`);
  }
}
export const isUnroutableError = (e: unknown): e is UnroutableError => hasBrand(e, 'UnroutableError');

/** The broker answered basic.nack: it did not take responsibility for the message. */
export class PublishNackedError extends MessagingError {
  readonly code = 'PUBLISH_NACKED';
  readonly [BRAND] = 'PublishNackedError';
  override readonly name = 'PublishNackedError';
  constructor(readonly messageId: string | undefined) {
    super(`messaging: broker refused (nacked) message '${messageId ?? '?'}'`);
  }
}
export const isPublishNackedError = (e: unknown): e is PublishNackedError => hasBrand(e, 'PublishNackedError');

/** The connection or channel went away before the broker confirmed. The broker may or may not hold the message. */
export class ConnectionLostError extends MessagingError {
  readonly code = 'CONNECTION_LOST';
  readonly [BRAND] = 'ConnectionLostError';
  override readonly name = 'ConnectionLostError';
  constructor(
    readonly messageId: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(`messaging: connection lost before the broker confirmed message '${messageId ?? '?'}'`, options);
  }
}
export const isConnectionLostError = (e: unknown): e is ConnectionLostError => hasBrand(e, 'ConnectionLostError');

/** Declaring the topology failed in a way retrying will not fix (e.g. an existing queue with other arguments). */
export class TopologyError extends MessagingError {
  readonly code = 'TOPOLOGY';
  readonly [BRAND] = 'TopologyError';
  override readonly name = 'TopologyError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(`messaging: ${message}`, options);
  }
}
export const isTopologyError = (e: unknown): e is TopologyError => hasBrand(e, 'TopologyError');

/**
 * Thrown by a handler to say "retrying cannot help" (a declined card, an order that no longer
 * exists): the message is parked at once with this error's message as the reason.
 */
export class PermanentError extends MessagingError {
  readonly code = 'PERMANENT';
  readonly [BRAND] = 'PermanentError';
  override readonly name = 'PermanentError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
export const isPermanentError = (e: unknown): e is PermanentError => hasBrand(e, 'PermanentError');

/** The handler ran past `handlerTimeoutMs`: a transient failure. */
export class HandlerTimeoutError extends MessagingError {
  readonly code = 'HANDLER_TIMEOUT';
  readonly [BRAND] = 'HandlerTimeoutError';
  override readonly name = 'HandlerTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`messaging: handler did not finish within ${timeoutMs} ms`);
  }
}
export const isHandlerTimeoutError = (e: unknown): e is HandlerTimeoutError => hasBrand(e, 'HandlerTimeoutError');

/** A short, single-line description of anything thrown, for headers and events. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message ? `${error.name}: ${error.message}` : error.name;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}
