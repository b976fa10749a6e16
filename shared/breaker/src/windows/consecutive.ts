import type { TripReason, Window, WindowTotals } from './window';

/**
 * The document's simple breaker: trips after `failures` failures in a row (a
 * success ends the streak). Slow calls make a streak of their own when a slow
 * threshold is set (`slowCalls`), so a dependency that answers, but too late,
 * still trips it. Calls still running past the slow duration extend that streak.
 */
export class ConsecutiveWindow implements Window {
  private failureStreak = 0;
  private slowStreak = 0;
  private readonly t: WindowTotals = { calls: 0, failures: 0, slowCalls: 0 };

  constructor(
    readonly failures: number,
    readonly slowCalls: number,
  ) {}

  record(failed: boolean, slow: boolean): void {
    this.t.calls++;
    this.failureStreak = failed ? this.failureStreak + 1 : 0;
    this.slowStreak = slow ? this.slowStreak + 1 : 0;
    // The totals of a consecutive window are its streaks.
    this.t.failures = this.failureStreak;
    this.t.slowCalls = this.slowStreak;
  }

  totals(): WindowTotals {
    return this.t;
  }

  verdict(_now: number, inFlightSlow: number): TripReason | null {
    if (this.failureStreak >= this.failures) return 'consecutive-failures';
    if (this.slowStreak + inFlightSlow >= this.slowCalls) return 'consecutive-slow-calls';
    return null;
  }

  reset(): void {
    this.failureStreak = this.slowStreak = 0;
    this.t.calls = this.t.failures = this.t.slowCalls = 0;
  }
}
