import { rateVerdict, type RateThresholds, type Window, type WindowTotals } from './window';

const FAILED = 1;
const SLOW = 2;

/**
 * The last `size` calls, as a ring of outcome bits with running totals:
 * subtract on evict, never re-scan.
 */
export class CountWindow implements Window {
  private readonly ring: Uint8Array;
  private next = 0;
  private readonly t: WindowTotals = { calls: 0, failures: 0, slowCalls: 0 };

  constructor(
    readonly size: number,
    private readonly thresholds: RateThresholds,
  ) {
    this.ring = new Uint8Array(size);
  }

  record(failed: boolean, slow: boolean): void {
    const t = this.t;
    const i = this.next;
    if (t.calls === this.ring.length) {
      const old = this.ring[i]!;
      if (old & FAILED) t.failures--;
      if (old & SLOW) t.slowCalls--;
    } else {
      t.calls++;
    }
    this.ring[i] = (failed ? FAILED : 0) | (slow ? SLOW : 0);
    if (failed) t.failures++;
    if (slow) t.slowCalls++;
    this.next = i + 1 === this.ring.length ? 0 : i + 1;
  }

  totals(): WindowTotals {
    return this.t;
  }

  verdict(_now: number, inFlightSlow: number) {
    return rateVerdict(this.t, inFlightSlow, this.thresholds);
  }

  reset(): void {
    this.t.calls = this.t.failures = this.t.slowCalls = 0;
    this.next = 0;
  }
}
