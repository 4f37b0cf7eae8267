/**
 * The SIP URI reader (runtime/sip/uri.ts) over the WASM parse_uri: the
 * RFC 3261 §19.1.3 examples, the RFC 5118 IPv6 references, the limits and
 * the Request-URIs and Contact/From/To URIs of the public corpus.
 */
import { describe, it, expect } from 'vitest';
import { FLAVOURS, parserFor, corpusBytes, corpusFiles } from '../../support/wasm.js';
import { readSipUri, readSipUriRouting, sipUriHost, sipUriUser, sipUriHostPort, unbracket, withoutUriParams, NO_URI_LIMITS, type SipUriResult } from '../../../runtime/sip/uri.js';
import { uriOf } from '../../../runtime/dialog/target.js';

function errorName(r: SipUriResult): string {
  return r.ok ? 'OK' : r.error.name;
}

describe.each(FLAVOURS)('readSipUri (%s build)', (flavour) => {
  const parser = parserFor(flavour);
  const read = (text: string): SipUriResult => readSipUri(parser, text);

  it('reads the RFC 3261 §19.1.3 examples', () => {
    expect(read('sip:alice@atlanta.com')).toEqual({
      ok: true, scheme: 'sip', uri: 'sip:alice@atlanta.com', user: 'alice', password: null,
      host: 'atlanta.com', hostKind: 'hostname', port: null, params: {}, headers: [],
    });
    expect(read('sip:alice:secretword@atlanta.com;transport=tcp')).toMatchObject({
      ok: true, user: 'alice', password: 'secretword', host: 'atlanta.com', params: { transport: 'tcp' },
    });
    expect(read('sips:alice@atlanta.com?subject=project%20x&priority=urgent')).toMatchObject({
      ok: true, scheme: 'sips', uri: 'sips:alice@atlanta.com', user: 'alice',
      headers: [{ name: 'subject', value: 'project x' }, { name: 'priority', value: 'urgent' }],
    });
    expect(read('sip:+1-212-555-1212:1234@gateway.com;user=phone')).toMatchObject({
      ok: true, user: '+1-212-555-1212', password: '1234', host: 'gateway.com', params: { user: 'phone' },
    });
    expect(read('sips:1212@gateway.com')).toMatchObject({ ok: true, scheme: 'sips', user: '1212', host: 'gateway.com' });
    expect(read('sip:alice@192.0.2.4')).toMatchObject({ ok: true, host: '192.0.2.4', hostKind: 'ipv4' });
    expect(read('sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com')).toMatchObject({
      ok: true, user: null, host: 'atlanta.com', params: { method: 'REGISTER' },
      headers: [{ name: 'to', value: 'alice@atlanta.com' }],
    });
    expect(read('sip:alice;day=tuesday@atlanta.com')).toMatchObject({ ok: true, user: 'alice;day=tuesday', host: 'atlanta.com', params: {} });
  });

  it('reads ports, bare params and repeated params (first one wins, names lower-cased)', () => {
    expect(read('SIP:bob@Example.COM:5070;LR;Transport=TLS;transport=udp')).toMatchObject({
      ok: true, scheme: 'sip', host: 'Example.COM', port: 5070, params: { lr: null, transport: 'TLS' },
    });
  });

  it('reads the RFC 5118 IPv6 references', () => {
    expect(read('sip:[2001:db8::10]')).toMatchObject({ ok: true, host: '[2001:db8::10]', hostKind: 'ipv6', port: null });
    expect(read('sip:[2001:db8::10]:5070')).toMatchObject({ ok: true, host: '[2001:db8::10]', port: 5070 }); // §4.4
    expect(read('sip:[2001:db8::10:5070]')).toMatchObject({ ok: true, host: '[2001:db8::10:5070]', port: null }); // §4.3
    expect(read('sip:user@[2001:db8::10];maddr=[2001:db8::20]')).toMatchObject({ ok: true, user: 'user', params: { maddr: '[2001:db8::20]' } });
    expect(read('sip:[2001:db8:::192.0.2.1]')).toMatchObject({ ok: true, hostKind: 'ipv6' }); // §4.10, tolerated
    expect(read('sip:[::ffff:192.0.2.10]:5070')).toMatchObject({ ok: true, host: '[::ffff:192.0.2.10]', port: 5070 }); // §4.9
    expect(errorName(read('sip:2001:db8::10'))).toBe('E_PORT'); // §4.2: brackets are mandatory
    expect(errorName(read('sip:user@[2001:db8::10'))).toBe('E_HOST');
    expect(unbracket('[2001:db8::10]')).toBe('2001:db8::10');
    expect(unbracket('example.com')).toBe('example.com');
  });

  it('reads tel: URIs (RFC 3966) with no host', () => {
    expect(read('tel:+1-201-555-0123;phone-context=example.com')).toEqual({
      ok: true, scheme: 'tel', uri: 'tel:+1-201-555-0123;phone-context=example.com', user: '+1-201-555-0123',
      password: null, host: null, hostKind: null, port: null, params: { 'phone-context': 'example.com' }, headers: [],
    });
  });

  it('refuses bad input with a clear error and where it is', () => {
    const cases: Array<[string, string, number]> = [
      ['', 'E_SCHEME', 0],
      ['alice@atlanta.com', 'E_SCHEME', 0],
      ['mailto:alice@atlanta.com', 'E_SCHEME', 0],
      ['http://example.com/', 'E_SCHEME', 0],
      ['sip:', 'E_HOST', 4],
      ['sip:alice@', 'E_HOST', 10],
      ['sip:alice@atlanta.com:0', 'E_PORT', 22],
      ['sip:alice@atlanta.com:65536', 'E_PORT', 26],
      ['sip:alice@atlanta.com:50x', 'E_PORT', 24],
      ['sip:al ice@atlanta.com', 'E_URI', 6],
      ['sip:alice@atlanta.com;transport=tcp\r\nX: y', 'E_URI', 35],
      ['sip:al%4@atlanta.com', 'E_BAD_ESCAPE', 6],
      ['sip:alice@atlanta.com?subject', 'E_URI', 22],
      ['<sip:alice@atlanta.com>', 'E_SCHEME', 0],
    ];
    for (const [text, name, offset] of cases) {
      const r = read(text);
      expect(r.ok, text).toBe(false);
      if (!r.ok) {
        expect([text, r.error.name, r.error.offset]).toEqual([text, name, offset]);
        expect(r.error.message.length).toBeGreaterThan(0);
      }
    }
  });

  it('enforces the <Sip> limits: URI under 255 bytes, headers part under 1024', () => {
    const uri254 = `sip:${'a'.repeat(254 - 'sip:@h.example'.length)}@h.example`;
    expect(uri254).toHaveLength(254);
    expect(read(uri254).ok).toBe(true);
    const long = read(`${uri254}x`);
    expect(!long.ok && [long.error.name, long.error.offset, long.error.twilioCode]).toEqual(['E_URI_TOO_LONG', 254, 13243]);
    // the headers part does not count against the URI limit, and has its own
    const headers1023 = `x-a=${'b'.repeat(1023 - 4)}`;
    expect(read(`${uri254}?${headers1023}`).ok).toBe(true);
    const longHeaders = read(`sip:a@h?${headers1023}c`);
    expect(!longHeaders.ok && [longHeaders.error.name, longHeaders.error.offset]).toEqual(['E_URI_HEADERS_TOO_LONG', 8 + 1023]);
    // wire URIs (Contact, Record-Route) are bounded by the parser only
    expect(readSipUri(parser, `${uri254}x`, NO_URI_LIMITS).ok).toBe(true);
    const tooBig = readSipUri(parser, `sip:a@${'h'.repeat(parser.inCap)}`, NO_URI_LIMITS);
    expect(!tooBig.ok && tooBig.error.name).toBe('E_ARGUMENT');
  });

  it('reads non-ASCII input as UTF-8 bytes and refuses it with a byte offset', () => {
    const r = read('sip:jörg@example.com');
    expect(!r.ok && [r.error.name, r.error.offset]).toEqual(['E_URI', 5]);
  });

  it('sipUriHost gives the host or undefined', () => {
    expect(sipUriHost(parser, 'sip:bob@example.com:5060;x')).toBe('example.com');
    expect(sipUriHost(parser, 'sips:[2001:db8::1]')).toBe('[2001:db8::1]');
    expect(sipUriHost(parser, 'tel:+15551234')).toBeUndefined();
    expect(sipUriHost(parser, 'bob')).toBeUndefined();
  });

  it('withoutUriParams drops the named params and keeps the rest as written', () => {
    const drop = (uri: string): string => withoutUriParams(parser, uri, ['region', 'edge']);
    expect(drop('sip:bob@example.com;region=ie1')).toBe('sip:bob@example.com');
    expect(drop('sip:bob@example.com;Region=ie1;transport=TCP;edge=dublin;lr')).toBe('sip:bob@example.com;transport=TCP;lr');
    expect(drop('sips:bob@[2001:db8::1]:5061;transport=tls')).toBe('sips:bob@[2001:db8::1]:5061;transport=tls');
    expect(drop('sip:bob;region=x@example.com;edge')).toBe('sip:bob;region=x@example.com'); // the user part is not a param
    expect(drop('sip:bob@example.com;region=ie1?x-a=1')).toBe('sip:bob@example.com?x-a=1');
    expect(drop('tel:+1555;region=ie1')).toBe('tel:+1555;region=ie1');
    expect(drop('not a uri;region=1')).toBe('not a uri;region=1');
  });

  it('sipUriHostPort gives host:port as written or undefined', () => {
    expect(sipUriHostPort(parser, 'sip:patchbay@192.0.2.1:5080;transport=tcp')).toBe('192.0.2.1:5080');
    expect(sipUriHostPort(parser, 'sip:patchbay@[2001:db8::1]:5060')).toBe('[2001:db8::1]:5060');
    expect(sipUriHostPort(parser, 'sips:example.com')).toBe('example.com');
    expect(sipUriHostPort(parser, 'tel:+1555')).toBeUndefined();
  });

  it('agrees with the message parser on every Request-URI and From/To/Contact URI of the corpus', () => {
    let read = 0;
    for (const dir of ['rfc4475', 'rfc5118', 'real']) {
      for (const file of corpusFiles(dir, dir === 'real' ? '.sip' : '.dat')) {
        const view = parser.parse(corpusBytes(`${dir}/${file}`)).detach();
        if (view.error || !view.isRequest) continue;
        const uris = [view.requestUri ?? '', ...['From', 'To', 'Contact'].map((h) => view.header(h)).filter((v): v is string => v !== undefined && v !== '*').map(uriOf)];
        for (const uri of uris) {
          const r = readSipUri(parser, uri, NO_URI_LIMITS);
          if (/^sips?:/i.test(uri)) {
            // the message parser accepted the message, so its URIs are well-formed
            // unless they are outside what it checks (From/To/Contact are only name-addr-checked)
            if (!r.ok) expect(['E_URI', 'E_HOST', 'E_PORT', 'E_BAD_ESCAPE'], `${dir}/${file}: ${uri}`).toContain(r.error.name);
            else expect(r.host, `${dir}/${file}: ${uri}`).not.toBe('');
          } else {
            expect(r.ok ? r.scheme : r.error.name, `${dir}/${file}: ${uri}`).toMatch(/^(tel|E_SCHEME|E_URI)$/);
          }
          read++;
        }
      }
    }
    expect(read).toBeGreaterThan(100);
  });

  it('reads the Request-URI of the RFC 5118 messages as the RFC says', () => {
    const ruri = (name: string): SipUriResult => {
      const view = parser.parse(corpusBytes(`rfc5118/${name}.dat`)).detach();
      return readSipUri(parser, view.requestUri ?? (new TextDecoder().decode(corpusBytes(`rfc5118/${name}.dat`)).split(' ')[1] ?? ''));
    };
    expect(ruri('ipv6-good')).toMatchObject({ ok: true, host: '[2001:db8::10]', port: null });
    expect(ruri('port-ambiguous')).toMatchObject({ ok: true, host: '[2001:db8::10:5070]', port: null });
    expect(ruri('port-unambiguous')).toMatchObject({ ok: true, host: '[2001:db8::10]', port: 5070 });
    expect(errorName(ruri('ipv6-bad'))).not.toBe('OK');
  });
});

describe('readSipUriRouting (the per-request path of dialogs)', () => {
  const parser = parserFor('release');
  it('reads scheme, host, port, the transport param and lr (names case-insensitive, the first one kept)', () => {
    expect(readSipUriRouting(parser, 'sip:p1.example.com;transport=TCP;lr')).toEqual({ scheme: 'sip', host: 'p1.example.com', port: null, transport: 'TCP', lr: true });
    expect(readSipUriRouting(parser, 'sips:bob@[2001:db8::10]:5061;LR;Transport=tls;transport=udp')).toEqual({ scheme: 'sips', host: '[2001:db8::10]', port: 5061, transport: 'tls', lr: true });
    expect(readSipUriRouting(parser, 'sip:alice@10.0.0.1:5070;lrx=1;maddr=10.0.0.2')).toEqual({ scheme: 'sip', host: '10.0.0.1', port: 5070, transport: null, lr: false });
    expect(readSipUriRouting(parser, 'sip:h;transport')?.transport).toBeNull();
  });
  it('agrees with readSipUri on the fields it reads', () => {
    let compared = 0;
    for (const text of ['sip:a@h;transport=tcp;lr', 'sip:h:5080;lr=on', 'sips:h?subject=x', 'sip:%61lice@h;ttl=1']) {
      const full = readSipUri(parser, text, NO_URI_LIMITS);
      const lite = readSipUriRouting(parser, text);
      if (!full.ok || full.scheme === 'tel') { expect(lite).toBeUndefined(); continue; }
      expect(lite).toEqual({ scheme: full.scheme, host: full.host, port: full.port, transport: full.params.transport ?? null, lr: 'lr' in full.params });
      compared++;
    }
    expect(compared).toBe(4);
  });
  it('is undefined for tel: and for what is no URI', () => {
    expect(readSipUriRouting(parser, 'tel:+15551234567')).toBeUndefined();
    expect(readSipUriRouting(parser, 'not a uri')).toBeUndefined();
    expect(readSipUriRouting(parser, '')).toBeUndefined();
  });
});

describe('sipUriUser', () => {
  const parser = parserFor('release');
  it('is the user part as readSipUri gives it, null without one, undefined for tel: and over the limits', () => {
    for (const text of ['sip:alice;day=tuesday@example.com', 'sips:%61lice@h:5061', 'sip:example.com', 'sip:+15551234567@gw;user=phone']) {
      const full = readSipUri(parser, text);
      expect(full.ok).toBe(true);
      expect(sipUriUser(parser, text)).toBe(full.ok ? full.user : 'unreachable');
    }
    expect(sipUriUser(parser, 'sip:example.com')).toBeNull();
    expect(sipUriUser(parser, 'tel:+15551234567')).toBeUndefined();
    expect(sipUriUser(parser, `sip:${'a'.repeat(300)}@h`)).toBeUndefined();
    expect(sipUriUser(parser, `sip:${'a'.repeat(300)}@h`, NO_URI_LIMITS)).toBe('a'.repeat(300));
  });
});
