/**
 * ServerTx: one server transaction (RFC 3261 §17.2). The TU answers through
 * `respond`; the transaction copies `received`/`rport` into the top Via of
 * every response (RFC 3261 §18.2.1, RFC 3581 §4), sends it back by the Via
 * rules (§18.2.2), retransmits final INVITE responses over UDP (Timer G),
 * absorbs retransmitted requests and ACKs, and ends by the timers the
 * state machine in server-tx-fsm.ts asks for.
 */
import type { MessageView } from '../wasm/message-view.js';
import type { HeaderField, OutgoingResponse } from '../sip/message.js';
import { createResponse, type ResponseOptions } from '../sip/build.js';
import { serializeResponse } from '../sip/serialize.js';
import { SipBuildError } from '../sip/errors.js';
import type { Clock, TimerHandle } from '../transport/clock.js';
import { TransportError, type SendResult, type Source } from '../transport/transport.js';
import { stampedVia, type ReceivedVia } from '../transport/via-routing.js';
import { Emitter } from './emitter.js';
import { TransactionError, type RespondResult } from './errors.js';
import { nextInterval, type RetransmitInterval, type Timers } from './timers.js';
import type { UnsendableResponse } from './unsendable.js';
import {
  initialServerState, stepInviteServer, stepNonInviteServer,
  type ServerTimer, type ServerTxInput, type ServerTxState, type ServerTxStep,
} from './server-tx-fsm.js';

/** Events of a server transaction. */
export type ServerTxEvents = {
  /** A CANCEL matched this INVITE while no final response was sent (RFC 3261 §9.2; answer 487). */
  cancel: (cancel: MessageView) => void;
  /** An ACK for the 2xx arrived with this INVITE's branch (RFC 6026 §8.7); also given to the layer's ACK handler. */
  ack: (ack: MessageView) => void;
  /** Timer H fired: no ACK for the final response (RFC 3261 §17.2.1). */
  timeout: () => void;
  /** The transport failed (RFC 3261 §17.2.4). */
  'transport-error': (error: TransportError) => void;
  /** The transaction ended and left the layer. */
  terminated: () => void;
};

/** What a server transaction needs from its layer. */
export interface ServerTxContext {
  clock: Clock;
  timers: Timers;
  /** True over TCP/TLS: no retransmissions, I and J are zero. */
  reliable: boolean;
  /** Send a response back to the request's origin (RFC 3261 §18.2.2). */
  send(bytes: Uint8Array): Promise<SendResult>;
  /** The transaction is terminated: forget it. */
  terminated(tx: ServerTx): void;
  /** A response could not be serialized (counted and logged, rate-limited, by the layer). */
  unsendable(response: UnsendableResponse): void;
}

/** One server transaction. */
export class ServerTx extends Emitter<ServerTxEvents> {
  /** Matching key (RFC 3261 §17.2.3). */
  readonly key: string;
  /** The method of the request (INVITE, CANCEL, BYE...). */
  readonly method: string;
  /** The request that created the transaction (detached). */
  readonly request: MessageView;
  /** Where it came from. */
  readonly source: Source;
  /** Its top Via with `received`/`rport`. */
  readonly via: ReceivedVia;
  #ctx: ServerTxContext;
  #invite: boolean;
  #state: ServerTxState;
  #timers = new Map<ServerTimer, TimerHandle>();
  #retransmitInterval = 0;
  #last: Uint8Array | undefined;
  #lastStatus = 0;
  #cancelled = false;
  #topVia: string | undefined;

  /** Created by TransactionLayer for each new request. */
  constructor(key: string, request: MessageView, source: Source, via: ReceivedVia, ctx: ServerTxContext) {
    super();
    this.key = key;
    this.method = request.method ?? '';
    this.request = request;
    this.source = source;
    this.via = via;
    this.#ctx = ctx;
    this.#invite = this.method === 'INVITE';
    this.#state = initialServerState(this.#invite);
  }

  /** The current state. */
  get state(): ServerTxState {
    return this.#state;
  }

  /** True once a CANCEL matched this transaction. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** Status of the last response sent (0 before any). */
  get lastStatus(): number {
    return this.#lastStatus;
  }

  /** @return a response to this request (RFC 3261 §8.2.6), ready for `respond`. */
  createResponse(status: number, reason?: string, options?: ResponseOptions): OutgoingResponse {
    return createResponse(this.request, status, reason, options);
  }

  /**
   * Send a response through the transaction.
   * @return ok; PB_ERR_TX_STATE when the state does not allow it (nothing is
   *   sent); PB_ERR_TX_UNSENDABLE when it cannot be serialized safely (see
   *   `#unsendable`: a 500 goes instead, or the transaction ends)
   */
  respond(response: OutgoingResponse): RespondResult {
    const step = this.#stepOf({ kind: 'respond', status: response.status });
    if (step.actions.some((a) => a.do === 'refuse')) {
      return { ok: false, error: new TransactionError('PB_ERR_TX_STATE', `${this.method} server transaction in state ${this.#state} cannot send ${response.status}`) };
    }
    let bytes: Uint8Array;
    try {
      bytes = this.#serialize(response);
    } catch (err) {
      if (!(err instanceof SipBuildError)) throw err;
      return this.#unsendable(response.status, err);
    }
    this.#send(response.status, bytes, step);
    return { ok: true };
  }

  #serialize(response: OutgoingResponse): Uint8Array {
    return serializeResponse({ ...response, headers: this.#withStampedVia(response.headers) });
  }

  /**
   * A response the serializer refused (a control character in a value: a TU
   * bug, or input that got past the parser) must neither throw into the TU
   * nor leave the transaction waiting forever for a response that can never
   * be sent. Before any final response a 500 built from the request alone
   * goes in its place (RFC 3261 §21.5.1), so the client's transaction ends
   * normally and this one by its timers; when even that cannot be built (the
   * request's own Via, From, To, Call-ID or CSeq is unsafe to copy, §8.2.6.2)
   * the transaction ends at once. After a final response nothing changes:
   * the timers end it. The layer counts and logs it, rate-limited.
   */
  #unsendable(status: number, error: SipBuildError): RespondResult {
    let outcome: UnsendableResponse['outcome'] = 'dropped';
    if (this.#lastStatus < 200) {
      outcome = 'ended';
      const step = this.#stepOf({ kind: 'respond', status: 500 });
      if (!step.actions.some((a) => a.do === 'refuse')) {
        try {
          this.#send(500, this.#serialize(createResponse(this.request, 500)), step);
          outcome = 'sent-500';
        } catch (err) {
          if (!(err instanceof SipBuildError)) throw err;
        }
      }
    }
    this.#ctx.unsendable({ method: this.method, status, code: error.code, field: error.field, message: error.message, outcome });
    if (outcome === 'ended') this.terminate();
    const instead = outcome === 'sent-500' ? '500 sent instead' : outcome === 'ended' ? 'transaction ended' : 'nothing sent';
    return { ok: false, error: new TransactionError('PB_ERR_TX_UNSENDABLE', `${this.method} server transaction cannot send ${status} (${error.message}): ${instead}`) };
  }

  #send(status: number, bytes: Uint8Array, step: ServerTxStep): void {
    this.#last = bytes;
    this.#lastStatus = status;
    this.#apply(step);
    // a CANCEL can no longer change anything: let go of the TU's listener, which would
    // otherwise keep the whole call in memory through Timer L or H (64×T1)
    if (status >= 200) this.dropListeners('cancel');
  }

  #withStampedVia(headers: HeaderField[]): HeaderField[] {
    const i = headers.findIndex(([name]) => name.toLowerCase() === 'via' || name === 'v');
    if (i < 0 || headers[i]![1] !== this.via.raw) return headers;
    this.#topVia ??= stampedVia(this.via);
    const out = [...headers];
    out[i] = ['Via', this.#topVia];
    return out;
  }

  /** @internal a retransmission of the request arrived. */
  receiveRequest(): void {
    this.#step({ kind: 'request' });
  }

  /**
   * @internal an ACK matched this transaction.
   * @return true when it was absorbed, false when it goes to the TU (Accepted state)
   */
  receiveAck(ack: MessageView): boolean {
    if (this.#state === 'accepted') {
      this.emit('ack', ack);
      return false;
    }
    this.#step({ kind: 'ack' });
    return true;
  }

  /** @internal a CANCEL matched this transaction (the layer answers the CANCEL itself). */
  receiveCancel(cancel: MessageView): void {
    this.#cancelled = true;
    if (this.#lastStatus < 200 && this.#state !== 'terminated') this.emit('cancel', cancel);
  }

  /** @internal end now (layer shutdown). */
  terminate(): void {
    if (this.#state === 'terminated') return;
    this.#state = 'terminated';
    this.#finish();
  }

  #stepOf(input: ServerTxInput): ServerTxStep {
    const reliable = this.#ctx.reliable;
    return this.#invite ? stepInviteServer(this.#state, input, reliable) : stepNonInviteServer(this.#state, input, reliable);
  }

  #step(input: ServerTxInput, error?: TransportError): void {
    if (this.#state === 'terminated') return;
    this.#apply(this.#stepOf(input), error);
  }

  #apply(step: ServerTxStep, error?: TransportError): void {
    this.#state = step.state;
    for (const action of step.actions) {
      switch (action.do) {
        case 'send':
        case 'resend': this.#transmit(); break;
        case 'timeout': this.emit('timeout'); break;
        case 'transport-error': this.emit('transport-error', error ?? new TransportError('PB_ERR_TRANSPORT_SEND', 'transport error')); break;
        case 'start': this.#startTimer(action.timer, action.interval); break;
        case 'stop': this.#stopTimer(action.timer); break;
        default: break;
      }
    }
    if (this.#state === 'terminated') this.#finish();
  }

  #transmit(): void {
    const bytes = this.#last;
    if (!bytes) return;
    void this.#ctx.send(bytes).then((result) => {
      if (!result.ok) this.#step({ kind: 'transport-error' }, result.error);
    });
  }

  #startTimer(timer: ServerTimer, interval: RetransmitInterval | undefined): void {
    this.#stopTimer(timer);
    const timers = this.#ctx.timers;
    let ms: number = timers[timer];
    if (interval !== undefined) {
      this.#retransmitInterval = nextInterval(interval, timers[timer], this.#retransmitInterval, timers.T2);
      ms = this.#retransmitInterval;
    }
    this.#timers.set(timer, this.#ctx.clock.setTimeout(() => {
      this.#timers.delete(timer);
      this.#step({ kind: 'timer', timer });
    }, ms));
  }

  #stopTimer(timer: ServerTimer): void {
    const handle = this.#timers.get(timer);
    if (handle === undefined) return;
    this.#ctx.clock.clearTimeout(handle);
    this.#timers.delete(timer);
  }

  #finish(): void {
    for (const handle of this.#timers.values()) this.#ctx.clock.clearTimeout(handle);
    this.#timers.clear();
    this.#ctx.terminated(this);
    this.emit('terminated');
    this.removeAllListeners();
  }
}
