import { isServiceName, isStubName, type ServiceName, SERVICE_NAMES, type StubName, STUB_NAMES } from '../topology';

/**
 * `npm run chaos -- …` arguments. Pure: tested without processes.
 *
 *   status                                  health, faults and circuits of every service
 *   kill|start|restart <service> [--compose]
 *   <stub> errors <rate> [latency <ms>] …   fault switches, combinable (one PUT replaces the settings)
 *   <stub> clear                            DELETE the faults
 */

/** The body of `PUT /admin/faults` (the kit's fault settings; omitted fields are off). */
export interface FaultSettings {
  errorRate?: number;
  errorStatus?: 500 | 503 | 429;
  latencyMs?: number;
  jitterMs?: number;
  hang?: boolean;
  reset?: boolean;
  down?: boolean;
  flap?: { periodMs: number; dutyCycle: number };
  routes?: string[];
}

export type ProcessAction = 'kill' | 'start' | 'restart';

export type ChaosCommand =
  | { readonly kind: 'help' }
  | { readonly kind: 'status'; readonly compose: boolean }
  | { readonly kind: 'process'; readonly action: ProcessAction; readonly service: ServiceName; readonly compose: boolean }
  | { readonly kind: 'faults'; readonly service: StubName; readonly settings: FaultSettings }
  | { readonly kind: 'clear'; readonly service: StubName };

export const USAGE = `Usage: npm run chaos -- <command>

  status                          every service's health and faults, and checkout's circuits
  kill <service>                  SIGKILL it (it stays down until started)
  start <service>                 start it again
  restart <service>               graceful stop, then start
      add --compose to act on Docker Compose containers instead of the local launcher

  <stub> errors <rate> [status]   fail this fraction of requests (0..1), with 500 (default), 503 or 429
  <stub> latency <ms> [jitterMs]  delay every answer
  <stub> hang                     accept requests and never answer
  <stub> reset                    destroy connections (ECONNRESET)
  <stub> down                     503 on everything
  <stub> flap <periodMs> [duty]   fail the first duty (0.5) of every period, then be healthy
  <stub> clear                    back to healthy (releases hanging requests)
      switches combine: "payment errors 0.3 latency 200"; each command replaces the last one's
      "on <routes>" limits them: inventory errors 1 on "GET /stock/:sku,POST /reservations"

  services: ${SERVICE_NAMES.join(', ')}
  stubs (fault switches): ${STUB_NAMES.join(', ')}

  ADMIN_TOKEN: from the environment, or the one the local launcher generated (infra/.run/launcher.json).
`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function number(word: string | undefined, what: string, check: (value: number) => boolean, expected: string): number {
  if (word === undefined) throw new UsageError(`${what} needs a value (${expected})`);
  const value = Number(word);
  if (word.trim() === '' || !Number.isFinite(value) || !check(value)) throw new UsageError(`${what}: expected ${expected}, got "${word}"`);
  return value;
}

const isInt = (min: number, max: number) => (value: number) => Number.isInteger(value) && value >= min && value <= max;
const MAX_MS = 600_000;

const SWITCHES = ['errors', 'latency', 'hang', 'reset', 'down', 'flap', 'on', 'clear'] as const;

export function parseChaosArgs(argv: readonly string[]): ChaosCommand {
  const compose = argv.includes('--compose');
  const words = argv.filter((word) => word !== '--compose');
  const unknownOption = words.find((word) => word.startsWith('-') && word !== '-h' && word !== '--help' && !/^-?\d/.test(word));
  if (unknownOption !== undefined) throw new UsageError(`unknown option ${unknownOption}`);
  const [first, ...rest] = words;
  if (first === undefined) throw new UsageError('a command is needed');
  if (first === 'help' || first === '--help' || first === '-h') return { kind: 'help' };

  if (first === 'status') {
    if (rest.length > 0) throw new UsageError(`status takes no arguments (got "${rest.join(' ')}")`);
    return { kind: 'status', compose };
  }

  if (first === 'kill' || first === 'start' || first === 'restart') {
    const [service, ...extra] = rest;
    if (service === undefined) throw new UsageError(`${first} needs a service (${SERVICE_NAMES.join(', ')})`);
    if (!isServiceName(service)) throw new UsageError(`unknown service "${service}" (services: ${SERVICE_NAMES.join(', ')})`);
    if (extra.length > 0) throw new UsageError(`${first} takes one service (got "${extra.join(' ')}" too)`);
    return { kind: 'process', action: first, service, compose };
  }

  if (!isServiceName(first)) throw new UsageError(`unknown command or service "${first}"`);
  if (!isStubName(first)) throw new UsageError(`${first} has no fault switches: only the stubs do (${STUB_NAMES.join(', ')}); use kill/start/restart`);
  if (compose) throw new UsageError('--compose applies to kill, start, restart and status; fault switches talk to the stub over HTTP either way');
  if (rest.length === 0) throw new UsageError(`${first} needs a fault switch (${SWITCHES.join(', ')})`);
  if (rest[0] === 'clear') {
    if (rest.length > 1) throw new UsageError('clear takes no arguments');
    return { kind: 'clear', service: first };
  }

  const settings: FaultSettings = {};
  const seen = new Set<string>();
  for (let i = 0; i < rest.length; ) {
    const word = rest[i]!;
    if (seen.has(word)) throw new UsageError(`${word} is given twice`);
    seen.add(word);
    const next = rest[i + 1];
    const hasValue = next !== undefined && !(SWITCHES as readonly string[]).includes(next);
    switch (word) {
      case 'errors': {
        settings.errorRate = number(next, 'errors', (value) => value >= 0 && value <= 1, 'a rate between 0 and 1');
        i += 2;
        const status = rest[i];
        if (status !== undefined && !(SWITCHES as readonly string[]).includes(status)) {
          settings.errorStatus = number(status, 'errors status', (value) => value === 500 || value === 503 || value === 429, '500, 503 or 429') as 500 | 503 | 429;
          i += 1;
        }
        break;
      }
      case 'latency': {
        settings.latencyMs = number(next, 'latency', isInt(0, MAX_MS), `milliseconds 0-${MAX_MS}`);
        i += 2;
        const jitter = rest[i];
        if (jitter !== undefined && !(SWITCHES as readonly string[]).includes(jitter)) {
          settings.jitterMs = number(jitter, 'latency jitter', isInt(0, MAX_MS), `milliseconds 0-${MAX_MS}`);
          i += 1;
        }
        break;
      }
      case 'flap': {
        const periodMs = number(next, 'flap', isInt(1, 3_600_000), 'a period in milliseconds');
        i += 2;
        let dutyCycle = 0.5;
        const duty = rest[i];
        if (duty !== undefined && !(SWITCHES as readonly string[]).includes(duty)) {
          dutyCycle = number(duty, 'flap duty cycle', (value) => value > 0 && value < 1, 'a fraction between 0 and 1');
          i += 1;
        }
        settings.flap = { periodMs, dutyCycle };
        break;
      }
      case 'hang':
      case 'reset':
      case 'down':
        if (hasValue) throw new UsageError(`${word} takes no value (got "${next}")`);
        settings[word] = true;
        i += 1;
        break;
      case 'on': {
        const routes = (next ?? '').split(',').map((route) => route.trim()).filter((route) => route.length > 0);
        if (!hasValue || routes.length === 0) throw new UsageError('on needs routes, e.g. on "GET /stock/:sku,POST /reservations"');
        settings.routes = routes;
        i += 2;
        break;
      }
      case 'clear':
        throw new UsageError('clear cannot be combined with other switches');
      default:
        throw new UsageError(`unknown fault switch "${word}" (${SWITCHES.join(', ')})`);
    }
  }
  if (Object.keys(settings).length === 1 && settings.routes !== undefined) throw new UsageError('on limits other switches: give one (errors, latency, hang, reset, down, flap)');
  return { kind: 'faults', service: first, settings };
}
