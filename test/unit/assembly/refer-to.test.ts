/**
 * Refer-To of inbound REFERs (https://www.twilio.com/docs/voice/api/refer-to-twilio) through extract_refer_to
 * and its wrapper. Runs against both builds.
 */
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';
import { compileModule, instantiate } from '../../../runtime/wasm/load.js';
import { WasmParser } from '../../../runtime/wasm/parser.js';
import { M, U, REFER_RECORD_SLOT } from '../../../runtime/wasm/abi.js';
import { extractReferTo, type ReferToResult } from '../../../runtime/sip/refer-to.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');
const encoder = new TextEncoder();

/** The escaped Replaces URI from the real-world corpus (SIPSorcery unit test). */
const REPLACES_URI = readFileSync(join(FIXTURES, 'corpus', 'real', 'fragments-refer-to-replaces.txt'), 'utf8')
  .split('\n').find((line) => line.startsWith('sip:'))!;

/** A REFER (or `method`) with the given Refer-To header lines. */
function message(referTo: string[], method = 'REFER'): string {
  return [
    `${method} sip:bob@192.0.2.4 SIP/2.0`,
    'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8',
    'Max-Forwards: 70',
    'From: <sip:alice@atlanta.example.com>;tag=1928301774',
    'To: <sip:bob@biloxi.example.com>;tag=a6c85cf',
    'Call-ID: a84b4c76e66710',
    `CSeq: 314159 ${method}`,
    'Contact: <sip:alice@pc33.atlanta.example.com>',
    ...referTo,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

function errorOf(result: ReferToResult): { name: string; offset: number } {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result.error;
}

describe.each(['debug', 'release'] as const)('Refer-To (%s build)', (flavour) => {
  const parser = new WasmParser(instantiate(compileModule(flavour)));
  const extract = (text: string): ReferToResult => {
    const view = parser.parse(encoder.encode(text));
    return extractReferTo(parser, view);
  };
  const referRecord = (slot: number): number => parser.out[REFER_RECORD_SLOT + slot]!;

  it('reads the REFER fixture: raw value, URI, decoded headers', () => {
    const bytes = new Uint8Array(readFileSync(join(FIXTURES, 'messages', 'refer.sip')));
    const view = parser.parse(bytes);
    expect(view.ok).toBe(true);
    expect(extractReferTo(parser, view)).toEqual({
      ok: true,
      raw: '<sip:agentb@example.com?User-to-User=56a390f3d2b7310023a2%3Bencoding%3Dhex&X-Name=Foo>',
      uri: 'sip:agentb@example.com', scheme: 'sip', user: 'agentb', host: 'example.com',
      headers: [{ name: 'User-to-User', value: '56a390f3d2b7310023a2;encoding=hex' }, { name: 'X-Name', value: 'Foo' }],
      replaces: null,
    });
    expect(referRecord(U.REPLACES_INDEX)).toBe(-1);
  });

  it('leaves the message record intact', () => {
    const view = parser.parse(encoder.encode(message(['Refer-To: <sip:carol@example.com>'])));
    const headerCount = view.headerCount;
    expect(extractReferTo(parser, view).ok).toBe(true);
    expect(view.ok).toBe(true);
    expect(view.headerCount).toBe(headerCount);
    expect(view.callId).toBe('a84b4c76e66710');
    expect(view.slot(M.IDX_REFER_TO)).toBe(7);
  });

  it('finds an escaped Replaces (attended transfer) and decodes it', () => {
    const r = extract(message([`Refer-To: <${REPLACES_URI}>`]));
    expect(r).toMatchObject({
      ok: true, uri: 'sip:1@127.0.0.1', user: '1', host: '127.0.0.1',
      replaces: '84929ZTg0Zjk1Y2UyM2Q1OWJjYWNlZmYyYTI0Njg1YjgwMzI;to-tag=8787f9cc94bb4bb19c089af17e5a94f7;from-tag=c2b89404',
    });
    expect(referRecord(U.REPLACES_INDEX)).toBe(0);
    const second = extract(message(['Refer-To: <sip:carol@example.com?X-A=1&rePLACES=abc%40host%3Bto-tag%3D1>']));
    expect(second).toMatchObject({ ok: true, replaces: 'abc@host;to-tag=1' });
    expect(referRecord(U.REPLACES_INDEX)).toBe(1);
  });

  it('accepts the compact form r:', () => {
    expect(extract(message(['r: <sip:carol@example.com>']))).toMatchObject({ ok: true, raw: '<sip:carol@example.com>', user: 'carol' });
  });

  it('accepts name-addr with display name and params, and addr-spec', () => {
    expect(extract(message(['Refer-To: "Carol, Sales" <sip:carol@example.com;transport=tcp>;foo=bar']))).toMatchObject({
      ok: true, raw: '"Carol, Sales" <sip:carol@example.com;transport=tcp>;foo=bar', uri: 'sip:carol@example.com;transport=tcp',
    });
    expect(extract(message(['Refer-To: sips:carol@example.com']))).toMatchObject({ ok: true, scheme: 'sips', headers: [] });
    expect(extract(message(['Refer-To: <sip:carol@example.com?X-List=a,b>'])).ok).toBe(true);
  });

  it('accepts tel: and other absolute URIs', () => {
    expect(extract(message(['Refer-To: <tel:+14155550123>']))).toEqual({
      ok: true, raw: '<tel:+14155550123>', uri: 'tel:+14155550123', scheme: 'tel', user: '+14155550123',
      host: null, headers: [], replaces: null,
    });
    expect(extract(message(['Refer-To: tel:+14155550123;phone-context=example.com']))).toMatchObject({ ok: true, user: '+14155550123' });
    expect(extract(message(['Refer-To: <urn:service:sos>']))).toMatchObject({ ok: true, scheme: 'urn', user: null, host: null });
  });

  it('refuses two Refer-To headers and comma lists', () => {
    const text = message(['Refer-To: <sip:a@example.com>', 'Refer-To: <sip:b@example.com>']);
    const r = extract(text);
    expect(errorOf(r)).toMatchObject({ name: 'E_REFER_TO_MULTIPLE', offset: text.lastIndexOf('Refer-To') });
    const list = message(['Refer-To: <sip:a@example.com>, <sip:b@example.com>']);
    expect(errorOf(extract(list))).toMatchObject({ name: 'E_REFER_TO_MULTIPLE', offset: list.indexOf('>,') + 1 });
    expect(errorOf(extract(message(['r: <sip:a@example.com>', 'Refer-To: <sip:b@example.com>']))).name).toBe('E_REFER_TO_MULTIPLE');
  });

  it('allows 256 bytes and refuses 257', () => {
    const value = (n: number) => `<sip:${'u'.repeat(n - '<sip:@example.com>'.length)}@example.com>`;
    expect(value(257)).toHaveLength(257);
    expect(extract(message([`Refer-To: ${value(256)}`])).ok).toBe(true);
    const text = message([`Refer-To: ${value(257)}`]);
    expect(errorOf(extract(text))).toMatchObject({ name: 'E_REFER_TO_TOO_LONG', offset: text.indexOf('<sip:u') + 256 });
  });

  it('reports a missing or empty Refer-To', () => {
    expect(errorOf(extract(message([]))).name).toBe('E_REFER_TO_MISSING');
    const empty = message(['Refer-To:']);
    expect(errorOf(extract(empty)).name).toBe('E_REFER_TO_MISSING');
  });

  it('refuses what is not a REFER', () => {
    expect(errorOf(extract(message(['Refer-To: <sip:a@example.com>'], 'INVITE'))).name).toBe('E_NOT_REFER');
    const response = message(['Refer-To: <sip:a@example.com>']).replace('REFER sip:bob@192.0.2.4 SIP/2.0', 'SIP/2.0 202 Accepted');
    expect(errorOf(extract(response)).name).toBe('E_NOT_REFER');
    expect(errorOf(extract('\r\n\r\n')).name).toBe('E_NOT_REFER');
  });

  it('passes a parse failure through', () => {
    expect(errorOf(extract(message(['Refer-To: <sip:a@example.com>']).replace('CSeq: 314159 REFER', 'CSeq: x'))).name).toBe('E_CSEQ');
  });

  it('refuses URI headers that decode to CTLs (header injection)', () => {
    const text = message(['Refer-To: <sip:carol@example.com?X-Inject=foo%0D%0AVia:%20evil>']);
    expect(errorOf(extract(text))).toMatchObject({ name: 'E_CTL_CHAR', offset: text.indexOf('%0D') });
    expect(errorOf(extract(message(['Refer-To: <sip:carol@example.com?Repl%00aces=x>']))).name).toBe('E_CTL_CHAR');
  });

  it('reports malformed values', () => {
    expect(errorOf(extract(message(['Refer-To: <sip:carol@example.com']))).name).toBe('E_NAME_ADDR');
    expect(errorOf(extract(message(['Refer-To: sip:carol@example.com?X-A=1']))).name).toBe('E_NAME_ADDR');
    expect(errorOf(extract(message(['Refer-To: +14155550123']))).name).toBe('E_SCHEME');
    expect(errorOf(extract(message(['Refer-To: <sip:carol@example.com?X-A=%ZZ>']))).name).toBe('E_BAD_ESCAPE');
  });

  it('allocates nothing per call', () => {
    const bytes = encoder.encode(message([`Refer-To: <${REPLACES_URI}>`]));
    const before = parser.exports.memory.buffer.byteLength;
    const view = parser.parse(bytes).detach();
    const [start, len] = view.valueSpan(view.slot(M.IDX_REFER_TO));
    for (let i = 0; i < 10_000; i++) {
      parser.writeInput(bytes);
      expect(parser.exports.extract_refer_to(start, len)).toBe(0);
    }
    expect(parser.exports.memory.buffer.byteLength).toBe(before);
  });

  it('reads a detached REFER after other messages were parsed: its own Refer-To span, offsets in the message', () => {
    const text = message(['Refer-To: <sip:carol@example.com?X-A=%ZZ>']);
    const bad = parser.parse(encoder.encode(text)).detach();
    const good = parser.parse(encoder.encode(message(['Refer-To: "Carol" <sip:carol@example.com;transport=tcp>;x=1']))).detach();
    parser.parse(encoder.encode('OPTIONS sip:x@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:x@example.com>\r\nCall-ID: o\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'));
    expect(extractReferTo(parser, good)).toMatchObject({ ok: true, raw: '"Carol" <sip:carol@example.com;transport=tcp>;x=1', uri: 'sip:carol@example.com;transport=tcp', host: 'example.com' });
    const err = errorOf(extractReferTo(parser, bad));
    expect([err.name, err.offset]).toEqual(['E_BAD_ESCAPE', text.indexOf('%ZZ')]);
  });

  it('extract_refer_to refuses a span outside IN', () => {
    expect(parser.exports.extract_refer_to(-1, 4)).toBe(-39);
    expect(parser.exports.extract_refer_to(0, -1)).toBe(-39);
    expect(parser.exports.extract_refer_to(parser.inCap, 1)).toBe(-39);
    expect(referRecord(U.STATUS)).toBe(-39);
  });

  it('decodes invalid UTF-8 without throwing', () => {
    expect(extract(message(['Refer-To: <sip:carol@example.com?X-A=%FF>']))).toMatchObject({ ok: true, headers: [{ name: 'X-A', value: '\uFFFD' }] });
  });
});
