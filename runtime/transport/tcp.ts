/**
 * TCP transport (RFC 3261 §18): node:net server and client sockets with
 * Content-Length framing, connection reuse and idle close (stream-transport.ts).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { StreamTransport, type OutboundSocket, type StreamTransportOptions } from './stream-transport.js';
import type { Destination } from './transport.js';

/** Options of {@link TcpTransport}. */
export type TcpTransportOptions = StreamTransportOptions;

/** A TCP listener and connector. */
export class TcpTransport extends StreamTransport {
  /** Always 'tcp'. */
  readonly protocol = 'tcp' as const;

  /** @param options  bind address (default 127.0.0.1:5060), framing parser and limits */
  constructor(options: TcpTransportOptions) {
    super(options, 5060);
  }

  /** A plain net server. */
  protected createServer(onSocket: (socket: Socket) => void): Server {
    return createServer({ noDelay: true }, onSocket);
  }

  /** A plain net connection. */
  protected connectSocket(destination: Destination): OutboundSocket {
    return { socket: createConnection({ host: destination.host, port: destination.port, noDelay: true }), readyEvent: 'connect' };
  }
}
