import { z } from 'zod';
import { FAULT_LIMITS } from './faults/settings';

/** winston's levels, plus `silent` (no output at all, for tests). */
export const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** An integer variable in [min, max]. */
export function intVar(min: number, max: number) {
  return z.coerce.number().int().min(min).max(max);
}

/** A fraction 0..1. */
export function rateVar() {
  return z.coerce.number().min(0).max(1);
}

/** A TCP port (0 = any free port), with the service's default. */
export function portVar(defaultPort: number) {
  return intVar(0, 65_535).default(defaultPort);
}

/** `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`); anything else is an error, never "truthy". */
export function boolVar(defaultValue: boolean) {
  return z.stringbool().default(defaultValue);
}

/** A comma-separated list, e.g. `FAULT_ROUTES=/charges,GET /stock/:sku`. */
export function listVar() {
  return z
    .string()
    .transform((value) => value.split(',').map((item) => item.trim()).filter((item) => item.length > 0));
}

/** The variables every service reads (without the checks across variables; see `defineConfigSchema`). */
export const baseConfigShape = {
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: portVar(3000),
  /** Interface to listen on; Node's default (all interfaces) when unset. */
  HOST: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  /** Largest JSON body accepted; bigger ones get 413. */
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, 'must be a size like 100kb or 1mb')
    .default('100kb'),

  /** Fault injection is off unless this is true. */
  FAULTS_ENABLED: boolVar(false),
  /** Bearer token for /admin/*; required when FAULTS_ENABLED=true. */
  ADMIN_TOKEN: z.string().min(8, 'must be at least 8 characters').optional(),
  // Fault settings in force at start (the same knobs as PUT /admin/faults).
  FAULT_ERROR_RATE: rateVar().default(0),
  FAULT_ERROR_STATUS: z.coerce.number().pipe(z.literal([500, 503, 429])).default(500),
  FAULT_RETRY_AFTER_SECONDS: intVar(0, FAULT_LIMITS.maxRetryAfterSeconds).default(1),
  FAULT_LATENCY_MS: intVar(0, FAULT_LIMITS.maxDelayMs).default(0),
  FAULT_JITTER_MS: intVar(0, FAULT_LIMITS.maxDelayMs).default(0),
  FAULT_LATENCY_RATE: rateVar().default(1),
  FAULT_HANG: boolVar(false),
  FAULT_RESET: boolVar(false),
  FAULT_DOWN: boolVar(false),
  FAULT_FLAP_PERIOD_MS: intVar(FAULT_LIMITS.minFlapPeriodMs, FAULT_LIMITS.maxFlapPeriodMs).optional(),
  FAULT_FLAP_DUTY_CYCLE: rateVar().optional(),
  FAULT_EVERY_NTH: intVar(1, FAULT_LIMITS.maxEveryNth).optional(),
  FAULT_SEED: intVar(0, FAULT_LIMITS.maxSeed).optional(),
  FAULT_ROUTES: listVar().optional(),

  /** How long in-flight requests may take to finish after SIGTERM before sockets are cut. */
  SHUTDOWN_TIMEOUT_MS: intVar(0, 600_000).default(10_000),
  /** How long readiness answers 503 before the server stops accepting (lets a load balancer notice). */
  SHUTDOWN_DELAY_MS: intVar(0, 600_000).default(0),
};

const baseConfigObject = z.object(baseConfigShape);
type BaseFields = z.output<typeof baseConfigObject>;

/** Checks that involve more than one variable. */
function checkAcrossVariables(config: BaseFields, ctx: z.RefinementCtx): void {
  if (config.FAULTS_ENABLED && config.ADMIN_TOKEN === undefined) {
    ctx.addIssue({ code: 'custom', path: ['ADMIN_TOKEN'], message: 'is required when FAULTS_ENABLED=true' });
  }
  if ((config.FAULT_FLAP_PERIOD_MS === undefined) !== (config.FAULT_FLAP_DUTY_CYCLE === undefined)) {
    const missing = config.FAULT_FLAP_PERIOD_MS === undefined ? 'FAULT_FLAP_PERIOD_MS' : 'FAULT_FLAP_DUTY_CYCLE';
    ctx.addIssue({ code: 'custom', path: [missing], message: 'is required with the other FAULT_FLAP_* variable' });
  }
  if (config.FAULT_HANG && config.FAULT_RESET) {
    ctx.addIssue({ code: 'custom', path: ['FAULT_RESET'], message: 'cannot be true together with FAULT_HANG' });
  }
}

/**
 * A service's config schema: the base variables, the service's own (which may
 * replace a base default, e.g. `PORT`), and the base checks across variables.
 *
 * ```ts
 * export const configSchema = defineConfigSchema({ PORT: portVar(3001), INVENTORY_URL: z.url() });
 * export type Config = z.output<typeof configSchema>;
 * ```
 *
 * (zod refuses `.extend` with replaced keys on a refined schema, hence this helper.)
 */
export function defineConfigSchema<S extends z.ZodRawShape>(shape: S) {
  return baseConfigObject.extend(shape).superRefine((config, ctx) => checkAcrossVariables(config as unknown as BaseFields, ctx));
}

/** The base schema alone (a service without variables of its own). */
export const baseConfigSchema = defineConfigSchema({});

export type BaseConfig = z.output<typeof baseConfigSchema>;

/** One bad variable. */
export interface ConfigIssue {
  readonly variable: string;
  readonly message: string;
}

/** Thrown by `loadConfig`; the message names every bad variable. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(`Invalid configuration: ${issues.map((issue) => `${issue.variable} ${issue.message}`).join('; ')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

// Values of these variables are never echoed in error messages (URLs may carry passwords).
const SECRET_VARIABLE = /TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL|URL|URI/i;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Validates the environment with `schema` and returns the typed config, or throws
 * a `ConfigError` naming each bad variable (with its value, unless it may be secret).
 * Empty variables (`PORT=`) count as unset, as Compose files often leave them so.
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: Env = process.env,
): z.output<S> {
  const input: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value !== '') input[key] = value;
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;

  const issues = result.error.issues.map((issue): ConfigIssue => {
    const variable = issue.path.length > 0 ? issue.path.map(String).join('.') : '(environment)';
    const raw = input[variable];
    let message: string;
    if (issue.code === 'custom') message = issue.message; // our own cross-variable checks read as sentences
    else if (raw === undefined && issue.code === 'invalid_type') message = 'is required';
    else message = `is invalid: ${issue.message}`;
    if (raw !== undefined && !SECRET_VARIABLE.test(variable) && issue.code !== 'custom') {
      message += ` (got ${JSON.stringify(raw.length > 60 ? `${raw.slice(0, 60)}…` : raw)})`;
    }
    return { variable, message };
  });
  throw new ConfigError(issues);
}

export interface LoadConfigOrExitOptions {
  env?: Env;
  /** Defaults to `process.exit`; injectable for tests. */
  exit?: (code: number) => never | void;
  /** Where the message goes; defaults to stderr. */
  write?: (line: string) => void;
}

/**
 * For a service's `main.ts`: `loadConfig`, and on a bad config print the message
 * and stop the process with exit code 1 (fail fast, before anything listens).
 */
export function loadConfigOrExit<S extends z.ZodType>(
  schema: S,
  options: LoadConfigOrExitOptions = {},
): z.output<S> {
  try {
    return loadConfig(schema, options.env ?? process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    (options.write ?? ((line) => process.stderr.write(line)))(`${error.message}\n`);
    (options.exit ?? process.exit)(1);
    throw error; // only reached when an injected `exit` returns
  }
}
