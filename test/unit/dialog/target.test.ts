/** Where a request goes, read from a SIP URI by the WASM URI parser (RFC 3261 §8.1.2, §16.12.1.1; RFC 5118). */
import { describe, it, expect } from 'vitest';
import { destinationOf, isLooseRoute, uriOf } from '../../../runtime/dialog/target.js';

describe('destinationOf', () => {
  it('takes transport, host and port from a sip: URI, defaults for what is absent', () => {
    expect(destinationOf('sip:bob@192.0.2.4')).toEqual({ transport: 'udp', host: '192.0.2.4', port: 5060 });
    expect(destinationOf('sip:bob@192.0.2.4:5070;transport=TCP')).toEqual({ transport: 'tcp', host: '192.0.2.4', port: 5070 });
    expect(destinationOf('sip:proxy.example.com;lr;transport=tls')).toEqual({ transport: 'tls', host: 'proxy.example.com', port: 5061 });
    expect(destinationOf(' sip:b@h.example ', 'tcp')).toEqual({ transport: 'tcp', host: 'h.example', port: 5060 });
  });

  it('sends sips: over TLS whatever the transport param says', () => {
    expect(destinationOf('sips:bob@example.com;transport=udp')).toEqual({ transport: 'tls', host: 'example.com', port: 5061 });
  });

  it('keeps the fallback for a transport it does not speak', () => {
    expect(destinationOf('sip:bob@example.com;transport=sctp', 'tcp')).toEqual({ transport: 'tcp', host: 'example.com', port: 5060 });
    expect(destinationOf('sip:bob@example.com;transport=ws')).toEqual({ transport: 'udp', host: 'example.com', port: 5060 });
  });

  it('reads IPv6 references without their brackets (RFC 5118 §4.4, §4.3)', () => {
    expect(destinationOf('sip:[2001:db8::10]:5070')).toEqual({ transport: 'udp', host: '2001:db8::10', port: 5070 });
    expect(destinationOf('sip:[2001:db8::10:5070]')).toEqual({ transport: 'udp', host: '2001:db8::10:5070', port: 5060 });
  });

  it('reads a user with a password and URI headers without mistaking them for the host', () => {
    expect(destinationOf('sip:alice:secret@atlanta.com:5080?subject=a%40b')).toEqual({ transport: 'udp', host: 'atlanta.com', port: 5080 });
  });

  it('is undefined for what is not a sip:/sips: URI', () => {
    for (const uri of ['tel:+15551234', 'mailto:a@b', 'sip:', 'sip:bob@h:99999', 'sip:2001:db8::10', '']) {
      expect(destinationOf(uri), uri).toBeUndefined();
    }
  });

  it('has no length limit of its own (long Record-Route URIs of SBCs)', () => {
    const long = `sip:${'x'.repeat(400)}@sbc.example.com;lr`;
    expect(destinationOf(long)).toEqual({ transport: 'udp', host: 'sbc.example.com', port: 5060 });
    expect(isLooseRoute(long)).toBe(true);
  });
});

describe('isLooseRoute', () => {
  it('is true when the URI carries the lr parameter, in any case and place', () => {
    expect(isLooseRoute('sip:p1.example.com;lr')).toBe(true);
    expect(isLooseRoute('sip:p1.example.com;LR;transport=tcp')).toBe(true);
    expect(isLooseRoute('sip:p1.example.com;transport=tcp;lr=on')).toBe(true);
  });

  it('is false for a strict router, and for lr outside the params', () => {
    expect(isLooseRoute('sip:p1.example.com')).toBe(false);
    expect(isLooseRoute('sip:p1.example.com;lrx')).toBe(false);
    expect(isLooseRoute('sip:lr@p1.example.com')).toBe(false);
    expect(isLooseRoute('sip:p1.example.com?x=;lr')).toBe(false);
  });
});

describe('uriOf', () => {
  it('takes the URI out of a name-addr or an addr-spec', () => {
    expect(uriOf('"Bob" <sip:b@h>;tag=1')).toBe('sip:b@h');
    expect(uriOf('sip:b@h;tag=1')).toBe('sip:b@h');
  });
});
