/**
 * "When to trip" as a small strategy: a window records the outcome of each
 * finished call and answers, in O(1), what it holds. The circuit decides what
 * tripping does.
 */
export interface Window {
  /** Records one finished call. `now` is the clock's reading when it finished. */
  record(failed: boolean, slow: boolean, now: number): void;
  /** Calls, failures and slow calls currently in the window (after dropping what expired by `now`). */
  totals(now: number): WindowTotals;
  /**
   * The reason to trip, or null. `inFlightSlow` counts calls still running past
   * the slow-call duration: they count as slow calls in the verdict.
   */
  verdict(now: number, inFlightSlow: number): TripReason | null;
  /** Forgets everything (on every state transition). */
  reset(now: number): void;
}

export interface WindowTotals {
  calls: number;
  failures: number;
  slowCalls: number;
}

export type TripReason = 'failure-rate' | 'slow-call-rate' | 'consecutive-failures' | 'consecutive-slow-calls';

export interface RateThresholds {
  minimumCalls: number;
  failureRateThreshold: number;
  slowCallRateThreshold: number;
}

/**
 * The verdict of a rate window, shared by the count and the time windows.
 * Calls still running past the slow-call duration join the denominator and the
 * slow calls. A slow-call threshold of 1 means slowness alone never trips.
 */
export function rateVerdict(t: WindowTotals, inFlightSlow: number, th: RateThresholds): TripReason | null {
  const calls = t.calls + inFlightSlow;
  if (calls === 0 || calls < th.minimumCalls) return null;
  if (t.failures / calls >= th.failureRateThreshold) return 'failure-rate';
  if (th.slowCallRateThreshold < 1 && (t.slowCalls + inFlightSlow) / calls >= th.slowCallRateThreshold) return 'slow-call-rate';
  return null;
}
