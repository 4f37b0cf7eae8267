/**
 * `<Sip>` target rules (https://www.twilio.com/docs/voice/twiml/sip) through validate_sip_target and
 * its wrapper, plus validate_header_value and parse_uri. Runs against both builds.
 */
import { describe, it, expect } from 'vitest';
import { compileModule, instantiate } from '../../../runtime/wasm/load.js';
import { WasmParser } from '../../../runtime/wasm/parser.js';
import { U, UF } from '../../../runtime/wasm/abi.js';
import { validateSipTarget, validateHeaderValue, type SipTargetResult } from '../../../runtime/sip/sip-target.js';

/** Name of the error of a failed result ('OK' on success). */
function errorName(result: { ok: true } | { ok: false; error: { name: string } }): string {
  return result.ok ? 'OK' : result.error.name;
}

function errorOffset(result: SipTargetResult): number {
  if (result.ok) throw new Error('expected a failure');
  return result.error.offset;
}

describe.each(['debug', 'release'] as const)('<Sip> target (%s build)', (flavour) => {
  const parser = new WasmParser(instantiate(compileModule(flavour)));
  const check = (target: string): SipTargetResult => validateSipTarget(parser, target);

  it('takes a plain sip: URI apart (the check-uri JSON shape)', () => {
    expect(check('sip:jack@example.com')).toEqual({
      ok: true, uri: 'sip:jack@example.com', scheme: 'sip', user: 'jack', host: 'example.com',
      port: null, transport: 'udp', effectivePort: 5060, region: 'us1', headers: [], params: {},
    });
    expect(parser.out[U.STATUS]).toBe(0);
    expect(parser.out[U.REGION]).toBe(0);
    expect(check('sip:example.com')).toMatchObject({ ok: true, user: null, host: 'example.com' });
    expect([parser.out[U.USER_LEN], parser.out[U.PASSWORD_LEN]]).toEqual([-1, -1]);
  });

  it('decodes the Twilio x-customname example', () => {
    const r = check('sip:kate@example.com?x-customname=Madhu%2CMathiyalagan%3BTitle%3DManager&x-other=bar');
    expect(r).toMatchObject({ ok: true, uri: 'sip:kate@example.com', user: 'kate', host: 'example.com' });
    expect(r.ok && r.headers).toEqual([
      { name: 'x-customname', value: 'Madhu,Mathiyalagan;Title=Manager' },
      { name: 'x-other', value: 'bar' },
    ]);
  });

  it('decodes the Twilio User-to-User example', () => {
    const r = check('sip:jack@example.com?User-to-User=123456789%3Bencoding%3Dhex');
    expect(r.ok && r.headers).toEqual([{ name: 'User-to-User', value: '123456789;encoding=hex' }]);
  });

  it('accepts a bare user@host as sip:, offsets relative to the input as written', () => {
    const r = check('kate@example.com?x-a=1');
    expect(r).toMatchObject({ ok: true, uri: 'sip:kate@example.com', scheme: 'sip', user: 'kate', host: 'example.com' });
    expect(parser.out[U.FLAGS]! & UF.IMPLIED_SCHEME).toBe(UF.IMPLIED_SCHEME);
    expect(parser.out[U.URI_START]).toBe(0);
    expect(parser.out[U.USER_START]).toBe(0);
    expect(parser.out[U.HOST_START]).toBe(5);
    expect(check('sip:kate@example.com').ok && parser.out[U.FLAGS]).toBe(0);
    expect(errorName(check('kate@example.com:99999'))).toBe('E_PORT');
    expect(errorOffset(check('kate@example.com:99999'))).toBe(21);
    expect(errorOffset(check('sip:kate@example.com:99999'))).toBe(25);
  });

  it('refuses other schemes and scheme-less targets without user@', () => {
    for (const t of ['tel:+14155550123', 'http://example.com/', 'example.com', 'kate:secret@example.com']) {
      expect(errorName(check(t)), t).toBe('E_SCHEME');
    }
    expect(errorName(check(''))).toBe('E_URI');
  });

  it('sips: means tls on 5061; tls param too; explicit port honoured', () => {
    expect(check('sips:kate@example.com')).toMatchObject({ ok: true, scheme: 'sips', transport: 'tls', effectivePort: 5061, port: null });
    expect(check('sip:kate@example.com;transport=tls')).toMatchObject({ transport: 'tls', effectivePort: 5061 });
    expect(check('sip:kate@example.com:5080;transport=TLS')).toMatchObject({ transport: 'tls', port: 5080, effectivePort: 5080 });
    expect(check('sip:kate@example.com:5070')).toMatchObject({ transport: 'udp', port: 5070, effectivePort: 5070 });
    expect(check('sip:kate@example.com;transport=tcp')).toMatchObject({ transport: 'tcp', effectivePort: 5060 });
    expect(check('sips:kate@example.com;transport=tcp')).toMatchObject({ transport: 'tls', effectivePort: 5061 });
    expect(parser.out[U.TRANSPORT]).toBe(3);
    expect(check('sip:a@[2001:db8::1]:5070')).toMatchObject({ host: '[2001:db8::1]', port: 5070 });
  });

  it('refuses transports other than udp/tcp/tls', () => {
    for (const t of ['sctp', 'ws', 'wss', 'quic', '']) {
      const r = check(`sip:kate@example.com;transport=${t}`);
      expect(errorName(r), t).toBe('E_TRANSPORT');
      expect(errorOffset(r)).toBe(31);
      expect(!r.ok && r.error.twilioCode).toBe(32114);
    }
    expect(errorName(check('sip:kate@example.com;transport'))).toBe('E_TRANSPORT');
    expect(errorName(check('sips:kate@example.com;transport=udp'))).toBe('E_TRANSPORT');
    expect(errorName(check('sip:kate@example.com;transport=tcp;transport=udp'))).toBe('E_TRANSPORT');
  });

  it('reads the region (default us1) and refuses unknown ones', () => {
    const regions = ['us1', 'us2', 'ie1', 'de1', 'sg1', 'jp1', 'br1', 'au1'];
    regions.forEach((region, i) => {
      expect(check(`sip:kate@example.com;region=${region.toUpperCase()}`)).toMatchObject({ ok: true, region });
      expect(parser.out[U.REGION]).toBe(i + 1);
    });
    for (const t of ['sip:kate@example.com;region=eu1', 'sip:kate@example.com;region', 'sip:kate@example.com;region=us1;region=ie1']) {
      const r = check(t);
      expect(errorName(r), t).toBe('E_REGION');
      expect(!r.ok && r.error.twilioCode).toBe(32114);
    }
  });

  it('lists params with lower-case names', () => {
    const r = check('sip:kate@example.com;Transport=tcp;lr;Region=us2;edge=dublin');
    expect(r.ok && { ...r.params }).toEqual({ transport: 'tcp', lr: null, region: 'us2', edge: 'dublin' });
  });

  it('counts the URI proper: 254 bytes ok, 255 refused', () => {
    const uri = (n: number) => `sip:${'u'.repeat(n - 'sip:@example.com'.length)}@example.com`;
    expect(uri(254)).toHaveLength(254);
    expect(check(uri(254)).ok).toBe(true);
    expect(check(`${uri(254)}?x-a=b`).ok).toBe(true);
    const r = check(uri(255));
    expect(errorName(r)).toBe('E_URI_TOO_LONG');
    expect(errorOffset(r)).toBe(254);
    expect(!r.ok && r.error.twilioCode).toBe(13243);
    expect(errorName(check(`${uri(255)}?x-a=b`))).toBe('E_URI_TOO_LONG');
    expect(check(uri(258).slice(4)).ok).toBe(true);
    expect(errorName(check(uri(259).slice(4)))).toBe('E_URI_TOO_LONG');
  });

  it('counts the header part: 1023 bytes ok, 1024 refused', () => {
    const base = 'sip:kate@example.com';
    const part = (n: number) => `x-pad=${'a'.repeat(n - 6)}`;
    expect(check(`${base}?${part(1023)}`).ok).toBe(true);
    const r = check(`${base}?${part(1024)}`);
    expect(errorName(r)).toBe('E_URI_HEADERS_TOO_LONG');
    expect(errorOffset(r)).toBe(base.length + 1 + 1023);
    expect(!r.ok && r.error.twilioCode).toBe(13253);
  });

  it('refuses CR, LF, NUL and other CTLs once decoded (header injection)', () => {
    const base = 'sip:kate@example.com?x-a=';
    for (const esc of ['%0D%0A', '%0d%0aVia:%20evil', '%00', '%7F', '%1b']) {
      const r = check(`${base}foo${esc}`);
      expect(errorName(r), esc).toBe('E_CTL_CHAR');
      expect(errorOffset(r)).toBe(base.length + 3);
      expect(!r.ok && r.error.twilioCode).toBe(32112);
    }
    expect(errorName(check('sip:kate@example.com?x-a%0Db=1'))).toBe('E_CTL_CHAR');
    expect(check(`${base}a%09b`)).toMatchObject({ ok: true, headers: [{ name: 'x-a', value: 'a\tb' }] });
  });

  it('refuses raw control characters and blanks anywhere', () => {
    for (const [t, name, at] of [
      ['sip:kate@example.com\r\nVia: x', 'E_CTL_CHAR', 20], ['sip:kate@exa\0mple.com', 'E_CTL_CHAR', 12],
      ['sip:kate@example.com?x-a=b\n', 'E_CTL_CHAR', 26], ['sip:kate @example.com', 'E_URI', 8],
      ['sip:kate@example.com\t', 'E_URI', 20],
    ] as const) {
      const r = check(t);
      expect(errorName(r), JSON.stringify(t)).toBe(name);
      expect(errorOffset(r)).toBe(at);
    }
  });

  it('allows only x-* and the four named headers, never X-Twilio*', () => {
    const ok = ['X-Foo', 'x-foo', 'X-User-to-User', 'user-to-user', 'Remote-Party-ID', 'P-Preferred-Identity', 'p-called-party-id'];
    for (const name of ok) expect(check(`sip:kate@example.com?${name}=v`).ok, name).toBe(true);
    for (const name of ['X-Twilio-Foo', 'x-twilio', 'X-TWILIO-AccountSid', 'X-%54wilio-Foo']) {
      const r = check(`sip:kate@example.com?x-ok=1&${name}=v`);
      expect(errorName(r), name).toBe('E_TWILIO_HEADER');
      expect(errorOffset(r)).toBe(28);
      expect(!r.ok && r.error.twilioCode).toBe(32113);
    }
    for (const name of ['Foo', 'Replaces', 'P-Asserted-Identity', 'Subject', 'User-to-Users']) {
      const r = check(`sip:kate@example.com?${name}=v`);
      expect(errorName(r), name).toBe('E_HEADER_NOT_ALLOWED');
      expect(!r.ok && r.error.twilioCode).toBe(13252);
    }
  });

  it('requires header names to be tokens after decoding', () => {
    expect(errorName(check('sip:kate@example.com?x-a:b=1'))).toBe('E_HEADER_NAME');
    expect(errorName(check('sip:kate@example.com?x-a%3Ab=1'))).toBe('E_HEADER_NAME');
    expect(errorOffset(check('sip:kate@example.com?x-a%3Ab=1'))).toBe(24);
    expect(check('sip:kate@example.com?x-%41b=1')).toMatchObject({ ok: true, headers: [{ name: 'x-Ab', value: '1' }] });
  });

  it('refuses bad percent escapes', () => {
    for (const t of ['sip:kate@example.com?x-a=%ZZ', 'sip:kate@example.com?x-a=%4', 'sip:k%G1@example.com']) {
      expect(errorName(check(t)), t).toBe('E_BAD_ESCAPE');
    }
  });

  it('decodes invalid UTF-8 without throwing', () => {
    expect(check('sip:kate@example.com?x-a=%FF%C3%A9')).toMatchObject({ ok: true, headers: [{ name: 'x-a', value: '\uFFFDé' }] });
  });

  it(`refuses more than 32 URI headers`, () => {
    const headers = (n: number) => Array.from({ length: n }, (_, i) => `x-h${i}=${i}`).join('&');
    const ok = check(`sip:kate@example.com?${headers(32)}`);
    expect(ok.ok && ok.headers).toHaveLength(32);
    const target = `sip:kate@example.com?${headers(33)}`;
    const r = check(target);
    expect(errorName(r)).toBe('E_TOO_MANY_URI_HEADERS');
    expect(errorOffset(r)).toBe(target.indexOf('x-h32='));
  });

  it('allocates nothing per call', () => {
    const before = parser.exports.memory.buffer.byteLength;
    for (let i = 0; i < 10_000; i++) check('sip:kate@example.com;transport=tls?x-a=%0D&X-B=2');
    expect(parser.exports.memory.buffer.byteLength).toBe(before);
  });

  it('reports URI syntax errors from the URI parser', () => {
    expect(errorName(check('sip:kate@'))).toBe('E_HOST');
    expect(errorName(check('sip:kate@example.com:0'))).toBe('E_PORT');
    expect(errorName(check('sip:kate@example.com?x-a'))).toBe('E_URI');
  });
});

describe.each(['debug', 'release'] as const)('validate_header_value and parse_uri (%s build)', (flavour) => {
  const parser = new WasmParser(instantiate(compileModule(flavour)));

  it('refuses CTLs except HTAB in a header value', () => {
    expect(validateHeaderValue(parser, 'Madhu Mathiyalagan;\tTitle=Manager')).toEqual({ ok: true });
    expect(validateHeaderValue(parser, 'héllo wörld')).toEqual({ ok: true });
    expect(validateHeaderValue(parser, '')).toEqual({ ok: true });
    for (const [value, at] of [['a\r\nVia: evil', 1], ['\0', 0], ['ab\n', 2], ['x\x7f', 1], ['é\x1b', 2]] as const) {
      const r = validateHeaderValue(parser, value);
      expect(r.ok, JSON.stringify(value)).toBe(false);
      expect(!r.ok && r.error).toMatchObject({ name: 'E_CTL_CHAR', offset: at, twilioCode: 32112 });
    }
  });

  it('parses a URI anywhere in IN with offsets relative to IN', () => {
    const bytes = new TextEncoder().encode('junk<sip:bob@example.com:5062;transport=tcp?X-A=1>');
    parser.writeInput(bytes);
    expect(parser.exports.parse_uri(5, bytes.length - 6)).toBe(0);
    const out = parser.out;
    expect([out[U.USER_START], out[U.USER_LEN], out[U.HOST_START], out[U.HOST_LEN], out[U.PORT]]).toEqual([9, 3, 13, 11, 5062]);
    expect([out[U.URI_START], out[U.URI_HEADER_COUNT], out[U.TRANSPORT]]).toEqual([5, 1, 2]);
    expect(parser.exports.parse_uri(0, 4)).toBe(-36);
    expect([out[U.STATUS], out[U.ERROR_OFFSET]]).toEqual([-36, 0]);
    expect(parser.exports.parse_uri(-1, 4)).toBe(-39);
    expect(parser.exports.parse_uri(parser.inCap, 1)).toBe(-39);
  });
});
