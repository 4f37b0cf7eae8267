/**
 * What TCP and TLS share: a listening server, a pool of framed connections
 * reused per remote `host:port` (inbound and outbound alike), idle and
 * message timeouts (stream-connection.ts), bounded write buffers, and the
 * admission of inbound connections (stream-admission.ts): a total cap,
 * a cap per source address and a share of the total kept for new sources.
 * tcp.ts and tls.ts supply how a server is created and how an outbound
 * socket is opened.
 */
import type { Server, Socket } from 'node:net';
import type { WasmParser } from '../wasm/parser.js';
import { systemClock, type Clock } from './clock.js';
import { ConnectionAdmission, sourceKey, type ConnectionStats } from './stream-admission.js';
import { StreamConnection } from './stream-connection.js';
import {
  SENT, TransportError, normalizeAddress, sendFailure,
  type Destination, type Endpoint, type SendResult, type Transport, type TransportOptions,
  type TransportProtocol, type TransportSink,
} from './transport.js';

/** Default limits of TCP and TLS (README "Limits"). */
export const STREAM_DEFAULTS = Object.freeze({
  idleTimeoutMs: 180_000,
  messageTimeoutMs: 20_000,
  maxConnections: 4096,
  // a whole office behind one NAT address can hold many flows; 28 such sources are still needed to fill the unreserved slots
  maxConnectionsPerSource: 128,
});

/** Options of TCP and TLS transports. */
export interface StreamTransportOptions extends TransportOptions {
  /** The parser whose find_message_end frames the stream. */
  parser: WasmParser;
  /** Close a connection after this long without a complete message in either direction (default 180 s). */
  idleTimeoutMs?: number;
  /** Close a connection whose message is not complete this long after its first byte (default 20 s). */
  messageTimeoutMs?: number;
  /** Most simultaneous inbound connections (default 4096). */
  maxConnections?: number;
  /** Most simultaneous inbound connections from one source address, an IPv6 /64 counting as one (default 128). */
  maxConnectionsPerSource?: number;
  /** Clock of the timeouts (default: the system clock; tests pass a fake one). */
  clock?: Clock;
  /** Refuse sends while more than this many bytes wait in a socket (default 1 MiB). */
  maxWriteBufferBytes?: number;
  /** Give up an outbound connect after this long (default 10 s). */
  connectTimeoutMs?: number;
}

/** An outbound socket and the event that says it can carry data. */
export interface OutboundSocket {
  socket: Socket;
  readyEvent: 'connect' | 'secureConnect';
}

function remoteKey(host: string, port: number): string {
  return `${host.toLowerCase()}|${port}`;
}

/** Base class of TcpTransport and TlsTransport. */
export abstract class StreamTransport implements Transport {
  /** 'tcp' or 'tls'. */
  abstract readonly protocol: TransportProtocol;
  /** Always true. */
  readonly reliable = true;
  #options: StreamTransportOptions;
  #sink: TransportSink | undefined;
  #server: Server | undefined;
  #local: Endpoint;
  #byId = new Map<string, StreamConnection>();
  #byRemote = new Map<string, StreamConnection>();
  #nextId = 1;
  #admission: ConnectionAdmission;
  #clock: Clock;
  /** Admitted inbound sockets, from accept to close (TLS ones still in their handshake too). */
  #inbound = new Set<Socket>();

  /** @param options  bind address, framing parser and limits */
  constructor(options: StreamTransportOptions, defaultPort: number) {
    this.#options = options;
    this.#local = { host: options.host ?? '127.0.0.1', port: options.port ?? defaultPort };
    this.#clock = options.clock ?? systemClock;
    this.#admission = new ConnectionAdmission({
      maxConnections: options.maxConnections ?? STREAM_DEFAULTS.maxConnections,
      maxPerSource: options.maxConnectionsPerSource ?? STREAM_DEFAULTS.maxConnectionsPerSource,
    });
  }

  /**
   * Create the listening server. Every raw TCP connection is offered to the
   * admission check on its 'connection' event; `onSocket` receives each
   * admitted socket once it can carry SIP (for TLS, after the handshake).
   */
  protected abstract createServer(onSocket: (socket: Socket) => void): Server;
  /** Open an outbound socket to `destination`. */
  protected abstract connectSocket(destination: Destination): OutboundSocket;

  /** The bound address. */
  get local(): Endpoint {
    return this.#local;
  }

  /** The advertised address. */
  get sentBy(): Endpoint {
    return { host: this.#options.advertisedHost ?? this.#local.host, port: this.#local.port };
  }

  /** Open connections (inbound and outbound). */
  get connectionCount(): number {
    return this.#byId.size;
  }

  /** Bytes received on open connections and not yet framed (unfinished messages). */
  get bufferedBytes(): number {
    let n = 0;
    for (const c of this.#byId.values()) n += c.bufferedBytes;
    return n;
  }

  /** Inbound connections now open, refused by reason, closed by the transport by reason. */
  connectionStats(): ConnectionStats {
    return this.#admission.stats();
  }

  /** Set the receiver. */
  attach(sink: TransportSink): void {
    this.#sink = sink;
  }

  /** Start listening. @return the bound address */
  listen(): Promise<Endpoint> {
    const server = this.createServer((socket) => this.#accept(socket));
    // prepended: a refused socket is destroyed before the server's own listener sees it
    server.prependListener('connection', (raw: Socket) => {
      const source = sourceKey(normalizeAddress(raw.remoteAddress ?? ''));
      if (!this.#admission.admit(source)) {
        raw.destroy();
        return;
      }
      this.#inbound.add(raw);
      raw.once('close', () => {
        this.#inbound.delete(raw);
        this.#admission.release(source);
      });
    });
    this.#server = server;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(new TransportError('PB_ERR_TRANSPORT_LISTEN', `${this.protocol} listen ${this.#local.host}:${this.#local.port}: ${err.message}`, err));
      server.once('error', onError);
      server.listen(this.#local.port, this.#local.host, () => {
        server.off('error', onError);
        server.on('error', () => undefined);
        const address = server.address();
        if (address && typeof address === 'object') this.#local = { host: address.address, port: address.port };
        resolve(this.#local);
      });
    });
  }

  #accept(socket: Socket): void {
    if (socket.destroyed) return;
    const remote = { host: normalizeAddress(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
    this.#register(socket, remote, Promise.resolve(SENT));
  }

  #register(socket: Socket, remote: Endpoint, ready: Promise<SendResult>): StreamConnection {
    const sink = this.#sink;
    if (!sink) throw new TransportError('PB_ERR_TRANSPORT_CLOSED', `${this.protocol} transport has no sink`);
    const key = remoteKey(remote.host, remote.port);
    const connection = new StreamConnection({
      id: `${this.protocol}-${this.#nextId++}`, protocol: this.protocol, socket, parser: this.#options.parser,
      sink, local: this.#local, remote,
      idleTimeoutMs: this.#options.idleTimeoutMs ?? STREAM_DEFAULTS.idleTimeoutMs,
      maxWriteBufferBytes: this.#options.maxWriteBufferBytes ?? 1 << 20,
      messageTimeoutMs: this.#options.messageTimeoutMs ?? STREAM_DEFAULTS.messageTimeoutMs,
      clock: this.#clock,
      ready,
      onClose: (c, reason) => {
        this.#byId.delete(c.id);
        if (this.#byRemote.get(key) === c) this.#byRemote.delete(key);
        if (reason) this.#admission.countClosed(reason);
      },
    });
    this.#byId.set(connection.id, connection);
    this.#byRemote.set(key, connection);
    return connection;
  }

  #connect(destination: Destination): StreamConnection {
    const { socket, readyEvent } = this.connectSocket(destination);
    const connectTimeout = setTimeout(() => socket.destroy(), this.#options.connectTimeoutMs ?? 10_000);
    connectTimeout.unref();
    const ready = new Promise<SendResult>((resolve) => {
      socket.once(readyEvent, () => {
        clearTimeout(connectTimeout);
        resolve(SENT);
      });
      socket.once('close', () => {
        clearTimeout(connectTimeout);
        resolve(sendFailure('PB_ERR_TRANSPORT_CONNECT', `${this.protocol} connect to ${destination.host}:${destination.port} failed`));
      });
    });
    return this.#register(socket, { host: destination.host, port: destination.port }, ready);
  }

  /**
   * Send one message: on `destination.connectionId` when that connection is
   * open, else on the open connection to `host:port`, else on a new one.
   */
  send(bytes: Uint8Array, destination: Destination): Promise<SendResult> {
    if (!this.#server) return Promise.resolve(sendFailure('PB_ERR_TRANSPORT_CLOSED', `${this.protocol} transport is not listening`));
    let connection = destination.connectionId === undefined ? undefined : this.#byId.get(destination.connectionId);
    if (!connection || connection.closed) connection = this.#byRemote.get(remoteKey(destination.host, destination.port));
    if (!connection || connection.closed) {
      try {
        connection = this.#connect(destination);
      } catch (err) {
        return Promise.resolve(sendFailure('PB_ERR_TRANSPORT_CONNECT', `${this.protocol} connect to ${destination.host}:${destination.port}: ${(err as Error).message}`, err));
      }
    }
    return connection.write(bytes);
  }

  /** Close the server and every connection. */
  close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const connection of this.#byId.values()) connection.destroy();
    for (const socket of this.#inbound) socket.destroy();
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}
