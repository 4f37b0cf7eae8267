import { describe, expect, it } from 'vitest';
import { isSid, newSid } from '../../../runtime/calls/sid.js';

describe('newSid', () => {
  it('is the prefix and 32 lowercase hex digits, unique across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const sid = newSid('CA');
      expect(sid).toMatch(/^CA[0-9a-f]{32}$/);
      expect(isSid(sid, 'CA')).toBe(true);
      seen.add(sid);
    }
    expect(seen.size).toBe(2000);
  });
});
