/**
 * The contract between the transport layer (layer.ts) and each transport
 * (udp.ts, tcp.ts, tls.ts, loop.ts). A transport moves bytes: datagrams, or
 * whole messages framed out of a stream (RFC 3261 §18.3). It never parses
 * beyond framing; the layer does. Expected failures are values.
 */
import type { AbiErrorInfo } from '../wasm/abi.js';
import type { ConnectionStats } from './stream-admission.js';

/** Transport protocols (RFC 3261 §18; the Via `transport` in lower case). */
export type TransportProtocol = 'udp' | 'tcp' | 'tls';

/** A host and port. IPv6 hosts are written without brackets. */
export interface Endpoint {
  host: string;
  port: number;
}

/** Where to send a message. */
export interface Destination extends Endpoint {
  transport: TransportProtocol;
  /** Send from the listener bound to this local address when there is one (egress profiles, multi-homed hosts). */
  source?: string;
  /** For stream transports: the connection to use when it is still open (RFC 3261 §18.2.2). */
  connectionId?: string;
}

/** Where a message came from. */
export interface Source extends Endpoint {
  transport: TransportProtocol;
  /** For stream transports: the connection it arrived on. */
  connectionId?: string;
  /** The local address it arrived at. */
  local: Endpoint;
}

/** Codes of {@link TransportError}. */
export type TransportErrorCode =
  | 'PB_ERR_TRANSPORT_SEND'
  | 'PB_ERR_TRANSPORT_CONNECT'
  | 'PB_ERR_TRANSPORT_NO_TRANSPORT'
  | 'PB_ERR_TRANSPORT_CLOSED'
  | 'PB_ERR_TRANSPORT_BACKPRESSURE'
  | 'PB_ERR_TRANSPORT_TOO_LARGE'
  | 'PB_ERR_TRANSPORT_LISTEN';

/** A send, connect or listen failure. */
export class TransportError extends Error {
  /** Stable machine-readable code. */
  readonly code: TransportErrorCode;

  /**
   * @param code     what failed
   * @param message  human-readable detail
   * @param cause    the underlying socket error, if any
   */
  constructor(code: TransportErrorCode, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TransportError';
    this.code = code;
  }
}

/** Result of a send: `ok`, or the failure (RFC 3261 §17.1.4 reports it to the transaction). */
export type SendResult = { ok: true } | { ok: false; error: TransportError };

/** The resolved success value, shared. */
export const SENT: SendResult = Object.freeze({ ok: true });

/** @return a failed SendResult. */
export function sendFailure(code: TransportErrorCode, message: string, cause?: unknown): SendResult {
  return { ok: false, error: new TransportError(code, message, cause) };
}

/** What a transport reports upward; the transport layer implements it. */
export interface TransportSink {
  /** A datagram, or one message framed out of a stream (bytes owned by the receiver). */
  message(bytes: Uint8Array, source: Source, isStream: boolean): void;
  /** An RFC 5626 §3.5.1 CRLFCRLF ping on a stream. */
  keepAlive(source: Source): void;
  /**
   * A stream could not be framed; the connection is closed after this.
   * @param head  the first bytes of the unframed data (at most 8 KiB)
   * @return bytes to write before closing (an error response), or undefined
   */
  frameError(error: AbiErrorInfo, head: Uint8Array, source: Source): Uint8Array | undefined;
}

/** One listening transport. */
export interface Transport {
  /** Its protocol. */
  readonly protocol: TransportProtocol;
  /** True for stream transports (no retransmissions, RFC 3261 §17.1.1.2). */
  readonly reliable: boolean;
  /** The bound address (valid after `listen`). */
  readonly local: Endpoint;
  /** The address to put in Via sent-by and Contact: `advertisedHost` when configured, else `local`. */
  readonly sentBy: Endpoint;
  /** Set the receiver of inbound traffic (called once by the layer, before `listen`). */
  attach(sink: TransportSink): void;
  /** Bind and start receiving. @return the bound address (port 0 resolves to the real port) */
  listen(): Promise<Endpoint>;
  /** Send one message. Never rejects: failures are values. */
  send(bytes: Uint8Array, destination: Destination): Promise<SendResult>;
  /** Stop receiving and close every socket. */
  close(): Promise<void>;
  /** Stream transports: inbound connections open, refused and closed by the transport. */
  connectionStats?(): ConnectionStats;
}

/** Options common to every socket transport. */
export interface TransportOptions {
  /** Address to bind (default 127.0.0.1; IPv6 addresses without brackets). */
  host?: string;
  /** Port to bind (default 5060, 5061 for TLS; 0 picks a free one). */
  port?: number;
  /** Host to advertise in Via/Contact instead of the bound address (for 0.0.0.0 or NAT). */
  advertisedHost?: string;
}

/** @return `host` stripped of an IPv4-mapped IPv6 prefix (`::ffff:1.2.3.4` → `1.2.3.4`). */
export function normalizeAddress(host: string): string {
  return host.startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host;
}
