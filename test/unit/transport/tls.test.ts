/**
 * TLS on 127.0.0.1 with a self-signed pair made by the test helper
 * (openssl when present, node:crypto otherwise; both paths are checked when
 * openssl is here): request/response round trip, keep-alive, refusal of an
 * untrusted server certificate.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { TlsTransport } from '../../../runtime/transport/tls.js';
import { TransportLayer } from '../../../runtime/transport/layer.js';
import { responseDestination, stampedVia } from '../../../runtime/transport/via-routing.js';
import { createResponse } from '../../../runtime/sip/build.js';
import { serializeRequest, serializeResponse } from '../../../runtime/sip/serialize.js';
import type { MessageView } from '../../../runtime/wasm/message-view.js';
import { parserFor } from '../../support/wasm.js';
import { testRequest } from '../../support/sip-stack.js';
import { rawTlsClient, waitFor } from '../../support/sockets.js';
import { hasOpenssl, selfSignedPair, selfSignedWithNode, selfSignedWithOpenssl, type CertPair } from '../../support/tls-cert.js';

const parser = parserFor('release');
const layers: TransportLayer[] = [];
afterEach(async () => {
  await Promise.all(layers.splice(0).map((l) => l.close()));
});

async function tlsLayer(pair: CertPair, ca: string = pair.cert): Promise<{ layer: TransportLayer; transport: TlsTransport; inbound: MessageView[] }> {
  const transport = new TlsTransport({ host: '127.0.0.1', port: 0, parser, cert: pair.cert, key: pair.key, ca });
  const layer = new TransportLayer({ transports: [transport], parser });
  const inbound: MessageView[] = [];
  layer.onMessage((view) => inbound.push(view));
  layers.push(layer);
  await layer.listen();
  return { layer, transport, inbound };
}

const makers: Array<[string, () => CertPair]> = [['node:crypto', selfSignedWithNode]];
if (hasOpenssl()) makers.push(['openssl', selfSignedWithOpenssl]);

describe.each(makers)('self-signed pair from %s', (_name, make) => {
  it('is a valid certificate for localhost and 127.0.0.1', () => {
    const pair = make();
    const x509 = new X509Certificate(pair.cert);
    expect(x509.checkHost('localhost')).toBe('localhost');
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x509.verify(x509.publicKey)).toBe(true);
  });

  it('carries a request and its response over TLS', async () => {
    const pair = make();
    const server = await tlsLayer(pair);
    const uac = await tlsLayer(pair);
    server.layer.onMessage((view, source, via) => {
      const response = createResponse(view, 202, undefined, { toTag: 'x' });
      response.headers[0] = ['Via', stampedVia(via!)];
      void server.layer.send(serializeResponse(response), responseDestination(via!, source));
    });
    const to = { transport: 'tls' as const, host: '127.0.0.1', port: server.transport.local.port };
    const request = testRequest('REFER');
    request.headers.unshift(['Via', uac.layer.viaFor(to, 'z9hG4bKtls1')!]);
    const sent = await uac.layer.send(serializeRequest(request), to);
    expect(sent.ok).toBe(true);
    await waitFor(() => uac.inbound.length === 1);
    expect(uac.inbound[0]!.statusCode).toBe(202);
    expect(uac.inbound[0]!.header('Via')).toMatch(/^SIP\/2\.0\/TLS 127\.0\.0\.1:\d+;branch=z9hG4bKtls1/);
  });
});

describe('TLS transport', () => {
  it('answers a keep-alive over TLS', async () => {
    const pair = selfSignedPair();
    const server = await tlsLayer(pair);
    const c = await rawTlsClient(server.transport.local.port, pair.cert);
    c.socket.write('\r\n\r\n');
    await waitFor(() => c.received() === '\r\n');
    c.socket.destroy();
  });

  it('refuses to send to a server whose certificate it does not trust', async () => {
    const server = await tlsLayer(selfSignedPair());
    const uac = await tlsLayer(selfSignedPair());
    const result = await uac.layer.send(serializeRequest(testRequest('OPTIONS')), { transport: 'tls', host: '127.0.0.1', port: server.transport.local.port });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('PB_ERR_TRANSPORT_CONNECT');
    expect(server.inbound).toHaveLength(0);
  });
});
