import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from '@checkout/service-kit';
import { type NextFunction, type Request, type Response, Router } from 'express';
import { DASHBOARD_CSS, DASHBOARD_HTML, DASHBOARD_JS } from './page';
import { AnswerRecorder, type BreakerEventSource, CircuitHistory } from './recorder';

/** Ready messages of the payment-retry queues, and who consumes the work queue. */
export interface PipelineView {
  available: boolean;
  /** Why the queues cannot be read (broker down …). */
  reason?: string;
  broker: string;
  work?: { messages: number; consumers: number };
  delays?: { tier: string; ttlMs: number | null; messages: number }[];
  parked?: number;
  /**
   * What checkout can tell about the worker (a separate process): the work queue's consumers.
   * A paused worker cancels its consumer, so "no consumer" means paused or not running.
   */
  worker?: { state: 'consuming' | 'no-consumer'; consumers: number };
}

export interface ReplayView {
  replayed: number;
  failed: number;
  remaining: number;
  errors: readonly string[];
}

export interface DashboardDeps {
  /** The dependency breakers by name (undefined until they exist); their events feed the sparklines. */
  breakers: () => Record<string, BreakerEventSource> | undefined;
  /** Base URLs of the stubs whose faults the panel shows and changes, by name (read per request). */
  stubs: () => Record<string, string>;
  /** Checkout's ADMIN_TOKEN when set (read per request); without it, the stubs' admin API decides who is an admin. */
  adminToken?: () => string | undefined;
  /** The payment-retry pipeline; absent = not shown. */
  pipeline?: () => Promise<PipelineView>;
  /** Moves parked messages back to the work queue. */
  replayParked?: (limit: number | undefined) => Promise<ReplayView>;
  /** Checkout's answers (created when absent). */
  answers?: AnswerRecorder;
  /** Seconds of history per circuit (default 180). */
  historySeconds?: number;
  /** Deadline of a call to a stub's admin API (default 3 000 ms). */
  stubTimeoutMs?: number;
  /** Which requests are checkout's answers to record (default `POST /checkout`). */
  isAnswer?: (req: Request) => boolean;
}

/** Every asset the page needs comes from here: scripts, styles and data from checkout only. */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const STUB_NAME = /^[a-z][a-z0-9-]{0,40}$/;

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** The bearer token of the request; 401 without one. */
function bearer(req: Request): string {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.get('authorization') ?? '');
  if (match === null) {
    throw new HttpError(401, 'UNAUTHORIZED', 'A bearer token is required', { headers: { 'WWW-Authenticate': 'Bearer realm="admin"' } });
  }
  return match[1]!;
}

interface StubAnswer {
  status: number;
  body: unknown;
}

/**
 * `GET /dashboard` (the page and its two assets) and its API under `/dashboard/api`, plus a
 * middleware recording checkout's answers. Mount it before checkout's own routes.
 */
export function createDashboardRouter(deps: DashboardDeps): Router {
  const router = Router();
  const answers = deps.answers ?? new AnswerRecorder();
  const isAnswer = deps.isAnswer ?? ((req: Request) => req.method === 'POST' && req.path === '/checkout');
  const histories = new Map<string, CircuitHistory>();
  const offs: (() => void)[] = [];
  const stubTimeoutMs = deps.stubTimeoutMs ?? 3_000;
  const expectedToken = (): Buffer | undefined => {
    const token = deps.adminToken?.();
    return token ? sha256(token) : undefined;
  };

  /** Subscribes to the breakers once they exist (they are built after the routes). */
  const attach = (): void => {
    if (histories.size > 0) return;
    const breakers = deps.breakers();
    if (breakers === undefined) return;
    for (const [name, breaker] of Object.entries(breakers)) {
      const history = new CircuitHistory(deps.historySeconds ?? 180);
      offs.push(history.attach(breaker));
      histories.set(name, history);
    }
  };
  setImmediate(() => {
    try {
      attach();
    } catch {
      // attached on the next request
    }
  });

  router.use((req: Request, res: Response, next: NextFunction) => {
    attach();
    if (isAnswer(req)) {
      const started = process.hrtime.bigint();
      res.once('finish', () => answers.record(res.statusCode, Number(process.hrtime.bigint() - started) / 1e6));
    }
    next();
  });

  async function callStub(name: string, method: 'GET' | 'PUT' | 'DELETE', token: string, body?: unknown): Promise<StubAnswer> {
    const stubs = deps.stubs();
    const base = Object.hasOwn(stubs, name) ? stubs[name] : undefined;
    if (base === undefined) throw new HttpError(404, 'UNKNOWN_SERVICE', 'No such stub');
    try {
      const res = await fetch(new URL('/admin/faults', base), {
        method,
        headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(stubTimeoutMs),
        redirect: 'error',
      });
      const text = await res.text();
      let parsed: unknown = null;
      try {
        parsed = text.length > 0 ? JSON.parse(text) : null;
      } catch {
        parsed = { error: 'BAD_STUB_ANSWER', message: 'The stub did not answer JSON' };
      }
      return { status: res.status, body: parsed };
    } catch (error) {
      return { status: 502, body: { error: 'STUB_UNREACHABLE', message: `${name} cannot be reached: ${describe(error)}` } };
    }
  }

  /**
   * 401 without a bearer token, 403 with a wrong one. Checked against checkout's ADMIN_TOKEN
   * when set; otherwise against a stub's admin API (the launcher gives the stubs the token).
   */
  async function authorize(req: Request): Promise<string> {
    const token = bearer(req);
    const expected = expectedToken();
    if (expected !== undefined) {
      if (!timingSafeEqual(sha256(token), expected)) throw new HttpError(403, 'FORBIDDEN', 'The token is not valid for this resource');
      return token;
    }
    // The first stub that answers decides (one may be down: that is what the dashboard is for).
    for (const name of Object.keys(deps.stubs())) {
      const answer = await callStub(name, 'GET', token);
      if (answer.status === 200) return token;
      if (answer.status === 401 || answer.status === 403) throw new HttpError(403, 'FORBIDDEN', 'The token is not valid for this resource');
    }
    throw new HttpError(503, 'ADMIN_UNAVAILABLE', 'No ADMIN_TOKEN is configured on checkout and no stub can check the token right now');
  }

  const page = (type: string, body: string) => (_req: Request, res: Response) => {
    res.setHeader('Content-Security-Policy', PAGE_CSP);
    res.type(type).send(body);
  };
  router.get('/dashboard', page('html', DASHBOARD_HTML));
  router.get('/dashboard/assets/dashboard.js', page('application/javascript', DASHBOARD_JS));
  router.get('/dashboard/assets/dashboard.css', page('css', DASHBOARD_CSS));

  /** Everything but the circuits (those come from /circuits/stream): history, pipeline, answers. */
  router.get('/dashboard/api/overview', async (_req: Request, res: Response) => {
    attach();
    const history = Object.fromEntries([...histories].map(([name, h]) => [name, h.view()]));
    let pipeline: PipelineView | null = null;
    if (deps.pipeline) {
      try {
        pipeline = await deps.pipeline();
      } catch (error) {
        pipeline = { available: false, broker: 'unknown', reason: describe(error) };
      }
    }
    res.json({ at: Date.now(), history, answers: answers.summary(), pipeline, stubs: Object.keys(deps.stubs()), replay: deps.replayParked !== undefined });
  });

  /** The current faults of every stub (admin only: the stubs' admin API needs the token). */
  router.get('/dashboard/api/faults', async (req: Request, res: Response) => {
    const token = await authorize(req);
    const names = Object.keys(deps.stubs());
    const results = await Promise.all(names.map((name) => callStub(name, 'GET', token)));
    res.json({ services: Object.fromEntries(names.map((name, i) => [name, results[i]])) });
  });

  const change = (method: 'PUT' | 'DELETE') => async (req: Request, res: Response) => {
    const service = String(req.params.service);
    if (!STUB_NAME.test(service) || !Object.hasOwn(deps.stubs(), service)) throw new HttpError(404, 'UNKNOWN_SERVICE', 'No such stub');
    // With checkout's own ADMIN_TOKEN, checkout decides; without it, the stub does (401/403 passed on).
    const token = expectedToken() === undefined ? bearer(req) : await authorize(req);
    const answer = await callStub(service, method, token, method === 'PUT' ? (req.body ?? {}) : undefined);
    res.status(answer.status).json(answer.body);
  };
  router.put('/dashboard/api/faults/:service', change('PUT'));
  router.delete('/dashboard/api/faults/:service', change('DELETE'));

  router.post('/dashboard/api/parked/replay', async (req: Request, res: Response) => {
    await authorize(req);
    if (!deps.replayParked) throw new HttpError(404, 'NOT_AVAILABLE', 'Replay is not available here');
    const raw = (req.body as { limit?: unknown } | undefined)?.limit;
    if (raw !== undefined && !(Number.isInteger(raw) && (raw as number) >= 1 && (raw as number) <= 100_000)) {
      throw new HttpError(400, 'VALIDATION_FAILED', 'limit must be an integer from 1 to 100000');
    }
    try {
      res.json(await deps.replayParked(raw as number | undefined));
    } catch (error) {
      throw new HttpError(503, 'REPLAY_FAILED', `Parked messages could not be replayed: ${describe(error)}`, { cause: error });
    }
  });

  return router;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: unknown } }).cause;
    return typeof cause?.code === 'string' ? `${error.message} (${cause.code})` : error.message;
  }
  return String(error);
}
