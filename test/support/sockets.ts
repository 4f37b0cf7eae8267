/** Helpers for tests on real sockets: bounded waits, IPv6 availability, raw TCP/TLS clients. */
import { networkInterfaces } from 'node:os';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/**
 * Wait until `condition()` holds, polling every 5 ms; fails after `timeoutMs`
 * (bounded). The default only bounds a hang: it is far above what a loaded
 * 2-core machine needs, and below the unit tests' 30 s timeout so the error
 * says what was awaited.
 */
export async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** @return true when a loopback IPv6 address is configured. */
export function canBindIpv6(): boolean {
  return Object.values(networkInterfaces()).some((list) => list?.some((a) => a.family === 'IPv6' && a.internal));
}

/** A raw client socket that records everything it receives. */
export interface RawClient {
  socket: Socket;
  /** Everything received so far, as latin1 text. */
  received(): string;
  /** True once the server closed its side. */
  ended(): boolean;
}

function record(socket: Socket): RawClient {
  let text = '';
  let ended = false;
  socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1'); });
  socket.on('end', () => { ended = true; });
  socket.on('close', () => { ended = true; });
  socket.on('error', () => undefined);
  return { socket, received: () => text, ended: () => ended };
}

/** Connect a raw TCP client. */
export function rawTcpClient(port: number, host = '127.0.0.1'): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ port, host, noDelay: true }, () => resolve(record(socket)));
    socket.once('error', reject);
  });
}

/** Connect a raw TLS client trusting `ca`. */
export function rawTlsClient(port: number, ca: string, host = '127.0.0.1'): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ port, host, ca }, () => resolve(record(socket)));
    socket.once('error', reject);
  });
}
