/** A seeded PRNG for the fuzz tests, so that a failing case can be replayed from its seed. */

/**
 * mulberry32: a small deterministic PRNG.
 * @param seed - any integer; the same seed gives the same sequence.
 * @return a function giving the next number in [0, 1).
 */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
