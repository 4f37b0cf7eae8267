/**
 * UDP transport (RFC 3261 §18) over node:dgram, IPv4 or IPv6 depending on
 * the bound address. Every datagram is handed up whole; the layer parses it.
 * One socket sends and receives, so responses routed by `rport` (RFC 3581)
 * reach peers behind NAT.
 *
 * The socket asks for large kernel buffers (4 MiB each way by default): at
 * 1,000 calls per second the OS default (about 208 kB on Linux) holds only
 * some 20–30 ms of traffic, and every datagram dropped while the event loop
 * is busy costs its call a 500 ms retransmission. The OS may grant less
 * (Linux caps the request at net.core.rmem_max / wmem_max, then reports
 * double the granted value, its bookkeeping overhead included) or refuse it;
 * either way the socket keeps what the OS gives, silently, and the getters
 * report it.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import {
  SENT, TransportError, normalizeAddress, sendFailure,
  type Destination, type Endpoint, type SendResult, type Transport, type TransportOptions, type TransportSink,
} from './transport.js';

/** Largest UDP payload (65535 minus the IP and UDP headers). */
export const MAX_DATAGRAM_BYTES = 65507;

/** Socket buffer size requested by default, each way: 4 MiB. */
export const DEFAULT_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/** Largest buffer size that can be requested (the OS call takes a C int). */
export const MAX_SOCKET_BUFFER_BYTES = 2 ** 31 - 1;

/** Options of a UDP transport. */
export interface UdpTransportOptions extends TransportOptions {
  /**
   * SO_RCVBUF to request, in bytes (default 4 MiB; 0 keeps the OS default).
   * When the OS grants less or refuses, the socket keeps what it has:
   * read `recvBufferSize` for the effective size.
   */
  recvBufferSize?: number;
  /** SO_SNDBUF to request, in bytes (default 4 MiB; 0 keeps the OS default), as recvBufferSize. */
  sendBufferSize?: number;
}

/** @return `value`, checked to be a whole number of bytes the OS call can take */
function bufferSize(name: string, value: number | undefined): number {
  if (value === undefined) return DEFAULT_SOCKET_BUFFER_BYTES;
  if (!Number.isInteger(value) || value < 0 || value > MAX_SOCKET_BUFFER_BYTES) {
    throw new RangeError(`udp ${name} must be a whole number of bytes from 0 to ${MAX_SOCKET_BUFFER_BYTES}, got ${value}`);
  }
  return value;
}

/**
 * Ask for a buffer size; keep the OS value when it refuses.
 * @return the size the OS reports afterwards (Linux: double the granted size), undefined if it cannot tell
 */
function applyBufferSize(requested: number, set: (size: number) => void, get: () => number): number | undefined {
  if (requested > 0) {
    try {
      set(requested);
    } catch {
      // refused (EINVAL, ENOBUFS on some BSDs): the socket keeps its current size
    }
  }
  try {
    return get();
  } catch {
    return undefined;
  }
}

/** A UDP listener and sender. */
export class UdpTransport implements Transport {
  /** Always 'udp'. */
  readonly protocol = 'udp' as const;
  /** Always false: retransmissions are the transaction layer's job. */
  readonly reliable = false;
  #options: Required<Omit<TransportOptions, 'advertisedHost'>> & { advertisedHost?: string };
  #requested: { recv: number; send: number };
  #effective: { recv: number | undefined; send: number | undefined } | undefined;
  #socket: Socket | undefined;
  #sink: TransportSink | undefined;
  #local: Endpoint;

  /**
   * @param options  bind address (default 127.0.0.1:5060) and socket buffer sizes (default 4 MiB each)
   * @throws RangeError when a buffer size is not a whole number from 0 to 2³¹−1
   */
  constructor(options: UdpTransportOptions = {}) {
    const { recvBufferSize, sendBufferSize, ...bind } = options;
    this.#requested = { recv: bufferSize('recvBufferSize', recvBufferSize), send: bufferSize('sendBufferSize', sendBufferSize) };
    this.#options = { host: '127.0.0.1', port: 5060, ...bind };
    this.#local = { host: this.#options.host, port: this.#options.port };
  }

  /** The bound address. */
  get local(): Endpoint {
    return this.#local;
  }

  /** The advertised address. */
  get sentBy(): Endpoint {
    return { host: this.#options.advertisedHost ?? this.#local.host, port: this.#local.port };
  }

  /**
   * Effective SO_RCVBUF in bytes as the OS reports it once listening
   * (Linux: twice the granted size, which is capped at net.core.rmem_max);
   * undefined before listen(), after close(), or if the OS cannot tell.
   */
  get recvBufferSize(): number | undefined {
    return this.#effective?.recv;
  }

  /** Effective SO_SNDBUF in bytes, as recvBufferSize (Linux cap: net.core.wmem_max). */
  get sendBufferSize(): number | undefined {
    return this.#effective?.send;
  }

  /** Set the receiver. */
  attach(sink: TransportSink): void {
    this.#sink = sink;
  }

  /** Bind the socket. @return the bound address */
  listen(): Promise<Endpoint> {
    const v6 = isIPv6(this.#options.host);
    const socket = createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6 });
    this.#socket = socket;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(new TransportError('PB_ERR_TRANSPORT_LISTEN', `udp bind ${this.#options.host}:${this.#options.port}: ${err.message}`, err));
      socket.once('error', onError);
      socket.bind(this.#options.port, this.#options.host, () => {
        socket.off('error', onError);
        // after bind, errors (ICMP unreachable surfaced by some platforms) are per-send, not fatal
        socket.on('error', () => undefined);
        this.#effective = {
          recv: applyBufferSize(this.#requested.recv, (n) => socket.setRecvBufferSize(n), () => socket.getRecvBufferSize()),
          send: applyBufferSize(this.#requested.send, (n) => socket.setSendBufferSize(n), () => socket.getSendBufferSize()),
        };
        const address = socket.address();
        this.#local = { host: address.address, port: address.port };
        socket.on('message', (msg, rinfo) => {
          const source = { transport: 'udp' as const, host: normalizeAddress(rinfo.address), port: rinfo.port, local: this.#local };
          this.#sink?.message(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), source, false);
        });
        resolve(this.#local);
      });
    });
  }

  /** Send one datagram (hostnames are resolved by dgram in the socket's family). */
  send(bytes: Uint8Array, destination: Destination): Promise<SendResult> {
    const socket = this.#socket;
    if (!socket) return Promise.resolve(sendFailure('PB_ERR_TRANSPORT_CLOSED', 'udp transport is not listening'));
    if (bytes.length > MAX_DATAGRAM_BYTES) {
      return Promise.resolve(sendFailure('PB_ERR_TRANSPORT_TOO_LARGE', `${bytes.length} bytes do not fit in one UDP datagram`));
    }
    return new Promise((resolve) => {
      try {
        socket.send(bytes, destination.port, destination.host, (err) => {
          resolve(err ? sendFailure('PB_ERR_TRANSPORT_SEND', `udp send to ${destination.host}:${destination.port}: ${err.message}`, err) : SENT);
        });
      } catch (err) {
        resolve(sendFailure('PB_ERR_TRANSPORT_SEND', `udp send to ${destination.host}:${destination.port}: ${(err as Error).message}`, err));
      }
    });
  }

  /** Close the socket. */
  close(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#effective = undefined;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }
}
