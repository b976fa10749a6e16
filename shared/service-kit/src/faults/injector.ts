import type { RequestHandler, Response } from 'express';
import { Counter, type Registry } from 'prom-client';
import { getRequestId } from '../context';
import type { Logger } from '../logger';
import { seededRandom } from './prng';
import { type FaultSettings, hasActiveFaults, noFaults, routeMatches } from './settings';

/** What an injected fault did to a request; the `type` label of `faults_injected_total`. */
export type FaultType = 'down' | 'error' | 'latency' | 'hang' | 'reset';
export const FAULT_TYPES: readonly FaultType[] = ['down', 'error', 'latency', 'hang', 'reset'];

/** How a request that was picked to fail fails. */
type Failure = 'down' | 'error' | 'hang' | 'reset';

/** The decision for one request: wait `delayMs`, then fail (or go on to the route). */
export interface FaultDecision {
  readonly delayMs: number;
  readonly failure: Failure | undefined;
}

/** Paths never touched by faults, so that a broken service can still be inspected and repaired. */
export const FAULT_FREE_PATHS: readonly string[] = ['/admin', '/health', '/metrics'];

/** Header on every answer changed by a fault, so that a person can tell injected from real trouble. */
export const FAULT_HEADER = 'X-Fault-Injected';

export interface FaultInjectorOptions {
  /** Settings in force at start (usually from FAULT_* variables); default none. */
  settings?: FaultSettings;
  /** Time source for flapping, in ms (default `Date.now`); tests pass a fake clock. */
  clock?: () => number;
  /** Random source when no `seed` is set (default `Math.random`). */
  random?: () => number;
  /** Registry of `faults_injected_total`; none = no metric. */
  registry?: Registry;
  logger?: Logger;
  /** Path prefixes never faulted; default `FAULT_FREE_PATHS`. */
  excludedPaths?: readonly string[];
}

/** What `GET /admin/faults` shows. */
export interface FaultSnapshot {
  enabled: true;
  /** Any knob set that changes answers. */
  active: boolean;
  settings: FaultSettings;
  /** When these settings were set (ISO time from the injected clock). */
  since: string;
  /** Requests in scope since the settings were set. */
  requests: number;
  /** Faults injected since the settings were set, by type. */
  injected: Record<FaultType, number>;
  /** Requests hanging right now. */
  hanging: number;
}

/**
 * Decides, request by request, which fault to inject, and applies it.
 *
 * Model (documented in the README's knob table):
 * - `down` answers 503 to every request in scope; nothing else applies.
 * - latency (`latencyMs ± jitterMs`, for a `latencyRate` fraction) delays any request in scope.
 * - a request is *picked to fail* when `everyNth` or `errorRate` picks it (either is enough);
 *   when neither is set, `hang`, `reset` and `flap` pick every request.
 *   `flap` gates all of this: in the healthy part of a period nothing fails.
 * - a picked request hangs if `hang`, is reset if `reset`, else gets `errorStatus`.
 */
export class FaultInjector {
  private settingsValue: FaultSettings;
  private active: boolean;
  private sinceMs: number;
  private random: () => number;
  private requests = 0;
  private injected = emptyCounts();
  private closed = false;
  private readonly hung = new Set<Response>();
  private readonly clock: () => number;
  private readonly defaultRandom: () => number;
  private readonly counter: Counter<'type'> | undefined;
  private readonly logger: Logger | undefined;
  private readonly excluded: readonly string[];

  constructor(options: FaultInjectorOptions = {}) {
    this.clock = options.clock ?? Date.now;
    this.defaultRandom = options.random ?? Math.random;
    this.logger = options.logger;
    this.excluded = options.excludedPaths ?? FAULT_FREE_PATHS;
    if (options.registry) {
      this.counter = new Counter({
        name: 'faults_injected_total',
        help: 'Faults injected into answers, by type',
        labelNames: ['type'],
        registers: [options.registry],
      });
      for (const type of FAULT_TYPES) this.counter.inc({ type }, 0); // every series exists from the start
    }
    const settings = options.settings ?? noFaults();
    // Assigned by `set`; repeated here so TypeScript sees them initialised.
    this.settingsValue = settings;
    this.active = false;
    this.sinceMs = 0;
    this.random = this.defaultRandom;
    this.set(settings);
  }

  get settings(): FaultSettings {
    return this.settingsValue;
  }

  /**
   * Replaces the settings; restarts the `everyNth` count, the seeded sequence and
   * the flap period. Requests left hanging are released unless `hang` stays on.
   */
  set(settings: FaultSettings): void {
    if (!settings.hang) this.releaseHung();
    this.settingsValue = settings;
    this.active = hasActiveFaults(settings);
    this.sinceMs = this.clock();
    this.random = settings.seed === undefined ? this.defaultRandom : seededRandom(settings.seed);
    this.requests = 0;
    this.injected = emptyCounts();
  }

  /** Turns every fault off (and releases hanging requests). */
  clear(): void {
    this.set(noFaults());
  }

  snapshot(): FaultSnapshot {
    return {
      enabled: true,
      active: this.active,
      settings: this.settingsValue,
      since: new Date(this.sinceMs).toISOString(),
      requests: this.requests,
      injected: { ...this.injected },
      hanging: this.hung.size,
    };
  }

  /** Number of requests hanging right now. */
  get hanging(): number {
    return this.hung.size;
  }

  /** Cuts the connection of every hanging request; returns how many there were. */
  releaseHung(): number {
    const count = this.hung.size;
    for (const res of this.hung) destroySocket(res);
    this.hung.clear();
    return count;
  }

  /** For shutdown: releases hanging requests and injects nothing more, so that draining can finish. */
  close(): void {
    this.closed = true;
    this.releaseHung();
  }

  /** Whether `path` is subject to faults at all. */
  isExcluded(path: string): boolean {
    return this.excluded.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
  }

  /**
   * The fault for one request, or `undefined` for none. Consumes the random
   * sequence and the request count, so call it exactly once per request.
   */
  decide(method: string, path: string): FaultDecision | undefined {
    const s = this.settingsValue;
    if (!this.active || this.closed || this.isExcluded(path)) return undefined;
    if (s.routes !== undefined && !s.routes.some((route) => routeMatches(route, method, path))) return undefined;
    this.requests += 1;
    if (s.down) return { delayMs: 0, failure: 'down' };

    const delayMs = this.pickDelay(s);
    const failure = this.pickFailure(s);
    return delayMs === 0 && failure === undefined ? undefined : { delayMs, failure };
  }

  private pickDelay(s: FaultSettings): number {
    if (s.latencyMs === 0 && s.jitterMs === 0) return 0;
    if (s.latencyRate < 1 && this.random() >= s.latencyRate) return 0;
    const jitter = s.jitterMs === 0 ? 0 : (this.random() * 2 - 1) * s.jitterMs;
    return Math.max(0, Math.round(s.latencyMs + jitter));
  }

  private pickFailure(s: FaultSettings): Failure | undefined {
    if (s.flap !== undefined && !this.flapFailing(s.flap)) return undefined;
    let selectors = 0;
    let picked = false;
    if (s.everyNth !== undefined) {
      selectors += 1;
      picked = this.requests % s.everyNth === 0;
    }
    if (s.errorRate > 0) {
      selectors += 1;
      // Drawn even when everyNth already picked the request, so that the sequence stays repeatable.
      if (this.random() < s.errorRate) picked = true;
    }
    if (selectors === 0) picked = s.hang || s.reset || s.flap !== undefined;
    if (!picked) return undefined;
    return s.hang ? 'hang' : s.reset ? 'reset' : 'error';
  }

  /** The failing part comes first in each period, so that a new flap setting shows at once. */
  private flapFailing(flap: { periodMs: number; dutyCycle: number }): boolean {
    const elapsed = this.clock() - this.sinceMs;
    const phase = ((elapsed % flap.periodMs) + flap.periodMs) % flap.periodMs;
    return phase < flap.dutyCycle * flap.periodMs;
  }

  /** Express middleware applying the decision; mount it before the service's routes. */
  middleware(): RequestHandler {
    return (req, res, next) => {
      const decision = this.decide(req.method, req.path);
      if (decision === undefined) return next();
      const settings = this.settingsValue;

      const apply = () => {
        if (decision.failure === undefined) return next();
        this.fail(decision.failure, settings, res);
      };
      if (decision.delayMs === 0) return apply();

      this.count('latency');
      res.setHeader(FAULT_HEADER, 'latency');
      const timer = setTimeout(() => {
        res.off('close', cancel);
        apply();
      }, decision.delayMs);
      // The client gave up (or the server cut the socket): nothing left to answer.
      const cancel = () => clearTimeout(timer);
      res.once('close', cancel);
    };
  }

  private fail(failure: Failure, settings: FaultSettings, res: Response): void {
    this.count(failure);
    switch (failure) {
      case 'hang':
        if (this.closed) return destroySocket(res);
        this.hung.add(res);
        res.once('close', () => this.hung.delete(res));
        return;
      case 'reset':
        return destroySocket(res);
      case 'down':
        res.setHeader(FAULT_HEADER, 'down');
        res.setHeader('Retry-After', String(settings.retryAfterSeconds));
        res.status(503).json({ error: 'SERVICE_DOWN', message: 'Service unavailable (injected fault: down)', requestId: getRequestId() });
        return;
      case 'error': {
        const status = settings.errorStatus;
        res.setHeader(FAULT_HEADER, 'error');
        if (status === 429 || status === 503) res.setHeader('Retry-After', String(settings.retryAfterSeconds));
        res.status(status).json({ error: 'INJECTED_FAULT', message: `Injected fault: ${status}`, requestId: getRequestId() });
        return;
      }
    }
  }

  private count(type: FaultType): void {
    this.injected[type] += 1;
    this.counter?.inc({ type });
    this.logger?.debug('fault injected', { fault: type });
  }
}

function emptyCounts(): Record<FaultType, number> {
  return { down: 0, error: 0, latency: 0, hang: 0, reset: 0 };
}

/** Ends the connection abruptly: a TCP RST where the platform allows it, so the client sees ECONNRESET. */
function destroySocket(res: Response): void {
  const socket = res.req.socket;
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}
