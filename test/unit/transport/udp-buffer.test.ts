/**
 * UDP socket buffers: the transport asks for 4 MiB each way by default (or the configured size) and
 * reports what the OS granted. Linux caps a request at net.core.rmem_max / wmem_max and reports
 * twice the granted size, so the effective size is at least min(requested, OS maximum).
 */
import { readFileSync } from 'node:fs';
import { createSocket, Socket } from 'node:dgram';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SOCKET_BUFFER_BYTES, UdpTransport, type UdpTransportOptions } from '../../../runtime/transport/udp.js';

const linux = process.platform === 'linux';

/** @return the integer in a /proc/sys file */
function sysctl(name: string): number {
  return Number(readFileSync(`/proc/sys/net/core/${name}`, 'utf8').trim());
}

const open: UdpTransport[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function listening(options: UdpTransportOptions = {}): Promise<UdpTransport> {
  const transport = new UdpTransport({ host: '127.0.0.1', port: 0, ...options });
  open.push(transport);
  await transport.listen();
  return transport;
}

/** The sizes a fresh socket gets from the OS when nobody asks for anything. */
function osDefaults(): Promise<{ recv: number; send: number }> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    socket.bind(0, '127.0.0.1', () => {
      const sizes = { recv: socket.getRecvBufferSize(), send: socket.getSendBufferSize() };
      socket.close(() => resolve(sizes));
    });
  });
}

describe.skipIf(!linux)('UDP socket buffer sizes (Linux)', () => {
  const rmemMax = linux ? sysctl('rmem_max') : 0;
  const wmemMax = linux ? sysctl('wmem_max') : 0;

  it('asks for 4 MiB each way by default and gets at least that or the OS maximum', async () => {
    const t = await listening();
    expect(DEFAULT_SOCKET_BUFFER_BYTES).toBe(4 * 1024 * 1024);
    expect(t.recvBufferSize).toBeGreaterThanOrEqual(Math.min(DEFAULT_SOCKET_BUFFER_BYTES, rmemMax));
    expect(t.sendBufferSize).toBeGreaterThanOrEqual(Math.min(DEFAULT_SOCKET_BUFFER_BYTES, wmemMax));
    // Linux grants min(requested, max) and reports it doubled
    expect(t.recvBufferSize).toBe(2 * Math.min(DEFAULT_SOCKET_BUFFER_BYTES, rmemMax));
    expect(t.sendBufferSize).toBe(2 * Math.min(DEFAULT_SOCKET_BUFFER_BYTES, wmemMax));
  });

  it.each([64 * 1024, 1024 * 1024, 6 * 1024 * 1024, 64 * 1024 * 1024])('honours a requested size of %i bytes up to the OS maximum', async (size) => {
    const t = await listening({ recvBufferSize: size, sendBufferSize: size });
    expect(t.recvBufferSize).toBeGreaterThanOrEqual(Math.min(size, rmemMax));
    expect(t.sendBufferSize).toBeGreaterThanOrEqual(Math.min(size, wmemMax));
    expect(t.recvBufferSize).toBe(2 * Math.min(size, rmemMax));
  });

  it('keeps the OS default when asked for 0', async () => {
    const defaults = await osDefaults();
    const t = await listening({ recvBufferSize: 0, sendBufferSize: 0 });
    expect({ recv: t.recvBufferSize, send: t.sendBufferSize }).toEqual(defaults);
  });
});

describe('UDP socket buffer sizes', () => {
  it('keeps the OS value, silently, when the OS refuses the request', async () => {
    const defaults = await osDefaults();
    const refuse = (): never => {
      throw Object.assign(new Error('Could not get or set buffer size'), { code: 'ERR_SOCKET_BUFFER_SIZE' });
    };
    const setRecv = vi.spyOn(Socket.prototype, 'setRecvBufferSize').mockImplementation(refuse);
    const setSend = vi.spyOn(Socket.prototype, 'setSendBufferSize').mockImplementation(refuse);
    const warn = vi.spyOn(console, 'warn');
    const error = vi.spyOn(console, 'error');
    const t = await listening({ recvBufferSize: 8 * 1024 * 1024 });
    expect(setRecv).toHaveBeenCalledWith(8 * 1024 * 1024);
    expect(setSend).toHaveBeenCalledWith(DEFAULT_SOCKET_BUFFER_BYTES);
    expect({ recv: t.recvBufferSize, send: t.sendBufferSize }).toEqual(defaults);
    expect(warn).not.toHaveBeenCalled();
    expect(error).not.toHaveBeenCalled();
  });

  it('reports no size before listen() and after close()', async () => {
    const t = new UdpTransport({ host: '127.0.0.1', port: 0 });
    expect(t.recvBufferSize).toBeUndefined();
    await t.listen();
    expect(t.recvBufferSize).toBeGreaterThan(0);
    expect(t.sendBufferSize).toBeGreaterThan(0);
    await t.close();
    expect(t.recvBufferSize).toBeUndefined();
    expect(t.sendBufferSize).toBeUndefined();
  });

  it.each([-1, 1.5, Number.NaN, 2 ** 31])('refuses %s bytes at construction', (size) => {
    expect(() => new UdpTransport({ recvBufferSize: size })).toThrow(RangeError);
    expect(() => new UdpTransport({ sendBufferSize: size })).toThrow(RangeError);
  });

  it('still receives datagrams with its buffers set', async () => {
    const t = await listening({ recvBufferSize: 256 * 1024 });
    const received: Uint8Array[] = [];
    t.attach({ message: (bytes) => received.push(bytes.slice()), keepAlive: () => undefined, frameError: () => undefined });
    const sender = createSocket('udp4');
    await new Promise<void>((resolve) => sender.send(Buffer.from('\r\n\r\n'), t.local.port, '127.0.0.1', () => resolve()));
    sender.close();
    await vi.waitFor(() => expect(received).toHaveLength(1), { timeout: 20_000 });
    expect(Buffer.from(received[0]!).toString()).toBe('\r\n\r\n');
  });
});
