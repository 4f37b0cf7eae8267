/** Generated identifiers never contain "CSeq", which SIPp's strstr-based CSeq lookup would find first. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { newBranch, newCallId, newTag } from '../../../runtime/sip/ids.js';

/** Symbol indices of C, S, e, q in the generator's alphabet (A–Z, a–z, 0–9, -, _). */
const CSEQ = [2, 18, 30, 42];

describe('identifiers avoid "CSeq"', () => {
  afterEach(() => vi.restoreAllMocks());

  it('a token drawn as "CSeq…" is drawn again: tags, branches and Call-IDs come out without it', () => {
    const real = globalThis.crypto.getRandomValues.bind(globalThis.crypto);
    let refills = 0;
    // the next two pool refills are nothing but "CSeq" repeated; later ones are random again
    vi.spyOn(globalThis.crypto, 'getRandomValues').mockImplementation(<T extends ArrayBufferView | null>(array: T): T => {
      refills++;
      if (refills > 2 || !(array instanceof Uint8Array)) return real(array as never) as T;
      for (let i = 0; i < array.length; i++) array[i] = CSEQ[i % 4]!;
      return array;
    });
    const made: string[] = [];
    // 1024 bytes per refill: enough draws to use up the current pool and both poisoned ones
    for (let i = 0; i < 200; i++) made.push(newTag(), newBranch(), newCallId('example.com'));
    expect(refills).toBeGreaterThanOrEqual(3);
    for (const id of made) expect(id).not.toContain('CSeq');
    expect(newTag()).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });
});
