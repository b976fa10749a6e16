import { rateVerdict, type RateThresholds, type Window, type WindowTotals } from './window';

/**
 * The calls of the last `ms` milliseconds, in `buckets` aggregated buckets with
 * running totals. When time moves on, the window advances by the elapsed
 * buckets, at most all of them: after an idle hour nothing old still counts.
 */
export class TimeWindow implements Window {
  private readonly bucketMs: number;
  private readonly calls: Uint32Array;
  private readonly failures: Uint32Array;
  private readonly slow: Uint32Array;
  private head = 0; // index of the current bucket
  private epoch: number; // bucket number (time / bucketMs) of the current bucket
  private nextEpochAt: number; // when the next bucket starts
  private readonly t: WindowTotals = { calls: 0, failures: 0, slowCalls: 0 };

  constructor(
    readonly ms: number,
    readonly buckets: number,
    private readonly thresholds: RateThresholds,
    now: number,
  ) {
    this.bucketMs = ms / buckets;
    this.calls = new Uint32Array(buckets);
    this.failures = new Uint32Array(buckets);
    this.slow = new Uint32Array(buckets);
    this.epoch = Math.floor(now / this.bucketMs);
    this.nextEpochAt = (this.epoch + 1) * this.bucketMs;
  }

  private advance(now: number): void {
    if (now < this.nextEpochAt) return; // still in the current bucket: no division on the hot path
    const epoch = Math.floor(now / this.bucketMs);
    if (epoch <= this.epoch) return; // same bucket, or the clock went back: keep counting here
    const steps = Math.min(epoch - this.epoch, this.calls.length);
    const t = this.t;
    for (let s = 0; s < steps; s++) {
      const i = this.head + 1 === this.calls.length ? 0 : this.head + 1;
      t.calls -= this.calls[i]!;
      t.failures -= this.failures[i]!;
      t.slowCalls -= this.slow[i]!;
      this.calls[i] = this.failures[i] = this.slow[i] = 0;
      this.head = i;
    }
    this.epoch = epoch;
    this.nextEpochAt = (epoch + 1) * this.bucketMs;
  }

  record(failed: boolean, slow: boolean, now: number): void {
    this.advance(now);
    const i = this.head;
    const t = this.t;
    this.calls[i]!++;
    t.calls++;
    if (failed) {
      this.failures[i]!++;
      t.failures++;
    }
    if (slow) {
      this.slow[i]!++;
      t.slowCalls++;
    }
  }

  totals(now: number): WindowTotals {
    this.advance(now);
    return this.t;
  }

  verdict(now: number, inFlightSlow: number) {
    return rateVerdict(this.totals(now), inFlightSlow, this.thresholds);
  }

  reset(now: number): void {
    this.calls.fill(0);
    this.failures.fill(0);
    this.slow.fill(0);
    this.t.calls = this.t.failures = this.t.slowCalls = 0;
    this.epoch = Math.floor(now / this.bucketMs);
    this.nextEpochAt = (this.epoch + 1) * this.bucketMs;
  }
}
