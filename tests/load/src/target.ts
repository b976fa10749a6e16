import { UsageError } from './errors';
import { type Action, describeAction, type Scenario, type StubName } from './scenarios';

/**
 * `--target` given its URLs by the environment (the Compose `load` service: checkout and the
 * stubs of the Compose file) instead of the launcher's state file. Pure: tested without
 * processes.
 *
 * Such a target has no launcher control server, so nothing can kill or start a process: a
 * scenario's kill becomes the stub's `reset` fault switch (every connection reset at once, the
 * closest switch to a dead process) and its start the clearing of the switches, and the run
 * says so (printed, and `substitutions` in its JSON).
 */

/** The variables of a URL target, all required together. */
export const TARGET_URL_VARIABLES = ['CHECKOUT_URL', 'PAYMENT_URL', 'INVENTORY_URL', 'SHIPPING_URL', 'NOTIFICATION_URL'] as const;
export const TARGET_VARIABLES = [...TARGET_URL_VARIABLES, 'ADMIN_TOKEN'] as const;

export interface TargetUrls {
  readonly checkout: string;
  readonly payment: string;
  readonly inventory: string;
  readonly shipping: string;
  readonly notification: string;
  /** Bearer token of the stubs' `/admin/faults`. */
  readonly adminToken: string;
}

function given(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** Whether the environment names a URL target at all (any of its URL variables set). */
export function hasTargetUrls(env: NodeJS.ProcessEnv): boolean {
  return TARGET_URL_VARIABLES.some((name) => given(env, name) !== undefined);
}

function httpUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${name} must be an http:// or https:// URL (got "${value}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${name} must be an http:// or https:// URL (got "${value}")`);
  return value.replace(/\/+$/, '');
}

/**
 * The target the environment gives: undefined when none of the URL variables is set (then
 * `--target` means the launcher's state file); otherwise every variable of TARGET_VARIABLES
 * is required, and a missing one is a UsageError naming it.
 */
export function targetUrlsFromEnv(env: NodeJS.ProcessEnv): TargetUrls | undefined {
  if (!hasTargetUrls(env)) return undefined;
  const missing = TARGET_VARIABLES.filter((name) => given(env, name) === undefined);
  if (missing.length > 0) {
    throw new UsageError(
      `--target with URLs from the environment needs ${TARGET_VARIABLES.join(', ')} together: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set` +
        ' (or unset every *_URL variable to target the system `npm start` runs, through its state file)',
    );
  }
  return {
    checkout: httpUrl('CHECKOUT_URL', given(env, 'CHECKOUT_URL')!),
    payment: httpUrl('PAYMENT_URL', given(env, 'PAYMENT_URL')!),
    inventory: httpUrl('INVENTORY_URL', given(env, 'INVENTORY_URL')!),
    shipping: httpUrl('SHIPPING_URL', given(env, 'SHIPPING_URL')!),
    notification: httpUrl('NOTIFICATION_URL', given(env, 'NOTIFICATION_URL')!),
    adminToken: given(env, 'ADMIN_TOKEN')!,
  };
}

/** A process action replaced by a fault switch, for the printed output and the run's JSON. */
export interface Substitution {
  /** "kill payment" */
  readonly instead: string;
  /** "payment reset" */
  readonly applied: string;
  readonly why: string;
}

const NO_PROCESS_CONTROL = 'no launcher control server to kill or start processes (URL target)';

/** kill → the `reset` switch (connections reset at once); start → the switches cleared. Other actions unchanged. */
export function substituteAction(action: Action): { action: Action; substitution?: Substitution } {
  switch (action.kind) {
    case 'kill': {
      const replaced: Action = { kind: 'faults', service: action.service, settings: { reset: true } };
      return {
        action: replaced,
        substitution: {
          instead: describeAction(action),
          applied: describeAction(replaced),
          why: `${NO_PROCESS_CONTROL}: PUT /admin/faults {"reset":true}, every connection to ${action.service} reset at once, the closest fault switch to a dead process (its ledger and health route stay up)`,
        },
      };
    }
    case 'start': {
      const replaced: Action = { kind: 'clear', service: action.service };
      return {
        action: replaced,
        substitution: { instead: describeAction(action), applied: describeAction(replaced), why: `${NO_PROCESS_CONTROL}: DELETE /admin/faults, ${action.service} answers again at once` },
      };
    }
    default:
      return { action };
  }
}

/** The scenario as a target without process control runs it, and what was replaced (empty: nothing). */
export function withoutProcessControl(scenario: Scenario): { scenario: Scenario; substitutions: Substitution[] } {
  const substitutions: Substitution[] = [];
  const map = (actions: readonly Action[]): Action[] =>
    actions.map((action) => {
      const result = substituteAction(action);
      if (result.substitution !== undefined) substitutions.push(result.substitution);
      return result.action;
    });
  const fault = map(scenario.fault);
  const recovery = map(scenario.recovery);
  if (substitutions.length === 0) return { scenario, substitutions };
  const killed = [...new Set(scenario.fault.filter((a) => a.kind === 'kill').map((a) => a.service as StubName))];
  return {
    scenario: {
      ...scenario,
      fault,
      recovery,
      description: `${scenario.description} — here ${killed.join(', ')} reset by its fault switch instead of killed (no process control)`,
    },
    substitutions,
  };
}

/** "kill payment → payment reset (…)" lines. */
export function formatSubstitutions(substitutions: readonly Substitution[]): string[] {
  return substitutions.map((s) => `${s.instead} → ${s.applied} (${s.why})`);
}
