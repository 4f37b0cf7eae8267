/**
 * TLS transport (RFC 3261 §26.2.1, sips and transport=tls): node:tls with a
 * configured certificate and key; framing, reuse and idle close as TCP.
 */
import { isIP, type Server, type Socket } from 'node:net';
import { connect, createServer } from 'node:tls';
import { STREAM_DEFAULTS, StreamTransport, type OutboundSocket, type StreamTransportOptions } from './stream-transport.js';
import type { Destination } from './transport.js';

/** Options of {@link TlsTransport}. */
export interface TlsTransportOptions extends StreamTransportOptions {
  /** PEM certificate chain presented to peers. */
  cert: string | Buffer;
  /** PEM private key of `cert`. */
  key: string | Buffer;
  /** PEM CA certificates trusted for peers (default: Node's bundled roots). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Verify the certificates of servers we connect to (default true). */
  rejectUnauthorized?: boolean;
  /** Ask inbound clients for a certificate (mutual TLS; default false). */
  requestCert?: boolean;
}

/** A TLS listener and connector. */
export class TlsTransport extends StreamTransport {
  /** Always 'tls'. */
  readonly protocol = 'tls' as const;
  #tls: TlsTransportOptions;

  /** @param options  bind address (default 127.0.0.1:5061), certificate, key, framing parser and limits */
  constructor(options: TlsTransportOptions) {
    super(options, 5061);
    this.#tls = options;
  }

  /**
   * A TLS server; sockets are handed over once the handshake is done. A
   * handshake is held to the message timeout, like a message (Node's own
   * default would let it take 120 s).
   */
  protected createServer(onSocket: (socket: Socket) => void): Server {
    const { cert, key, ca, requestCert = false, messageTimeoutMs = STREAM_DEFAULTS.messageTimeoutMs } = this.#tls;
    const server = createServer({ cert, key, ca, requestCert, rejectUnauthorized: requestCert, handshakeTimeout: messageTimeoutMs }, onSocket);
    // a failed or timed-out handshake: with a listener here node:tls leaves the socket open, so close it
    server.on('tlsClientError', (_err, socket) => socket.destroy());
    return server;
  }

  /** A TLS connection; SNI is sent for host names, never for IP literals (RFC 6066 §3). */
  protected connectSocket(destination: Destination): OutboundSocket {
    const { cert, key, ca, rejectUnauthorized = true } = this.#tls;
    const socket = connect({
      host: destination.host, port: destination.port, ca, cert, key, rejectUnauthorized,
      servername: isIP(destination.host) === 0 ? destination.host : undefined,
    });
    return { socket, readyEvent: 'secureConnect' };
  }
}
