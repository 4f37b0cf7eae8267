/**
 * TransactionLayer (RFC 3261 §17): matches inbound messages to client and
 * server transactions, opens client transactions for the TU (`request`),
 * creates server transactions for new requests (`onRequest`), answers
 * INVITEs with 100 Trying when the TU's handler returns without having
 * responded (§17.2.1) and CANCELs itself (§9.2: 200 when the
 * INVITE is found, else 481), absorbs retransmissions, and passes 2xx ACKs
 * and stray responses up to the TU (the dialog layer) through handlers.
 */
import type { MessageView } from '../wasm/message-view.js';
import type { HeaderField, OutgoingMessage, OutgoingRequest, OutgoingResponse } from '../sip/message.js';
import { findHeader } from '../sip/message.js';
import { createResponse } from '../sip/build.js';
import { newBranch } from '../sip/ids.js';
import { serializeMessage, serializeResponse } from '../sip/serialize.js';
import { systemClock, type Clock } from '../transport/clock.js';
import type { TransportLayer } from '../transport/layer.js';
import { type Destination, type SendResult, type Source } from '../transport/transport.js';
import { responseDestination, stampedVia, type ReceivedVia } from '../transport/via-routing.js';
import { ClientTx, type ClientTxContext } from './client-tx.js';
import { ServerTx, type ServerTxContext } from './server-tx.js';
import { TransactionError } from './errors.js';
import { clientKey, serverKey } from './key.js';
import { deriveTimers, type TimerSettings, type Timers } from './timers.js';
import { SipBuildError } from '../sip/errors.js';
import { UnsendableLog, type UnsendableReport } from './unsendable.js';

/** Options of {@link TransactionLayer}. */
export interface TransactionLayerOptions {
  /** The transport layer below. */
  transport: TransportLayer;
  /** Clock for every timer (default: the system clock). */
  clock?: Clock;
  /** T1/T2/T4 and per-timer overrides (ms). */
  timers?: TimerSettings;
  /** Answer each new INVITE with 100 Trying at once, unless the TU responded while handling it (default true, RFC 3261 §17.2.1). */
  trying100?: boolean;
  /**
   * Told about responses the serializer refused (each ended its transaction
   * or was replaced by a 500, see ServerTx): the first at once, then at most
   * once per UNSENDABLE_REPORT_MS with the count since (default: nothing,
   * `unsendableTotal` still counts them).
   */
  onUnsendable?: (report: UnsendableReport) => void;
}

/** How often `settle` looks at the transactions again. */
const SETTLE_POLL_MS = 20;

/** Receives each new request with its server transaction. */
export type RequestHandler = (tx: ServerTx, request: MessageView) => void;
/**
 * Looks at each request that matches no transaction before one is created
 * for it: `pass` goes on to a server transaction and the request handler;
 * `drop` ignores the request; a response is sent statelessly (RFC 3261
 * §8.2.7: once, never retransmitted, no transaction kept; a retransmitted
 * request is screened again and the ACK for a non-2xx answer matches
 * nothing). The response goes back by the Via rules with `received` and
 * `rport` stamped, as a transaction's would.
 */
export type RequestScreen = (request: MessageView, source: Source) => 'pass' | 'drop' | OutgoingResponse;
/** Receives ACKs that match no transaction (ACKs for 2xx, RFC 3261 §17.2.3, §13.3.1.4). */
export type AckHandler = (ack: MessageView, source: Source) => void;
/** Receives responses that match no client transaction (RFC 3261 §17.1.3; e.g. 2xx retransmissions). */
export type StrayResponseHandler = (response: MessageView, source: Source) => void;

/** Live transaction counts (leak tests assert both reach zero). */
export interface TransactionStats {
  clientTx: number;
  serverTx: number;
}

/** The transaction layer of one stack. */
export class TransactionLayer {
  /** The timers in use. */
  readonly timers: Timers;
  #transport: TransportLayer;
  #clock: Clock;
  #trying100: boolean;
  #client = new Map<string, ClientTx>();
  #server = new Map<string, ServerTx>();
  #onRequest: RequestHandler | undefined;
  #screen: RequestScreen | undefined;
  #onAck: AckHandler | undefined;
  #onStray: StrayResponseHandler | undefined;
  #unsendable: UnsendableLog;
  #closed = false;

  /** @param options  transport layer, clock and timers */
  constructor(options: TransactionLayerOptions) {
    this.#transport = options.transport;
    this.#clock = options.clock ?? systemClock;
    this.timers = deriveTimers(options.timers);
    this.#trying100 = options.trying100 ?? true;
    const onUnsendable = options.onUnsendable;
    this.#unsendable = new UnsendableLog(this.#clock, (report) => onUnsendable?.(report));
    this.#transport.onMessage((view, source, via) => this.#receive(view, source, via));
  }

  /** Set the receiver of new requests; without one, requests are answered 501. */
  onRequest(handler: RequestHandler): void {
    this.#onRequest = handler;
  }

  /** Set the screen new requests pass before they get a server transaction. */
  onScreen(screen: RequestScreen): void {
    this.#screen = screen;
  }

  /** Set the receiver of ACKs for 2xx. */
  onAck(handler: AckHandler): void {
    this.#onAck = handler;
  }

  /** Set the receiver of responses that match no client transaction. */
  onStrayResponse(handler: StrayResponseHandler): void {
    this.#onStray = handler;
  }

  /** @return live transaction counts. */
  stats(): TransactionStats {
    return { clientTx: this.#client.size, serverTx: this.#server.size };
  }

  /** Responses the serializer refused since the start (see `onUnsendable`). */
  get unsendableTotal(): number {
    return this.#unsendable.total;
  }

  /**
   * Open a client transaction: a top Via (new branch, this transport's
   * sent-by, `rport` on UDP) and Max-Forwards 70 when absent are added,
   * then the request is sent. Failures arrive as events and `outcome`.
   * @throws TransactionError PB_ERR_TX_ACK for ACK (use `write`), PB_ERR_TX_CLOSED after close
   * @throws SipBuildError when the request cannot be serialized safely
   */
  request(request: OutgoingRequest, destination: Destination): ClientTx {
    if (request.method === 'ACK') throw new TransactionError('PB_ERR_TX_ACK', 'ACK has no client transaction: send it with write()');
    const branch = newBranch();
    const via = this.#transport.viaFor(destination, branch);
    const headers = [...request.headers];
    if (findHeader(headers, 'Max-Forwards') === undefined) headers.unshift(['Max-Forwards', '70']);
    headers.unshift(['Via', via ?? `SIP/2.0/${destination.transport.toUpperCase()} invalid;branch=${branch}`]);
    // without a transport for the destination the send fails and the transaction reports a transport error
    return this.#open({ ...request, headers }, destination, branch);
  }

  #open(request: OutgoingRequest, destination: Destination, branch: string): ClientTx {
    if (this.#closed) throw new TransactionError('PB_ERR_TX_CLOSED', 'the transaction layer is closed');
    const context: ClientTxContext = {
      clock: this.#clock,
      timers: this.timers,
      reliable: this.#transport.isReliable(destination.transport),
      send: (bytes) => this.#transport.send(bytes, destination),
      sendCancel: (cancel) => this.#open(cancel, destination, branch),
      terminated: (tx) => {
        if (this.#client.get(tx.key) === tx) this.#client.delete(tx.key);
      },
    };
    const tx = new ClientTx(clientKey(branch, request.method), branch, request, destination, context);
    this.#client.set(tx.key, tx);
    tx.start();
    return tx;
  }

  /**
   * Send a message outside any transaction (an ACK for a 2xx, RFC 3261
   * §13.2.2.4, or a stateless response). The message goes as given: a
   * request must already carry its Via.
   * @throws SipBuildError when it cannot be serialized safely
   */
  write(message: OutgoingMessage, destination: Destination): Promise<SendResult> {
    return this.#transport.send(serializeMessage(message), destination);
  }

  /**
   * Wait until no transaction still depends on the network for its outcome:
   * client transactions before their final response (a BYE, a CANCEL, an
   * unanswered INVITE) and INVITE server transactions whose non-2xx final
   * response (a drain's 503) still awaits its ACK, retransmitting meanwhile.
   * Used before `close()`, so that the last requests and responses get
   * through. Resolves at once when nothing is pending, else at the latest
   * after `maxMs` (on the layer's clock).
   */
  settle(maxMs: number): Promise<void> {
    const deadline = this.#clock.now() + maxMs;
    return new Promise((resolve) => {
      const check = (): void => {
        const left = deadline - this.#clock.now();
        if (left <= 0 || !this.#awaitingPeer()) resolve();
        else this.#clock.setTimeout(check, Math.min(SETTLE_POLL_MS, left));
      };
      check();
    });
  }

  /** True while some transaction waits for the far end (see `settle`). */
  #awaitingPeer(): boolean {
    for (const tx of this.#client.values()) {
      if (tx.state === 'calling' || tx.state === 'trying' || tx.state === 'proceeding') return true;
    }
    for (const tx of this.#server.values()) {
      if (tx.method === 'INVITE' && tx.state === 'completed') return true;
    }
    return false;
  }

  /** Terminate every transaction (no further events but `terminated`) and refuse new ones. */
  close(): void {
    this.#closed = true;
    for (const tx of [...this.#client.values()]) tx.terminate();
    for (const tx of [...this.#server.values()]) tx.terminate();
    this.#unsendable.close();
  }

  #receive(view: MessageView, source: Source, via: ReceivedVia | undefined): void {
    if (view.isResponse) {
      const branch = view.branch;
      const tx = branch === undefined ? undefined : this.#client.get(clientKey(branch, view.cseqMethod ?? ''));
      if (tx) tx.receiveResponse(view);
      else this.#onStray?.(view, source);
      return;
    }
    if (!via || this.#closed) return;
    const method = view.method ?? '';
    if (method === 'ACK') {
      const tx = this.#server.get(serverKey(view, via.via, via.raw, 'INVITE'));
      if (!tx || !tx.receiveAck(view)) this.#onAck?.(view, source);
      return;
    }
    const key = serverKey(view, via.via, via.raw, method);
    const existing = this.#server.get(key);
    if (existing) {
      existing.receiveRequest();
      return;
    }
    const verdict = this.#screen?.(view, source) ?? 'pass';
    if (verdict === 'drop') return;
    if (verdict !== 'pass') {
      this.#respondStateless(verdict, source, via);
      return;
    }
    const tx = this.#createServerTx(key, view, source, via);
    if (method === 'CANCEL') {
      const invite = this.#server.get(serverKey(view, via.via, via.raw, 'INVITE'));
      tx.respond(createResponse(view, invite ? 200 : 481));
      invite?.receiveCancel(view);
      return;
    }
    if (this.#onRequest) this.#handOver(this.#onRequest, tx, view);
    else tx.respond(createResponse(view, 501));
    // §17.2.1: 100 Trying unless the TU has already answered (a TU that rings
    // at once, e.g. a TwiML call, makes it redundant: one datagram less)
    if (method === 'INVITE' && this.#trying100 && tx.lastStatus === 0) tx.respond(createResponse(view, 100));
  }

  /** Send a response outside any transaction, its top Via stamped (RFC 3261 §18.2.1, RFC 3581 §4). */
  #respondStateless(response: OutgoingResponse, source: Source, via: ReceivedVia): void {
    const headers: HeaderField[] = [...response.headers];
    const top = headers.findIndex(([name]) => name.toLowerCase() === 'via' || name === 'v');
    if (top >= 0 && headers[top]![1] === via.raw) headers[top] = ['Via', stampedVia(via)];
    let bytes: Uint8Array;
    try {
      bytes = serializeResponse({ ...response, headers });
    } catch (err) {
      if (!(err instanceof SipBuildError)) throw err;
      // nothing is kept for a stateless answer: there is no transaction to end
      this.#unsendable.note({
        method: cseqMethod(headers), status: response.status, code: err.code, field: err.field, message: err.message, outcome: 'dropped',
      });
      return;
    }
    void this.#transport.send(bytes, responseDestination(via, source));
  }

  /**
   * Give a new request to the TU. A TU that throws before any final
   * response would leave the transaction live until close (and a UDP
   * client retransmitting into it): it gets a 500 (RFC 3261 §21.5.1), then
   * the error goes on to the transport layer's handler-error hook.
   */
  #handOver(handler: RequestHandler, tx: ServerTx, view: MessageView): void {
    try {
      handler(tx, view);
    } catch (err) {
      if (tx.lastStatus < 200 && tx.state !== 'terminated') tx.respond(createResponse(view, 500));
      throw err;
    }
  }

  #createServerTx(key: string, view: MessageView, source: Source, via: ReceivedVia): ServerTx {
    const destination = responseDestination(via, source);
    const context: ServerTxContext = {
      clock: this.#clock,
      timers: this.timers,
      reliable: this.#transport.isReliable(source.transport),
      send: (bytes) => this.#transport.send(bytes, destination),
      terminated: (tx) => {
        if (this.#server.get(tx.key) === tx) this.#server.delete(tx.key);
      },
      unsendable: (response) => this.#unsendable.note(response),
    };
    const tx = new ServerTx(key, view, source, via, context);
    this.#server.set(key, tx);
    return tx;
  }
}

/** The method named by a response's CSeq header, '' when there is none. */
function cseqMethod(headers: HeaderField[]): string {
  const cseq = headers.find(([name]) => name.toLowerCase() === 'cseq');
  return cseq?.[1].trim().split(/\s+/)[1] ?? '';
}
