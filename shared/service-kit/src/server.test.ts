import http from 'node:http';
import axios, { isAxiosError } from 'axios';
import type { Service } from './app';
import { handleSignals, runService, type RunningService, start } from './server';
import { listen, memoryLogger, request, testApp, testConfig, track, turns, until } from './support.test.util';

/** A service with `GET /slow`, which answers when the test says so. */
function slowService(options: Parameters<typeof testApp>[0] = {}) {
  let entered = 0;
  const releases: Array<() => void> = [];
  const service = testApp({
    ...options,
    routes: (router) => {
      router.get('/slow', async (_req, res) => {
        entered += 1;
        await new Promise<void>((resolve) => releases.push(resolve));
        res.json({ finished: true });
      });
    },
  });
  return {
    service,
    entered: () => entered,
    release: () => releases.splice(0).forEach((resolve) => resolve()),
  };
}

async function errorCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    if (isAxiosError(error)) return error.code;
    return (error as NodeJS.ErrnoException).code;
  }
  throw new Error('expected the request to fail');
}

let running: RunningService | undefined;
afterEach(async () => {
  jest.useRealTimers();
  await running?.shutdown();
  running = undefined;
});

describe('start', () => {
  it('listens on a free port and reports it', async () => {
    running = await listen(testApp());
    expect(running.port).toBeGreaterThan(0);
    expect(running.url).toBe(`http://127.0.0.1:${running.port}`);
    expect((await request(running, { url: '/health/live' })).status).toBe(200);
  });

  it('takes a bare port number', async () => {
    const service = testApp();
    running = await start(service, 0);
    expect(running.port).toBeGreaterThan(0);
    expect((await request(running, { url: '/items/3' })).data).toEqual({ id: '3' });
  });

  it('rejects when the port is taken', async () => {
    running = await listen(testApp());
    await expect(start(testApp(), { port: running.port, host: '127.0.0.1' })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});

describe('shutdown', () => {
  it('finishes an in-flight request, refuses new connections, then runs closers in reverse order', async () => {
    const { service, entered, release } = slowService();
    const order: string[] = [];
    service.onClose('broker', () => {
      order.push('broker');
    });
    service.onClose('http-client', async () => {
      await Promise.resolve();
      order.push('http-client');
    });
    running = await listen(service, { shutdownTimeoutMs: 60_000 });
    const server = running;

    const inFlight = request(server, { url: '/slow' });
    await until(() => entered() === 1);
    expect(server.inFlight).toBe(1);

    const stopping = track(server.shutdown('test'));
    await turns();
    expect(await errorCode(axios.get(`${server.url}/health/live`))).toBe('ECONNREFUSED');
    expect(stopping.settled()).toBe(false);
    expect(order).toEqual([]); // closers wait for the drain

    release();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ finished: true });
    expect(await stopping.promise).toEqual({ forced: false, cutRequests: 0, failedClosers: 0 });
    expect(order).toEqual(['http-client', 'broker']);
    expect(server.server.listening).toBe(false);
  });

  it('says not ready (503) during the shutdown delay while still serving, liveness stays 200', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'hrtime', 'performance'] });
    const service = testApp();
    running = await listen(service, { shutdownDelayMs: 5_000 });
    const server = running;
    expect((await request(server, { url: '/health/ready' })).status).toBe(200);

    const stopping = track(server.shutdown('SIGTERM'));
    const ready = await request(server, { url: '/health/ready' });
    expect(ready.status).toBe(503);
    expect(ready.data).toMatchObject({ status: 'shutting_down' });
    expect((await request(server, { url: '/health/live' })).status).toBe(200);
    expect((await request(server, { url: '/items/1' })).status).toBe(200);

    await jest.advanceTimersByTimeAsync(5_000);
    await stopping.promise;
    expect(server.server.listening).toBe(false);
  });

  it('does not wait for idle keep-alive connections, and closes a busy one once its answer is sent', async () => {
    const { service, entered, release } = slowService();
    running = await listen(service, { shutdownTimeoutMs: 60_000 });
    const server = running;
    const agent = new http.Agent({ keepAlive: true });
    try {
      const client = axios.create({ baseURL: server.url, httpAgent: agent, proxy: false });
      await client.get('/items/1'); // leaves an idle keep-alive socket
      const busy = client.get('/slow');
      await until(() => entered() === 1);
      const stopping = server.shutdown();
      release();
      const res = await busy;
      expect(res.headers.connection).toBe('close');
      // Would hang until the 60 s deadline (and fail the test) if a socket stayed open.
      expect((await stopping).forced).toBe(false);
    } finally {
      agent.destroy();
    }
  });

  it('runs drain hooks as draining starts, so that an endless event stream ends without waiting for the deadline', async () => {
    const streams = new Set<import('express').Response>();
    const service = testApp({
      routes: (router) => {
        router.get('/events', (_req, res) => {
          res.setHeader('Content-Type', 'text/event-stream');
          res.write('data: hello\n\n');
          streams.add(res);
        });
      },
    });
    const seen: string[] = [];
    service.onDrain('sse', () => {
      seen.push(`drain with ${streams.size} stream(s)`);
      for (const res of streams) res.end();
    });
    service.onClose('closer', () => {
      seen.push('close');
    });
    running = await listen(service, { shutdownTimeoutMs: 60_000 });
    const server = running;
    const chunks: string[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      http.get(`${server.url}/events`, (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => chunks.push(chunk));
        res.on('end', resolve);
      }).on('error', reject);
    });
    await until(() => streams.size === 1);
    // Would wait for the 60 s deadline (and fail the test) without the drain hook.
    expect(await server.shutdown()).toEqual({ forced: false, cutRequests: 0, failedClosers: 0 });
    await ended;
    expect(chunks.join('')).toBe('data: hello\n\n');
    expect(seen).toEqual(['drain with 1 stream(s)', 'close']);
  });

  it('cuts requests still running at the deadline', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'hrtime', 'performance'] });
    const { logger, lines } = memoryLogger();
    const { service, entered } = slowService({ logger });
    let closed = false;
    service.onClose('after-cut', () => {
      closed = true;
    });
    running = await listen(service, { shutdownTimeoutMs: 2_000 });
    const server = running;
    const stuck = errorCode(request(server, { url: '/slow' }));
    await until(() => entered() === 1);

    const stopping = track(server.shutdown());
    await jest.advanceTimersByTimeAsync(1_999);
    await turns(50);
    expect(stopping.settled()).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(await stopping.promise).toEqual({ forced: true, cutRequests: 1, failedClosers: 0 });
    expect(await stuck).toBe('ECONNRESET');
    expect(closed).toBe(true);
    expect(lines.find((line) => line.message === 'shutdown deadline passed: cutting the remaining connections')).toMatchObject({ level: 'warn', inFlight: 1 });
  });

  it('runs every closer even when one fails, and reports it', async () => {
    const { logger, lines } = memoryLogger();
    const service = testApp({ logger });
    const ran: string[] = [];
    service.onClose('first', () => {
      ran.push('first');
    });
    service.onClose('broken', () => {
      throw new Error('channel already closed');
    });
    running = await listen(service);
    expect((await running.shutdown()).failedClosers).toBe(1);
    expect(ran).toEqual(['first']);
    expect(lines.find((line) => line.message === 'closer failed during shutdown')).toMatchObject({ closer: 'broken', level: 'error' });
  });

  it('is idempotent', async () => {
    running = await listen(testApp());
    const a = running.shutdown();
    const b = running.shutdown();
    expect(b).toBe(a);
    await a;
  });
});

describe('signals', () => {
  it('SIGTERM shuts down gracefully, then exits 0; a second signal exits 1 at once', async () => {
    const { service, entered, release } = slowService();
    running = await listen(service, { shutdownTimeoutMs: 60_000 });
    const server = running;
    const exit = jest.fn();
    const before = process.listenerCount('SIGINT');
    const remove = handleSignals(server, { exit, logger: service.logger });
    expect(process.listenerCount('SIGINT')).toBe(before + 1);
    try {
      const inFlight = request(server, { url: '/slow' });
      await until(() => entered() === 1);
      process.emit('SIGTERM');
      await turns();
      expect(service.health.isShuttingDown).toBe(true);
      expect(exit).not.toHaveBeenCalled();

      process.emit('SIGINT');
      expect(exit).toHaveBeenCalledWith(1);
      expect(process.listenerCount('SIGINT')).toBe(before); // removed before exiting

      release();
      expect((await inFlight).status).toBe(200);
      // The graceful shutdown still completes (a real process would be gone by now).
      await until(() => exit.mock.calls.length === 2);
      expect(exit).toHaveBeenLastCalledWith(0);
    } finally {
      remove();
    }
  });
});

describe('runService', () => {
  it('exits 1 when the service cannot listen', async () => {
    running = await listen(testApp());
    const exit = jest.fn();
    const { logger, lines } = memoryLogger();
    const service: Service = testApp({ logger, config: testConfig({ PORT: String(running.port), HOST: '127.0.0.1' }) });
    expect(await runService(service, { exit })).toBeUndefined();
    expect(exit).toHaveBeenCalledWith(1);
    expect(lines.find((line) => line.message === 'could not start')).toBeDefined();
  });

  it('starts on config.PORT and installs the signal handlers', async () => {
    const before = process.listenerCount('SIGTERM');
    const exit = jest.fn();
    const service = testApp({ config: testConfig({ HOST: '127.0.0.1' }) });
    const started = await runService(service, { exit });
    expect(started).toBeDefined();
    running = started;
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    process.emit('SIGTERM');
    await until(() => exit.mock.calls.length === 1);
    expect(exit).toHaveBeenCalledWith(0);
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});
