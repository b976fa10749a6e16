import { z } from 'zod';

/** Bounds of every knob, shared by the admin API and the FAULT_* variables. */
export const FAULT_LIMITS = {
  maxDelayMs: 300_000,
  maxRetryAfterSeconds: 3_600,
  minFlapPeriodMs: 10,
  maxFlapPeriodMs: 3_600_000,
  maxEveryNth: 1_000_000,
  maxSeed: 0xffff_ffff,
  maxRoutes: 50,
} as const;

export const FAULT_ERROR_STATUSES = [500, 503, 429] as const;
export type FaultErrorStatus = (typeof FAULT_ERROR_STATUSES)[number];

const METHODS = 'GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS';
/** `/charges`, `/stock/:sku`, `POST /reservations`, `/admin-free/*`. */
const ROUTE_PATTERN = new RegExp(`^(?:(?:${METHODS}) )?/[^\\s]*$`);

const rate = z.number().min(0).max(1);
const delay = z.number().int().min(0).max(FAULT_LIMITS.maxDelayMs);

/**
 * The body of `PUT /admin/faults`: every field optional, unknown fields rejected
 * (a typo such as `errorrate` must not silently do nothing). PUT replaces the
 * whole setting: an omitted field is off.
 */
export const faultSettingsSchema = z
  .object({
    /** Fraction of requests answered with `errorStatus`. */
    errorRate: rate.default(0),
    errorStatus: z.literal(FAULT_ERROR_STATUSES).default(500),
    /** `Retry-After` sent with 429 and 503 answers. */
    retryAfterSeconds: z.number().int().min(0).max(FAULT_LIMITS.maxRetryAfterSeconds).default(1),
    /** Delay before answering: `latencyMs ± jitterMs` (never below 0)… */
    latencyMs: delay.default(0),
    jitterMs: delay.default(0),
    /** …for this fraction of requests. */
    latencyRate: rate.default(1),
    /** Accept the request and never answer (until the server stops). */
    hang: z.boolean().default(false),
    /** Destroy the connection: the client sees ECONNRESET. */
    reset: z.boolean().default(false),
    /** 503 on every request in scope. */
    down: z.boolean().default(false),
    /** Fail for `dutyCycle × periodMs` at the start of every period, then be healthy for the rest. */
    flap: z
      .object({
        periodMs: z.number().int().min(FAULT_LIMITS.minFlapPeriodMs).max(FAULT_LIMITS.maxFlapPeriodMs),
        dutyCycle: rate,
      })
      .strict()
      .optional(),
    /** Fail every Nth request in scope (the Nth, 2Nth, …), deterministically. */
    everyNth: z.number().int().min(1).max(FAULT_LIMITS.maxEveryNth).optional(),
    /** Seed of the PRNG behind `errorRate`, `latencyRate` and jitter: the same seed, the same sequence. */
    seed: z.number().int().min(0).max(FAULT_LIMITS.maxSeed).optional(),
    /** Limit faults to these routes (`/path` prefix or pattern, optionally `METHOD /path`); all routes when absent. */
    routes: z
      .array(z.string().regex(ROUTE_PATTERN, 'must look like "/path", "/path/:param" or "GET /path"'))
      .min(1)
      .max(FAULT_LIMITS.maxRoutes)
      .optional(),
  })
  .strict()
  .superRefine((settings, ctx) => {
    if (settings.hang && settings.reset) {
      ctx.addIssue({ code: 'custom', path: ['reset'], message: 'cannot be combined with hang' });
    }
  });

export type FaultSettings = z.output<typeof faultSettingsSchema>;
/** What a client may send (every field optional). */
export type FaultSettingsInput = z.input<typeof faultSettingsSchema>;

/** No fault at all. */
export function noFaults(): FaultSettings {
  return faultSettingsSchema.parse({});
}

/** True when any knob would change an answer. */
export function hasActiveFaults(settings: FaultSettings): boolean {
  return (
    settings.down ||
    settings.hang ||
    settings.reset ||
    settings.errorRate > 0 ||
    settings.everyNth !== undefined ||
    settings.flap !== undefined ||
    (settings.latencyRate > 0 && (settings.latencyMs > 0 || settings.jitterMs > 0))
  );
}

/** The FAULT_* variables of the base config schema. */
export interface FaultEnv {
  FAULT_ERROR_RATE: number;
  FAULT_ERROR_STATUS: FaultErrorStatus;
  FAULT_RETRY_AFTER_SECONDS: number;
  FAULT_LATENCY_MS: number;
  FAULT_JITTER_MS: number;
  FAULT_LATENCY_RATE: number;
  FAULT_HANG: boolean;
  FAULT_RESET: boolean;
  FAULT_DOWN: boolean;
  FAULT_FLAP_PERIOD_MS?: number | undefined;
  FAULT_FLAP_DUTY_CYCLE?: number | undefined;
  FAULT_EVERY_NTH?: number | undefined;
  FAULT_SEED?: number | undefined;
  FAULT_ROUTES?: string[] | undefined;
}

/** The settings in force at start, from the (already validated) FAULT_* variables. */
export function faultSettingsFromEnv(env: FaultEnv): FaultSettings {
  return faultSettingsSchema.parse({
    errorRate: env.FAULT_ERROR_RATE,
    errorStatus: env.FAULT_ERROR_STATUS,
    retryAfterSeconds: env.FAULT_RETRY_AFTER_SECONDS,
    latencyMs: env.FAULT_LATENCY_MS,
    jitterMs: env.FAULT_JITTER_MS,
    latencyRate: env.FAULT_LATENCY_RATE,
    hang: env.FAULT_HANG,
    reset: env.FAULT_RESET,
    down: env.FAULT_DOWN,
    flap:
      env.FAULT_FLAP_PERIOD_MS !== undefined && env.FAULT_FLAP_DUTY_CYCLE !== undefined
        ? { periodMs: env.FAULT_FLAP_PERIOD_MS, dutyCycle: env.FAULT_FLAP_DUTY_CYCLE }
        : undefined,
    everyNth: env.FAULT_EVERY_NTH,
    seed: env.FAULT_SEED,
    routes: env.FAULT_ROUTES !== undefined && env.FAULT_ROUTES.length > 0 ? env.FAULT_ROUTES : undefined,
  });
}

/**
 * Whether a request is in the scope of `routes`. A pattern matches a path equal to
 * it or below it (`/charges` covers `/charges/ch_1`); `:name` matches one segment,
 * a final `*` anything; an optional method prefix limits it to that method.
 */
export function routeMatches(pattern: string, method: string, path: string): boolean {
  let pathPattern = pattern;
  const space = pattern.indexOf(' ');
  if (space > 0) {
    const wanted = pattern.slice(0, space);
    // HEAD is answered by GET routes in Express, so a GET pattern covers it too.
    if (wanted !== method && !(wanted === 'GET' && method === 'HEAD')) return false;
    pathPattern = pattern.slice(space + 1);
  }
  const want = pathPattern.split('/').filter(Boolean);
  const have = path.split('/').filter(Boolean);
  for (let i = 0; i < want.length; i++) {
    const segment = want[i]!;
    if (segment === '*') return true;
    const actual = have[i];
    if (actual === undefined) return false;
    if (segment.startsWith(':')) continue;
    if (segment !== actual) return false;
  }
  return true;
}
