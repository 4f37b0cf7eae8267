/**
 * An initial INVITE whose CSeq is 2^31 or more (RFC 3261 §8.1.1.5 keeps CSeq
 * numbers below 2^31) is refused with 400 before anything is dialled: a
 * dialog opened at 4294967295 leaves the caller no higher CSeq for its BYE
 * (§12.2.2), so the call could never be ended from that side. The daemon runs
 * in this process over real UDP on loopback, with a static route to a socket
 * that records whatever reaches it.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../runtime/config.js';
import { createLogger } from '../../../runtime/log.js';
import { startDaemon } from '../../../runtime/daemon.js';
import { waitFor } from '../../support/sockets.js';

const open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

async function recorder(): Promise<{ socket: Socket; port: number; received: string[] }> {
  const socket = createSocket('udp4');
  const received: string[] = [];
  socket.on('message', (m) => received.push(m.toString('latin1')));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  open.push({ close: () => socket.close() });
  return { socket, port: socket.address().port, received };
}

function invite(port: number, callerPort: number, cseq: string, id: string): string {
  return `INVITE sip:bob@127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${callerPort};branch=z9hG4bK-${id};rport\r\n` +
    `Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=f-${id}\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: ${id}@127.0.0.1\r\n` +
    `CSeq: ${cseq} INVITE\r\nContact: <sip:alice@127.0.0.1:${callerPort}>\r\nContent-Length: 0\r\n\r\n`;
}

describe('an initial INVITE with CSeq 2^31 or more', () => {
  it('gets 400 naming RFC 3261 section 8.1.1.5, reaches no callee and leaves nothing live; 2^31 - 1 is dialled', async () => {
    const callee = await recorder();
    const caller = await recorder();
    const config = loadConfig(['--listen', 'udp:127.0.0.1:0', '--webhook-thread', 'off', '--route', `sip:bob@127.0.0.1:${callee.port}`], {});
    const daemon = await startDaemon(config, createLogger('error', 'patchbay', () => {}));
    open.push(daemon);
    const port = daemon.endpoints[0]!.port;
    const send = (text: string): void => caller.socket.send(Buffer.from(text, 'latin1'), port, '127.0.0.1');

    send(invite(port, caller.port, '4294967295', 'big-cseq'));
    await waitFor(() => caller.received.some((m) => m.startsWith('SIP/2.0 400')), 10_000);
    const refusal = caller.received.find((m) => m.startsWith('SIP/2.0 400'))!;
    expect(refusal).toContain('CSeq: 4294967295 INVITE');
    expect(refusal).toMatch(/Warning: 399 patchbay "CSeq number must be less than 2\^31/);
    send(invite(port, caller.port, '2147483648', 'just-over'));
    await waitFor(() => caller.received.filter((m) => m.startsWith('SIP/2.0 400')).length === 2, 10_000);

    // the largest allowed number is dialled as usual: the route gets its INVITE
    send(invite(port, caller.port, '2147483647', 'largest-ok'));
    await waitFor(() => callee.received.some((m) => m.startsWith('INVITE ')), 10_000);
    expect(callee.received.filter((m) => m.startsWith('INVITE '))).toHaveLength(1);
    expect(caller.received.filter((m) => m.startsWith('SIP/2.0 400'))).toHaveLength(2);
  });
});
