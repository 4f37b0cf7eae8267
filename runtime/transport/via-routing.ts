/**
 * The Via rules of the server transport: `received` and `rport` derived
 * for an inbound request (RFC 3261 §18.2.1, RFC 3581 §4), kept as fields
 * beside the message rather than written into its bytes, and the address a
 * response goes back to (RFC 3261 §18.2.2, RFC 3581 §4).
 */
import { bareHost, defaultPort, formatVia, parseVia, viaParam, withViaParam, type Via } from '../sip/via.js';
import type { Destination, Source, TransportProtocol } from './transport.js';

/** The top Via of an inbound request with what the server transport derived from it. */
export interface ReceivedVia {
  /** The top Via value as received. */
  raw: string;
  /** It, taken apart. */
  via: Via;
  /** Source address when sent-by is a name or another address, or `rport` was asked for (RFC 3261 §18.2.1). */
  received?: string;
  /** Source port when the Via carries a bare `rport` (RFC 3581 §4). */
  rport?: number;
}

/**
 * Read the top Via of a request and derive `received`/`rport`.
 * @param raw     the first Via value of the request
 * @param source  where the request came from
 * @return the derived Via, or undefined when `raw` is not a Via
 */
export function readTopVia(raw: string, source: Source): ReceivedVia | undefined {
  const via = parseVia(raw);
  if (!via) return undefined;
  const result: ReceivedVia = { raw, via };
  const wantsRport = viaParam(via, 'rport') === null;
  if (wantsRport) result.rport = source.port;
  if (wantsRport || bareHost(via.host) !== source.host.toLowerCase()) result.received = source.host;
  return result;
}

/** @return the top Via value to copy into responses: `raw` with `received` and `rport` filled in. */
export function stampedVia(received: ReceivedVia): string {
  if (received.received === undefined && received.rport === undefined) return received.raw;
  let via = received.via;
  if (received.received !== undefined) via = withViaParam(via, 'received', received.received);
  if (received.rport !== undefined) via = withViaParam(via, 'rport', String(received.rport));
  return formatVia(via);
}

function protocolOf(via: Via, source: Source): TransportProtocol {
  const t = via.transport.toLowerCase();
  return t === 'udp' || t === 'tcp' || t === 'tls' ? t : source.transport;
}

/**
 * Where a response to a request goes (RFC 3261 §18.2.2, RFC 3581 §4):
 * reliable transports use the connection the request came on, or else a
 * new one to `received` (or sent-by) at the sent-by port; unreliable ones
 * go to `maddr` when present, else to `received`:`rport`, `received`:sent-by
 * port, or sent-by.
 */
export function responseDestination(received: ReceivedVia, source: Source): Destination {
  const { via } = received;
  // a request that came on a connection is answered on that connection, whatever
  // protocol its Via names (a TLS terminator in front of a TCP client, RFC 3261 §18.2.2)
  const transport = source.transport !== 'udp' ? source.transport : protocolOf(via, source);
  const sentByPort = via.port ?? defaultPort(via.transport);
  if (transport !== 'udp') {
    return { transport, host: received.received ?? bareHost(via.host), port: sentByPort, connectionId: source.connectionId };
  }
  const maddr = viaParam(via, 'maddr');
  if (maddr) return { transport, host: bareHost(maddr), port: sentByPort };
  if (received.rport !== undefined) return { transport, host: received.received ?? source.host, port: received.rport };
  if (received.received !== undefined) return { transport, host: received.received, port: sentByPort };
  return { transport, host: bareHost(via.host), port: sentByPort };
}
