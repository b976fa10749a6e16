import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** What the kit keeps for the duration of one request (or one consumed message). */
export interface RequestContext {
  readonly requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Header carrying the request id in and out of every service. */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * Ids we accept from callers: 1–128 characters of letters, digits and `-_.:`.
 * Anything else (too long, spaces, control characters…) is replaced by a fresh id
 * so that a caller cannot inject text into our logs or headers.
 */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export function isValidRequestId(value: unknown): value is string {
  return typeof value === 'string' && REQUEST_ID_PATTERN.test(value);
}

export function newRequestId(): string {
  return randomUUID();
}

/** The id of the request (or message) being handled, or `undefined` outside of one. */
export function getRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

export function getRequestContext(): RequestContext | undefined {
  return storage.getStore();
}

/**
 * Runs `fn` with `requestId` as the current request id: every log line and every
 * call made through the kit's HTTP client inside it carries the id. Workers use
 * it for consumed messages (`runWithRequestId(msg.properties.correlationId, …)`).
 * An invalid id is replaced by a fresh one.
 */
export function runWithRequestId<T>(requestId: string | undefined, fn: () => T): T {
  const id = isValidRequestId(requestId) ? requestId : newRequestId();
  return storage.run({ requestId: id }, fn);
}

/** @internal used by the request middleware. */
export function runWithContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}
