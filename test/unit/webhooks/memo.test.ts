import { describe, expect, it } from 'vitest';
import { memoizeBounded } from '../../../runtime/webhooks/memo.js';

describe('memoizeBounded', () => {
  it('computes a key once, starts over when full, and does not remember a throw', () => {
    let calls = 0;
    const f = memoizeBounded((k: string) => {
      calls++;
      if (k === 'bad') throw new TypeError('bad key');
      return k.toUpperCase();
    }, 2);
    expect([f('a'), f('a'), f('b')]).toEqual(['A', 'A', 'B']);
    expect(calls).toBe(2);
    f('c'); // full: the memory starts over with c
    f('a');
    expect(calls).toBe(4);
    expect(() => f('bad')).toThrow(TypeError);
    expect(() => f('bad')).toThrow(TypeError);
    expect(calls).toBe(6);
  });
});
