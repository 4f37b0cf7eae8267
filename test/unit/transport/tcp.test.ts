/**
 * TCP on 127.0.0.1: round trip on one reused connection, framing of a
 * message split at every byte, keep-alives, a 70 KB message refused with
 * 513, a message without Content-Length refused with 400, idle close,
 * connect failure.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { TcpTransport } from '../../../runtime/transport/tcp.js';
import { TransportLayer } from '../../../runtime/transport/layer.js';
import { responseDestination, stampedVia } from '../../../runtime/transport/via-routing.js';
import { createResponse } from '../../../runtime/sip/build.js';
import { serializeRequest, serializeResponse } from '../../../runtime/sip/serialize.js';
import { textBody } from '../../../runtime/sip/message.js';
import type { MessageView } from '../../../runtime/wasm/message-view.js';
import { parserFor } from '../../support/wasm.js';
import { testRequest } from '../../support/sip-stack.js';
import { rawTcpClient, waitFor, type RawClient } from '../../support/sockets.js';

const parser = parserFor('release');
const layers: TransportLayer[] = [];
const clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.socket.destroy();
  await Promise.all(layers.splice(0).map((l) => l.close()));
});

async function tcpLayer(options: { idleTimeoutMs?: number } = {}): Promise<{ layer: TransportLayer; transport: TcpTransport; inbound: MessageView[] }> {
  const transport = new TcpTransport({ host: '127.0.0.1', port: 0, parser, ...options });
  const layer = new TransportLayer({ transports: [transport], parser });
  const inbound: MessageView[] = [];
  layer.onMessage((view) => inbound.push(view));
  layers.push(layer);
  await layer.listen();
  return { layer, transport, inbound };
}

async function client(port: number): Promise<RawClient> {
  const c = await rawTcpClient(port);
  clients.push(c);
  return c;
}

function wire(viaHost: string, callId: string, body = ''): Uint8Array {
  const r = testRequest('MESSAGE');
  r.headers.unshift(['Via', `SIP/2.0/TCP ${viaHost};branch=z9hG4bK${callId}`]);
  r.headers = r.headers.map(([n, v]) => (n === 'Call-ID' ? [n, callId] : [n, v]));
  if (body) r.body = textBody(body);
  return serializeRequest(r);
}

describe('TCP transport', () => {
  it('carries requests and responses both ways on one reused connection', async () => {
    const server = await tcpLayer();
    const uac = await tcpLayer();
    server.layer.onMessage((view, source, via) => {
      const response = createResponse(view, 200, undefined, { toTag: 'x' });
      response.headers[0] = ['Via', stampedVia(via!)];
      void server.layer.send(serializeResponse(response), responseDestination(via!, source));
    });
    const to = { transport: 'tcp' as const, host: '127.0.0.1', port: server.transport.local.port };
    for (const id of ['a1', 'a2', 'a3']) expect((await uac.layer.send(wire(`127.0.0.1:${uac.transport.local.port}`, id), to)).ok).toBe(true);
    await waitFor(() => uac.inbound.length === 3);
    expect(uac.inbound.map((v) => [v.statusCode, v.callId])).toEqual([[200, 'a1'], [200, 'a2'], [200, 'a3']]);
    expect(uac.transport.connectionCount).toBe(1);
    expect(server.transport.connectionCount).toBe(1);
  });

  it('frames a message split at every byte boundary', async () => {
    const server = await tcpLayer();
    const c = await client(server.transport.local.port);
    const msg = wire('127.0.0.1:1', 'split', 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n');
    for (let cut = 1; cut < msg.length; cut++) {
      c.socket.write(msg.subarray(0, cut));
      await new Promise((r) => setImmediate(r));
      c.socket.write(msg.subarray(cut));
    }
    await waitFor(() => server.inbound.length === msg.length - 1);
    for (const view of server.inbound) {
      expect(view.callId).toBe('split');
      expect(view.bodyLength).toBe(31);
    }
    expect(server.layer.stats().parseErrors).toEqual({});
  });

  it('answers a CRLFCRLF keep-alive with CRLF and ignores a lone CRLF (RFC 5626 §3.5.1)', async () => {
    const server = await tcpLayer();
    const c = await client(server.transport.local.port);
    c.socket.write('\r\n\r\n');
    await waitFor(() => c.received() === '\r\n');
    c.socket.write('\r\n');
    c.socket.write(wire('127.0.0.1:1', 'after-ping'));
    await waitFor(() => server.inbound.length === 1);
    expect(c.received()).toBe('\r\n');
    expect(server.layer.stats().in.keepAlives).toBe(1);
    expect(server.layer.stats().out.keepAlives).toBe(1);
  });

  it('refuses a 70 KB message with 513 and closes the connection', async () => {
    const server = await tcpLayer();
    const c = await client(server.transport.local.port);
    c.socket.write(wire('127.0.0.1:1', 'big', 'x'.repeat(70_000)));
    await waitFor(() => c.ended());
    expect(c.received()).toMatch(/^SIP\/2\.0 513 Message Too Large\r\n/);
    expect(c.received()).toContain('Call-ID: big\r\n');
    expect(server.inbound).toHaveLength(0);
    expect(server.layer.stats().parseErrors).toEqual({ E_MESSAGE_TOO_LARGE: 1 });
    await waitFor(() => server.transport.connectionCount === 0);
  });

  it('refuses a stream message without Content-Length with 400 and closes', async () => {
    const server = await tcpLayer();
    const c = await client(server.transport.local.port);
    const text = new TextDecoder().decode(wire('127.0.0.1:1', 'nolen')).replace('Content-Length: 0\r\n', '');
    c.socket.write(text);
    await waitFor(() => c.ended());
    expect(c.received()).toMatch(/^SIP\/2\.0 400 Bad Request\r\n/);
    expect(c.received()).toContain('Warning: 399 127.0.0.1:');
    expect(server.layer.stats().parseErrors).toEqual({ E_BODY: 1 });
  });

  it('closes idle connections', async () => {
    const server = await tcpLayer({ idleTimeoutMs: 100 });
    const c = await client(server.transport.local.port);
    await waitFor(() => server.transport.connectionCount === 1);
    const opened = Date.now();
    await waitFor(() => c.ended());
    expect(Date.now() - opened).toBeGreaterThanOrEqual(80);
    await waitFor(() => server.transport.connectionCount === 0);
  });

  it('reports a connect failure as a value', async () => {
    const uac = await tcpLayer();
    const dead = await tcpLayer();
    const port = dead.transport.local.port;
    await dead.layer.close();
    const result = await uac.layer.send(wire('127.0.0.1:1', 'dead'), { transport: 'tcp', host: '127.0.0.1', port });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('PB_ERR_TRANSPORT_CONNECT');
    expect(uac.transport.connectionCount).toBe(0);
  });
});
