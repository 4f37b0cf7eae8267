/**
 * Remembering the results of a pure function of a string, for the few URLs a
 * daemon's webhooks keep going to. Bounded: when full, it starts over.
 */

/**
 * @param fn - a pure function (same key, same result); a throw is not remembered
 * @param size - most results kept before the memory is cleared
 * @return `fn` with a memory
 */
export function memoizeBounded<T>(fn: (key: string) => T, size: number): (key: string) => T {
  const known = new Map<string, T>();
  return (key) => {
    const hit = known.get(key);
    if (hit !== undefined) return hit;
    const value = fn(key);
    if (known.size >= size) known.clear();
    known.set(key, value);
    return value;
  };
}
