import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ProcessInfo, SupervisorError } from './supervisor';

/**
 * The launcher's control server, for the chaos CLI: on 127.0.0.1 only, every route behind
 * `Authorization: Bearer <admin token>`.
 *
 *   GET  /services                      → { services: ProcessInfo[] }
 *   POST /services/:name/kill|start|restart → { service: ProcessInfo }
 */
export interface Controllable {
  list(): ProcessInfo[];
  kill(name: string): Promise<ProcessInfo>;
  start(name: string): ProcessInfo;
  restart(name: string): Promise<ProcessInfo>;
}

export const CONTROL_ACTIONS = ['kill', 'start', 'restart'] as const;
export type ControlAction = (typeof CONTROL_ACTIONS)[number];

export function tokenMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer (.+)$/.exec(header ?? '');
  if (match === null) return false;
  const given = Buffer.from(match[1]!);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function send(res: http.ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

export interface ControlServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startControlServer(target: Controllable, options: { token: string; host?: string; port?: number }): Promise<ControlServer> {
  const server = http.createServer((req, res) => {
    req.resume();
    if (!tokenMatches(req.headers.authorization, options.token)) {
      send(res, req.headers.authorization === undefined ? 401 : 403, { error: 'UNAUTHORIZED', message: 'Authorization: Bearer <ADMIN_TOKEN> is required' });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://control');
    if (req.method === 'GET' && url.pathname === '/services') {
      send(res, 200, { services: target.list() });
      return;
    }
    const match = /^\/services\/([a-z-]+)\/(kill|start|restart)$/.exec(url.pathname);
    if (req.method !== 'POST' || match === null) {
      send(res, 404, { error: 'NOT_FOUND', message: `${req.method} ${url.pathname} is not a control route` });
      return;
    }
    const [, name, action] = match as unknown as [string, string, ControlAction];
    const run = async (): Promise<ProcessInfo> => (action === 'start' ? target.start(name) : action === 'kill' ? target.kill(name) : target.restart(name));
    run().then(
      (service) => send(res, 200, { service }),
      (error: unknown) => {
        if (error instanceof SupervisorError) send(res, error.status, { error: error.status === 404 ? 'UNKNOWN_SERVICE' : 'CONFLICT', message: error.message });
        else send(res, 500, { error: 'INTERNAL', message: error instanceof Error ? error.message : String(error) });
      },
    );
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
