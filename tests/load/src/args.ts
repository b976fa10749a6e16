import { UsageError } from './errors';
import { isScenarioName, SCENARIO_NAMES, type ScenarioName } from './scenarios';
import { hasTargetUrls, TARGET_URL_VARIABLES, TARGET_VARIABLES, type TargetUrls, targetUrlsFromEnv } from './target';

export { UsageError } from './errors';

/**
 * `npm run load -- …` arguments. Pure: tested without processes.
 *
 *   --scenario <name>     one scenario (see SCENARIO_NAMES)
 *   --all                 every scenario with breakers on and off, capacities, docs/load-report.md
 *   --breakers on|off     BREAKERS of the checkout this tool starts (default on)
 *   --capacity            closed loop, as fast as it answers, instead of the fixed arrival rate
 *   --duration <s>        length of a run (default 20)
 *   --rate <r>            arrivals per second of the open model (default DEFAULT_RATE)
 *   --connections <n>     connections of the closed loop (default 8)
 *   --target              use a running system: the URLs of CHECKOUT_URL, PAYMENT_URL, INVENTORY_URL,
 *                         SHIPPING_URL, NOTIFICATION_URL and ADMIN_TOKEN when the environment gives
 *                         them (all together), else the one `npm start` runs (its state file)
 *   --out <dir>           where JSON and SVG go (default docs/load)
 */

/** About a third of the healthy capacity measured on this 2-core machine (~80–100 orders/s closed loop, see the report): room for the worker, which re-runs charge, shipment and notification of every queued order while new ones arrive. */
export const DEFAULT_RATE = 30;
export const DEFAULT_DURATION_S = 20;
export const DEFAULT_CONNECTIONS = 8;
/** How long, at most, a run waits after the load for the retry queue to empty. */
export const DEFAULT_SETTLE_S = 20;

export interface LoadOptions {
  readonly mode: 'help' | 'one' | 'all';
  readonly scenario: ScenarioName;
  readonly breakers: 'on' | 'off';
  readonly capacity: boolean;
  readonly durationS: number;
  readonly rate: number;
  readonly connections: number;
  /** At most this long after the load, waiting for the retry queue to empty (--settle). */
  readonly settleS: number;
  readonly target: boolean;
  /** `--target` with its URLs from the environment (target.ts); null: the launcher's state file, or no target. */
  readonly targetUrls: TargetUrls | null;
  readonly outDir: string;
}

export const USAGE = `Usage: npm run load -- --scenario <name> [--breakers off] [--capacity] [--duration s] [--rate r]
       npm run load -- --all [--duration s] [--rate r]

  --scenario <name>   ${SCENARIO_NAMES.join(', ')}
  --breakers on|off   BREAKERS of the checkout the tool starts (default on)
  --capacity          closed loop (--connections, default ${DEFAULT_CONNECTIONS}) as fast as it answers
  --duration <s>      seconds per run (default ${DEFAULT_DURATION_S}; faults are placed relative to it)
  --rate <r>          arrivals per second of the open model (default ${DEFAULT_RATE})
  --connections <n>   connections of the closed loop
  --settle <s>        after the load, wait at most this long for the retry queue to empty
                      (default ${DEFAULT_SETTLE_S}; a target with checkout's default open periods
                      and retry tiers (5 s, 30 s, 2 min) needs about 300)
  --target            drive a running system instead of starting one: the URLs of
                      ${TARGET_VARIABLES.join(', ')}
                      when the environment gives them (all together; no process control:
                      payment-down resets payment's connections instead of killing it),
                      else the system \`npm start\` runs (its state file)
  --out <dir>         JSON and SVG output (default docs/load)
  --all               every scenario with breakers on and off, capacities, docs/load-report.md
`;

function positive(flag: string, value: string | undefined, integer: boolean): number {
  if (value === undefined) throw new UsageError(`${flag} needs a value`);
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0 || (integer && !Number.isInteger(number))) {
    throw new UsageError(`${flag} must be a positive ${integer ? 'integer' : 'number'} (got "${value}")`);
  }
  return number;
}

/** `env`: where `--target` finds URLs (target.ts); the tests give their own, main gives process.env. */
export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): LoadOptions {
  let mode: LoadOptions['mode'] | undefined;
  let scenario: ScenarioName | undefined;
  let breakers: 'on' | 'off' = 'on';
  let capacity = false;
  let durationS = DEFAULT_DURATION_S;
  let rate = DEFAULT_RATE;
  let connections = DEFAULT_CONNECTIONS;
  let settleS = DEFAULT_SETTLE_S;
  let target = false;
  let outDir = 'docs/load';
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string | undefined => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--help':
      case '-h':
        return { mode: 'help', scenario: 'healthy', breakers, capacity, durationS, rate, connections, settleS, target, targetUrls: null, outDir };
      case '--all':
        mode = 'all';
        break;
      case '--scenario': {
        const name = value();
        if (name === undefined || !isScenarioName(name)) throw new UsageError(`--scenario must be one of ${SCENARIO_NAMES.join(', ')} (got "${name ?? ''}")`);
        scenario = name;
        break;
      }
      case '--breakers': {
        const v = value();
        if (v !== 'on' && v !== 'off') throw new UsageError(`--breakers must be on or off (got "${v ?? ''}")`);
        breakers = v;
        break;
      }
      case '--capacity':
        capacity = true;
        break;
      case '--duration':
        durationS = positive('--duration', value(), false);
        break;
      case '--rate':
        rate = positive('--rate', value(), true);
        break;
      case '--connections':
        connections = positive('--connections', value(), true);
        break;
      case '--settle':
        settleS = positive('--settle', value(), false);
        break;
      case '--target':
        target = true;
        break;
      case '--out': {
        const v = value();
        if (v === undefined || v === '') throw new UsageError('--out needs a folder');
        outDir = v;
        break;
      }
      default:
        throw new UsageError(`unknown argument "${arg}"`);
    }
  }
  if (mode === 'all' && scenario !== undefined) throw new UsageError('--all and --scenario exclude each other');
  if (mode === 'all' && target) throw new UsageError('--all starts its own system (breakers on, then off): --target is for one scenario');
  if (mode === undefined && scenario === undefined) throw new UsageError('give --scenario <name> or --all');
  if (durationS < 10 && scenario !== undefined && scenario !== 'healthy') throw new UsageError('--duration must be at least 10 s for a scenario with faults');
  // The URLs name a running system: starting another one beside it (whose services would
  // inherit them) is never what was meant.
  if (!target && hasTargetUrls(env)) {
    throw new UsageError(`${TARGET_URL_VARIABLES.filter((name) => (env[name] ?? '').trim() !== '').join(', ')} set: add --target to drive that system, or unset them to start one of its own`);
  }
  const targetUrls = target ? (targetUrlsFromEnv(env) ?? null) : null;
  return { mode: mode ?? 'one', scenario: scenario ?? 'healthy', breakers, capacity, durationS, rate, connections, settleS, target, targetUrls, outDir };
}
