/**
 * UDP transport (RFC 3261 §18) over node:dgram, IPv4 or IPv6 depending on
 * the bound address. Every datagram is handed up whole; the layer parses it.
 * One socket sends and receives, so responses routed by `rport` (RFC 3581)
 * reach peers behind NAT.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import {
  SENT, TransportError, normalizeAddress, sendFailure,
  type Destination, type Endpoint, type SendResult, type Transport, type TransportOptions, type TransportSink,
} from './transport.js';

/** Largest UDP payload (65535 minus the IP and UDP headers). */
export const MAX_DATAGRAM_BYTES = 65507;

/** A UDP listener and sender. */
export class UdpTransport implements Transport {
  /** Always 'udp'. */
  readonly protocol = 'udp' as const;
  /** Always false: retransmissions are the transaction layer's job. */
  readonly reliable = false;
  #options: Required<Omit<TransportOptions, 'advertisedHost'>> & { advertisedHost?: string };
  #socket: Socket | undefined;
  #sink: TransportSink | undefined;
  #local: Endpoint;

  /** @param options  bind address (default 127.0.0.1:5060) */
  constructor(options: TransportOptions = {}) {
    this.#options = { host: '127.0.0.1', port: 5060, ...options };
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
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }
}
