/**
 * Seeded fuzzing over the debug build (asserts on): random bytes and
 * mutations of every corpus message. No input may throw, hang, report an
 * offset outside the input, or grow linear memory. Bounded in count.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { parserFor, corpusBytes, corpusFiles } from '../../support/wasm.js';
import { StreamFramer } from '../../../runtime/transport/stream-framer.js';
import { ERRORS } from '../../../runtime/wasm/abi.js';
import { prng } from '../../support/prng.js';

const SEED = 0x5eed;
const corpus = [
  ...corpusFiles('rfc4475', '.dat').map((f) => corpusBytes(`rfc4475/${f}`)),
  ...corpusFiles('rfc5118', '.dat').map((f) => corpusBytes(`rfc5118/${f}`)),
  ...corpusFiles('real', '.sip').map((f) => corpusBytes(`real/${f}`)),
];


const NASTY = [0, 10, 13, 32, 9, 0x25, 0x3a, 0x3b, 0x2c, 0x3c, 0x3e, 0x22, 0x5c, 0x5b, 0x5d, 0xff, 0x40, 0x3f];

function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
  let b = Array.from(src);
  const ops = 1 + Math.floor(rnd() * 6);
  for (let i = 0; i < ops; i++) {
    const at = Math.floor(rnd() * (b.length + 1));
    switch (Math.floor(rnd() * 6)) {
      case 0: if (b.length) b[at % b.length] = NASTY[Math.floor(rnd() * NASTY.length)]!; break;
      case 1: b.splice(at, 0, NASTY[Math.floor(rnd() * NASTY.length)]!); break;
      case 2: b.splice(at, 1 + Math.floor(rnd() * 16)); break;
      case 3: b = b.slice(0, at); break;
      case 4: { const len = Math.floor(rnd() * 64); b.splice(at, 0, ...b.slice(at, at + len)); break; }
      default: if (b.length) b[at % b.length] = Math.floor(rnd() * 256);
    }
  }
  return new Uint8Array(b);
}

describe('parser fuzzing (debug build)', () => {
  const parser = parserFor('debug');
  const memoryBefore = parser.exports.memory.buffer.byteLength;
  const known = new Set(ERRORS.map((e) => e.code));

  function check(bytes: Uint8Array): void {
    const v = parser.parse(bytes);
    const status = v.status;
    expect(status === 0 || status === 1 || known.has(status)).toBe(true);
    if (status < 0) {
      expect(v.error!.offset).toBeGreaterThanOrEqual(0);
      expect(v.error!.offset).toBeLessThanOrEqual(bytes.length);
    } else if (status === 0) {
      expect(v.messageLength).toBeLessThanOrEqual(bytes.length);
      for (let i = 0; i < v.headerCount; i++) {
        const [start, len] = v.valueSpan(i);
        expect(start >= 0 && start + len <= bytes.length).toBe(true);
      }
    }
  }

  it('survives 20,000 seeded mutations of the corpus', () => {
    const rnd = prng(SEED);
    for (let i = 0; i < 20_000; i++) check(mutate(corpus[i % corpus.length]!, rnd));
    expect(parser.exports.memory.buffer.byteLength).toBe(memoryBefore);
  });

  it('survives arbitrary bytes (fast-check, seeded)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => { check(bytes); }), { seed: SEED, numRuns: 3_000 });
    fc.assert(fc.property(fc.string({ maxLength: 600 }), (text) => { check(new TextEncoder().encode(`INVITE sip:a@b SIP/2.0\r\n${text}`)); }), { seed: SEED, numRuns: 3_000 });
  });

  it('frames mutated streams without throwing or buffering without bound', () => {
    const rnd = prng(SEED + 1);
    for (let i = 0; i < 2_000; i++) {
      const framer = new StreamFramer(parser);
      framer.push(mutate(corpus[i % corpus.length]!, rnd));
      for (let n = 0; n < 50; n++) {
        const r = framer.next();
        if (r.kind === 'need-more' || r.kind === 'error') break;
        if (r.kind === 'message') check(r.bytes);
      }
      expect(framer.buffered).toBeLessThanOrEqual(70_000);
    }
  });

  it('refuses oversized input with E_MESSAGE_TOO_LARGE and a limit offset', () => {
    const big = new Uint8Array(70_000).fill(0x41);
    const v = parser.parse(big);
    expect(v.error?.name).toBe('E_MESSAGE_TOO_LARGE');
    expect(v.error?.offset).toBe(65535);
  });
});
