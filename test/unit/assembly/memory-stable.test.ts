/**
 * The hot path allocates nothing: 10^5 parses leave linear memory exactly
 * as large as it was, on both builds.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FLAVOURS, parserFor, ROOT } from '../../support/wasm.js';

const messages = ['invite-sdp', 'ok-200', 'refer', 'options']
  .map((n) => new Uint8Array(readFileSync(join(ROOT, 'test', 'fixtures', 'messages', `${n}.sip`))));

describe.each(FLAVOURS)('memory stays flat (%s build)', (flavour) => {
  it('parses 100,000 messages without growing memory', () => {
    const parser = parserFor(flavour);
    const before = parser.exports.memory.buffer.byteLength;
    let ok = 0;
    for (let i = 0; i < 100_000; i++) {
      if (parser.exports.parse_message(parser.writeInput(messages[i & 3]!), 0) === 0) ok++;
    }
    expect(ok).toBe(100_000);
    expect(parser.exports.memory.buffer.byteLength).toBe(before);
  });
});
