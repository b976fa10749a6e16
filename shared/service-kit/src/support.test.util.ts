/**
 * Helpers for the kit's own tests (not exported from the package; the file name
 * keeps it out of the published files).
 */
import { Writable } from 'node:stream';
import axios, { type AxiosRequestConfig, type AxiosResponse } from 'axios';
import winston from 'winston';
import { z } from 'zod';
import { createApp, type CreateAppOptions, type Service } from './app';
import { type BaseConfig, baseConfigSchema, loadConfig } from './config';
import { getRequestId } from './context';
import { HttpError } from './errors';
import { createLogger, type Logger } from './logger';
import { type RunningService, start, type StartOptions } from './server';
import { validateBody } from './validate';

export const ADMIN_TOKEN = 'test-admin-token-0123';

/** A config as a service would load it, quiet unless told otherwise. */
export function testConfig(env: Record<string, string> = {}): BaseConfig {
  return loadConfig(baseConfigSchema, { LOG_LEVEL: 'silent', PORT: '0', NODE_ENV: 'test', ...env });
}

/** The same with fault injection on. */
export function faultConfig(env: Record<string, string> = {}): BaseConfig {
  return testConfig({ FAULTS_ENABLED: 'true', ADMIN_TOKEN, ...env });
}

/** A logger whose JSON lines land in `lines`. */
export function memoryLogger(service = 'test', level: 'debug' | 'http' | 'info' = 'debug'): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: createLogger({ service, level, transports: [new winston.transports.Stream({ stream })] }), lines };
}

export const itemSchema = z.object({ name: z.string().min(1), quantity: z.number().int().min(1) });

/** A small service with the kinds of routes a stub has. */
export function testApp(options: Partial<CreateAppOptions> = {}): Service {
  return createApp({
    name: 'test',
    config: testConfig(),
    ...options,
    routes: (router, service) => {
      router.get('/items/:id', (req, res) => {
        res.json({ id: req.params.id });
      });
      router.post('/items', validateBody(itemSchema), (req, res) => {
        service.logger.info('item created', { item: (req.body as { name: string }).name });
        res.status(201).json({ ...(req.body as object), requestId: getRequestId() });
      });
      router.get('/conflict', () => {
        throw new HttpError(409, 'ALREADY_EXISTS', 'That item exists', { details: { itemId: 'i1' } });
      });
      router.get('/boom', () => {
        throw new Error('database password is hunter2 at /srv/app/db.ts');
      });
      router.get('/later', async (_req, res) => {
        await new Promise((resolve) => setImmediate(resolve));
        res.json({ requestId: getRequestId() });
      });
      options.routes?.(router, service);
    },
  });
}

/** Starts `service` on a free port; `running.shutdown()` stops it. */
export async function listen(service: Service, options: StartOptions = {}): Promise<RunningService> {
  return start(service, { port: 0, host: '127.0.0.1', ...options });
}

/** A client that never throws on a status, never reuses connections and never retries. */
export function request(running: RunningService, config: AxiosRequestConfig): Promise<AxiosResponse> {
  return axios.request({ baseURL: running.url, validateStatus: () => true, proxy: false, ...config, headers: { Connection: 'close', ...config.headers } });
}

export const adminHeaders = { Authorization: `Bearer ${ADMIN_TOKEN}` };

/** `PUT /admin/faults` that must succeed. */
export async function setFaults(running: RunningService, settings: Record<string, unknown>): Promise<void> {
  const res = await request(running, { method: 'PUT', url: '/admin/faults', data: settings, headers: adminHeaders });
  if (res.status !== 200) throw new Error(`PUT /admin/faults answered ${res.status}: ${JSON.stringify(res.data)}`);
}

/** Lets the event loop turn (real setImmediate, also under fake timers) so that sockets make progress. */
export async function turns(count = 20): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Turns the event loop until `condition` holds; fails after `maxTurns` turns (no wall clock involved). */
export async function until(condition: () => boolean, maxTurns = 5_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`condition not met after ${maxTurns} turns of the event loop`);
}

/** Tracks whether a promise settled, without letting a rejection go unhandled. */
export function track<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  return { promise, settled: () => done };
}

/** Value of one sample of the Prometheus text exposition, matched by name and a subset of labels. */
export function sample(exposition: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const have = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => have[key] === value)) return Number(match[3]);
  }
  return undefined;
}
