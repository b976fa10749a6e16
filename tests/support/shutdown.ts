/**
 * Load for the SIGTERM suites: keep-alive clients and connection-per-request clients sending
 * requests to a real process until it is gone, and the classification of what happened to each
 * request around the moment the listener closed.
 */
import { Agent, request as httpRequest } from 'node:http';
import type { LogEntry } from './process';

export interface Outcome {
  startedAt: number;
  endedAt: number;
  status?: number;
  /** The answer's body (text). */
  body?: string;
  error?: string;
  reusedSocket: boolean;
  /** Sent on a connection of its own (no keep-alive). */
  fresh: boolean;
  /** Its number in the load (what `request(n)` got); -1 outside `runLoad`. */
  n: number;
}

export function post(url: URL, agent: Agent | false, path: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<Omit<Outcome, 'fresh' | 'n'>> {
  const startedAt = Date.now();
  return new Promise((resolve) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method: 'POST', path, agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ startedAt, endedAt: Date.now(), status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), reusedSocket: req.reusedSocket }),
        );
        res.on('error', (error: NodeJS.ErrnoException) => resolve({ startedAt, endedAt: Date.now(), error: error.code ?? error.message, reusedSocket: req.reusedSocket }));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error('client timeout')));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ startedAt, endedAt: Date.now(), error: error.code ?? error.message, reusedSocket: req.reusedSocket }));
    req.end(body);
  });
}

export interface LoadOptions {
  url: string;
  keepAliveClients: number;
  freshClients: number;
  /** The n-th request (n counts across all clients). */
  request(n: number): { path: string; body: object; headers?: Record<string, string> };
  /** True once the process is gone: each client then stops after its next failed request. */
  gone(): boolean;
  /** Client-side timeout of one request. */
  timeoutMs: number;
}

/** Runs the clients; `done` resolves when every client has stopped (after the process is gone). */
export function runLoad(options: LoadOptions): { outcomes: Outcome[]; done: Promise<void> } {
  const url = new URL(options.url);
  const outcomes: Outcome[] = [];
  let sequence = 0;
  const client = async (fresh: boolean): Promise<void> => {
    const agent = fresh ? false : new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // Until the process is gone, and then until this client has been refused once.
      for (;;) {
        const n = sequence++;
        const { path, body, headers } = options.request(n);
        const outcome = await post(url, agent, path, JSON.stringify(body), headers ?? {}, options.timeoutMs);
        outcomes.push({ ...outcome, fresh, n });
        if (options.gone() && outcome.error !== undefined) break;
        if (outcome.error === 'ECONNREFUSED') await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      if (agent) agent.destroy();
    }
  };
  const clients = [...Array.from({ length: options.keepAliveClients }, () => client(false)), ...Array.from({ length: options.freshClients }, () => client(true))];
  return { outcomes, done: Promise.all(clients).then(() => undefined) };
}

export interface Classified {
  answered: Outcome[];
  inFlightAtSigterm: Outcome[];
  acceptedAfterSigterm: Outcome[];
  refused: Outcome[];
  /** On a reused keep-alive socket: the server closed an idle connection as the client wrote to it (Node documents it: `req.reusedSocket`). */
  keepAliveRace: Outcome[];
  /** Resets of connections opened as the listener closed (their request was never read). */
  listenerCloseRace: Outcome[];
  /** Any other socket error: a request the server accepted and failed. */
  badErrors: Outcome[];
  /** When the listener closed (epoch ms), from the process's log. */
  closeAt: number;
}

/**
 * Sorts the outcomes. The listener closes SHUTDOWN_DELAY_MS after the process logged
 * `shutting down`; a connection opened from 100 ms before that until the first refusal (under
 * load the close may lag the timer) may be reset instead of refused — its request was never
 * read. That holds for any new connection, a keep-alive agent's first request on a new socket
 * included (after the server answered `Connection: close`, the agent opens a new one). Everything else that is not an answer, a refusal or the keep-alive race is a bad error.
 */
export function classify(outcomes: Outcome[], sigtermAt: number, entries: LogEntry[], shutdownDelayMs: number): Classified {
  const answered = outcomes.filter((o) => o.status !== undefined);
  const inFlightAtSigterm = answered.filter((o) => o.startedAt < sigtermAt && o.endedAt >= sigtermAt);
  const acceptedAfterSigterm = answered.filter((o) => o.startedAt >= sigtermAt);
  const refused = outcomes.filter((o) => o.error === 'ECONNREFUSED');
  const keepAliveRace = outcomes.filter((o) => o.error !== undefined && o.error !== 'ECONNREFUSED' && o.reusedSocket && /ECONNRESET|socket hang up|EPIPE/.test(o.error));
  const shuttingDown = entries.find((entry) => entry.message === 'shutting down')?.timestamp;
  const closeAt = (shuttingDown === undefined ? sigtermAt : Date.parse(shuttingDown)) + shutdownDelayMs;
  const firstRefusal = Math.min(...refused.map((o) => o.endedAt));
  const windowEnd = Math.max(closeAt + 150, Number.isFinite(firstRefusal) ? firstRefusal + 50 : 0);
  const listenerCloseRace = outcomes.filter((o) => o.error === 'ECONNRESET' && !o.reusedSocket && o.startedAt >= closeAt - 100 && o.startedAt <= windowEnd);
  const badErrors = outcomes.filter((o) => o.error !== undefined && o.error !== 'ECONNREFUSED' && !keepAliveRace.includes(o) && !listenerCloseRace.includes(o));
  return { answered, inFlightAtSigterm, acceptedAfterSigterm, refused, keepAliveRace, listenerCloseRace, badErrors, closeAt };
}

/** `"<error> (fresh …, reused …, started … ms after the listener close, ended …)"`, for failure messages. */
export function describeOutcome(o: Outcome, closeAt: number): string {
  return `${o.error ?? o.status} (fresh ${o.fresh}, reused ${o.reusedSocket}, started ${o.startedAt - closeAt} ms after the listener close, ended ${o.endedAt - closeAt})`;
}
