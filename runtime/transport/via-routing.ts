/**
 * The Via rules of the server transport: `received` and `rport` derived
 * for an inbound request (RFC 3261 §18.2.1, RFC 3581 §4), kept as fields
 * beside the message rather than written into its bytes, and the address a
 * response goes back to (RFC 3261 §18.2.2, RFC 3581 §4).
 */
import { bareHost, defaultPort } from '../sip/via.js';
import { M } from '../wasm/abi.js';
import { decodeFolded } from '../wasm/text.js';
import type { MessageView } from '../wasm/message-view.js';
import type { Destination, Source, TransportProtocol } from './transport.js';

/** The top Via's sent-protocol transport and sent-by (RFC 3261 §20.42). */
export interface SentBy {
  /** Transport of `sent-protocol`, upper case (UDP, TCP, TLS, SCTP, WS, WSS...). */
  transport: string;
  /** sent-by host as written (IPv6 references keep their brackets). */
  host: string;
  /** sent-by port, or undefined when absent. */
  port: number | undefined;
}

/** The top Via of an inbound request with what the server transport derived from it. */
export interface ReceivedVia {
  /** The top Via value as received (folds read as one SP). */
  raw: string;
  /** Its sent-protocol transport and sent-by. */
  via: SentBy;
  /** Its `maddr` parameter, undefined when absent. */
  maddr: string | undefined;
  /** Source address when sent-by is a name or another address, or `rport` was asked for (RFC 3261 §18.2.1). */
  received?: string;
  /** Source port when the Via carries a bare `rport` (RFC 3581 §4). */
  rport?: number;
  /** Where the parser found the parts stampedVia edits (byte offsets in `bytes`). */
  readonly spans: ViaSpans;
}

/** Byte spans of the top Via within its message, for stamping without parsing again. */
interface ViaSpans {
  bytes: Uint8Array;
  valueStart: number;
  valueEnd: number;
  /** Span of an existing `received` value, len -1 when absent. */
  receivedStart: number;
  receivedLen: number;
  /** End of a bare `rport` name, -1 when absent. */
  rportEnd: number;
}

/**
 * Read the top Via of a parsed request from the fields the WASM parser
 * filled (M.VIA_*), and derive `received`/`rport`. Call while `view`'s
 * record is current (before the next parse on its parser).
 * @param view    the parsed request
 * @param source  where the request came from
 * @return the derived Via, or undefined when the request has no readable top Via
 */
export function readTopVia(view: MessageView, source: Source): ReceivedVia | undefined {
  const idx = view.slot(M.IDX_VIA);
  const hostLen = view.slot(M.VIA_HOST_LEN);
  const port = view.slot(M.VIA_PORT);
  if (idx < 0 || hostLen <= 0 || port === 0 || port > 65535) return undefined;
  const bytes = view.bytes;
  const [valueStart, valueLen] = view.valueSpan(idx);
  const rport = view.slot(M.VIA_RPORT);
  const maddrLen = view.slot(M.VIA_MADDR_LEN);
  const host = decodeFolded(bytes, view.slot(M.VIA_HOST_START), hostLen);
  const result: ReceivedVia = {
    raw: view.valueAt(idx) ?? '',
    via: {
      transport: decodeFolded(bytes, view.slot(M.VIA_TRANSPORT_START), view.slot(M.VIA_TRANSPORT_LEN)).toUpperCase(),
      host,
      port: port < 0 ? undefined : port,
    },
    maddr: maddrLen < 0 ? undefined : decodeFolded(bytes, view.slot(M.VIA_MADDR_START), maddrLen),
    spans: {
      bytes, valueStart, valueEnd: valueStart + valueLen,
      receivedStart: view.slot(M.VIA_RECEIVED_START), receivedLen: view.slot(M.VIA_RECEIVED_LEN),
      rportEnd: rport === 0 ? view.slot(M.VIA_RPORT_START) + view.slot(M.VIA_RPORT_LEN) : -1,
    },
  };
  const wantsRport = rport === 0;
  if (wantsRport) result.rport = source.port;
  if (wantsRport || bareHost(host) !== source.host.toLowerCase()) result.received = source.host;
  return result;
}

/**
 * @return the top Via value to copy into responses: `raw` with `received`
 *   and `rport` filled in (RFC 3261 §18.2.1, RFC 3581 §4): a bare rport
 *   gets its value, an existing received is replaced, else one is appended.
 */
export function stampedVia(received: ReceivedVia): string {
  if (received.received === undefined && received.rport === undefined) return received.raw;
  const s = received.spans;
  // edits in byte order: [position, bytes removed, text inserted]
  const edits: Array<[number, number, string]> = [];
  if (received.rport !== undefined && s.rportEnd >= 0) edits.push([s.rportEnd, 0, `=${received.rport}`]);
  if (received.received !== undefined) {
    if (s.receivedLen >= 0) edits.push([s.receivedStart, s.receivedLen, received.received]);
    else edits.push([s.valueEnd, 0, `;received=${received.received}`]);
  }
  edits.sort((a, b) => a[0] - b[0]);
  let out = '';
  let at = s.valueStart;
  for (const [pos, removed, text] of edits) {
    out += decodeFolded(s.bytes, at, pos - at) + text;
    at = pos + removed;
  }
  return out + decodeFolded(s.bytes, at, s.valueEnd - at);
}

function protocolOf(via: SentBy, source: Source): TransportProtocol {
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
  const maddr = received.maddr;
  if (maddr) return { transport, host: bareHost(maddr), port: sentByPort };
  if (received.rport !== undefined) return { transport, host: received.received ?? source.host, port: received.rport };
  if (received.received !== undefined) return { transport, host: received.received, port: sentByPort };
  return { transport, host: bareHost(via.host), port: sentByPort };
}
