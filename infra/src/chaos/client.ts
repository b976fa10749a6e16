import { spawn } from 'node:child_process';
import { CIRCUITS_PATH, FAULTS_PATH, PIPELINE_PATH, type ServiceName, TOPOLOGY } from '../topology';
import type { FaultSettings, ProcessAction } from './args';

/** HTTP calls and commands of the chaos CLI. Every call has a deadline: a hung stub must not hang the CLI. */

export class ChaosError extends Error {
  override readonly name = 'ChaosError';
}

const TIMEOUT_MS = 3_000;

async function call(url: string, init: RequestInit & { token?: string } = {}): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (init.token !== undefined) headers.Authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new ChaosError(`${url}: ${cause === 'TimeoutError' ? `no answer within ${TIMEOUT_MS} ms` : cause}`);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body };
}

function describeError(status: number, body: unknown): string {
  const message = typeof body === 'object' && body !== null && 'message' in body ? String((body as { message: unknown }).message) : JSON.stringify(body);
  const fields =
    typeof body === 'object' && body !== null && Array.isArray((body as { fields?: unknown }).fields)
      ? ` (${((body as { fields: { path: string; message: string }[] }).fields).map((field) => `${field.path}: ${field.message}`).join('; ')})`
      : '';
  const hint = status === 401 || status === 403 ? ' — is ADMIN_TOKEN the one the services run with?' : status === 404 ? ' — is fault injection enabled (FAULTS_ENABLED=true)?' : '';
  return `${status} ${message}${fields}${hint}`;
}

/** `PUT /admin/faults`: replaces the stub's fault settings; resolves with its snapshot. */
export async function putFaults(baseUrl: string, token: string, settings: FaultSettings): Promise<unknown> {
  const { status, body } = await call(`${baseUrl}${FAULTS_PATH}`, { method: 'PUT', token, body: JSON.stringify(settings) });
  if (status !== 200) throw new ChaosError(`PUT ${FAULTS_PATH}: ${describeError(status, body)}`);
  return body;
}

/** `DELETE /admin/faults`: healthy again, hanging requests released. */
export async function clearFaults(baseUrl: string, token: string): Promise<unknown> {
  const { status, body } = await call(`${baseUrl}${FAULTS_PATH}`, { method: 'DELETE', token });
  if (status !== 200) throw new ChaosError(`DELETE ${FAULTS_PATH}: ${describeError(status, body)}`);
  return body;
}

export async function getFaults(baseUrl: string, token: string | undefined): Promise<unknown> {
  if (token === undefined) throw new ChaosError('no ADMIN_TOKEN');
  const { status, body } = await call(`${baseUrl}${FAULTS_PATH}`, { token });
  if (status !== 200) throw new ChaosError(describeError(status, body));
  return body;
}

/** "errors 50% (503), latency 200±50 ms" from a fault snapshot (`GET /admin/faults`); "none" when healthy. */
export function summarizeFaults(snapshot: unknown): string {
  const settings = (snapshot as { settings?: Record<string, unknown> } | undefined)?.settings;
  if (settings === undefined || settings === null) return '?';
  const parts: string[] = [];
  if (settings.down === true) parts.push('down');
  if (settings.hang === true) parts.push('hang');
  if (settings.reset === true) parts.push('reset');
  if (typeof settings.errorRate === 'number' && settings.errorRate > 0) {
    parts.push(`errors ${Math.round(settings.errorRate * 1000) / 10}%${typeof settings.errorStatus === 'number' ? ` (${settings.errorStatus})` : ''}`);
  }
  if (typeof settings.latencyMs === 'number' && settings.latencyMs > 0) {
    parts.push(`latency ${settings.latencyMs}${typeof settings.jitterMs === 'number' && settings.jitterMs > 0 ? `±${settings.jitterMs}` : ''} ms`);
  }
  const flap = settings.flap as { periodMs?: number; dutyCycle?: number } | undefined;
  if (flap !== undefined && flap !== null) parts.push(`flap ${flap.periodMs} ms × ${flap.dutyCycle}`);
  if (typeof settings.everyNth === 'number') parts.push(`every ${settings.everyNth}th`);
  if (Array.isArray(settings.routes) && settings.routes.length > 0) parts.push(`on ${settings.routes.join(', ')}`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

/** Health of one service: "ready", "not_ready (broker)", "down (ECONNREFUSED)". */
export async function readHealth(baseUrl: string, route: string): Promise<string> {
  try {
    const { status, body } = await call(`${baseUrl}${route}`);
    const value = body as { status?: string; checks?: Record<string, { ok?: boolean }> } | undefined;
    const failing = Object.entries(value?.checks ?? {})
      .filter(([, check]) => check.ok === false)
      .map(([name]) => name);
    return `${value?.status ?? status}${failing.length > 0 ? ` (${failing.join(', ')})` : ''}`;
  } catch (error) {
    return `down (${(error as Error).message.replace(/^.*: /, '')})`;
  }
}

/** Checkout's breakers: name → state, from `GET /circuits`. */
export async function readCircuits(checkoutUrl: string): Promise<Record<string, { state?: string; failureRate?: number; rejected?: number }>> {
  const { status, body } = await call(`${checkoutUrl}${CIRCUITS_PATH}`);
  if (status !== 200) throw new ChaosError(`GET ${CIRCUITS_PATH}: ${status}`);
  return ((body as { circuits?: Record<string, { state?: string }> }).circuits ?? {}) as Record<string, { state?: string }>;
}

/**
 * The worker's health as checkout sees it: the worker has no HTTP server, and it holds a
 * consumer on the work queue while it takes messages (it cancels it while paused: its own
 * payment circuit open). Asked of checkout, which reads the queue (as the dashboard does).
 */
export async function readWorkerHealth(checkoutUrl: string): Promise<string> {
  let answer: { status: number; body: unknown };
  try {
    answer = await call(`${checkoutUrl}${PIPELINE_PATH}`);
  } catch (error) {
    return `? (checkout does not answer: ${(error as Error).message})`;
  }
  const pipeline = (answer.body as { pipeline?: { available?: boolean; reason?: string; work?: { messages?: number; consumers?: number } } | null } | undefined)?.pipeline;
  if (answer.status !== 200 || pipeline === undefined || pipeline === null) return `? (checkout answered ${answer.status})`;
  if (!pipeline.available) return `? (${pipeline.reason ?? 'queues not readable'})`;
  const consumers = pipeline.work?.consumers ?? 0;
  const waiting = pipeline.work?.messages ?? 0;
  return consumers > 0 ? `consuming (${waiting} waiting)` : `no consumer: paused or stopped (${waiting} waiting)`;
}

/** Fixed-width columns. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** POST /services/:name/<action> on the launcher's control server. */
export async function controlLauncher(controlUrl: string, token: string, action: ProcessAction, service: ServiceName): Promise<{ status: string; pid: number | null }> {
  const { status, body } = await call(`${controlUrl}/services/${service}/${action}`, { method: 'POST', token });
  if (status !== 200) throw new ChaosError(`${action} ${service}: ${describeError(status, body)}`);
  return (body as { service: { status: string; pid: number | null } }).service;
}

export async function launcherProcesses(controlUrl: string, token: string): Promise<Record<string, { status: string; pid: number | null }>> {
  const { status, body } = await call(`${controlUrl}/services`, { token });
  if (status !== 200) throw new ChaosError(`launcher: ${describeError(status, body)}`);
  return Object.fromEntries((body as { services: { name: string; status: string; pid: number | null }[] }).services.map((info) => [info.name, info]));
}

/** The Compose command: `COMPOSE` (e.g. "docker-compose"), else `docker compose`. */
export function composeCommand(env: NodeJS.ProcessEnv): string[] {
  const words = (env.COMPOSE ?? '').split(/\s+/).filter((word) => word.length > 0);
  return words.length > 0 ? words : ['docker', 'compose'];
}

/** `docker compose kill|start|restart <service>`, its output passed through; resolves with its exit code. */
export function runCompose(command: readonly string[], action: ProcessAction, service: ServiceName, cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, [...command.slice(1), action, service], { cwd, stdio: 'inherit' });
    child.once('error', (error) => reject(new ChaosError(`${command.join(' ')}: ${error.message}`)));
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

export const HTTP_SERVICES = TOPOLOGY.filter((spec) => spec.port !== null);
