/** via.ts: reading and writing Via values (RFC 3261 §20.42). */
import { describe, it, expect } from 'vitest';
import { bareHost, defaultPort, formatVia, parseVia, uriHost, viaParam, withViaParam } from '../../../runtime/sip/via.js';

describe('parseVia', () => {
  it('reads transport, sent-by and params, LWS included', () => {
    const via = parseVia('SIP / 2.0 / udp  192.0.2.1 : 5070 ; branch=z9hG4bK1 ;rport; received = 10.0.0.1')!;
    expect(via).toEqual({
      transport: 'UDP', host: '192.0.2.1', port: 5070,
      params: [['branch', 'z9hG4bK1'], ['rport', null], ['received', '10.0.0.1']],
    });
    expect(viaParam(via, 'RPORT')).toBeNull();
    expect(viaParam(via, 'maddr')).toBeUndefined();
  });

  it('reads IPv6 references and host names without port', () => {
    expect(parseVia('SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bK2')).toMatchObject({ host: '[2001:db8::1]', port: 5060 });
    expect(parseVia('SIP/2.0/TLS pc33.example.com;branch=z9hG4bK3')).toMatchObject({ transport: 'TLS', host: 'pc33.example.com', port: undefined });
  });

  it('refuses what is not a Via', () => {
    expect(parseVia('SIP/3.0/UDP h')).toBeUndefined();
    expect(parseVia('SIP/2.0/UDP')).toBeUndefined();
    expect(parseVia('SIP/2.0/UDP h:70000')).toBeUndefined();
  });
});

describe('formatVia and helpers', () => {
  it('sets params in place or appends them, and formats back', () => {
    const via = withViaParam(withViaParam(parseVia('SIP/2.0/UDP h:5060;rport;branch=z9hG4bK1')!, 'rport', '4000'), 'received', '10.0.0.2');
    expect(formatVia(via)).toBe('SIP/2.0/UDP h:5060;rport=4000;branch=z9hG4bK1;received=10.0.0.2');
  });

  it('normalises hosts and knows default ports', () => {
    expect(bareHost('[2001:DB8::1]')).toBe('2001:db8::1');
    expect(uriHost('::1')).toBe('[::1]');
    expect(uriHost('127.0.0.1')).toBe('127.0.0.1');
    expect(defaultPort('tls')).toBe(5061);
    expect(defaultPort('UDP')).toBe(5060);
  });
});
