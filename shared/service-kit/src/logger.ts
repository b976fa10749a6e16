import winston from 'winston';
import type { LogLevel } from './config';
import { getRequestId } from './context';

export type Logger = winston.Logger;

export interface LoggerOptions {
  /** Written as `service` on every line. */
  service: string;
  /** Default `info`; `silent` writes nothing. */
  level?: LogLevel;
  /** Where lines go; default one JSON line per entry on stdout. Tests pass a stream transport. */
  transports?: winston.transport[];
  /** More keys whose values are replaced by `[REDACTED]` (matched like the defaults). */
  redactKeys?: readonly string[];
}

export const REDACTED = '[REDACTED]';

/**
 * Keys whose values never reach a log line, compared after lower-casing and dropping
 * everything but letters and digits (`X-Admin-Token`, `admin_token` → `admintoken`).
 * Keys ending in `token`, `secret` or `password` are redacted too.
 */
const DEFAULT_REDACT_KEYS = [
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'token',
  'paymenttoken',
  'admintoken',
  'password',
  'secret',
  'apikey',
  'xapikey',
  'cardnumber',
  'cvv',
  'cvc',
];
const SENSITIVE_SUFFIX = /(token|secret|password|passwd)$/;

const normalise = (key: string) => key.toLowerCase().replace(/[^a-z0-9]/g, '');

const MAX_DEPTH = 8;

/** A copy of `value` with sensitive keys replaced; errors become plain objects (JSON drops Error fields otherwise). */
function redactValue(value: unknown, isSensitive: (key: string) => boolean, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth > MAX_DEPTH) return '[Truncated]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => redactValue(item, isSensitive, depth + 1, seen));
    if (value instanceof Error) {
      const plain: Record<string, unknown> = { name: value.name, message: value.message };
      const code = (value as { code?: unknown }).code;
      if (code !== undefined) plain.code = code;
      if (value.stack) plain.stack = value.stack;
      if (value.cause !== undefined) plain.cause = redactValue(value.cause, isSensitive, depth + 1, seen);
      return plain;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value; // Date, Buffer…: JSON handles them
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      copy[key] = isSensitive(key) ? REDACTED : redactValue(item, isSensitive, depth + 1, seen);
    }
    return copy;
  } finally {
    seen.delete(value);
  }
}

/** A winston format that replaces the values of sensitive keys, at any depth, by `[REDACTED]`. */
export function redactFormat(extraKeys: readonly string[] = []) {
  const keys = new Set([...DEFAULT_REDACT_KEYS, ...extraKeys.map(normalise)]);
  const isSensitive = (key: string) => {
    const normalised = normalise(key);
    return keys.has(normalised) || SENSITIVE_SUFFIX.test(normalised);
  };
  return winston.format((info) => {
    // winston's own fields live under symbols and `level`/`message`; everything else is metadata.
    for (const key of Object.keys(info)) {
      if (key === 'level' || key === 'message') continue;
      info[key] = isSensitive(key) ? REDACTED : redactValue(info[key], isSensitive, 0, new WeakSet());
    }
    return info;
  })();
}

/** Adds the current request id (from AsyncLocalStorage) to the line, unless the line sets its own. */
export const requestIdFormat = winston.format((info) => {
  if (info.requestId === undefined) {
    const requestId = getRequestId();
    if (requestId !== undefined) info.requestId = requestId;
  }
  return info;
});

/**
 * A JSON logger: `{ level, message, service, requestId?, timestamp, …meta }` on every line.
 * Log metadata, never request bodies; sensitive keys are redacted anyway.
 */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? 'info';
  const logger = winston.createLogger({
    level: level === 'silent' ? 'error' : level,
    silent: level === 'silent',
    defaultMeta: { service: options.service },
    format: winston.format.combine(
      winston.format.errors({ stack: true }),
      requestIdFormat(),
      redactFormat(options.redactKeys),
      winston.format.timestamp(),
      winston.format.json(),
    ),
    transports: options.transports ?? [new winston.transports.Console()],
  });
  skipDisabledLevels(logger);
  return logger;
}

/**
 * winston runs every entry through the whole format chain (request id, a deep redacting copy,
 * timestamp, JSON) before a transport drops it for its level: a `debug` line per dependency
 * call cost that much on every order at the default level. The level methods return at once
 * when no transport would write the line (`isLevelEnabled` reads the current level, so a
 * level changed later still counts; children share these methods).
 */
function skipDisabledLevels(logger: Logger): void {
  for (const name of Object.keys(logger.levels)) {
    const method = (logger as unknown as Record<string, unknown>)[name];
    if (typeof method !== 'function') continue;
    const write = method as (...args: unknown[]) => Logger;
    (logger as unknown as Record<string, unknown>)[name] = function (this: Logger | undefined, ...args: unknown[]): Logger {
      const self = this ?? logger;
      return self.isLevelEnabled(name) ? write.apply(self, args) : self;
    };
  }
}
