/**
 * A raw HTTP client for the fuzz and security suites: sends exactly the bytes it is given
 * (any body, any content type, repeated headers), with no retries and no keep-alive.
 */
import { request as httpRequest } from 'node:http';

export interface RawRequest {
  method: string;
  /** Path and query, already encoded as it should go on the wire. */
  path: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
  durationMs: number;
}

export function send(baseUrl: string, req: RawRequest, timeoutMs = 10_000): Promise<RawAnswer> {
  const url = new URL(baseUrl);
  const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8');
  // Characters beyond latin1 go on the wire as their UTF-8 bytes, as a hostile client would send them.
  const wire = (value: string) => (/[^\x00-\xff]/.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value);
  const headers: Record<string, string | string[] | number> = { Connection: 'close' };
  for (const [name, value] of Object.entries(req.headers ?? {})) headers[name] = Array.isArray(value) ? value.map(wire) : wire(value);
  if (body !== undefined) headers['Content-Length'] = body.length;
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const r = httpRequest(
      { host: url.hostname, port: url.port, method: req.method, path: req.path, headers, agent: false, timeout: timeoutMs, insecureHTTPParser: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json, durationMs: Number(process.hrtime.bigint() - started) / 1e6 });
        });
      },
    );
    r.on('timeout', () => r.destroy(new Error(`no answer within ${timeoutMs} ms: ${req.method} ${req.path}`)));
    r.on('error', reject);
    r.end(body);
  });
}

export function jsonRequest(method: string, path: string, body: unknown, headers: Record<string, string> = {}): RawRequest {
  return { method, path, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** The kit's error shape: `{ error, message, requestId }` with non-empty strings. */
export function isClearError(json: unknown): boolean {
  if (typeof json !== 'object' || json === null) return false;
  const { error, message, requestId } = json as Record<string, unknown>;
  return typeof error === 'string' && error.length > 0 && typeof message === 'string' && message.length > 0 && typeof requestId === 'string';
}

/** Counts of answers by status, printed by the suites. */
export class StatusTally {
  readonly byStatus = new Map<number, number>();
  total = 0;
  add(status: number): void {
    this.total += 1;
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
  }
  toString(): string {
    const parts = [...this.byStatus.entries()].sort(([a], [b]) => a - b).map(([status, count]) => `${status}×${count}`);
    return `${this.total} requests: ${parts.join(', ')}`;
  }
}
