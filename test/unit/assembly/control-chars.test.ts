/**
 * Raw control characters in the start line and header fields (RFC 3261
 * §25.1: TEXT-UTF8char, qdtext and quoted-pair leave no room for a raw CTL
 * in a header value except HTAB, and CR LF only as a line end or a fold)
 * are refused with E_RAW_CTL and the offset of the offending byte. The
 * check rides on the SIMD line scan, so every lane of a 16-byte block and
 * the scalar tail are exercised. Runs against both builds.
 */
import { describe, it, expect } from 'vitest';
import { FLAVOURS, parserFor, corpusBytes } from '../../support/wasm.js';
import { parseCommand, errorLine, type CliError } from '../../../runtime/cli/parse-command.js';

const enc = new TextEncoder();

/** The five control bytes of the attack, by name. */
const BYTES: Array<[string, number]> = [['NUL', 0x00], ['BEL', 0x07], ['ESC', 0x1b], ['DEL', 0x7f], ['bare CR', 0x0d]];

/** Header lines of an OPTIONS; `^` marks where the control byte goes in one of them. */
function lines(where: string, pad = ''): string[] {
  const here = (field: string): string => (field === where ? '^' : '');
  return [
    'OPTIONS sip:x@127.0.0.1:5060 SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-ctl',
    'Max-Forwards: 70',
    `From: "a${here('From display name')}" <sip:a@127.0.0.1>;tag=1`,
    `To: <sip:x@127.0.0.1${here('To')}>`,
    `Call-ID: ab${here('Call-ID')}cd`,
    'CSeq: 1 OPTIONS',
    `Content-Type: application/sdp${here('Content-Type')}`,
    `X-Custom: ${pad}v${here('X- header')}w`,
    'Content-Length: 0',
  ];
}

/** The message as bytes with `byte` at the `^`, and the offset of that byte. */
function message(where: string, byte: number, pad = '', crlf = '\r\n'): { bytes: Uint8Array; at: number } {
  const text = `${lines(where, pad).join(crlf)}${crlf}${crlf}`;
  return mark(text, byte);
}

/** `text` as bytes with `byte` in place of its `^` (ASCII text: string index = byte offset). */
function mark(text: string, byte: number): { bytes: Uint8Array; at: number } {
  const at = text.indexOf('^');
  const bytes = enc.encode(text);
  if (at >= 0) bytes[at] = byte;
  return { bytes, at };
}

const FIELDS = ['Call-ID', 'From display name', 'To', 'Content-Type', 'X- header'];

describe.each(FLAVOURS)('raw control characters (%s build)', (flavour) => {
  const parser = parserFor(flavour);

  it('parses the message without a control byte', () => {
    const { bytes } = message('nowhere', 0x20);
    expect(parser.parse(bytes).error).toBeUndefined();
  });

  for (const field of FIELDS) {
    for (const [name, byte] of BYTES) {
      it(`refuses ${name} in ${field} with E_RAW_CTL at its offset`, () => {
        const { bytes, at } = message(field, byte);
        expect(parser.parse(bytes).error).toMatchObject({ name: 'E_RAW_CTL', offset: at, sipStatus: 400 });
        expect(parser.parse(bytes, true).error).toMatchObject({ name: 'E_RAW_CTL', offset: at });
      });
    }
  }

  it('finds the byte in every lane of a 16-byte block, with CRLF or bare LF line ends', () => {
    for (const crlf of ['\r\n', '\n']) {
      for (let n = 0; n < 48; n++) {
        for (const [, byte] of BYTES) {
          const { bytes, at } = message('X- header', byte, 'p'.repeat(n), crlf);
          expect(parser.parse(bytes).error, `pad ${n} byte ${byte}`).toMatchObject({ name: 'E_RAW_CTL', offset: at });
        }
      }
    }
  });

  it('finds the byte in the short tail of a datagram that ends without an empty line', () => {
    const head = lines('nowhere').slice(0, 7).join('\r\n');
    for (let n = 0; n < 20; n++) {
      for (const [, byte] of BYTES) {
        const { bytes, at } = mark(`${head}\r\nX-Tail: ${'t'.repeat(n)}^z`, byte);
        expect(parser.parse(bytes).error, `tail ${n} byte ${byte}`).toMatchObject({ name: 'E_RAW_CTL', offset: at });
      }
    }
  });

  it('refuses every other C0 control but HTAB, LF and CR, and accepts HTAB, folding, UTF-8 and a CR before the LF', () => {
    for (let byte = 0; byte < 0x20; byte++) {
      if (byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
      const { bytes, at } = message('X- header', byte);
      expect(parser.parse(bytes).error, `byte ${byte}`).toMatchObject({ name: 'E_RAW_CTL', offset: at });
    }
    const ok = (text: string): void => expect(parser.parse(enc.encode(text)).error, JSON.stringify(text)).toBeUndefined();
    const head = lines('nowhere').slice(0, 7).join('\r\n');
    ok(`${head}\r\nX-Tab:\tv\tw\t\r\nContent-Length: 0\r\n\r\n`);
    ok(`${head}\r\nSubject: folded\r\n continued\r\n\tand again\r\nContent-Length: 0\r\n\r\n`);
    ok(`${head.replaceAll('\r\n', '\n')}\nSubject: bare\n LF fold\nContent-Length: 0\n\n`);
    ok(`${head}\r\nSubject: caf\u00e9 \u043f\u0440\u0438\u0432\u0435\u0442 \u{1f4de}\r\nContent-Length: 0\r\n\r\n`);
    for (let n = 0; n < 32; n++) ok(`${head}\r\nX-Pad: ${'p'.repeat(n)}\r\nContent-Length: 0\r\n\r\n`);
  });

  it('still decodes UTF-8 header values wherever their high bytes fall in a block', () => {
    const head = lines('nowhere').slice(0, 7).join('\r\n');
    for (let n = 0; n < 40; n++) {
      const subject = `${'p'.repeat(n)}caf\u00e9 \u043f\u0440\u0438\u0432\u0435\u0442`;
      const view = parser.parse(enc.encode(`${head}\r\nSubject: ${subject}\r\nContent-Length: 0\r\n\r\n`));
      expect(view.error).toBeUndefined();
      expect(view.header('Subject'), `pad ${n}`).toBe(subject);
    }
  });

  it('leaves the body alone: NUL, bare CR and DEL there are data', () => {
    const head = lines('nowhere').slice(0, 7).join('\r\n');
    const body = enc.encode('a\0b\rc\x7fd\x07');
    const bytes = new Uint8Array([...enc.encode(`${head}\r\nContent-Length: ${body.length}\r\n\r\n`), ...body]);
    const view = parser.parse(bytes);
    expect(view.error).toBeUndefined();
    expect([...view.body]).toEqual([...body]);
  });

  it('refuses a control byte in the start line and in a header name', () => {
    const head = lines('nowhere').slice(1, 7).join('\r\n');
    const texts = [
      `SIP/2.0 200 O^K\r\n${head}\r\nContent-Length: 0\r\n\r\n`,
      `OPTIONS sip:x@127.0.0.1^ SIP/2.0\r\n${head}\r\nContent-Length: 0\r\n\r\n`,
      `OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n${head}\r\nX-Na^me: v\r\nContent-Length: 0\r\n\r\n`,
      `OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n${head}\r\n^X-Name: v\r\nContent-Length: 0\r\n\r\n`,
    ];
    for (const text of texts) {
      for (const [, byte] of BYTES) {
        const { bytes, at } = mark(text, byte);
        expect(parser.parse(bytes).error, JSON.stringify(text)).toMatchObject({ name: 'E_RAW_CTL', offset: at });
      }
    }
  });

  it('refuses the raw control octets quoted in the RFC 4475 §3.1.1.2 To display name (a deliberate deviation, see EXPECTED.tsv)', () => {
    const bytes = corpusBytes('rfc4475/intmeth.dat');
    const bel = bytes.indexOf(0x07);
    expect(parser.parse(bytes).error).toMatchObject({ name: 'E_RAW_CTL', offset: bel });
  });

  it('is named, with its offset, by `patchbay parse`', () => {
    const { bytes, at } = message('From display name', 0x07);
    const { json, exitCode } = parseCommand(parser, bytes);
    expect(exitCode).toBe(1);
    const error = json.error as CliError;
    expect(error).toMatchObject({ name: 'E_RAW_CTL', offset: at });
    expect(errorLine('parse', error)).toMatch(new RegExp(`^patchbay parse: E_RAW_CTL at byte ${at}: control character .*RFC 3261 §25\\.1`));
  });
});
