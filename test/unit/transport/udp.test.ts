/** UDP on 127.0.0.1 (and ::1 when the host has IPv6): a request/response round trip through two transport layers. */
import { describe, it, expect, afterEach } from 'vitest';
import { UdpTransport } from '../../../runtime/transport/udp.js';
import { TransportLayer } from '../../../runtime/transport/layer.js';
import { responseDestination, stampedVia } from '../../../runtime/transport/via-routing.js';
import { createResponse } from '../../../runtime/sip/build.js';
import { serializeRequest, serializeResponse } from '../../../runtime/sip/serialize.js';
import type { MessageView } from '../../../runtime/wasm/message-view.js';
import { parserFor } from '../../support/wasm.js';
import { testRequest } from '../../support/sip-stack.js';
import { canBindIpv6, waitFor } from '../../support/sockets.js';

const parser = parserFor('release');
const open: TransportLayer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close()));
});

async function udpLayer(host: string): Promise<TransportLayer> {
  const layer = new TransportLayer({ transports: [new UdpTransport({ host, port: 0 })], parser });
  open.push(layer);
  await layer.listen();
  return layer;
}

describe.each([
  ['IPv4', '127.0.0.1'],
  ['IPv6', '::1'],
])('UDP over %s', (_family, host) => {
  it.skipIf(host === '::1' && !canBindIpv6())('carries a request and routes the response back by Via', async () => {
    const server = await udpLayer(host);
    const client = await udpLayer(host);
    server.onMessage((view, source, via) => {
      const response = createResponse(view, 200, undefined, { toTag: 't1' });
      response.headers[0] = ['Via', stampedVia(via!)];
      void server.send(serializeResponse(response), responseDestination(via!, source));
    });
    const responses: MessageView[] = [];
    client.onMessage((view) => responses.push(view));
    const serverPort = server.transports[0]!.local.port;
    const request = testRequest('OPTIONS');
    request.headers.unshift(['Via', client.viaFor({ transport: 'udp', host, port: serverPort }, 'z9hG4bKudp1')!]);
    const sent = await client.send(serializeRequest(request), { transport: 'udp', host, port: serverPort });
    expect(sent.ok).toBe(true);
    await waitFor(() => responses.length === 1);
    expect(responses[0]!.statusCode).toBe(200);
    expect(responses[0]!.branch).toBe('z9hG4bKudp1');
    expect(responses[0]!.header('Via')).toContain(`rport=${client.transports[0]!.local.port}`);
    expect(server.stats().in.requests).toEqual({ OPTIONS: 1 });
    expect(client.stats().in.responses).toEqual({ 200: 1 });
  });
});

it('refuses to send a datagram larger than UDP allows', async () => {
  const layer = await udpLayer('127.0.0.1');
  const result = await layer.send(new Uint8Array(70_000), { transport: 'udp', host: '127.0.0.1', port: 9 });
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.error.code).toBe('PB_ERR_TRANSPORT_TOO_LARGE');
});
