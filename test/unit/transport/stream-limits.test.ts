/**
 * Limits that keep one host from locking out the TCP and TLS listeners, on
 * real sockets over loopback. Sources are told apart by binding client
 * sockets to 127.0.0.2, 127.0.0.3 ... (Linux routes all of 127.0.0.0/8 to
 * lo). Timeouts run on a fake clock; small caps keep every loop short.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { TcpTransport } from '../../../runtime/transport/tcp.js';
import { TlsTransport } from '../../../runtime/transport/tls.js';
import type { StreamTransport, StreamTransportOptions } from '../../../runtime/transport/stream-transport.js';
import { TransportLayer } from '../../../runtime/transport/layer.js';
import { responseDestination, stampedVia } from '../../../runtime/transport/via-routing.js';
import { createResponse } from '../../../runtime/sip/build.js';
import { serializeRequest, serializeResponse } from '../../../runtime/sip/serialize.js';
import { textBody } from '../../../runtime/sip/message.js';
import { parserFor } from '../../support/wasm.js';
import { testRequest } from '../../support/sip-stack.js';
import { waitFor } from '../../support/sockets.js';
import { selfSignedPair, type CertPair } from '../../support/tls-cert.js';
import { FakeClock } from '../../support/fake-clock.js';
import { Metrics } from '../../../runtime/metrics/metrics.js';

const parser = parserFor('release');
const layers: TransportLayer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(layers.splice(0).map((l) => l.close()));
});

type Protocol = 'tcp' | 'tls';
let pair: CertPair | undefined;
function certs(): CertPair {
  return (pair ??= selfSignedPair());
}

/** A listener on 127.0.0.1 whose stack answers every OPTIONS with 200. */
async function server(protocol: Protocol, options: Partial<StreamTransportOptions> = {}): Promise<{ transport: StreamTransport; layer: TransportLayer; port: number }> {
  const base = { host: '127.0.0.1', port: 0, parser, ...options };
  const transport = protocol === 'tcp' ? new TcpTransport(base) : new TlsTransport({ ...base, cert: certs().cert, key: certs().key });
  const layer = new TransportLayer({ transports: [transport], parser });
  layer.onMessage((view, source, via) => {
    if (view.method !== 'OPTIONS') return;
    const response = createResponse(view, 200, undefined, { toTag: 'ok' });
    response.headers[0] = ['Via', stampedVia(via!)];
    void layer.send(serializeResponse(response), responseDestination(via!, source));
  });
  layers.push(layer);
  const [local] = await layer.listen();
  return { transport, layer, port: local!.port };
}

/** A raw client that records what it receives and whether the server closed it. */
interface Client {
  socket: Socket;
  received(): string;
  /** True once the socket has fully closed (not merely half-closed). */
  closed(): boolean;
}

/** Connect from `localAddress`; resolves once connected (TCP) or once the handshake is done or failed (TLS). */
function connectFrom(protocol: Protocol, port: number, localAddress: string, allowHalfOpen = false): Promise<Client> {
  return new Promise((resolve) => {
    let text = '';
    let closed = false;
    const raw = netConnect({ port, host: '127.0.0.1', localAddress, noDelay: true, allowHalfOpen });
    const socket = protocol === 'tcp' ? raw : tlsConnect({ socket: raw, host: '127.0.0.1', ca: certs().cert });
    sockets.push(raw, socket);
    const client: Client = { socket, received: () => text, closed: () => closed };
    socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1'); });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      resolve(client);
    });
    socket.once(protocol === 'tcp' ? 'connect' : 'secureConnect', () => resolve(client));
  });
}

function options(callId: string, body = ''): Uint8Array {
  const r = testRequest('OPTIONS');
  r.headers.unshift(['Via', `SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK${callId}`]);
  r.headers = r.headers.map(([n, v]) => (n === 'Call-ID' ? [n, callId] : [n, v]));
  if (body) r.body = textBody(body);
  return serializeRequest(r);
}

/** Open `count` connections from `localAddress`, one at a time, each admitted or refused before the next. */
async function openMany(s: { transport: StreamTransport; port: number }, protocol: Protocol, localAddress: string, count: number): Promise<Client[]> {
  const clients: Client[] = [];
  for (let i = 0; i < count; i++) {
    const before = s.transport.connectionStats();
    const decided = before.open + Object.values(before.refused).reduce((a, b) => a + b, 0) + 1;
    clients.push(await connectFrom(protocol, s.port, localAddress));
    await waitFor(() => {
      const now = s.transport.connectionStats();
      return now.open + Object.values(now.refused).reduce((a, b) => a + b, 0) >= decided;
    });
  }
  return clients;
}

async function expectOptionsAnswered(protocol: Protocol, port: number, localAddress: string, callId: string): Promise<void> {
  const c = await connectFrom(protocol, port, localAddress);
  expect(c.closed()).toBe(false);
  c.socket.write(options(callId));
  await waitFor(() => c.received().includes('\r\n\r\n'));
  expect(c.received()).toMatch(/^SIP\/2\.0 200 OK\r\n/);
  expect(c.received()).toContain(`Call-ID: ${callId}\r\n`);
}

describe.each<Protocol>(['tcp', 'tls'])('%s listener limits', (protocol) => {
  it('refuses a source over its per-source cap while another source still connects', async () => {
    const s = await server(protocol, { maxConnectionsPerSource: 5, maxConnections: 100 });
    const held = await openMany(s, protocol, '127.0.0.2', 5);
    expect(s.transport.connectionStats().open).toBe(5);
    const [over] = await openMany(s, protocol, '127.0.0.2', 1);
    await waitFor(() => over!.closed());
    expect(s.transport.connectionStats().refused['per-source']).toBe(1);
    expect(s.layer.stats().connections?.[protocol]?.refused['per-source']).toBe(1);
    await expectOptionsAnswered(protocol, s.port, '127.0.0.3', `other-${protocol}`);
    expect(held.every((c) => !c.closed())).toBe(true);
    // a slot freed by the capped source can be taken again
    held[0]!.socket.destroy();
    await waitFor(() => s.transport.connectionStats().open === 5);
    await expectOptionsAnswered(protocol, s.port, '127.0.0.2', `again-${protocol}`);
  });

  it('keeps room for a new source when one source has taken what it can of the total cap', async () => {
    // per-source cap = total cap: only the reserved share stops 127.0.0.2 from taking every slot
    const s = await server(protocol, { maxConnectionsPerSource: 16, maxConnections: 16 });
    const held = await openMany(s, protocol, '127.0.0.2', 16);
    await waitFor(() => held.filter((c) => c.closed()).length === 2);
    expect(s.transport.connectionStats()).toMatchObject({ open: 14, refused: { reserved: 2, total: 0, 'per-source': 0 } });
    await expectOptionsAnswered(protocol, s.port, '127.0.0.3', `newcomer-${protocol}`);
    await expectOptionsAnswered(protocol, s.port, '127.0.0.4', `newcomer2-${protocol}`);
    expect(s.transport.connectionStats().open).toBe(16);
    // now the total cap is reached: nobody else gets in
    const [late] = await openMany(s, protocol, '127.0.0.5', 1);
    await waitFor(() => late!.closed());
    expect(s.transport.connectionStats().refused.total).toBe(1);
  });

  it('closes a connection whose trickled bytes do not finish a message within the message timeout', async () => {
    const clock = new FakeClock();
    const s = await server(protocol, { clock, messageTimeoutMs: 10_000, idleTimeoutMs: 180_000 });
    const c = await connectFrom(protocol, s.port, '127.0.0.2');
    const bytes = options(`trickle-${protocol}`);
    // one byte per fake second; each is seen by the server before time moves on
    for (let i = 0; i < 10; i++) {
      c.socket.write(bytes.subarray(i, i + 1));
      await waitFor(() => s.transport.bufferedBytes === i + 1);
      expect(c.closed()).toBe(false);
      await clock.advance(999);
    }
    expect(c.closed()).toBe(false);
    await clock.advance(10);
    await waitFor(() => c.closed());
    expect(s.transport.connectionStats().closed['message-timeout']).toBe(1);
    expect(s.transport.connectionCount).toBe(0);
    await waitFor(() => s.transport.connectionStats().open === 0);
  });

  it('delivers a message trickled within the message timeout, and each message gets its own timeout', async () => {
    const clock = new FakeClock();
    const s = await server(protocol, { clock, messageTimeoutMs: 10_000, idleTimeoutMs: 180_000 });
    const c = await connectFrom(protocol, s.port, '127.0.0.2');
    for (const id of ['slow-1', 'slow-2']) {
      const bytes = options(`${id}-${protocol}`);
      const step = Math.ceil(bytes.length / 8);
      for (let at = 0; at < bytes.length; at += step) {
        c.socket.write(bytes.subarray(at, at + step));
        if (at + step < bytes.length) {
          await waitFor(() => s.transport.bufferedBytes === at + step);
          await clock.advance(1000);
        }
      }
      await waitFor(() => c.received().includes(`Call-ID: ${id}-${protocol}\r\n`));
    }
    expect(c.closed()).toBe(false);
    expect(s.transport.connectionStats().closed['message-timeout']).toBe(0);
  });

  it('closes an idle connection at the idle timeout, counted from its last complete message', async () => {
    const clock = new FakeClock();
    const s = await server(protocol, { clock, messageTimeoutMs: 10_000, idleTimeoutMs: 30_000 });
    const c = await connectFrom(protocol, s.port, '127.0.0.2');
    await waitFor(() => s.transport.connectionCount === 1);
    await clock.advance(20_000);
    c.socket.write('\r\n\r\n');
    await waitFor(() => c.received() === '\r\n');
    await clock.advance(20_000);
    expect(c.closed()).toBe(false);
    await clock.advance(10_000);
    await waitFor(() => c.closed());
    expect(s.transport.connectionStats().closed.idle).toBe(1);
  });

  it('closes the connection as soon as a 513 is written, reading nothing more', async () => {
    const s = await server(protocol, { clock: new FakeClock() });
    // half-open allowed: this client never closes its side, it keeps sending
    const c = await connectFrom(protocol, s.port, '127.0.0.2', true);
    c.socket.write(options(`big-${protocol}`, 'x'.repeat(70_000)));
    await waitFor(() => c.received().includes('\r\n\r\n') || c.closed());
    expect(c.received()).toMatch(/^SIP\/2\.0 513 Message Too Large\r\n/);
    // A server that went on reading and discarding would take all of this (16 MiB, bounded in volume,
    // not in time): the server's close must make a write fail, or the socket close, before the end.
    const chunk = Buffer.alloc(16 * 1024, 0x78);
    let refused = false;
    for (let i = 0; i < 1024 && !refused && !c.closed(); i++) {
      await new Promise<void>((resolve) => c.socket.write(chunk, (err) => {
        if (err) refused = true;
        resolve();
      }));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(refused || c.closed()).toBe(true);
    await waitFor(() => c.closed());
    expect(s.transport.connectionStats().closed['frame-error']).toBe(1);
    await waitFor(() => s.transport.connectionCount === 0);
  });
});

describe('TLS handshake', () => {
  it('closes a connection that never starts its TLS handshake at the message timeout', async () => {
    // node:tls runs the handshake timer on real time; the bound is short, and only the close is awaited
    const s = await server('tls', { messageTimeoutMs: 300 });
    const c = await connectFrom('tcp', s.port, '127.0.0.2');
    await waitFor(() => s.transport.connectionStats().open === 1);
    await waitFor(() => c.closed());
    await waitFor(() => s.transport.connectionStats().open === 0);
  });
});

describe('closing the transport', () => {
  it('closes sockets still in their TLS handshake, so close() does not wait for them', async () => {
    const s = await server('tls');
    const c = await connectFrom('tcp', s.port, '127.0.0.2');
    await waitFor(() => s.transport.connectionStats().open === 1);
    let closed = false;
    void s.layer.close().then(() => { closed = true; });
    await waitFor(() => closed && c.closed());
    expect(s.transport.connectionStats().open).toBe(0);
  });
});

describe('connection metrics', () => {
  it('exposes open, refused and self-closed TCP connections by reason', async () => {
    const s = await server('tcp', { maxConnectionsPerSource: 1 });
    const [held, over] = await openMany(s, 'tcp', '127.0.0.2', 2);
    await waitFor(() => over!.closed());
    expect(held!.closed()).toBe(false);
    const text = await new Metrics({ transportStats: () => s.layer.stats() }).render();
    expect(text).toContain('patchbay_sip_connections_open{transport="tcp"} 1\n');
    expect(text).toContain('patchbay_sip_connections_refused_total{transport="tcp",reason="per-source"} 1\n');
    expect(text).toContain('patchbay_sip_connections_closed_total{transport="tcp",reason="message-timeout"} 0\n');
  });
});
