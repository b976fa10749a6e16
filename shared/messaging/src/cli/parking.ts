#!/usr/bin/env node
/**
 * Parking-lot CLI.
 *
 *   npm run parking -- list [--limit N] [--json]
 *   npm run parking -- count
 *   npm run parking -- replay [--limit N]
 *
 * Environment: AMQP_URL (default amqp://guest:guest@127.0.0.1:5672), MESSAGING_PREFIX (default '').
 * It never declares anything: it only reads the parking queue and publishes to the work exchange.
 */
import { MessagingConnection } from '../connection';

import { countParked, peekParked, replayParked } from '../parking';

const CONNECT_TIMEOUT_MS = 10_000;

const USAGE = `usage: parking <list|count|replay> [--limit N] [--json] [--prefix P]
  list       show parked messages (default 20), left in place
  count      number of parked messages
  replay     move parked messages back to the work queue with retry-count 0 (all, or --limit N)
  --prefix P name prefix of the topology (default: MESSAGING_PREFIX, else none)
  --help     this text
env: AMQP_URL (default amqp://guest:guest@127.0.0.1:5672), MESSAGING_PREFIX
exit: 0 ok, 1 failure (including a replay with failed messages), 2 usage`;

export interface ParkingCliArgs {
  command: string;
  limit: number | undefined;
  json: boolean;
  prefix: string;
}

export function parseParkingArgs(argv: readonly string[], env: NodeJS.ProcessEnv): ParkingCliArgs {
  const args: ParkingCliArgs = { command: '', limit: undefined, json: false, prefix: env.MESSAGING_PREFIX ?? '' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--json') args.json = true;
    else if (arg === '--limit' || arg === '--prefix') {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      if (arg === '--prefix') args.prefix = value;
      else {
        if (!/^\d+$/.test(value) || Number(value) === 0) throw new Error(`--limit must be a positive integer, got '${value}'`);
        args.limit = Number(value);
      }
    } else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else if (!args.command) args.command = arg;
    else throw new Error(`unexpected argument '${arg}'`);
  }
  if (!['list', 'count', 'replay'].includes(args.command)) throw new Error(args.command ? `unknown command '${args.command}'` : 'missing command');
  return args;
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]+)@/, '//$1:***@');
}

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const consoleIo: CliIo = { out: (line) => console.log(line), err: (line) => console.error(line) };

/** Runs one CLI command; resolves with the exit code (0 ok, 1 failure, 2 usage). */
export async function runParkingCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, io: CliIo = consoleIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h') || argv[0] === 'help') {
    io.out(USAGE);
    return 0;
  }
  let args: ParkingCliArgs;
  try {
    args = parseParkingArgs(argv, env);
  } catch (error) {
    io.err(`parking: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const url = env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  const mq = new MessagingConnection(url, {
    prefix: args.prefix,
    declareTopology: false,
    waitForConnect: false,
    connectionName: 'parking-cli',
    reconnect: { initialMs: 200, maxMs: 2_000 },
  });
  const giveUp = setTimeout(() => void mq.close({ timeoutMs: 0 }), CONNECT_TIMEOUT_MS);
  try {
    await mq.ready();
  } catch (error) {
    const cause = mq.stats().lastError ?? (error as Error).message;
    io.err(`parking: cannot connect to ${redact(url)}: ${cause}`);
    await mq.close({ timeoutMs: 0 });
    return 1;
  } finally {
    clearTimeout(giveUp);
  }
  try {
    const queue = mq.names.parkingQueue;
    if (args.command === 'count') {
      const count = await countParked(mq);
      io.out(args.json ? JSON.stringify({ queue, count }) : `${count} message(s) parked in ${queue}`);
    } else if (args.command === 'list') {
      const count = await countParked(mq);
      const messages = await peekParked(mq, { limit: args.limit ?? 20 });
      if (args.json) {
        io.out(JSON.stringify({ queue, count, messages }, null, 2));
      } else {
        io.out(`${count} message(s) parked in ${queue}${messages.length < count ? ` (showing ${messages.length})` : ''}`);
        for (const m of messages) {
          io.out(`- ${m.messageId ?? '(no id)'}  kind=${m.kind ?? '?'}  retries=${m.retryCount ?? '?'}  replays=${m.replayCount}  at=${m.parkedAt ?? '?'}  correlation=${m.correlationId ?? '-'}`);
          io.out(`    reason: ${m.reason ?? '?'}`);
          io.out(`    body:   ${m.body.length > 200 ? `${m.body.slice(0, 199)}…` : m.body}`);
        }
      }
    } else {
      const result = await replayParked(mq, args.limit === undefined ? {} : { limit: args.limit });
      if (args.json) io.out(JSON.stringify({ queue, ...result }));
      else {
        io.out(`replayed ${result.replayed} message(s) to ${mq.names.workExchange}; ${result.failed} failed; ${result.remaining} left in ${queue}`);
        for (const e of result.errors) io.err(`  error: ${e}`);
      }
      if (result.failed > 0) return 1;
    }
    return 0;
  } catch (error) {
    io.err(`parking: ${(error as Error).message}`);
    return 1;
  } finally {
    await mq.close({ timeoutMs: 5_000 });
  }
}

if (require.main === module) {
  runParkingCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
