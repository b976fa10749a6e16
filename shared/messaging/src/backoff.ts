import type { ReconnectOptions } from './options';

/**
 * Delay before reconnection attempt `attempt` (1-based): initialMs · multiplier^(attempt-1), the
 * base capped so that base + jitter never exceeds maxMs, spread by ± jitter.
 */
export function backoffDelay(attempt: number, policy: Required<ReconnectOptions>, random: () => number = Math.random): number {
  const cappedBase = policy.maxMs / (1 + policy.jitter);
  const base = Math.min(cappedBase, policy.initialMs * policy.multiplier ** Math.max(0, attempt - 1));
  const spread = base * policy.jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(base + spread));
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts (listener removed either way). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves with the promise, or with `undefined` once `deadline` (epoch ms) passes. Never rejects. */
export async function settleBy<T>(promise: Promise<T>, deadline: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, deadline - Date.now()), undefined);
  });
  try {
    return await Promise.race([promise.catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}
