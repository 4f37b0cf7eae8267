/**
 * The daemon's admission over real UDP on loopback (the daemon in this
 * process, raw dgram clients): unauthenticated INVITEs are answered
 * statelessly (RFC 3261 §8.2.7) — exactly one 401 per INVITE received, no
 * retransmission when it is not ACKed, no server transaction kept, the ACK
 * absorbed — and a flood from one source beyond the rate limit gets 503s
 * then silence, counted in /metrics, while another source still gets
 * through.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../runtime/config.js';
import { createLogger } from '../../../runtime/log.js';
import { startDaemon, type Daemon } from '../../../runtime/daemon.js';
import { Metrics } from '../../../runtime/metrics/metrics.js';
import { waitFor } from '../../support/sockets.js';

/** A UDP client bound to `host` that records every datagram it receives. */
interface Client {
  socket: Socket;
  port: number;
  host: string;
  received: string[];
}

async function client(host = '127.0.0.1'): Promise<Client> {
  const socket = createSocket('udp4');
  const received: string[] = [];
  socket.on('message', (m) => received.push(m.toString('latin1')));
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  return { socket, port: socket.address().port, host, received };
}

function send(c: Client, text: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => c.socket.send(Buffer.from(text, 'latin1'), port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
}

function invite(c: Client, i: number, port: number): string {
  return `INVITE sip:bob@127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP ${c.host}:${c.port};branch=z9hG4bK-st${i};rport\r\n` +
    `Max-Forwards: 70\r\nFrom: <sip:alice@${c.host}>;tag=f${i}\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: st-${i}@${c.host}\r\n` +
    `CSeq: 1 INVITE\r\nContact: <sip:alice@${c.host}:${c.port}>\r\nContent-Length: 0\r\n\r\n`;
}

/** The ACK for a non-2xx final response (RFC 3261 §17.1.1.3): same branch, the response's To. */
function ackFor(c: Client, i: number, port: number, to: string): string {
  return `ACK sip:bob@127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP ${c.host}:${c.port};branch=z9hG4bK-st${i};rport\r\n` +
    `Max-Forwards: 70\r\nFrom: <sip:alice@${c.host}>;tag=f${i}\r\nTo: ${to}\r\nCall-ID: st-${i}@${c.host}\r\n` +
    `CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n`;
}

const statusOf = (message: string): string => message.slice(8, 11);
const headerOf = (message: string, name: string): string | undefined => new RegExp(`\r\n${name}: ([^\r]*)`, 'i').exec(message)?.[1];

const running: Array<{ close(): void }> = [];
afterEach(() => {
  for (const r of running.splice(0)) r.close();
});

async function daemonWith(args: string[]): Promise<{ daemon: Daemon; port: number; logs: string[] }> {
  const logs: string[] = [];
  const config = loadConfig(['--listen', 'udp:127.0.0.1:0', '--webhook-thread', 'off', '--allow', 'none',
    '--credentials', 'alice:s3cret', '--digest-algorithms', 'MD5', ...args], {});
  const daemon = await startDaemon(config, createLogger('info', 'patchbay', (line) => logs.push(line)));
  running.push(daemon);
  return { daemon, port: daemon.endpoints[0]!.port, logs };
}

describe('stateless challenges over UDP', () => {
  it('N unauthenticated INVITEs (some retransmitted) get exactly one 401 each, never retransmitted, no transaction kept, ACKs absorbed', async () => {
    // T1 = 100 ms: a stateful 401 would be retransmitted after 100, 300, 700 ms… and live 6.4 s (Timer H)
    const { daemon, port, logs } = await daemonWith(['--t1', '100']);
    const c = await client();
    running.push({ close: () => c.socket.close() });
    const N = 40;
    for (let i = 0; i < N; i++) await send(c, invite(c, i, port), port);
    // the UAC retransmits ten of them: each retransmission gets its own, identical-tagged 401
    for (let i = 0; i < 10; i++) await send(c, invite(c, i, port), port);
    await waitFor(() => c.received.length >= N + 10, 10_000);
    expect(daemon.stats().serverTx).toBe(0);
    expect(c.received.map(statusOf)).toEqual(Array(N + 10).fill('401'));
    const toOf = (callId: string): string[] => c.received.filter((m) => headerOf(m, 'Call-ID') === callId).map((m) => headerOf(m, 'To')!);
    const first = toOf(`st-0@${c.host}`);
    expect(first).toHaveLength(2);
    expect(first[0]).toMatch(/;tag=[A-Za-z0-9_-]{16}$/);
    expect(first[1]).toBe(first[0]);
    for (const m of c.received) expect(headerOf(m, 'Via')).toContain(`;rport=${c.port}`);
    // ACK half of them; leave the rest unanswered
    for (let i = 0; i < N / 2; i++) await send(c, ackFor(c, i, port, toOf(`st-${i}@${c.host}`)[0]!), port);
    // an OPTIONS after them all: once it is answered, the ACKs before it were handled
    await send(c, `OPTIONS sip:127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP ${c.host}:${c.port};branch=z9hG4bK-probe;rport\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:alice@${c.host}>;tag=p\r\nTo: <sip:127.0.0.1>\r\nCall-ID: probe@${c.host}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`, port);
    await waitFor(() => c.received.length >= N + 11, 10_000);
    expect(statusOf(c.received[N + 10]!)).toBe('200');
    // well past the first three Timer G intervals (100 + 200 + 400 ms) on the daemon's clock: still nothing more
    const before = Date.now();
    await waitFor(() => Date.now() - before >= 1000, 5000);
    expect(c.received.length).toBe(N + 11);
    const t = daemon.transportStats();
    expect(t.out.responses['401']).toBe(N + 10);
    expect(t.out.responses['100']).toBeUndefined();
    expect(daemon.admissionStats().admission.challenges).toBe(N + 10);
    expect(logs.filter((l) => l.includes('"level":"error"'))).toEqual([]);
  });
});

describe('per-source rate limit over UDP', () => {
  it('a flood from one source beyond the limit gets 3 × 503 Retry-After then nothing, counted in /metrics; another source still gets through', async () => {
    const { daemon, port, logs } = await daemonWith(['--rate-limit', '20', '--rate-limit-window', '600', '--rate-limit-block', '120', '--rate-limit-exempt', 'none']);
    const flood = await client('127.0.0.2');
    const other = await client('127.0.0.3');
    running.push({ close: () => flood.socket.close() }, { close: () => other.socket.close() });
    for (let i = 0; i < 40; i++) await send(flood, invite(flood, i, port), port);
    const limited = (action: string): number => daemon.admissionStats().rateLimit.limited.find((l) => l.method === 'INVITE' && l.action === action)?.value ?? 0;
    await waitFor(() => limited('dropped') === 17, 10_000);
    await waitFor(() => flood.received.length >= 23, 10_000);
    expect(flood.received.map(statusOf)).toEqual([...Array(20).fill('401'), '503', '503', '503']);
    for (const m of flood.received.slice(20)) expect(Number(headerOf(m, 'Retry-After'))).toBeGreaterThan(100);
    await send(other, invite(other, 1000, port), port);
    await waitFor(() => other.received.length >= 1, 10_000);
    expect(statusOf(other.received[0]!)).toBe('401');
    expect(flood.received).toHaveLength(23);
    expect(daemon.stats().serverTx).toBe(0);
    const metrics = await new Metrics({ admission: () => daemon.admissionStats() }).render();
    expect(metrics).toContain('patchbay_ratelimited_total{method="INVITE",action="rejected"} 3');
    expect(metrics).toContain('patchbay_ratelimited_total{method="INVITE",action="dropped"} 17');
    expect(metrics).toContain('patchbay_ratelimit_blocks_total 1');
    expect(logs.filter((l) => l.includes('source rate-limited'))).toHaveLength(1);
  });
});
