import { isTimeoutError, type RetryOptions } from '@checkout/breaker';
import { createHttpClient, type HttpClient, type Logger } from '@checkout/service-kit';
import type { CheckoutConfig } from '../config';

export interface DependencyPolicy {
  timeoutMs: number;
  slowCallMs: number;
  openMs: number;
  maxConcurrent: number;
}

export interface ClientOptions {
  baseURL: string;
  config: CheckoutConfig;
  policy: DependencyPolicy;
  logger?: Logger | undefined;
  /** Retries for idempotent requests only (the kit applies them to GET/PUT/DELETE or `idempotent: true`). */
  retry?: RetryOptions;
  clock?: () => number;
}

/**
 * Retry stock reads once, quickly, on errors that say "try again" (a reset socket, a 5xx),
 * not on a timeout: a second full deadline would double the answer time of every order
 * while the dependency is slow, which is what the breaker is there to cut short.
 */
export const quickRetry: RetryOptions = {
  attempts: 2,
  initialDelayMs: 25,
  maxDelayMs: 100,
  jitter: 'full',
  retryOn: (error) => !isTimeoutError(error),
};

/** One dependency's client: its own breaker (count window, failure and slow-call rates), deadline and bulkhead. */
export function dependencyClient(name: string, options: ClientOptions): HttpClient {
  const { config, policy } = options;
  const client = createHttpClient({
    name,
    baseURL: options.baseURL,
    logger: options.logger,
    policies: {
      timeoutMs: policy.timeoutMs,
      breaker: {
        window: { type: 'count', size: config.BREAKER_WINDOW_SIZE },
        minimumCalls: config.BREAKER_MINIMUM_CALLS,
        failureRateThreshold: config.BREAKER_FAILURE_RATE,
        slowCallRateThreshold: config.BREAKER_SLOW_CALL_RATE,
        slowCallDurationMs: policy.slowCallMs,
        // Grows after each failed probe, so a long outage is probed less and less often.
        openMs: { initialMs: policy.openMs, maxMs: policy.openMs * 4 },
        halfOpenMaxCalls: 3,
        ...(options.clock ? { clock: options.clock } : {}),
      },
      bulkhead: { maxConcurrent: policy.maxConcurrent, maxQueue: policy.maxConcurrent, queueTimeoutMs: policy.timeoutMs },
      ...(options.retry ? { retry: options.retry } : {}),
    },
  });
  if (config.BREAKERS === 'off') client.breaker.disable();
  return client;
}

export function policyOf(config: CheckoutConfig, dependency: 'INVENTORY' | 'PAYMENT' | 'SHIPPING' | 'NOTIFICATION'): DependencyPolicy {
  return {
    timeoutMs: config[`${dependency}_TIMEOUT_MS`],
    slowCallMs: config[`${dependency}_SLOW_CALL_MS`],
    openMs: config[`${dependency}_OPEN_MS`],
    maxConcurrent: config[`${dependency}_MAX_CONCURRENT`],
  };
}
