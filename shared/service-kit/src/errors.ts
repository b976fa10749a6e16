/**
 * Errors that the kit's error handler turns into JSON answers. Throw them (or pass
 * them to `next`) from routes; any other error becomes a 500 without details.
 */

/** One invalid field of an input, e.g. `{ path: 'items.0.quantity', message: 'Too small: expected number to be >=1' }`. */
export interface FieldError {
  /** Dotted path inside the validated value; '' for the value itself. */
  readonly path: string;
  readonly message: string;
}

export interface HttpErrorOptions {
  /** Extra JSON merged into the answer body (keep it free of secrets). */
  readonly details?: Record<string, unknown>;
  /** Extra response headers, e.g. `{ 'Retry-After': '5' }`. */
  readonly headers?: Record<string, string>;
  readonly cause?: unknown;
}

const HTTP_ERROR = Symbol.for('@checkout/service-kit/HttpError');

/**
 * An answer with a status and a stable machine-readable `code`.
 * The message is shown to the client, so never put internals in it.
 */
export class HttpError extends Error {
  readonly [HTTP_ERROR] = true;
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(status: number, code: string, message: string, options: HttpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new RangeError(`HttpError status must be an integer 400..599, got ${status}`);
    }
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.details = options.details;
    this.headers = options.headers;
  }
}

/** `true` for any `HttpError` (also from another copy of this package). */
export function isHttpError(error: unknown): error is HttpError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[HTTP_ERROR] === true;
}

/** 400 with the list of invalid fields; made by `validate()`. */
export class ValidationError extends HttpError {
  readonly fields: readonly FieldError[];

  constructor(fields: readonly FieldError[], message = 'Invalid request', options: Omit<HttpErrorOptions, 'details'> = {}) {
    super(400, 'VALIDATION_FAILED', message, { ...options, details: { fields } });
    this.name = 'ValidationError';
    this.fields = fields;
  }
}

export function isValidationError(error: unknown): error is ValidationError {
  return isHttpError(error) && error.code === 'VALIDATION_FAILED' && Array.isArray((error as ValidationError).fields);
}

/** The JSON body of every error answer made by the kit. */
export interface ErrorBody {
  /** Stable code, e.g. `VALIDATION_FAILED`, `NOT_FOUND`, `INTERNAL`. */
  error: string;
  message: string;
  requestId: string | undefined;
  [extra: string]: unknown;
}
