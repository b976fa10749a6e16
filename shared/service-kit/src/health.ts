import { Router } from 'express';

/** What a readiness check reports; `details` is shown as is (keep secrets out). */
export interface ReadinessResult {
  ok: boolean;
  details?: unknown;
}

/** Whether this process can accept work now (its broker channel is open, its data is loaded…). */
export type ReadinessCheck = () => ReadinessResult | boolean | Promise<ReadinessResult | boolean>;

export interface CheckReport {
  ok: boolean;
  details?: unknown;
  error?: string;
}

export interface ReadinessReport {
  status: 'ready' | 'not_ready' | 'shutting_down';
  checks: Record<string, CheckReport>;
  /** Circuit states, for information only: an open circuit never makes a service unready. */
  circuits: Record<string, string>;
}

export interface HealthOptions {
  /** A check that takes longer fails (default 2 000 ms), so that readiness always answers. */
  checkTimeoutMs?: number;
  /** Breakers to report (names and states). */
  circuits?: () => ReadonlyArray<{ readonly name: string; readonly state: string }>;
}

/**
 * Liveness and readiness.
 * - `GET /health/live`: 200 while the event loop runs. It checks the process only:
 *   a downstream outage must not get the process restarted.
 * - `GET /health/ready`: 200 when every registered check passes, else 503 with the
 *   report; 503 from the start of shutdown on.
 */
export class Health {
  private readonly checks = new Map<string, ReadinessCheck>();
  private shuttingDown = false;
  private readonly checkTimeoutMs: number;
  private readonly circuits: HealthOptions['circuits'];
  private readonly startedAt = Date.now();

  constructor(options: HealthOptions = {}) {
    this.checkTimeoutMs = options.checkTimeoutMs ?? 2_000;
    this.circuits = options.circuits;
  }

  /** Adds a readiness check; returns a function that removes it. */
  addCheck(name: string, check: ReadinessCheck): () => void {
    if (this.checks.has(name)) throw new Error(`A readiness check named '${name}' is already registered`);
    this.checks.set(name, check);
    return () => {
      if (this.checks.get(name) === check) this.checks.delete(name);
    };
  }

  /** From now on readiness answers 503. */
  beginShutdown(): void {
    this.shuttingDown = true;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  async readiness(): Promise<ReadinessReport> {
    const circuits: Record<string, string> = {};
    for (const breaker of this.circuits?.() ?? []) circuits[breaker.name] = breaker.state;
    if (this.shuttingDown) return { status: 'shutting_down', checks: {}, circuits };

    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => [name, await this.run(check)] as const),
    );
    const checks = Object.fromEntries(entries);
    const ok = entries.every(([, report]) => report.ok);
    return { status: ok ? 'ready' : 'not_ready', checks, circuits };
  }

  private async run(check: ReadinessCheck): Promise<CheckReport> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<CheckReport>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, error: `check timed out after ${this.checkTimeoutMs} ms` }), this.checkTimeoutMs);
      timer.unref();
    });
    const result = (async (): Promise<CheckReport> => {
      try {
        const value = await check();
        return typeof value === 'boolean' ? { ok: value } : { ok: value.ok === true, details: value.details };
      } catch (error) {
        return { ok: false, error: error instanceof Error ? error.message : String(error) };
      }
    })();
    try {
      return await Promise.race([result, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  router(): Router {
    const router = Router();
    router.get('/health/live', (_req, res) => {
      res.json({ status: 'ok', uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000) });
    });
    router.get('/health/ready', async (_req, res) => {
      const report = await this.readiness();
      res.status(report.status === 'ready' ? 200 : 503).json(report);
    });
    return router;
  }
}
