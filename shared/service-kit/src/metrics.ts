import type { Request, RequestHandler, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from './logger';

/** The states of `@checkout/breaker`'s CircuitBreaker. */
export const CIRCUIT_STATES = ['CLOSED', 'OPEN', 'HALF_OPEN', 'FORCED_OPEN', 'DISABLED'] as const;
export type CircuitStateName = (typeof CIRCUIT_STATES)[number];

/**
 * What the kit needs from a breaker: `@checkout/breaker`'s `CircuitBreaker` fits.
 * Structural on purpose, so that breakers from another copy of the package (or a
 * different version) can be shown too.
 */
export interface ObservableBreaker {
  readonly name: string;
  readonly state: CircuitStateName;
  snapshot(): object;
  on(event: 'stateChange', listener: (event: { from: CircuitStateName; to: CircuitStateName; reason: string }) => void): () => void;
  on(event: 'success', listener: (event: { durationMs: number }) => void): () => void;
  on(event: 'failure', listener: (event: { error: unknown; durationMs: number }) => void): () => void;
  on(event: 'timeout' | 'rejected' | 'fallback' | 'ignored', listener: (event: unknown) => void): () => void;
}

/** Outcomes counted by `circuit_breaker_calls_total`. */
export type CallOutcome = 'success' | 'failure' | 'timeout' | 'ignored' | 'rejected' | 'fallback';
const OUTCOMES: readonly CallOutcome[] = ['success', 'failure', 'timeout', 'ignored', 'rejected', 'fallback'];

/** Seconds; from a 5 ms cache hit to a 30 s hang cut by a deadline. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** `route` label of answers that no route produced (404s, body errors) or that a fault produced. */
export const UNMATCHED_ROUTE = '(unmatched)';
export const FAULT_ROUTE = '(fault)';

export interface ServiceMetricsOptions {
  /** Set as the `service` label of every series. */
  service: string;
  /** Default: a new Registry (never prom-client's global one, so that tests can make many apps). */
  registry?: Registry;
  /** Process metrics (CPU, memory, event loop lag, GC…); default true. */
  defaultMetrics?: boolean;
  /** Breaker state changes are logged here at `warn`. */
  logger?: Logger;
}

interface Registered {
  readonly breaker: ObservableBreaker;
  readonly unsubscribe: () => void;
}

/**
 * Everything Prometheus scrapes from one service:
 * - `http_request_duration_seconds{method,route,status}` (route = the Express pattern, e.g. `/stock/:sku`);
 * - `circuit_breaker_state{breaker,state}` (1 for the current state, 0 for the others);
 * - `circuit_breaker_calls_total{breaker,outcome}`: success, failure (not counting timeouts),
 *   timeout, ignored (business errors), rejected (fail-fast); fallback counts fallbacks run,
 *   which follow a failure, a timeout or a rejection;
 * - `circuit_breaker_call_duration_seconds{breaker,outcome}` (success, failure, timeout);
 * - `circuit_breaker_rejections_total{breaker}`, `circuit_breaker_transitions_total{breaker,from,to}`;
 * - and, unless turned off, prom-client's default process metrics.
 */
export class ServiceMetrics {
  readonly registry: Registry;
  private readonly logger: Logger | undefined;
  private readonly breakers = new Map<string, Registered>();
  private readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly breakerCalls: Counter<'breaker' | 'outcome'>;
  private readonly breakerDuration: Histogram<'breaker' | 'outcome'>;
  private readonly breakerRejections: Counter<'breaker'>;
  private readonly breakerTransitions: Counter<'breaker' | 'from' | 'to'>;

  constructor(options: ServiceMetricsOptions) {
    this.registry = options.registry ?? new Registry();
    this.logger = options.logger;
    this.registry.setDefaultLabels({ service: options.service });
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];

    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Duration of HTTP requests, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: DURATION_BUCKETS,
      registers,
    });

    const breakers = this.breakers;
    new Gauge({
      name: 'circuit_breaker_state',
      help: 'State of each circuit breaker: 1 for the current state, 0 for the others',
      labelNames: ['breaker', 'state'],
      registers,
      // Read at scrape time, so the gauge is never stale (an open circuit that became half-open shows so).
      collect() {
        this.reset();
        for (const { breaker } of breakers.values()) {
          const current = breaker.state;
          for (const state of CIRCUIT_STATES) this.set({ breaker: breaker.name, state }, state === current ? 1 : 0);
        }
      },
    });
    this.breakerCalls = new Counter({
      name: 'circuit_breaker_calls_total',
      help: 'Calls through each circuit breaker, by outcome',
      labelNames: ['breaker', 'outcome'],
      registers,
    });
    this.breakerDuration = new Histogram({
      name: 'circuit_breaker_call_duration_seconds',
      help: 'Duration of calls through each circuit breaker, by outcome',
      labelNames: ['breaker', 'outcome'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.breakerRejections = new Counter({
      name: 'circuit_breaker_rejections_total',
      help: 'Calls rejected at once because the circuit was open',
      labelNames: ['breaker'],
      registers,
    });
    this.breakerTransitions = new Counter({
      name: 'circuit_breaker_transitions_total',
      help: 'State changes of each circuit breaker',
      labelNames: ['breaker', 'from', 'to'],
      registers,
    });
  }

  /**
   * Shows a breaker in the metrics (and in readiness details) and logs its state
   * changes at `warn`. Returns a function that removes it. Names must be unique.
   */
  registerBreaker(breaker: ObservableBreaker): () => void {
    const name = breaker.name;
    if (this.breakers.has(name)) throw new Error(`A circuit breaker named '${name}' is already registered`);
    for (const outcome of OUTCOMES) this.breakerCalls.inc({ breaker: name, outcome }, 0);
    this.breakerRejections.inc({ breaker: name }, 0);

    const seconds = (ms: number) => (Number.isFinite(ms) ? ms / 1000 : undefined);
    const observe = (outcome: CallOutcome, durationMs: number) => {
      this.breakerCalls.inc({ breaker: name, outcome });
      const s = seconds(durationMs);
      if (s !== undefined) this.breakerDuration.observe({ breaker: name, outcome }, s);
    };
    const offs = [
      breaker.on('stateChange', ({ from, to, reason }) => {
        this.breakerTransitions.inc({ breaker: name, from, to });
        this.logger?.warn('circuit breaker state changed', { breaker: name, from, to, reason });
      }),
      breaker.on('success', ({ durationMs }) => observe('success', durationMs)),
      // A timeout is reported as 'timeout' and then as 'failure': count it once, as a timeout.
      breaker.on('failure', ({ error, durationMs }) => observe(isTimeout(error) ? 'timeout' : 'failure', durationMs)),
      breaker.on('ignored', () => this.breakerCalls.inc({ breaker: name, outcome: 'ignored' })),
      breaker.on('rejected', () => {
        this.breakerCalls.inc({ breaker: name, outcome: 'rejected' });
        this.breakerRejections.inc({ breaker: name });
      }),
      breaker.on('fallback', () => this.breakerCalls.inc({ breaker: name, outcome: 'fallback' })),
    ];
    const entry: Registered = { breaker, unsubscribe: () => offs.forEach((off) => off()) };
    this.breakers.set(name, entry);
    return () => {
      if (this.breakers.get(name) !== entry) return;
      entry.unsubscribe();
      this.breakers.delete(name);
    };
  }

  /** The registered breakers, in registration order. */
  get registeredBreakers(): readonly ObservableBreaker[] {
    return [...this.breakers.values()].map((entry) => entry.breaker);
  }

  /** Unsubscribes from every breaker (on shutdown). */
  close(): void {
    for (const entry of this.breakers.values()) entry.unsubscribe();
    this.breakers.clear();
  }

  /**
   * Times every answer; mount it first. With the logger at level `http` (below
   * `info`, so off by default) it also writes one access-log line per answer.
   */
  httpMiddleware(): RequestHandler {
    const logger = this.logger;
    return (req, res, next) => {
      const start = process.hrtime.bigint();
      res.once('finish', () => {
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        const route = routeLabel(req, res);
        this.httpDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
        if (logger?.isLevelEnabled('http')) {
          // `finish` may fire outside the request's async context: name the id explicitly.
          const requestId = res.getHeader('X-Request-Id');
          logger.http('request', { method: req.method, route, status: res.statusCode, durationMs: Math.round(seconds * 1e4) / 10, requestId });
        }
      });
      next();
    };
  }

  /** `GET /metrics` in Prometheus' text format. */
  handler(): RequestHandler {
    return async (_req, res) => {
      const body = await this.registry.metrics();
      res.setHeader('Content-Type', this.registry.contentType);
      res.send(body);
    };
  }
}

/** Timeouts of `@checkout/breaker` (branded, so that this works across package copies). */
function isTimeout(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[Symbol.for('@checkout/breaker:TimeoutError')] === true;
}

/**
 * The route pattern (`/stock/:sku`), never the raw URL: ids in URLs would make a
 * new series per request. Answers given before routing get a fixed label.
 */
function routeLabel(req: Request, res: Response): string {
  const route = (req as Request & { route?: { path?: unknown } }).route;
  if (route !== undefined && typeof route.path === 'string') return `${req.baseUrl}${route.path}`;
  return res.getHeader('X-Fault-Injected') !== undefined ? FAULT_ROUTE : UNMATCHED_ROUTE;
}
