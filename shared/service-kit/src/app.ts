import express, { type Express, Router } from 'express';
import type { BaseConfig } from './config';
import { faultAdminRouter } from './faults/admin';
import { FaultInjector } from './faults/injector';
import { faultSettingsFromEnv } from './faults/settings';
import { Health, type ReadinessCheck } from './health';
import { createLogger, type Logger } from './logger';
import { type ObservableBreaker, ServiceMetrics } from './metrics';
import { errorHandler, jsonBody, notFound, requestContext, securityHeaders } from './middleware';

/** Something to close at shutdown (a broker connection, an HTTP client's agents…). */
export type Closer = () => void | Promise<void>;

export interface CreateAppOptions<C extends BaseConfig = BaseConfig> {
  /** The service's name: in logs, metrics labels and answers. */
  name: string;
  /** Validated config (see `loadConfig`); a service's own schema comes from `defineConfigSchema`. */
  config: C;
  /** Default: a JSON logger at `config.LOG_LEVEL`. */
  logger?: Logger;
  /** Time source of fault flapping (default `Date.now`); tests pass a fake clock. */
  clock?: () => number;
  /** Random source of faults when no seed is set (default `Math.random`). */
  random?: () => number;
  /** Override for pages that need scripts (the dashboard); default `default-src 'none'; frame-ancestors 'none'`. */
  contentSecurityPolicy?: string | false;
  /** Readiness check timeout (default 2 000 ms). */
  readinessCheckTimeoutMs?: number;
  /** Adds the service's routes; they may also be added to `service.router` later. */
  routes?: (router: Router, service: Service<C>) => void;
}

/**
 * A service built by `createApp`: the Express app with everything the kit adds,
 * and the handles a service uses (logger, metrics, health, faults, closers).
 *
 * Order of middleware: request id → security headers → timing → `/health/*`,
 * `/metrics` → `/admin/faults` → fault injection → JSON body → the service's
 * routes (`router`) → 404 → JSON error handler.
 */
export class Service<C extends BaseConfig = BaseConfig> {
  readonly name: string;
  readonly config: C;
  readonly app: Express;
  /** Add routes here (or in the `routes` option): it sits before the 404 and error handlers. */
  readonly router: Router;
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  readonly health: Health;
  /** The fault injector, when FAULTS_ENABLED=true. */
  readonly faults: FaultInjector | undefined;
  private readonly closers: Array<{ name: string; close: Closer }> = [];
  private readonly drainHooks: Array<{ name: string; drain: Closer }> = [];

  constructor(options: CreateAppOptions<C>) {
    const { name, config } = options;
    this.name = name;
    this.config = config;
    this.logger = options.logger ?? createLogger({ service: name, level: config.LOG_LEVEL });
    this.metrics = new ServiceMetrics({ service: name, logger: this.logger });
    this.health = new Health({
      checkTimeoutMs: options.readinessCheckTimeoutMs,
      circuits: () => this.metrics.registeredBreakers,
    });
    this.faults = this.makeFaults(options);

    const app = express();
    app.disable('x-powered-by');
    app.use(requestContext());
    app.use(securityHeaders({ contentSecurityPolicy: options.contentSecurityPolicy }));
    app.use(this.metrics.httpMiddleware());
    app.use(this.health.router());
    app.get('/metrics', this.metrics.handler());

    const body = jsonBody(config.BODY_LIMIT);
    if (this.faults !== undefined) {
      // The admin token is required by the config schema whenever faults are enabled.
      app.use('/admin', faultAdminRouter(this.faults, { adminToken: config.ADMIN_TOKEN ?? '', jsonBody: body, logger: this.logger }));
      app.use(this.faults.middleware());
    }
    app.use(body);
    this.router = Router();
    app.use(this.router);
    app.use(notFound());
    app.use(errorHandler(this.logger));
    this.app = app;

    options.routes?.(this.router, this);
  }

  private makeFaults(options: CreateAppOptions<C>): FaultInjector | undefined {
    const { config } = options;
    if (!config.FAULTS_ENABLED) return undefined;
    if (config.ADMIN_TOKEN === undefined || config.ADMIN_TOKEN === '') {
      throw new Error('FAULTS_ENABLED=true needs ADMIN_TOKEN (fault injection is always behind the admin token)');
    }
    const settings = faultSettingsFromEnv(config);
    if (config.NODE_ENV === 'production') {
      this.logger.warn('fault injection is ENABLED in production (FAULTS_ENABLED=true): answers may be failed on purpose', { faults: settings });
    } else {
      this.logger.info('fault injection enabled', { faults: settings });
    }
    return new FaultInjector({
      settings,
      clock: options.clock,
      random: options.random,
      registry: this.metrics.registry,
      logger: this.logger,
    });
  }

  /** Shows a breaker in `/metrics` and `/health/ready` (informational) and logs its transitions. */
  registerBreaker(breaker: ObservableBreaker): () => void {
    return this.metrics.registerBreaker(breaker);
  }

  /** Adds a readiness check (see `Health.addCheck`). */
  addReadinessCheck(name: string, check: ReadinessCheck): () => void {
    return this.health.addCheck(name, check);
  }

  /**
   * Registers what to do when shutdown starts draining (the server no longer
   * accepts connections, in-flight requests are still running): cancel message
   * consumers, end event streams (SSE) that would otherwise run until the
   * deadline. Hooks run in registration order, concurrently with the drain.
   */
  onDrain(name: string, drain: Closer): void {
    this.drainHooks.push({ name, drain });
  }

  /** Runs the drain hooks (see `onDrain`); returns how many threw (they are logged). Called by `shutdown`. */
  async runDrainHooks(): Promise<number> {
    let failed = 0;
    for (const { name, drain } of this.drainHooks.splice(0)) {
      try {
        await drain();
      } catch (error) {
        failed += 1;
        this.logger.error('drain hook failed during shutdown', { hook: name, error });
      }
    }
    return failed;
  }

  /** Registers something to close at shutdown, after the server drained; closers run in reverse order. */
  onClose(name: string, close: Closer): void {
    this.closers.push({ name, close });
  }

  /**
   * Runs the closers, last registered first (what was opened last depends on what
   * was opened before). A failing closer is logged and does not stop the others.
   * Returns the number of closers that failed. Called by `shutdown`.
   */
  async runClosers(): Promise<number> {
    let failed = 0;
    for (const { name, close } of [...this.closers].reverse()) {
      try {
        await close();
      } catch (error) {
        failed += 1;
        this.logger.error('closer failed during shutdown', { closer: name, error });
      }
    }
    this.closers.length = 0;
    return failed;
  }
}

/** Builds a service: `createApp({ name: 'payment', config, routes: (router) => { router.post('/charges', …) } })`. */
export function createApp<C extends BaseConfig>(options: CreateAppOptions<C>): Service<C> {
  return new Service(options);
}
