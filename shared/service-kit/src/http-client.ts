import http from 'node:http';
import https from 'node:https';
import {
  bulkhead as makeBulkhead,
  type BulkheadOptions,
  CircuitBreaker,
  type CircuitBreakerOptions,
  type ExecuteContext,
  isBulkheadFullError,
  type Policy,
  retry as makeRetry,
  type RetryOptions,
  wrap,
} from '@checkout/breaker';
import axios, { type AxiosInstance, isAxiosError, type Method } from 'axios';
import { getRequestId, REQUEST_ID_HEADER } from './context';
import type { Logger } from './logger';

export interface HttpClientPolicies {
  /**
   * Deadline of each attempt, enforced by the breaker (`timeoutMs`): the request
   * is aborted and the call counts as a failure. Default 3 000 ms.
   */
  timeoutMs?: number;
  /** Options of this dependency's breaker (its name is the client's), or a breaker of your own. */
  breaker?: Omit<CircuitBreakerOptions, 'name' | 'timeoutMs' | 'isFailure'> | CircuitBreaker;
  /** Retries with backoff, for idempotent requests only (GET, HEAD, OPTIONS, PUT, DELETE, or `idempotent: true`). */
  retry?: RetryOptions;
  /** Limits concurrent requests to this dependency; a full bulkhead is not a failure of the dependency. */
  bulkhead?: BulkheadOptions;
}

export interface HttpClientOptions {
  /** The dependency's name: the breaker's name, in errors, logs and metrics. */
  name: string;
  baseURL: string;
  logger?: Logger;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  policies?: HttpClientPolicies;
  /**
   * Which statuses are failures of the dependency (thrown as `UpstreamError`,
   * counted by the breaker, retried). Default: 5xx. Every other status,
   * 4xx included, is a business answer that the caller reads.
   */
  isFailureStatus?: (status: number) => boolean;
  /** Sockets per host (default 64), kept alive between requests. */
  maxSockets?: number;
  /** Largest response body accepted, in bytes (default 10 MiB). */
  maxResponseBytes?: number;
}

export interface HttpRequest {
  method?: Method;
  /** Path relative to `baseURL`. */
  url: string;
  params?: Record<string, string | number | boolean | undefined>;
  /** JSON body. */
  data?: unknown;
  headers?: Record<string, string>;
  /** The caller's signal: aborting it cancels the request (it counts as nothing for the breaker). */
  signal?: AbortSignal;
  /** Whether the request may be repeated; default by method. A POST with an idempotency key is. */
  idempotent?: boolean;
}

/** Any answer that is not a failure of the dependency (2xx, 3xx, 4xx by default). */
export interface HttpResponse<T = unknown> {
  status: number;
  /** True for 2xx. */
  ok: boolean;
  data: T;
  headers: Record<string, string>;
}

const kUpstream = Symbol.for('@checkout/service-kit:UpstreamError');

/**
 * The dependency failed: it answered a failure status (`status`, `data` set)
 * or the connection failed (`code`, e.g. ECONNREFUSED, ECONNRESET). Timeouts,
 * open circuits and a full bulkhead are the breaker package's own errors.
 */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  readonly [kUpstream] = true;
  readonly dependency: string;
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly data: unknown;
  readonly headers: Record<string, string> | undefined;

  constructor(
    dependency: string,
    details: { status?: number; code?: string; data?: unknown; headers?: Record<string, string>; method: string; url: string },
    options?: { cause?: unknown },
  ) {
    const what = details.status !== undefined ? `answered ${details.status}` : `failed (${details.code ?? 'network error'})`;
    super(`${dependency}: ${details.method} ${details.url} ${what}`, options);
    this.dependency = dependency;
    this.status = details.status;
    this.code = details.code;
    this.data = details.data;
    this.headers = details.headers;
  }
}

export const isUpstreamError = (error: unknown): error is UpstreamError =>
  typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[kUpstream] === true;

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/**
 * An HTTP client for one dependency: keep-alive sockets, a circuit breaker with
 * a per-attempt deadline, optional retries (idempotent requests only) and an
 * optional bulkhead, composed as `wrap(retry, breaker, bulkhead)`. The current
 * request id is forwarded as `X-Request-Id`.
 *
 * Answers below the failure statuses resolve (read `status`): a 402, 404 or 409
 * is the dependency saying no, not failing, so it never trips the breaker and
 * never reaches a fallback. 5xx, connection errors and timeouts reject and count.
 */
export class HttpClient {
  readonly name: string;
  /** Register it with `service.registerBreaker(client.breaker)` to see it in metrics and readiness. */
  readonly breaker: CircuitBreaker;
  private readonly axios: AxiosInstance;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly once: Policy;
  private readonly repeatable: Policy;
  private readonly isFailureStatus: (status: number) => boolean;
  private readonly logger: Logger | undefined;

  constructor(options: HttpClientOptions) {
    const { name, policies = {} } = options;
    this.name = name;
    this.logger = options.logger;
    this.isFailureStatus = options.isFailureStatus ?? ((status) => status >= 500);

    if (policies.breaker instanceof CircuitBreaker) {
      if (policies.timeoutMs !== undefined) {
        throw new TypeError(`HttpClient '${name}': set timeoutMs on the breaker you pass, not in policies`);
      }
      this.breaker = policies.breaker;
    } else {
      this.breaker = new CircuitBreaker({
        ...policies.breaker,
        name,
        timeoutMs: policies.timeoutMs ?? 3_000,
        // A full bulkhead says that we are busy, not that the dependency fails.
        isFailure: (error) => !isBulkheadFullError(error),
      });
    }
    const inner: Policy[] = [this.breaker];
    if (policies.bulkhead !== undefined) inner.push(makeBulkhead(policies.bulkhead));
    this.once = inner.length === 1 ? this.breaker : wrap(...inner);
    this.repeatable = policies.retry !== undefined ? wrap(makeRetry(policies.retry), ...inner) : this.once;

    // Free sockets are dropped after 4 s, before Node servers drop them (keepAliveTimeout 5 s),
    // so that a request is rarely sent on a socket the server is closing.
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64, timeout: 4_000 };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
    this.axios = axios.create({
      baseURL: options.baseURL,
      headers: options.headers,
      httpAgent: this.httpAgent,
      httpsAgent: this.httpsAgent,
      // Service-to-service calls go straight to the dependency, whatever HTTP_PROXY says.
      proxy: false,
      maxRedirects: 0,
      maxContentLength: options.maxResponseBytes ?? 10 * 1024 * 1024,
      // Every status resolves here; `request` decides what is a failure.
      validateStatus: () => true,
    });
  }

  async request<T = unknown>(req: HttpRequest): Promise<HttpResponse<T>> {
    const method = (req.method ?? 'GET').toUpperCase();
    const idempotent = req.idempotent ?? IDEMPOTENT_METHODS.has(method);
    const policy = idempotent ? this.repeatable : this.once;
    const headers: Record<string, string> = { ...req.headers };
    const requestId = getRequestId();
    if (requestId !== undefined && !Object.keys(headers).some((key) => key.toLowerCase() === REQUEST_ID_HEADER)) {
      headers['X-Request-Id'] = requestId;
    }
    const attempt = async (ctx: ExecuteContext): Promise<HttpResponse<T>> => {
      const started = Date.now();
      try {
        const res = await this.axios.request({ method, url: req.url, params: req.params, data: req.data, headers, signal: ctx.signal });
        const responseHeaders = flatHeaders(res.headers as Record<string, unknown>);
        this.logger?.debug('dependency answered', { dependency: this.name, method, url: req.url, status: res.status, durationMs: Date.now() - started });
        if (this.isFailureStatus(res.status)) {
          throw new UpstreamError(this.name, { status: res.status, data: res.data, headers: responseHeaders, method, url: req.url });
        }
        return { status: res.status, ok: res.status >= 200 && res.status < 300, data: res.data as T, headers: responseHeaders };
      } catch (error) {
        if (!isAxiosError(error)) throw error;
        // Aborted by the deadline or the caller: the breaker answers with its own error (or the caller's reason).
        if (axios.isCancel(error) || ctx.signal.aborted) throw ctx.signal.aborted ? ctx.signal.reason : error;
        this.logger?.debug('dependency unreachable', { dependency: this.name, method, url: req.url, code: error.code, durationMs: Date.now() - started });
        throw new UpstreamError(this.name, { code: error.code, method, url: req.url }, { cause: error });
      }
    };
    return policy.execute(attempt, req.signal === undefined ? undefined : { signal: req.signal });
  }

  get<T = unknown>(url: string, options: Omit<HttpRequest, 'url' | 'method' | 'data'> = {}): Promise<HttpResponse<T>> {
    return this.request<T>({ ...options, method: 'GET', url });
  }

  post<T = unknown>(url: string, data?: unknown, options: Omit<HttpRequest, 'url' | 'method' | 'data'> = {}): Promise<HttpResponse<T>> {
    return this.request<T>({ ...options, method: 'POST', url, data });
  }

  put<T = unknown>(url: string, data?: unknown, options: Omit<HttpRequest, 'url' | 'method' | 'data'> = {}): Promise<HttpResponse<T>> {
    return this.request<T>({ ...options, method: 'PUT', url, data });
  }

  delete<T = unknown>(url: string, options: Omit<HttpRequest, 'url' | 'method' | 'data'> = {}): Promise<HttpResponse<T>> {
    return this.request<T>({ ...options, method: 'DELETE', url });
  }

  /** Closes the kept-alive sockets (register with `service.onClose`). */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

export function createHttpClient(options: HttpClientOptions): HttpClient {
  return new HttpClient(options);
}

function flatHeaders(headers: Record<string, unknown>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined && value !== null) flat[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return flat;
}
