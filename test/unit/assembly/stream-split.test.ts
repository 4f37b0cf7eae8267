/**
 * Stream framing: every fixture, concatenated into one TCP stream, fed to
 * the framer split at every byte boundary, comes out as the same messages.
 */
import { describe, it, expect } from 'vitest';
import { FLAVOURS, parserFor, corpusBytes, readTsv, bytesOf } from '../../support/wasm.js';
import { StreamFramer } from '../../../runtime/transport/stream-framer.js';
import { M } from '../../../runtime/wasm/abi.js';

/** Valid RFC 4475 messages that carry a Content-Length matching their body. */
function framedFixtures(flavour: 'debug' | 'release'): Uint8Array[] {
  const parser = parserFor(flavour);
  return readTsv('rfc4475/EXPECTED.tsv')
    .filter((r) => r.parse_exit === '0')
    .map((r) => corpusBytes(`rfc4475/${r.name}.dat`))
    .flatMap((b): Uint8Array[] => {
      const v = parser.parse(b);
      return v.ok && v.slot(M.CONTENT_LENGTH) >= 0 ? [b.slice(0, v.messageLength)] : [];
    });
}

describe.each(FLAVOURS)('stream framing (%s build)', (flavour) => {
  const parser = parserFor(flavour);
  const messages = framedFixtures(flavour);

  it('uses enough fixtures', () => expect(messages.length).toBeGreaterThan(25));

  it('frames each fixture split at every byte boundary', () => {
    for (const msg of messages) {
      const stream = new Uint8Array(msg.length * 2 + 4);
      stream.set(msg, 0);
      stream.set(bytesOf('\r\n\r\n'), msg.length);
      stream.set(msg, msg.length + 4);
      for (let cut = 1; cut < stream.length; cut++) {
        const framer = new StreamFramer(parser);
        const got: string[] = [];
        for (const chunk of [stream.subarray(0, cut), stream.subarray(cut)]) {
          framer.push(chunk);
          for (let r = framer.next(); r.kind !== 'need-more'; r = framer.next()) {
            expect(r.kind).not.toBe('error');
            // a keep-alive cut in two arrives as two keep-alives: count it once
            if (r.kind === 'message' || (r.kind === 'keepalive' && got.at(-1) !== 'keepalive')) got.push(r.kind);
          }
        }
        expect(got).toEqual(['message', 'keepalive', 'message']);
        expect(framer.buffered).toBe(0);
      }
    }
  });

  it('refuses a stream message without Content-Length', () => {
    const framer = new StreamFramer(parser);
    framer.push(bytesOf('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\r\n'));
    const r = framer.next();
    expect(r.kind).toBe('error');
    if (r.kind === 'error') expect(r.error.name).toBe('E_BODY');
  });

  it('refuses a header block that grows past the message limit instead of buffering it', () => {
    const framer = new StreamFramer(parser);
    const line = bytesOf(`X-Filler: ${'a'.repeat(1000)}\r\n`);
    framer.push(bytesOf('OPTIONS sip:a@b SIP/2.0\r\n'));
    let last = framer.next();
    for (let i = 0; i < 80 && last.kind === 'need-more'; i++) {
      framer.push(line);
      last = framer.next();
    }
    expect(last.kind).toBe('error');
    if (last.kind === 'error') expect(last.error.name).toBe('E_MESSAGE_TOO_LARGE');
  });

  it('refuses conflicting Content-Length values on a stream', () => {
    const framer = new StreamFramer(parser);
    framer.push(bytesOf('OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 5\r\nl: 13\r\n\r\nhello'));
    const r = framer.next();
    expect(r.kind).toBe('error');
    if (r.kind === 'error') expect(r.error.name).toBe('E_CONTENT_LENGTH');
  });
});
