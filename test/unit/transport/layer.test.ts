/**
 * TransportLayer over the loop transport: Via received/rport (RFC 3261
 * §18.2.1, RFC 3581), response routing (§18.2.2), parse errors answered
 * 400/513 with a Warning, counters, the parse seam.
 */
import { describe, it, expect } from 'vitest';
import { LoopNetwork, type LoopTransport } from '../../../runtime/transport/loop.js';
import { TransportLayer } from '../../../runtime/transport/layer.js';
import { readTopVia, responseDestination, stampedVia, type ReceivedVia } from '../../../runtime/transport/via-routing.js';
import type { Source, TransportSink } from '../../../runtime/transport/transport.js';
import type { MessageView } from '../../../runtime/wasm/message-view.js';
import { bytesOf, corpusBytes, parserFor } from '../../support/wasm.js';
import { FakeClock } from '../../support/fake-clock.js';

const parser = parserFor('release');

/** A bare loop transport that records what reaches it. */
async function rawPeer(network: LoopNetwork, port: number): Promise<{ t: LoopTransport; got: string[] }> {
  const t = network.transport({ port });
  const got: string[] = [];
  const sink: TransportSink = {
    message: (bytes) => { got.push(new TextDecoder().decode(bytes)); },
    keepAlive: () => undefined,
    frameError: () => undefined,
  };
  t.attach(sink);
  await t.listen();
  return { t, got };
}

async function setup(): Promise<{ clock: FakeClock; peer: { t: LoopTransport; got: string[] }; layer: TransportLayer; inbound: Array<[MessageView, Source, ReceivedVia | undefined]> }> {
  const clock = new FakeClock();
  const network = new LoopNetwork({ clock });
  const peer = await rawPeer(network, 5070);
  const layer = new TransportLayer({ transports: [network.transport({ port: 5080 })], parser });
  const inbound: Array<[MessageView, Source, ReceivedVia | undefined]> = [];
  layer.onMessage((view, source, via) => inbound.push([view, source, via]));
  await layer.listen();
  return { clock, peer, layer, inbound };
}

const to5080 = { transport: 'udp' as const, host: '127.0.0.1', port: 5080 };

function options(via: string, extra = ''): Uint8Array {
  return bytesOf(`OPTIONS sip:b@127.0.0.1 SIP/2.0\r\nVia: ${via}\r\nMax-Forwards: 70\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n${extra}Content-Length: 0\r\n\r\n`);
}

describe('inbound requests', () => {
  it('derives received and rport when sent-by differs and rport is asked for', async () => {
    const { clock, peer, inbound } = await setup();
    await peer.t.send(options('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa;rport'), to5080);
    await clock.flush();
    const [view, source, via] = inbound[0]!;
    expect(view.method).toBe('OPTIONS');
    expect(source).toMatchObject({ transport: 'udp', host: '127.0.0.1', port: 5070 });
    expect(via).toMatchObject({ received: '127.0.0.1', rport: 5070 });
    expect(stampedVia(via!)).toBe('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa;rport=5070;received=127.0.0.1');
    expect(new TextDecoder().decode(view.bytes)).toContain('Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa;rport\r\n');
  });

  it('adds nothing when sent-by is the source address and rport is absent', async () => {
    const { clock, peer, inbound } = await setup();
    await peer.t.send(options('SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKb'), to5080);
    await clock.flush();
    const via = inbound[0]![2]!;
    expect(via.received).toBeUndefined();
    expect(via.rport).toBeUndefined();
    expect(stampedVia(via)).toBe(via.raw);
  });

  it('answers a malformed request with 400 and a Warning, and counts the error', async () => {
    const { clock, peer, layer, inbound } = await setup();
    await peer.t.send(bytesOf('OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKc\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n\r\n'), to5080);
    await clock.flush();
    expect(inbound).toHaveLength(0);
    expect(peer.got).toHaveLength(1);
    expect(peer.got[0]).toMatch(/^SIP\/2\.0 400 Bad Request\r\n/);
    expect(peer.got[0]).toContain('Warning: 399 127.0.0.1:5080 "CSeq method differs from the request method"');
    expect(peer.got[0]).toMatch(/To: <sip:b@h>;tag=[\w-]+\r\n/);
    expect(layer.stats().parseErrors).toEqual({ E_CSEQ_METHOD: 1 });
    expect(layer.stats().out.responses).toEqual({ 400: 1 });
  });

  it('answers 505 for another SIP version, and stays silent for broken responses and ACKs', async () => {
    const { clock, peer, layer } = await setup();
    await peer.t.send(bytesOf(new TextDecoder().decode(options('SIP/2.0/UDP h;branch=z9hG4bKd')).replace('SIP/2.0\r\n', 'SIP/3.0\r\n')), to5080);
    await peer.t.send(bytesOf('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKe\r\n\r\n'), to5080);
    await peer.t.send(bytesOf('ACK sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKf\r\n\r\n'), to5080);
    await clock.flush();
    expect(peer.got.map((m) => m.slice(0, 20))).toEqual(['SIP/2.0 505 Version ']);
    expect(layer.stats().unanswered).toEqual({ 'not-a-request': 1, ack: 1 });
  });

  it('copies a folded header into the 400 unfolded (RFC 3261 §7.3.1)', async () => {
    const { clock, peer } = await setup();
    await peer.t.send(bytesOf('OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKk\r\nFrom: <sip:a@h>\r\n ;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n\r\n'), to5080);
    await clock.flush();
    expect(peer.got[0]).toMatch(/^SIP\/2\.0 400 Bad Request\r\n/);
    expect(peer.got[0]).toContain('\r\nFrom: <sip:a@h> ;tag=1\r\n');
  });

  it('drops, and counts, a refused request whose Via, From, To, Call-ID or CSeq holds a control character', async () => {
    const { clock, peer, layer } = await setup();
    const text = new TextDecoder().decode(options('SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKl'));
    for (const header of ['Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKl', 'From: <sip:a@h>', 'To: <sip:b@h', 'Call-ID: c', 'CSeq: 1']) {
      for (const byte of ['\0', '\x07', '\x1b', '\x7f', '\r']) await peer.t.send(bytesOf(text.replace(header, `${header}${byte}`)), to5080);
    }
    await clock.flush();
    expect(peer.got).toEqual([]);
    expect(layer.stats().parseErrors).toEqual({ E_RAW_CTL: 25 });
    expect(layer.stats().unanswered).toEqual({ 'unsafe-header': 25 });
  });

  it('drops, and counts, intmeth and an OPTIONS with an escaped NUL in the To display name: valid, but the 400 would copy the byte', async () => {
    const { clock, peer, layer, inbound } = await setup();
    const text = new TextDecoder().decode(options('SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKq'));
    const escaped = bytesOf(text.replace('To: <sip:b@h>', 'To: "b\\\0" <sip:b@h>'));
    expect(parser.parse(escaped).escapedControl).toMatchObject({ header: 'To' });
    expect(parser.parse(corpusBytes('rfc4475/intmeth.dat')).ok).toBe(true);
    await peer.t.send(escaped, to5080);
    await peer.t.send(corpusBytes('rfc4475/intmeth.dat'), to5080);
    await clock.flush();
    expect(inbound).toHaveLength(0);
    expect(peer.got).toEqual([]);
    expect(layer.stats().parseErrors).toEqual({ PB_ERR_ESCAPED_CTL: 2 });
    expect(layer.stats().unanswered).toEqual({ 'unsafe-header': 2 });
    expect(layer.stats().out.responses).toEqual({});
  });

  it('answers 400 naming the header when the escaped control character is in a header the 400 does not copy', async () => {
    const { clock, peer, layer, inbound } = await setup();
    for (const [header, value] of [['Subject', '"hi \\\x07"'], ['X-Custom', '"\\\x7f"']]) {
      await peer.t.send(options('SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKr', `${header}: ${value}\r\n`), to5080);
    }
    await clock.flush();
    expect(inbound).toHaveLength(0);
    expect(peer.got).toHaveLength(2);
    for (const [i, header] of ['Subject', 'X-Custom'].entries()) {
      expect(peer.got[i]).toMatch(/^SIP\/2\.0 400 Bad Request\r\n/);
      expect(peer.got[i]).toContain(`Warning: 399 127.0.0.1:5080 "control character escaped in a quoted-string of ${header}: not accepted by this server"`);
      expect(peer.got[i]).not.toMatch(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/);
    }
    expect(layer.stats().parseErrors).toEqual({ PB_ERR_ESCAPED_CTL: 2 });
    expect(layer.stats().out.responses).toEqual({ 400: 2 });
  });

  it('drops a response with an escaped control character, counted as a broken response is', async () => {
    const { clock, peer, layer, inbound } = await setup();
    await peer.t.send(bytesOf('SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKs\r\nFrom: <sip:a@h>;tag=1\r\nTo: "\\\x07" <sip:b@h>;tag=2\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n'), to5080);
    await clock.flush();
    expect(inbound).toHaveLength(0);
    expect(peer.got).toEqual([]);
    expect(layer.stats().parseErrors).toEqual({ PB_ERR_ESCAPED_CTL: 1 });
    expect(layer.stats().unanswered).toEqual({ 'not-a-request': 1 });
    expect(layer.stats().in.responses).toEqual({});
  });

  it('counts messages in and out by method and status', async () => {
    const { clock, peer, layer } = await setup();
    await peer.t.send(options('SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKg'), to5080);
    await peer.t.send(bytesOf('SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKh\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n'), to5080);
    await layer.send(options('SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKi'), { transport: 'udp', host: '127.0.0.1', port: 5070 });
    await layer.send(bytesOf('x'), { transport: 'tcp', host: '127.0.0.1', port: 5070 });
    await clock.flush();
    const stats = layer.stats();
    expect(stats.in.requests).toEqual({ OPTIONS: 1 });
    expect(stats.in.responses).toEqual({ 180: 1 });
    expect(stats.out.requests).toEqual({ OPTIONS: 1 });
    expect(stats.sendErrors).toEqual({ PB_ERR_TRANSPORT_NO_TRANSPORT: 1 });
  });

  it('uses an injected parse function (the seam for the batch engine)', async () => {
    const network = new LoopNetwork({ clock: new FakeClock() });
    const peer = await rawPeer(network, 5070);
    const calls: boolean[] = [];
    const layer = new TransportLayer({ transports: [network.transport({ port: 5080 })], parse: (bytes, isStream) => { calls.push(isStream); return parser.parse(bytes, isStream); } });
    const got: string[] = [];
    layer.onMessage((view) => got.push(view.callId!));
    await layer.listen();
    await peer.t.send(options('SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKj'), to5080);
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual([false]);
    expect(got).toEqual(['c1']);
  });
});

describe('response routing (RFC 3261 §18.2.2, RFC 3581 §4)', () => {
  const udp: Source = { transport: 'udp', host: '198.51.100.7', port: 40000, local: { host: '127.0.0.1', port: 5060 } };
  const tcp: Source = { ...udp, transport: 'tcp', connectionId: 'tcp-9' };
  const parser = parserFor('release');
  const route = (via: string, source: Source) => responseDestination(readTopVia(parser.parse(options(via)), source)!, source);

  it('uses received:rport when rport was asked for', () => {
    expect(route('SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1;rport', udp)).toEqual({ transport: 'udp', host: '198.51.100.7', port: 40000 });
  });

  it('uses received with the sent-by port (or 5060) otherwise', () => {
    expect(route('SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1', udp)).toEqual({ transport: 'udp', host: '198.51.100.7', port: 5062 });
    expect(route('SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1', udp)).toEqual({ transport: 'udp', host: '198.51.100.7', port: 5060 });
  });

  it('uses sent-by when it is the source address, and maddr when present', () => {
    expect(route('SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bK1', udp)).toEqual({ transport: 'udp', host: '198.51.100.7', port: 5070 });
    expect(route('SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1;maddr=239.1.1.1', udp)).toEqual({ transport: 'udp', host: '239.1.1.1', port: 5060 });
  });

  it('uses the same connection on reliable transports, with received:sent-by port as fallback', () => {
    expect(route('SIP/2.0/TCP 10.0.0.1:5062;branch=z9hG4bK1', tcp)).toEqual({ transport: 'tcp', host: '198.51.100.7', port: 5062, connectionId: 'tcp-9' });
    expect(route('SIP/2.0/TLS [2001:db8::5];branch=z9hG4bK1', { ...tcp, transport: 'tls', host: '2001:db8::5' })).toEqual({ transport: 'tls', host: '2001:db8::5', port: 5061, connectionId: 'tcp-9' });
  });
});
