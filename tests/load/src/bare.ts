import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';

/**
 * The physical limit for this work on this machine: a bare Express handler in its own
 * process that parses the same order body and answers 201 with a checkout-like JSON, nothing
 * else (no validation, no calls). Healthy checkout capacity ÷ this = what the fan-out costs.
 */

export function bareApp(): express.Express {
  const app = express();
  app.use(express.json());
  app.post('/checkout', (req, res) => {
    const body = req.body as { items?: unknown[] };
    res.status(201).json({ orderId: `ord_${randomUUID()}`, status: 'SHIPPING_SCHEDULED', items: body.items?.length ?? 0, warnings: [] });
  });
  return app;
}

/** Forks this file as a process; resolves with its URL and a stop function. */
export async function startBare(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child: ChildProcess = fork(__filename, ['--serve'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`bare handler exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

if (require.main === module && process.argv.includes('--serve')) {
  const server = bareApp().listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
