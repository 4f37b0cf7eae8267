/**
 * The TCP limits of the real daemon as a user configures them (flags), on
 * loopback: one source is capped while another source's OPTIONS is still
 * answered, a connection trickling bytes is closed at the message timeout,
 * and both show in /metrics. Sources are 127.0.0.2, 127.0.0.3 ... (Linux
 * routes all of 127.0.0.0/8 to lo).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { connect, type Socket } from 'node:net';
import { startDaemonProcess, type DaemonProcess } from './daemon.js';
import { e2ePorts } from './ports.js';
import { waitFor } from '../support/sockets.js';

const SIP = e2ePorts(import.meta.url).base;
const HTTP = SIP + 5;

interface Client { socket: Socket; received(): string; closed(): boolean }

function connectFrom(localAddress: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    let text = '';
    let closed = false;
    const socket = connect({ port: SIP, host: '127.0.0.1', localAddress, noDelay: true });
    const client: Client = { socket, received: () => text, closed: () => closed };
    socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1'); });
    socket.on('close', () => { closed = true; });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => undefined);
      resolve(client);
    });
  });
}

function options(callId: string): string {
  return [
    'OPTIONS sip:patchbay@127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK${callId}`,
    'Max-Forwards: 70',
    'From: <sip:probe@127.0.0.1>;tag=1',
    'To: <sip:patchbay@127.0.0.1>',
    `Call-ID: ${callId}`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '', '',
  ].join('\r\n');
}

async function metric(name: string): Promise<string> {
  const text = await (await fetch(`http://127.0.0.1:${HTTP}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(name)).join('\n');
}

describe('TCP listener limits of the daemon', () => {
  let daemon: DaemonProcess;
  const clients: Client[] = [];
  beforeAll(async () => {
    daemon = await startDaemonProcess([
      '--listen', `udp:127.0.0.1:${SIP},tcp:127.0.0.1:${SIP}`,
      '--tcp-max-per-source', '3', '--tcp-message-timeout', '1',
    ], HTTP);
  });
  afterAll(async () => {
    for (const c of clients) c.socket.destroy();
    await daemon?.stop();
  });

  it('refuses a 4th connection from one source with --tcp-max-per-source 3 and still answers another source', async () => {
    for (let i = 0; i < 3; i++) clients.push(await connectFrom('127.0.0.2'));
    const over = await connectFrom('127.0.0.2');
    clients.push(over);
    await waitFor(() => over.closed(), 15_000);
    const other = await connectFrom('127.0.0.3');
    clients.push(other);
    other.socket.write(options('e2e-other-source'));
    await waitFor(() => other.received().includes('\r\n\r\n'), 15_000);
    expect(other.received()).toMatch(/^SIP\/2\.0 200 OK\r\n/);
    expect(clients.slice(0, 3).every((c) => !c.closed())).toBe(true);
    expect(await metric('patchbay_sip_connections_refused_total{transport="tcp",reason="per-source"}')).toMatch(/ 1$/);
  });

  it('closes a connection trickling one byte at a time at --tcp-message-timeout 1', async () => {
    const slow = await connectFrom('127.0.0.4');
    clients.push(slow);
    const bytes = options('e2e-trickle');
    // one byte every 200 ms; bounded (the whole message would take far longer than the 1 s timeout)
    for (let i = 0; i < Math.min(bytes.length - 1, 100) && !slow.closed(); i++) {
      slow.socket.write(bytes[i]!);
      await new Promise((r) => setTimeout(r, 200));
    }
    await waitFor(() => slow.closed(), 15_000);
    expect(slow.received()).toBe('');
    expect(await metric('patchbay_sip_connections_closed_total{transport="tcp",reason="message-timeout"}')).toMatch(/ 1$/);
  });
});
