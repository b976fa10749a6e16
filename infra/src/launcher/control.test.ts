import { type ControlServer, startControlServer, tokenMatches } from './control';
import { type ProcessInfo, SupervisorError } from './supervisor';

const TOKEN = 'control-test-token';

function info(name: string, status: ProcessInfo['status']): ProcessInfo {
  return { name, status, pid: status === 'running' ? 42 : null, exitCode: null, signal: null, restarts: 0 };
}

describe('the control server', () => {
  const calls: string[] = [];
  let server: ControlServer;

  beforeAll(async () => {
    server = await startControlServer(
      {
        list: () => [info('payment', 'running')],
        start: (name) => {
          calls.push(`start ${name}`);
          if (name === 'checkout') throw new SupervisorError('checkout is already running', 409);
          return info(name, 'running');
        },
        kill: async (name) => {
          calls.push(`kill ${name}`);
          if (name === 'billing') throw new SupervisorError('unknown service "billing"', 404);
          return info(name, 'killed');
        },
        restart: async (name) => {
          calls.push(`restart ${name}`);
          return info(name, 'running');
        },
      },
      { token: TOKEN },
    );
  });

  afterAll(() => server.close());

  const request = (method: string, path: string, token: string | null = TOKEN) =>
    fetch(`${server.url}${path}`, { method, headers: token === null ? {} : { Authorization: `Bearer ${token}` } });

  test('listens on 127.0.0.1 only', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('needs the admin token: 401 without one, 403 with a wrong one, and does nothing', async () => {
    expect((await request('POST', '/services/payment/kill', null)).status).toBe(401);
    expect((await request('POST', '/services/payment/kill', 'wrong-token')).status).toBe(403);
    expect(calls).toEqual([]);
  });

  test('lists, kills, starts and restarts', async () => {
    await expect((await request('GET', '/services')).json()).resolves.toEqual({ services: [info('payment', 'running')] });
    await expect((await request('POST', '/services/payment/kill')).json()).resolves.toEqual({ service: info('payment', 'killed') });
    await expect((await request('POST', '/services/payment/start')).json()).resolves.toEqual({ service: info('payment', 'running') });
    expect((await request('POST', '/services/shipping/restart')).status).toBe(200);
    expect(calls).toEqual(['kill payment', 'start payment', 'restart shipping']);
  });

  test("passes the supervisor's refusals on as 404 and 409", async () => {
    const unknown = await request('POST', '/services/billing/kill');
    expect(unknown.status).toBe(404);
    await expect(unknown.json()).resolves.toMatchObject({ error: 'UNKNOWN_SERVICE' });
    const conflict = await request('POST', '/services/checkout/start');
    expect(conflict.status).toBe(409);
    await expect(conflict.json()).resolves.toEqual({ error: 'CONFLICT', message: 'checkout is already running' });
  });

  test('other routes and methods are 404', async () => {
    expect((await request('GET', '/services/payment/kill')).status).toBe(404);
    expect((await request('POST', '/services/payment/explode')).status).toBe(404);
  });

  test('tokenMatches wants exactly "Bearer <token>"', () => {
    expect(tokenMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(tokenMatches(`bearer ${TOKEN}`, TOKEN)).toBe(false);
    expect(tokenMatches(`Bearer ${TOKEN}x`, TOKEN)).toBe(false);
    expect(tokenMatches(undefined, TOKEN)).toBe(false);
  });
});
