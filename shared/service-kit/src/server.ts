import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Service } from './app';
import type { BaseConfig } from './config';

export interface StartOptions {
  /** Default `config.PORT`; 0 picks a free port (tests). */
  port?: number;
  /** Default `config.HOST`, else every interface. */
  host?: string;
  /** How long in-flight requests may run after shutdown starts (default `config.SHUTDOWN_TIMEOUT_MS`). */
  shutdownTimeoutMs?: number;
  /** How long readiness says 503 before the server stops accepting (default `config.SHUTDOWN_DELAY_MS`). */
  shutdownDelayMs?: number;
}

export interface ShutdownResult {
  /** True when the deadline passed and the remaining connections were cut. */
  forced: boolean;
  /** Requests still running when the deadline cut them. */
  cutRequests: number;
  /** Drain hooks and closers that threw (they are logged). */
  failedClosers: number;
}

export interface RunningService {
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** `http://127.0.0.1:<port>`, for tests and local clients. */
  readonly url: string;
  readonly server: Server;
  /** Requests being handled right now. */
  readonly inFlight: number;
  /**
   * Graceful shutdown; idempotent (every call gets the same promise):
   * readiness 503 → (delay) → stop accepting, release hanging fault requests,
   * run the drain hooks, let in-flight requests finish until the deadline, then
   * cut what is left → run the closers (reverse order) → resolve. It never exits the process.
   */
  shutdown(reason?: string): Promise<ShutdownResult>;
}

/** Listens (on `config.PORT`, or the port given; 0 = any free one) and resolves once bound: `start(service, 0)`. */
export async function start<C extends BaseConfig>(service: Service<C>, portOrOptions: number | StartOptions = {}): Promise<RunningService> {
  const options: StartOptions = typeof portOrOptions === 'number' ? { port: portOrOptions } : portOrOptions;
  const config = service.config;
  const port = options.port ?? config.PORT;
  const host = options.host ?? config.HOST;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? config.SHUTDOWN_TIMEOUT_MS;
  const shutdownDelayMs = options.shutdownDelayMs ?? config.SHUTDOWN_DELAY_MS;
  const logger = service.logger;

  const server = createServer(service.app);
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(host === undefined ? { port } : { port, host }); // no host: every interface
  });
  const bound = (server.address() as AddressInfo).port;

  // Answers in progress, so that draining can make their connections close once they finish.
  const active = new Set<ServerResponse>();
  let draining = false;
  server.on('request', (_req, res: ServerResponse) => {
    active.add(res);
    if (draining) res.setHeader('Connection', 'close');
    res.once('close', () => {
      active.delete(res);
      // A keep-alive connection that just went idle would hold `server.close` until its timeout.
      if (draining) setImmediate(() => server.closeIdleConnections());
    });
  });

  let shutdownPromise: Promise<ShutdownResult> | undefined;
  const shutdown = (reason = 'shutdown'): Promise<ShutdownResult> => {
    shutdownPromise ??= (async () => {
      logger.info('shutting down', { reason, inFlight: active.size, shutdownTimeoutMs });
      service.health.beginShutdown();
      if (shutdownDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, shutdownDelayMs));

      draining = true;
      service.faults?.close(); // hanging requests would otherwise hold the drain until the deadline
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const res of active) if (!res.headersSent) res.setHeader('Connection', 'close');
      server.closeIdleConnections();

      let forced = false;
      let cutRequests = 0;
      let deadline: NodeJS.Timeout | undefined;
      const deadlinePassed = new Promise<number>((resolve) => {
        deadline = setTimeout(() => {
          forced = true;
          cutRequests = active.size;
          logger.warn('shutdown deadline passed: cutting the remaining connections', { inFlight: cutRequests });
          server.closeAllConnections();
          resolve(0);
        }, shutdownTimeoutMs);
      });
      // Drain hooks end what would otherwise run until the deadline (event streams, consumers).
      const [, failedHooks] = await Promise.all([closed, Promise.race([service.runDrainHooks(), deadlinePassed])]);
      clearTimeout(deadline);

      const failedClosers = failedHooks + (await service.runClosers());
      service.metrics.close();
      logger.info('shutdown complete', { forced, cutRequests, failedClosers });
      return { forced, cutRequests, failedClosers };
    })();
    return shutdownPromise;
  };

  logger.info('listening', { port: bound, host: host ?? '*' });
  return {
    port: bound,
    url: `http://${localHost(host)}:${bound}`,
    server,
    get inFlight() {
      return active.size;
    },
    shutdown,
  };
}

/** Where a local client reaches a server listening on `host`. */
function localHost(host: string | undefined): string {
  if (host === undefined || host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** Same as `running.shutdown()`. */
export function stop(running: RunningService): Promise<ShutdownResult> {
  return running.shutdown('stop');
}

export interface SignalOptions {
  /** Default `['SIGTERM', 'SIGINT']`. */
  signals?: readonly NodeJS.Signals[];
  /** Default `process.exit`; injectable for tests. */
  exit?: (code: number) => void;
  logger?: Service['logger'];
}

/**
 * On SIGTERM/SIGINT: graceful shutdown, then exit 0. A second signal while
 * shutting down exits at once with 1. The handlers are removed before exiting;
 * the returned function removes them earlier.
 */
export function handleSignals(running: RunningService, options: SignalOptions = {}): () => void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const logger = options.logger;
  let first: NodeJS.Signals | undefined;

  const onSignal = (signal: NodeJS.Signals) => {
    if (first !== undefined) {
      logger?.warn('second signal during shutdown: exiting now', { signal, first });
      remove();
      exit(1);
      return;
    }
    first = signal;
    logger?.info('signal received', { signal });
    running.shutdown(signal).then(
      () => {
        remove();
        exit(0);
      },
      (error: unknown) => {
        logger?.error('shutdown failed', { error });
        remove();
        exit(1);
      },
    );
  };
  // One listener per signal, so that the name is known even when the event carries none.
  const listeners = signals.map((signal) => [signal, () => onSignal(signal)] as const);
  for (const [signal, listener] of listeners) process.on(signal, listener);
  const remove = () => {
    for (const [signal, listener] of listeners) process.off(signal, listener);
  };
  return remove;
}

/**
 * For a service's `main.ts`: start on `config.PORT`, shut down gracefully on
 * SIGTERM/SIGINT and exit 0. If the port cannot be bound, log and exit 1.
 */
export async function runService<C extends BaseConfig>(service: Service<C>, options: StartOptions & { exit?: (code: number) => void } = {}): Promise<RunningService | undefined> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  try {
    const running = await start(service, options);
    handleSignals(running, { logger: service.logger, exit });
    return running;
  } catch (error) {
    service.logger.error('could not start', { error });
    exit(1);
    return undefined;
  }
}
