/**
 * The top Via as the WASM parser reads it (M.VIA_*: transport, sent-by,
 * received, maddr, rport) and what the server transport derives from it
 * (RFC 3261 §18.2.1, RFC 3581 §4).
 */
import { describe, it, expect } from 'vitest';
import { readTopVia, stampedVia, type ReceivedVia } from '../../../runtime/transport/via-routing.js';
import type { Source } from '../../../runtime/transport/transport.js';
import { FLAVOURS, bytesOf, parserFor } from '../../support/wasm.js';

const udp: Source = { transport: 'udp', host: '198.51.100.7', port: 40000, local: { host: '127.0.0.1', port: 5060 } };

function request(viaLines: string): Uint8Array {
  return bytesOf(`OPTIONS sip:b@127.0.0.1 SIP/2.0\r\n${viaLines}\r\nMax-Forwards: 70\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`);
}

describe.each(FLAVOURS)('readTopVia (%s build)', (flavour) => {
  const parser = parserFor(flavour);
  const top = (via: string, source: Source = udp): ReceivedVia | undefined => readTopVia(parser.parse(request(`Via: ${via}`)), source);

  it('reads transport, sent-by and params with LWS anywhere (RFC 4475 §3.1.1.1)', () => {
    const via = top('SIP / 2.0 / udp  192.0.2.1 : 5070 ; branch=z9hG4bK1 ;rport; received = 10.0.0.1; maddr=239.1.1.1')!;
    expect(via.via).toEqual({ transport: 'UDP', host: '192.0.2.1', port: 5070 });
    expect(via.maddr).toBe('239.1.1.1');
    expect(via).toMatchObject({ received: '198.51.100.7', rport: 40000 });
    // rport gets its value in place, the received the client put there is replaced
    expect(stampedVia(via)).toBe('SIP / 2.0 / udp  192.0.2.1 : 5070 ; branch=z9hG4bK1 ;rport=40000; received = 198.51.100.7; maddr=239.1.1.1');
  });

  it('reads IPv6 sent-by and received with and without brackets (RFC 5118 §4.5)', () => {
    expect(top('SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bK2')!.via).toEqual({ transport: 'TCP', host: '[2001:db8::1]', port: 5060 });
    const withDelim = top('SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch=z9hG4bK3', { ...udp, host: '2001:db8::9:1' })!;
    expect(withDelim.received).toBeUndefined();
    expect(stampedVia(withDelim)).toBe(withDelim.raw);
    const noDelim = top('SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bK3')!;
    expect(stampedVia(noDelim)).toBe('SIP/2.0/UDP [2001:db8::9:1];received=198.51.100.7;branch=z9hG4bK3');
  });

  it('appends received when sent-by is another address, adds nothing when it is the source', () => {
    const other = top('SIP/2.0/TLS pc33.example.com;branch=z9hG4bK4')!;
    expect(other.via).toEqual({ transport: 'TLS', host: 'pc33.example.com', port: undefined });
    expect(stampedVia(other)).toBe('SIP/2.0/TLS pc33.example.com;branch=z9hG4bK4;received=198.51.100.7');
    const same = top('SIP/2.0/UDP 198.51.100.7:40000;branch=z9hG4bK5')!;
    expect([same.received, same.rport]).toEqual([undefined, undefined]);
    expect(stampedVia(same)).toBe(same.raw);
  });

  it('leaves an rport that already has a value alone', () => {
    const via = top('SIP/2.0/UDP 10.0.0.1;rport=5090;branch=z9hG4bK6')!;
    expect(via.rport).toBeUndefined();
    expect(stampedVia(via)).toBe('SIP/2.0/UDP 10.0.0.1;rport=5090;branch=z9hG4bK6;received=198.51.100.7');
  });

  it('reads only the top Via of a list and of several headers', () => {
    const list = readTopVia(parser.parse(request('Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK7;rport, SIP/2.0/TCP 10.0.0.2;branch=z9hG4bK8;received=x')), udp)!;
    expect(list.via).toEqual({ transport: 'UDP', host: '10.0.0.1', port: 5062 });
    expect(stampedVia(list)).toBe('SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK7;rport=40000;received=198.51.100.7');
    const two = readTopVia(parser.parse(request('Via: SIP/2.0/UDP 10.0.0.3;branch=z9hG4bK9\r\nVia: SIP/2.0/UDP 10.0.0.4;maddr=239.0.0.1;branch=z9hG4bKa')), udp)!;
    expect([two.via.host, two.maddr]).toEqual(['10.0.0.3', undefined]);
  });

  it('reads a folded Via, folds read as one SP', () => {
    const via = readTopVia(parser.parse(request('Via: SIP/2.0/UDP 10.0.0.1\r\n ;branch=z9hG4bKb;rport')), udp)!;
    expect(via.raw).toBe('SIP/2.0/UDP 10.0.0.1 ;branch=z9hG4bKb;rport');
    expect(stampedVia(via)).toBe('SIP/2.0/UDP 10.0.0.1 ;branch=z9hG4bKb;rport=40000;received=198.51.100.7');
  });

  it('refuses a sent-by port outside 1..65535 (the transport answers 400)', () => {
    expect(top('SIP/2.0/UDP h:70000;branch=z9hG4bKc')).toBeUndefined();
    expect(top('SIP/2.0/UDP h:0;branch=z9hG4bKd')).toBeUndefined();
    expect(top('SIP/2.0/UDP h:65535;branch=z9hG4bKe')!.via.port).toBe(65535);
  });
});
