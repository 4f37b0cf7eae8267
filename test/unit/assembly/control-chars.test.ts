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
import { F } from '../../../runtime/wasm/abi.js';

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
    const view = parser.parse(bytes);
    expect(view.error).toBeUndefined();
    expect(view.flags & F.ESCAPED_CTL).toBe(0);
    expect(view.escapedControl).toBeUndefined();
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

  it('is named, with its offset, by `patchbay parse`', () => {
    const { bytes, at } = message('From display name', 0x07);
    const { json, exitCode } = parseCommand(parser, bytes);
    expect(exitCode).toBe(1);
    const error = json.error as CliError;
    expect(error).toMatchObject({ name: 'E_RAW_CTL', offset: at });
    expect(errorLine('parse', error)).toMatch(new RegExp(`^patchbay parse: E_RAW_CTL at byte ${at}: control character .*RFC 3261 §25\\.1`));
  });
});

/**
 * The one place RFC 3261 §25.1 lets a control byte into a header field:
 * `quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)` inside a quoted-string
 * (RFC 4475 §3.1.1.2's To display name holds `\<BEL>`, `\<NUL>`, `\<DEL>`).
 * The parser accepts it there only, and flags the message (F_ESCAPED_CTL,
 * with the byte's offset and header) so a host can refuse to copy it.
 */
describe.each(FLAVOURS)('control characters escaped by a quoted-pair (%s build)', (flavour) => {
  const parser = parserFor(flavour);
  const head = lines('nowhere').slice(0, 4).join('\r\n'); // start line, Via, Max-Forwards, From
  const tail = 'Call-ID: ab\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n';
  /** An OPTIONS whose To line is `to` (with `^` where the byte goes) and with `extra` header lines. */
  const withTo = (to: string, extra = ''): string => `${head}\r\nTo: ${to}\r\n${extra}${tail}`;
  const ESCAPABLE: Array<[string, number]> = [['NUL', 0x00], ['BEL', 0x07], ['DEL', 0x7f], ['ESC', 0x1b], ['SOH', 0x01], ['VT', 0x0b], ['FF', 0x0c], ['US', 0x1f]];

  const accepted = (bytes: Uint8Array, at: number, header: string, label: string): void => {
    for (const isStream of [false, true]) {
      const view = parser.parse(bytes, isStream);
      expect(view.error, label).toBeUndefined();
      expect(view.flags & F.ESCAPED_CTL, label).toBe(F.ESCAPED_CTL);
      expect(view.escapedControl, label).toEqual({ offset: at, header });
    }
  };
  const refused = (bytes: Uint8Array, at: number, label: string): void => {
    expect(parser.parse(bytes).error, label).toMatchObject({ name: 'E_RAW_CTL', offset: at, sipStatus: 400 });
    expect(parser.parse(bytes, true).error, label).toMatchObject({ name: 'E_RAW_CTL', offset: at });
  };

  it('accepts NUL, BEL, DEL and every other escapable CTL as a quoted-pair in the To display name, flagged with its offset', () => {
    for (const [name, byte] of ESCAPABLE) {
      const { bytes, at } = mark(withTo('"a\\^b" <sip:x@127.0.0.1>'), byte);
      accepted(bytes, at, 'To', name);
      const view = parser.parse(bytes);
      expect(view.header('To')).toBe(`"a\\${String.fromCharCode(byte)}b" <sip:x@127.0.0.1>`);
    }
  });

  it('accepts it in every lane of a 16-byte block, in a folded value, in an extension header, and in the scalar tail', () => {
    for (let n = 0; n < 40; n++) {
      for (const [name, byte] of ESCAPABLE) {
        const label = `pad ${n} ${name}`;
        let m = mark(withTo(`"${'p'.repeat(n)}\\^" <sip:x@127.0.0.1>`), byte);
        accepted(m.bytes, m.at, 'To', label);
        m = mark(withTo('<sip:x@127.0.0.1>', `X-Quoted: ${'p'.repeat(n)}"one\\"\r\n two \\^"\r\n`), byte);
        accepted(m.bytes, m.at, 'X-Quoted', `folded ${label}`);
        if (n < 20) {
          m = mark(`${withTo('<sip:x@127.0.0.1>').slice(0, -tail.length)}Call-ID: ab\r\nCSeq: 1 OPTIONS\r\nX-Tail: "${'t'.repeat(n)}\\^"`, byte);
          const view = parser.parse(m.bytes);
          expect(view.error, `tail ${label}`).toBeUndefined();
          expect(view.escapedControl, `tail ${label}`).toEqual({ offset: m.at, header: 'X-Tail' });
        }
      }
    }
  });

  it('accepts many escaped control bytes in one value, and records the first', () => {
    const value = `"${'\\\x07'.repeat(3000)}"`;
    const text = withTo('<sip:x@127.0.0.1>', `Subject: ${value}\r\n`);
    const bytes = new Uint8Array([...text].map((c) => c.charCodeAt(0)));
    const view = parser.parse(bytes);
    expect(view.error).toBeUndefined();
    expect(view.escapedControl).toEqual({ offset: text.indexOf('\x07'), header: 'Subject' });
  });

  it('refuses an escaped CR (RFC 3261 §25.1: a quoted-pair never holds CR or LF) and an escaped LF', () => {
    const cr = mark(withTo('"a\\^b" <sip:x@127.0.0.1>'), 0x0d);
    refused(cr.bytes, cr.at, 'escaped CR');
    const lf = mark(withTo('"a\\^b" <sip:x@127.0.0.1>'), 0x0a);
    const view = parser.parse(lf.bytes);
    expect(view.ok).toBe(false);
    expect(view.flags & F.ESCAPED_CTL).toBe(0);
  });

  it('refuses a control byte inside quotes that no backslash escapes, with its offset', () => {
    for (const [name, byte] of ESCAPABLE) {
      for (const to of ['"a^" <sip:x@127.0.0.1>', '"a\\\\^" <sip:x@127.0.0.1>', '"a\\\\\\"^" <sip:x@127.0.0.1>', '"\\a^" <sip:x@127.0.0.1>']) {
        const { bytes, at } = mark(withTo(to), byte);
        refused(bytes, at, `${name} in ${to}`);
      }
    }
  });

  it('refuses a backslash and a control byte outside a quoted-string', () => {
    for (const [name, byte] of ESCAPABLE) {
      for (const to of ['<sip:x@127.0.0.1>;p=\\^', 'a\\^b <sip:x@127.0.0.1>', '<sip:x@127.0.0.1>;p="q";r=\\^']) {
        const { bytes, at } = mark(withTo(to), byte);
        refused(bytes, at, `${name} in ${to}`);
      }
      const x = mark(withTo('<sip:x@127.0.0.1>', 'X-Custom: a\\^b\r\n'), byte);
      refused(x.bytes, x.at, `${name} in X-Custom`);
    }
  });

  it('refuses a raw control byte after a quoted-string that ends in an escaped quote', () => {
    for (const [name, byte] of ESCAPABLE) {
      for (const to of ['"a\\"b"^ <sip:x@127.0.0.1>', '"a\\"b" \\^<sip:x@127.0.0.1>', '"a\\"" <sip:x@127.0.0.1>;p=\\^']) {
        const { bytes, at } = mark(withTo(to), byte);
        refused(bytes, at, `${name} in ${to}`);
      }
    }
  });

  it('starts each header field outside quotes: a quote left open does not escape the next line', () => {
    for (const [name, byte] of ESCAPABLE) {
      const { bytes, at } = mark(withTo('<sip:x@127.0.0.1>', 'Subject: "open\r\nX-Next: \\^\r\n'), byte);
      refused(bytes, at, name);
    }
  });

  it('allows no quoted-pair in the start line', () => {
    const rest = `${lines('nowhere').slice(1, 4).join('\r\n')}\r\nTo: <sip:x@127.0.0.1>\r\n${tail}`;
    for (const [name, byte] of ESCAPABLE) {
      const { bytes, at } = mark(`SIP/2.0 200 "O\\^K"\r\n${rest}`, byte);
      refused(bytes, at, name);
    }
  });

  it('accepts RFC 4475 §3.1.1.2 (intmeth): its To display name holds BEL, NUL and DEL as quoted-pairs', () => {
    const bytes = corpusBytes('rfc4475/intmeth.dat');
    const view = parser.parse(bytes);
    expect(view.error).toBeUndefined();
    expect(view.escapedControl).toEqual({ offset: bytes.indexOf(0x07), header: 'To' });
    expect(view.header('To')).toMatch(/^"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f" <sip:1_unusual/);
  });
});
