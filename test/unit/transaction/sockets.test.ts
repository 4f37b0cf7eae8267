/**
 * The transaction layer over real sockets on 127.0.0.1 (system clock, short
 * timers): an INVITE answered 180 then 486 and ACKed, and a BYE, over UDP,
 * TCP and TLS; every transaction is gone afterwards.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { UdpTransport } from '../../../runtime/transport/udp.js';
import { TcpTransport } from '../../../runtime/transport/tcp.js';
import { TlsTransport } from '../../../runtime/transport/tls.js';
import { TransportLayer } from '../../../runtime/transport/layer.js';
import type { Transport, TransportProtocol } from '../../../runtime/transport/transport.js';
import { TransactionLayer } from '../../../runtime/transaction/layer.js';
import { parserFor } from '../../support/wasm.js';
import { testRequest } from '../../support/sip-stack.js';
import { waitFor } from '../../support/sockets.js';
import { selfSignedPair } from '../../support/tls-cert.js';

const parser = parserFor('release');
const pair = selfSignedPair();
const layers: TransportLayer[] = [];
afterEach(async () => {
  await Promise.all(layers.splice(0).map((l) => l.close()));
});

function transportOf(protocol: TransportProtocol): Transport {
  const base = { host: '127.0.0.1', port: 0 };
  if (protocol === 'udp') return new UdpTransport(base);
  if (protocol === 'tcp') return new TcpTransport({ ...base, parser });
  return new TlsTransport({ ...base, parser, cert: pair.cert, key: pair.key, ca: pair.cert });
}

async function stack(protocol: TransportProtocol): Promise<{ tx: TransactionLayer; port: number }> {
  const layer = new TransportLayer({ transports: [transportOf(protocol)], parser });
  layers.push(layer);
  const [local] = await layer.listen();
  return { tx: new TransactionLayer({ transport: layer, timers: { T1: 20, T4: 50, D: 100 } }), port: local!.port };
}

describe.each(['udp', 'tcp', 'tls'] as const)('transactions over %s', (protocol) => {
  it('runs INVITE → 100/180/486 → ACK and a BYE, then holds no transaction', async () => {
    const uac = await stack(protocol);
    const uas = await stack(protocol);
    uas.tx.onRequest((tx, request) => {
      if (request.method === 'INVITE') {
        // ringing after the handler returns, so the layer's 100 Trying goes first
        setImmediate(() => tx.respond(tx.createResponse(180, undefined, { toTag: 'callee' })));
        setTimeout(() => tx.respond(tx.createResponse(486, undefined, { toTag: 'callee' })), 10);
      } else {
        tx.respond(tx.createResponse(200));
      }
    });
    const to = { transport: protocol, host: '127.0.0.1', port: uas.port };
    const statuses: number[] = [];
    const invite = uac.tx.request(testRequest('INVITE'), to);
    invite.on('provisional', (r) => statuses.push(r.statusCode));
    const outcome = await invite.outcome;
    expect(outcome.kind === 'response' && outcome.response.statusCode).toBe(486);
    // over UDP a loaded machine may retransmit the INVITE (T1 is 20 ms here), and the server
    // transaction then sends its latest provisional again (RFC 3261 §17.2.1): repeats, never reordering
    const seen = protocol === 'udp' ? statuses.filter((s, i) => i === 0 || s !== statuses[i - 1]) : statuses;
    expect(seen).toEqual([100, 180]);
    const bye = await uac.tx.request(testRequest('BYE', 2), to).outcome;
    expect(bye.kind === 'response' && bye.response.statusCode).toBe(200);
    await waitFor(() => uac.tx.stats().clientTx === 0 && uas.tx.stats().serverTx === 0, 3000);
  });
});
