/**
 * TransportLayer (RFC 3261 §18): the transports of one stack behind one
 * send/receive surface. Inbound bytes are parsed inline, or, for datagrams
 * when a pooled `engine` is given, in batches (batcher.ts); refused requests are
 * answered statelessly, requests get their top Via read with `received` /
 * `rport` derived (§18.2.1, RFC 3581), and detached views go up to the
 * transaction layer. Stream keep-alives are answered (RFC 5626 §3.5.1).
 */
import type { MessageView } from '../wasm/message-view.js';
import type { WasmParser } from '../wasm/parser.js';
import type { AbiErrorInfo } from '../wasm/abi.js';
import type { ParseEngine } from '../wasm/engine.js';
import { serializeResponse } from '../sip/serialize.js';
import { SipBuildError } from '../sip/errors.js';
import { uriHost } from '../sip/via.js';
import { errorResponseFor } from './error-response.js';
import { ReceiveBatcher } from './batcher.js';
import type { ReceiveBatchOptions } from './batch-options.js';
import { systemClock, type Clock } from './clock.js';
import { TransportCounters, type TransportStats } from './stats.js';
import { addConnectionStats } from './stream-admission.js';
import { readTopVia, type ReceivedVia } from './via-routing.js';
import {
  sendFailure,
  type Destination, type Endpoint, type SendResult, type Source, type Transport, type TransportProtocol, type TransportSink,
} from './transport.js';

/** Parses one message; the view may be reused by the next call (the layer detaches what it keeps). */
export type ParseFn = (bytes: Uint8Array, isStream: boolean) => MessageView;

/**
 * Receives each inbound message that parsed.
 * @param view    a detached view (safe to keep)
 * @param source  where it came from
 * @param via     for requests: the top Via with `received`/`rport`; undefined for responses
 */
export type InboundHandler = (view: MessageView, source: Source, via: ReceivedVia | undefined) => void;

/** Options of {@link TransportLayer}. */
export interface TransportLayerOptions {
  /** The transports to listen on (several per protocol are fine, e.g. IPv4 and IPv6 UDP). */
  transports: Transport[];
  /** Inline parser used when `parse` is not given. */
  parser?: WasmParser;
  /** Custom inline parse function (used instead of `parser`). */
  parse?: ParseFn;
  /**
   * A parse engine for datagrams. With `kind: 'pool'` received datagrams
   * are parsed in batches by it (falling back to the inline parser, see
   * batcher.ts); an inline engine changes nothing. Stream messages are
   * always parsed inline. The layer does not close it.
   */
  engine?: ParseEngine;
  /** Batch settings used with a pooled `engine`. */
  batching?: ReceiveBatchOptions;
  /** Clock of the batch timer (default: the system clock). */
  clock?: Clock;
  /** Called when an inbound handler throws (default: rethrown on a microtask, so bugs surface). */
  onHandlerError?: (error: unknown) => void;
}

const CRLF = new Uint8Array([13, 10]);

/**
 * True for an IPv6 address: hostnames and IPv4 addresses have no colon. A
 * character test, not `net.isIPv6` (a long regular expression), because it
 * runs on every send.
 */
function isV6Literal(host: string): boolean {
  return host.includes(':');
}

/** The transport layer of one stack. */
export class TransportLayer {
  #transports: Transport[];
  #parse: ParseFn;
  #handler: InboundHandler | undefined;
  #onHandlerError: (error: unknown) => void;
  #counters = new TransportCounters();
  #batcher: ReceiveBatcher | undefined;

  /** @param options  transports and parser; throws when neither `parser` nor `parse` is given */
  constructor(options: TransportLayerOptions) {
    this.#transports = [...options.transports];
    const { parser, parse } = options;
    if (parse) this.#parse = parse;
    else if (parser) this.#parse = (bytes, isStream) => parser.parse(bytes, isStream);
    else throw new TypeError('TransportLayer needs a parser or a parse function');
    if (options.engine?.kind === 'pool') {
      this.#batcher = new ReceiveBatcher({
        ...options.batching,
        engine: options.engine,
        parse: (bytes) => this.#parse(bytes, false),
        deliver: (view, bytes, source) => this.#deliver(view, bytes, source),
        clock: options.clock ?? systemClock,
      });
    }
    this.#onHandlerError = options.onHandlerError ?? ((error) => queueMicrotask(() => { throw error; }));
    const sink: TransportSink = {
      message: (bytes, source, isStream) => this.#receive(bytes, source, isStream),
      keepAlive: (source) => this.#keepAlive(source),
      frameError: (error, head, source) => this.#frameError(error, head, source),
    };
    for (const t of this.#transports) t.attach(sink);
  }

  /** The transports, in the order given. */
  get transports(): readonly Transport[] {
    return this.#transports;
  }

  /** Start every transport. @return their bound addresses, in order */
  listen(): Promise<Endpoint[]> {
    return Promise.all(this.#transports.map((t) => t.listen()));
  }

  /** Set the receiver of inbound messages (the transaction layer). */
  onMessage(handler: InboundHandler): void {
    this.#handler = handler;
  }

  /** @return the transport a message to `destination` leaves on: same protocol, same address family when possible. */
  transportFor(destination: Destination): Transport | undefined {
    const v6 = isV6Literal(destination.host);
    if (destination.source !== undefined) {
      const bound = this.#transports.find((t) => t.protocol === destination.transport && t.local.host === destination.source);
      if (bound) return bound;
    }
    let fallback: Transport | undefined;
    for (const t of this.#transports) {
      if (t.protocol !== destination.transport) continue;
      if (isV6Literal(t.local.host) === v6) return t;
      fallback ??= t;
    }
    return fallback;
  }

  /** @return true when messages to `protocol` travel on a reliable (stream) transport. */
  isReliable(protocol: TransportProtocol): boolean {
    return protocol !== 'udp';
  }

  /**
   * The Via a request to `destination` carries (RFC 3261 §18.1.1; `rport`
   * asked for on UDP, RFC 3581 §3), or undefined when no transport fits.
   */
  viaFor(destination: Destination, branch: string): string | undefined {
    const t = this.transportFor(destination);
    if (!t) return undefined;
    const { host, port } = t.sentBy;
    const rport = t.protocol === 'udp' ? ';rport' : '';
    return `SIP/2.0/${t.protocol.toUpperCase()} ${uriHost(host)}:${port};branch=${branch}${rport}`;
  }

  /** Send one message. Never rejects: failures are values (and counted). */
  async send(bytes: Uint8Array, destination: Destination): Promise<SendResult> {
    const t = this.transportFor(destination);
    const result = t
      ? await t.send(bytes, destination)
      : sendFailure('PB_ERR_TRANSPORT_NO_TRANSPORT', `no ${destination.transport} transport`);
    if (result.ok) this.#counters.countOut(bytes);
    else this.#counters.countSendError(result.error.code);
    return result;
  }

  /** @return a snapshot of the counters (with `batching` when a pooled engine is in use). */
  stats(): TransportStats {
    const stats = this.#counters.snapshot();
    if (this.#batcher) stats.batching = this.#batcher.stats();
    for (const t of this.#transports) {
      const c = t.connectionStats?.();
      if (!c || t.protocol === 'udp') continue;
      stats.connections ??= {};
      stats.connections[t.protocol] = addConnectionStats(stats.connections[t.protocol], c);
    }
    return stats;
  }

  /** Close every transport, then parse and deliver the datagrams still waiting in a batch. */
  async close(): Promise<void> {
    await Promise.all(this.#transports.map((t) => t.close()));
    this.#batcher?.close();
  }

  #receive(bytes: Uint8Array, source: Source, isStream: boolean): void {
    if (this.#batcher && !isStream) this.#batcher.push(bytes, source);
    else this.#deliver(this.#parse(bytes, isStream), bytes, source);
  }

  /** Handle one parsed message: counters, stateless error answers, Via, then the handler. */
  #deliver(view: MessageView, bytes: Uint8Array, source: Source): void {
    if (view.isKeepAlive) {
      this.#counters.in.keepAlives++;
      return;
    }
    const error = view.error;
    if (error) {
      this.#counters.countParseError(error.name);
      this.#answer(bytes, error.sipStatus, error.message, source);
      return;
    }
    const escaped = view.escapedControl;
    if (escaped) {
      this.#refuseEscapedControl(bytes, escaped.header ?? 'a header', source);
      return;
    }
    const isRequest = view.isRequest;
    this.#counters.countIn(isRequest ? view.method : undefined, view.statusCode);
    let via: ReceivedVia | undefined;
    if (isRequest) {
      via = readTopVia(view, source);
      if (!via) {
        this.#counters.countParseError('PB_ERR_VIA');
        this.#answer(bytes, 400, 'top Via is not readable', source);
        return;
      }
    }
    const handler = this.#handler;
    if (!handler) return;
    try {
      handler(view.detach(), source, via);
    } catch (err) {
      this.#onHandlerError(err);
    }
  }

  /**
   * A message whose quoted-string holds a control byte as a quoted-pair
   * (`"\<NUL>"`): valid SIP (RFC 3261 §25.1, RFC 4475 §3.1.1.2), but nothing
   * done with it here may copy the byte: not a response (§8.2.6.2 copies
   * Via, From, To, Call-ID and CSeq), not a forwarded or B2BUA leg, not a
   * webhook parameter, and the serializer refuses control bytes anyway. So
   * it goes no further, like a message the parser refused: a request gets
   * the stateless 400 with a Warning naming the header when none of the
   * copied headers holds the byte, else it is dropped and counted
   * (`unsafe-header`); a response is dropped (§18.1.2) and counted.
   */
  #refuseEscapedControl(bytes: Uint8Array, header: string, source: Source): void {
    this.#counters.countParseError('PB_ERR_ESCAPED_CTL');
    this.#answer(bytes, 400, `control character escaped in a quoted-string of ${header}: not accepted by this server`, source);
  }

  /** The stateless answer to a refused message as bytes, or undefined (counted by reason) when it gets none. */
  #errorBytes(bytes: Uint8Array, status: number, message: string, source: Source): Uint8Array | undefined {
    const agent = `${uriHost(source.local.host)}:${source.local.port}`;
    const response = errorResponseFor(bytes, status, message, agent);
    if (typeof response === 'string') {
      this.#counters.countUnanswered(response);
      return undefined;
    }
    try {
      return serializeResponse(response);
    } catch (err) {
      // errorResponseFor copies no value with a control character; should one slip by, the message is dropped, never thrown into the socket's handler
      if (!(err instanceof SipBuildError)) throw err;
      this.#counters.countUnanswered('unsafe-header');
      return undefined;
    }
  }

  #answer(bytes: Uint8Array, status: number, message: string, source: Source): void {
    const reply = this.#errorBytes(bytes, status, message, source);
    if (reply) void this.send(reply, source);
  }

  #keepAlive(source: Source): void {
    this.#counters.in.keepAlives++;
    void this.send(CRLF, source);
  }

  #frameError(error: AbiErrorInfo, head: Uint8Array, source: Source): Uint8Array | undefined {
    this.#counters.countParseError(error.name);
    const reply = this.#errorBytes(head, error.sipStatus, error.message, source);
    if (reply) this.#counters.countOut(reply);
    return reply;
  }
}
