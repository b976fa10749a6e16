/**
 * mulberry32: a tiny, fast 32-bit PRNG. Not for cryptography; here only so that a
 * `seed` makes the sequence of injected faults repeatable. Returns 0 ≤ x < 1.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
