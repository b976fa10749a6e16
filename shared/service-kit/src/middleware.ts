import { AsyncResource } from 'node:async_hooks';
import { STATUS_CODES } from 'node:http';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { isValidRequestId, newRequestId, REQUEST_ID_HEADER, runWithContext } from './context';
import { type ErrorBody, HttpError, isHttpError } from './errors';
import type { Logger } from './logger';

/** The request id of a request handled by the kit (also available as `getRequestId()`). */
export function requestIdOf(res: Response): string | undefined {
  const id: unknown = res.locals.requestId;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Takes the caller's `X-Request-Id` when it is sane (else makes one), echoes it in
 * the answer and runs the rest of the request inside its AsyncLocalStorage context.
 */
export function requestContext(): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get(REQUEST_ID_HEADER);
    const requestId = isValidRequestId(incoming) ? incoming : newRequestId();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    runWithContext({ requestId }, () => next());
  };
}

export interface SecurityHeaderOptions {
  /** Default `default-src 'none'; frame-ancestors 'none'` (JSON APIs); `false` to send none. Routes may override it. */
  contentSecurityPolicy?: string | false;
}

/** Headers for a JSON API that is never framed, sniffed or cached. Routes may override any of them. */
export function securityHeaders(options: SecurityHeaderOptions = {}): RequestHandler {
  const csp = options.contentSecurityPolicy ?? "default-src 'none'; frame-ancestors 'none'";
  return (_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('Cache-Control', 'no-store');
    if (csp !== false) res.setHeader('Content-Security-Policy', csp);
    next();
  };
}

const JSON_TYPES = ['application/json', 'application/*+json'];

/** True when the request carries a body (a `Content-Length: 0` does not count). */
function hasBody(req: Request): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = Number(req.headers['content-length']);
  return Number.isFinite(length) && length > 0;
}

/**
 * Parses JSON bodies up to `limit` (larger → 413); a body of any other type → 415,
 * malformed JSON → 400 (both through the error handler). Requests without a body pass.
 */
export function jsonBody(limit: string | number = '100kb'): RequestHandler {
  const parse = express.json({ limit, type: JSON_TYPES, strict: true });
  return (req, res, next) => {
    if (!hasBody(req)) return next();
    if (!req.is(JSON_TYPES)) {
      throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'The request body must be JSON (Content-Type: application/json)');
    }
    // The parser calls `next` from a stream callback, outside the request's
    // AsyncLocalStorage context; binding `next` here keeps the request id for the rest.
    parse(req, res, AsyncResource.bind(next));
  };
}

/** 404 for every request no route answered. */
export function notFound(): RequestHandler {
  return (req) => {
    throw new HttpError(404, 'NOT_FOUND', `No route for ${req.method} ${req.path}`);
  };
}

interface ErrorAnswer {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
}

/** Errors from the body parser (and other http-errors style errors) carry `type`, `status` and `expose`. */
interface ParserError {
  type?: unknown;
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  limit?: unknown;
  message?: unknown;
}

/** Maps any thrown value to the answer a client gets: 4xx say what was wrong, 5xx say nothing. */
export function toErrorAnswer(error: unknown, requestId: string | undefined): ErrorAnswer {
  if (isHttpError(error)) {
    return {
      status: error.status,
      body: { error: error.code, message: error.message, requestId, ...error.details },
      headers: error.headers ?? {},
    };
  }
  const parserError = (typeof error === 'object' && error !== null ? error : {}) as ParserError;
  const answer = (status: number, code: string, message: string): ErrorAnswer => ({
    status,
    body: { error: code, message, requestId },
    headers: {},
  });
  switch (parserError.type) {
    case 'entity.too.large':
      return answer(413, 'PAYLOAD_TOO_LARGE', `The request body is larger than ${String(parserError.limit)} bytes`);
    case 'entity.parse.failed':
      return answer(400, 'MALFORMED_JSON', 'The request body is not valid JSON');
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return answer(415, 'UNSUPPORTED_MEDIA_TYPE', 'The request body uses an unsupported charset or encoding');
    case 'request.aborted':
      return answer(400, 'REQUEST_ABORTED', 'The request was aborted');
    default:
      break;
  }
  // Other client errors from Express and its libraries (e.g. an undecodable path parameter)
  // carry a 4xx `status`; their message is shown only when they say it is safe (`expose`).
  const status = parserError.status ?? parserError.statusCode;
  if (typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 500) {
    const reason = STATUS_CODES[status] ?? 'Bad Request';
    const message = parserError.expose === true && typeof parserError.message === 'string' ? parserError.message : reason;
    return answer(status, reason.toUpperCase().replace(/[^A-Z0-9]+/g, '_'), message);
  }
  return answer(500, 'INTERNAL', 'Internal server error');
}

/** The last middleware: JSON answers for every error; 5xx are logged with their stack, which never leaves the process. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    const requestId = requestIdOf(res);
    if (res.headersSent) {
      // Too late for an answer: let Express cut the connection.
      logger.error('error after the answer started', { error, requestId, method: req.method, path: req.path });
      return next(error);
    }
    const { status, body, headers } = toErrorAnswer(error, requestId);
    if (status >= 500) {
      logger.error('request failed', { error, requestId, method: req.method, path: req.path, status });
    } else {
      logger.debug('request rejected', { requestId, method: req.method, path: req.path, status, code: body.error });
    }
    res.status(status).set(headers).json(body);
  };
}
