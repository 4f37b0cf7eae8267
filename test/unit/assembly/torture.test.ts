/**
 * RFC 4475 torture messages, byte for byte, with the verdicts of
 * test/fixtures/corpus/rfc4475/EXPECTED.tsv and the key values each message
 * is about. Runs against both builds.
 */
import { describe, it, expect } from 'vitest';
import { FLAVOURS, parserFor, corpusBytes, readTsv } from '../../support/wasm.js';
import { parseCommand } from '../../../runtime/cli/parse-command.js';
import type { MessageView } from '../../../runtime/wasm/message-view.js';
import { F } from '../../../runtime/wasm/abi.js';

type Check = (view: MessageView, json: Record<string, unknown>) => void;

/** Key values per message, from the RFC's description of each. */
const KEY: Record<string, Check> = {
  wsinv: (v) => {
    expect(v.method).toBe('INVITE');
    expect(v.requestUri).toBe('sip:vivekg@chair-dnrc.example.com;unknownparam');
    expect(v.toTag).toBe('1918181833n');
    expect(v.fromTag).toBe('98asjd8');
    expect(v.maxForwards).toBe(68);
    expect(v.cseqNumber).toBe(9);
    expect(v.cseqMethod).toBe('INVITE');
    expect(v.header('Subject')).toBe('');
    expect(v.header('UnknownHeaderWithUnusualValue')).toBe(';;,,;;,;');
    expect(v.header('NewFangledHeader')).toBe('newfangled value continued newfangled value');
    expect(v.headers('Via')).toHaveLength(3);
    expect(v.branch).toBe('390skdjuw');
    expect(v.bodyLength).toBe(150);
  },
  intmeth: (v, j) => {
    expect(v.methodId).toBe(0);
    expect(v.method).toBe("!interesting-Method0123456789_*+`.%indeed'~");
    expect(v.cseqMethod).toBe(v.method);
    // the quoted-pairs hold the raw octets, as received
    expect(v.header('To')).toMatch(/^"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f" <sip:1_unusual/);
    expect(v.flags & F.ESCAPED_CTL).toBe(F.ESCAPED_CTL);
    expect(v.escapedControl).toEqual({ offset: v.bytes.indexOf(0x07), header: 'To' });
    expect(j.warnings).toContain('a quoted-string holds a control character as a quoted-pair (valid per RFC 3261, but never copied: the daemon answers 400 or drops the message)');
  },
  esc01: (v) => expect(v.requestUri).toBe('sip:sips%3Auser%40example.com@example.net'),
  escnull: (v) => expect(v.headers('Contact')).toEqual(['<sip:%00@host5.example.com>', '<sip:%00%00@host5.example.com>']),
  esc02: (v) => {
    expect(v.method).toBe('RE%47IST%45R');
    expect(v.methodId).toBe(0);
    expect(v.headers('Contact')).toHaveLength(2);
    expect(v.header('C%6Fntact')).toBe('<sip:alias2@host2.example.com>');
  },
  lwsdisp: (v) => expect(v.header('From')).toBe('caller<sip:caller@example.com>;tag=323'),
  longreq: (v) => {
    expect(v.headers('Via')).toHaveLength(34);
    expect(v.bodyLength).toBe(150);
    expect(v.fromTag!.length).toBeGreaterThan(150);
  },
  dblreq: (v, j) => {
    expect(v.method).toBe('REGISTER');
    expect(v.messageLength).toBeLessThan(v.bytes.length);
    expect(j.warnings).toContain('bytes after the end of the message were ignored');
  },
  semiuri: (v) => expect(v.requestUri).toBe('sip:user;par=u%40example.net@example.com'),
  transports: (v) => expect(v.headers('Via')).toHaveLength(5),
  mpart01: (v) => {
    expect(v.bodyLength).toBe(553);
    expect(v.body.includes(0)).toBe(true);
  },
  unreason: (v) => {
    expect(v.statusCode).toBe(200);
    expect(v.reason).toMatch(/^= 2\*\*3 \* 5\*\*2 \u043d\u043e/u);
  },
  noreason: (v) => {
    expect(v.statusCode).toBe(100);
    expect(v.reason).toBe('');
  },
  inv2543: (v, j) => {
    expect(v.bodyLength).toBe(105);
    expect(v.branch).toBeUndefined();
    expect(j.warnings).toEqual(expect.arrayContaining([
      'request without Max-Forwards (RFC 2543 style)',
      'top Via has no branch parameter (RFC 2543 style)',
      'no Content-Length: the body is the rest of the datagram',
      'From has no tag (RFC 2543 style)',
    ]));
  },
  badbranch: (v) => expect(v.branch).toBe('z9hG4bK'),
  baddate: (_v, j) => expect(j.warnings).toContain('Date is not an RFC 1123 GMT date and is ignored'),
  zeromf: (v) => expect(v.maxForwards).toBe(0),
  bcast: (v) => expect(v.headers('Via')[1]).toMatch(/255\.255\.255\.255/),
  unkscm: (v) => expect(v.requestUri).toBe('nobodyKnowsThisScheme:totallyopaquecontent'),
  novelsc: (v) => expect(v.requestUri).toBe('soap.beep://192.0.2.103:3002'),
};

/** The error each refused message must report (name), from the RFC's reason. */
const ERROR_NAME: Record<string, string> = {
  badinv01: 'E_VIA', clerr: 'E_CONTENT_LENGTH_MISMATCH', ncl: 'E_CONTENT_LENGTH', scalar02: 'E_CSEQ',
  scalarlg: 'E_CSEQ', quotbal: 'E_NAME_ADDR', badvers: 'E_VERSION', mismatch01: 'E_CSEQ_METHOD',
  mismatch02: 'E_CSEQ_METHOD', bigcode: 'E_STATUS_CODE', insuf: 'E_MISSING_HEADER',
  multi01: 'E_DUPLICATE_HEADER', mcl01: 'E_CONTENT_LENGTH', baddn: 'E_NAME_ADDR',
  ltgtruri: 'E_REQUEST_URI', lwsruri: 'E_START_LINE', lwsstart: 'E_START_LINE', trws: 'E_START_LINE',
  escruri: 'E_REQUEST_URI', regbadct: 'E_NAME_ADDR', badaspec: 'E_NAME_ADDR',
};

const rows = readTsv('rfc4475/EXPECTED.tsv');

describe.each(FLAVOURS)('RFC 4475 torture corpus (%s build)', (flavour) => {
  const parser = parserFor(flavour);

  it('has all 49 messages', () => expect(rows).toHaveLength(49));

  for (const row of rows) {
    const name = row.name!;
    it(`${name} (${row.validity}, §${row.section}) exits ${row.parse_exit}`, () => {
      const bytes = corpusBytes(`rfc4475/${name}.dat`);
      const { json, exitCode } = parseCommand(parser, bytes);
      if (row.parse_exit === '0|1') {
        expect([0, 1]).toContain(exitCode);
        if (exitCode === 0) expect((json.warnings as string[]).length).toBeGreaterThan(0);
      } else {
        expect(exitCode).toBe(Number(row.parse_exit));
      }
      if (exitCode === 1) {
        const error = json.error as { name: string; offset: number; message: string };
        expect(error.name).toBe(ERROR_NAME[name]);
        expect(error.offset).toBeGreaterThanOrEqual(0);
        expect(error.offset).toBeLessThanOrEqual(bytes.length);
        expect(error.message.length).toBeGreaterThan(5);
      } else {
        KEY[name]?.(parser.parse(bytes), json);
      }
    });
  }

  it('badvers maps to 505 Version Not Supported', () => {
    const { json } = parseCommand(parser, corpusBytes('rfc4475/badvers.dat'));
    expect((json.error as { sipStatus: number }).sipStatus).toBe(505);
  });
});
