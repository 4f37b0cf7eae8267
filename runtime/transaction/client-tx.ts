/**
 * ClientTx: one client transaction (RFC 3261 §17.1). Holds the request as
 * sent (with the Via the layer added), runs the timers the state machine in
 * client-tx-fsm.ts asks for, retransmits, ACKs non-2xx final responses and
 * tells the TU through events and the `outcome` promise.
 */
import type { MessageView } from '../wasm/message-view.js';
import type { HeaderField, OutgoingRequest } from '../sip/message.js';
import { createAckForFailure, createCancel } from '../sip/build.js';
import { serializeRequest } from '../sip/serialize.js';
import type { Clock, TimerHandle } from '../transport/clock.js';
import { TransportError, type Destination, type SendResult } from '../transport/transport.js';
import { Emitter } from './emitter.js';
import { nextInterval, type RetransmitInterval, type Timers } from './timers.js';
import {
  startClientTx, stepInviteClient, stepNonInviteClient,
  type ClientTimer, type ClientTxInput, type ClientTxState, type ClientTxStep,
} from './client-tx-fsm.js';

/** Events of a client transaction. */
export type ClientTxEvents = {
  /** A 1xx (RFC 3261 §17.1.1.2). */
  provisional: (response: MessageView) => void;
  /** A final response; for INVITE, each 2xx (retransmissions and forks, RFC 6026 §8.4) too. */
  final: (response: MessageView) => void;
  /** Timer B or F fired (RFC 3261 §17.1.1.2, §17.1.2.2), or Timer B after a CANCEL (§9.1). */
  timeout: () => void;
  /** The transport failed (RFC 3261 §17.1.4). */
  'transport-error': (error: TransportError) => void;
  /** The transaction ended and left the layer. */
  terminated: () => void;
};

/** How a client transaction ended for the TU: its first final response, or why there was none. */
export type ClientTxOutcome =
  | { kind: 'response'; response: MessageView }
  | { kind: 'timeout' }
  | { kind: 'transport-error'; error: TransportError }
  | { kind: 'closed' };

/** What a client transaction needs from its layer. */
export interface ClientTxContext {
  clock: Clock;
  timers: Timers;
  /** True over TCP/TLS: no retransmissions, D and K are zero. */
  reliable: boolean;
  /** Send bytes to the transaction's destination. */
  send(bytes: Uint8Array): Promise<SendResult>;
  /** Open the CANCEL client transaction (same branch and destination) for `cancel`. */
  sendCancel(cancel: OutgoingRequest): ClientTx;
  /** The transaction is terminated: forget it. */
  terminated(tx: ClientTx): void;
}

/** One client transaction. */
export class ClientTx extends Emitter<ClientTxEvents> {
  /** Matching key (RFC 3261 §17.1.3: branch and CSeq method). */
  readonly key: string;
  /** The Via branch. */
  readonly branch: string;
  /** The request as sent, with the Via the layer added. */
  readonly request: OutgoingRequest;
  /** Where it was sent. */
  readonly destination: Destination;
  /** Resolves once: the first final response, a timeout, a transport error, or the layer closing. */
  readonly outcome: Promise<ClientTxOutcome>;
  #ctx: ClientTxContext;
  #invite: boolean;
  #bytes: Uint8Array;
  #state: ClientTxState = 'calling';
  #timers = new Map<ClientTimer, TimerHandle>();
  #retransmitInterval = 0;
  #resolve!: (outcome: ClientTxOutcome) => void;
  #settled = false;
  #cancelWanted: HeaderField[] | undefined;
  #cancelTx: ClientTx | undefined;
  #current: MessageView | undefined;

  /** Created by TransactionLayer.request; call `start()` to send. */
  constructor(key: string, branch: string, request: OutgoingRequest, destination: Destination, ctx: ClientTxContext) {
    super();
    this.key = key;
    this.branch = branch;
    this.request = request;
    this.destination = destination;
    this.#ctx = ctx;
    this.#invite = request.method === 'INVITE';
    this.#bytes = serializeRequest(request);
    this.outcome = new Promise((resolve) => { this.#resolve = resolve; });
  }

  /** The current state. */
  get state(): ClientTxState {
    return this.#state;
  }

  /** The CANCEL transaction, once one was sent. */
  get cancelTx(): ClientTx | undefined {
    return this.#cancelTx;
  }

  /** @internal send the request and arm the first timers. */
  start(): void {
    this.#transmit();
    this.#apply(startClientTx(this.#invite, this.#ctx.reliable));
  }

  /** @internal a response matched this transaction. */
  receiveResponse(response: MessageView): void {
    this.#current = response;
    try {
      this.#step({ kind: 'response', status: response.statusCode });
    } finally {
      this.#current = undefined;
    }
    if (response.statusCode < 200 && this.#cancelWanted && this.#state === 'proceeding') this.#sendCancel();
  }

  /**
   * Cancel this INVITE (RFC 3261 §9.1): the CANCEL goes out now if a
   * provisional response has arrived, else as soon as one does; nothing
   * happens once a final response has arrived. Timer B is re-armed so the
   * transaction ends even if no 487 ever comes.
   * @param headers  extra CANCEL headers (for example Reason, RFC 3326)
   */
  cancel(headers: HeaderField[] = []): void {
    if (!this.#invite || this.#cancelWanted || this.#cancelTx) return;
    this.#cancelWanted = headers;
    if (this.#state === 'proceeding') this.#sendCancel();
  }

  #sendCancel(): void {
    const headers = this.#cancelWanted ?? [];
    this.#cancelWanted = undefined;
    this.#cancelTx = this.#ctx.sendCancel(createCancel(this.request, headers));
    this.#step({ kind: 'cancel-sent' });
  }

  /** @internal end now without telling the TU anything but `terminated` (layer shutdown). */
  terminate(): void {
    if (this.#state === 'terminated') return;
    this.#state = 'terminated';
    this.#finish({ kind: 'closed' });
  }

  #transmit(): void {
    void this.#ctx.send(this.#bytes).then((result) => {
      if (!result.ok) this.#step({ kind: 'transport-error' }, result.error);
    });
  }

  #step(input: ClientTxInput, error?: TransportError): void {
    if (this.#state === 'terminated') return;
    const step = this.#invite ? stepInviteClient(this.#state, input, this.#ctx.reliable) : stepNonInviteClient(this.#state, input, this.#ctx.reliable);
    this.#apply(step, error);
  }

  #apply(step: ClientTxStep, error?: TransportError): void {
    this.#state = step.state;
    for (const action of step.actions) {
      switch (action.do) {
        case 'retransmit': this.#transmit(); break;
        case 'ack': this.#sendAck(); break;
        case 'pass': this.#pass(); break;
        case 'timeout': this.#settle({ kind: 'timeout' }); this.emit('timeout'); break;
        case 'transport-error': {
          const e = error ?? new TransportError('PB_ERR_TRANSPORT_SEND', 'transport error');
          this.#settle({ kind: 'transport-error', error: e });
          this.emit('transport-error', e);
          break;
        }
        case 'start': this.#startTimer(action.timer, action.interval); break;
        case 'stop': this.#stopTimer(action.timer); break;
      }
    }
    if (this.#state === 'terminated') this.#finish({ kind: 'closed' });
  }

  #pass(): void {
    const response = this.#current!;
    if (response.statusCode < 200) {
      this.emit('provisional', response);
      return;
    }
    this.#settle({ kind: 'response', response });
    this.emit('final', response);
  }

  #sendAck(): void {
    void this.#ctx.send(serializeRequest(createAckForFailure(this.request, this.#current!)));
  }

  #startTimer(timer: ClientTimer, interval: RetransmitInterval | undefined): void {
    this.#stopTimer(timer);
    const timers = this.#ctx.timers;
    let ms: number = timers[timer];
    if (interval !== undefined) {
      this.#retransmitInterval = nextInterval(interval, timers[timer], this.#retransmitInterval, timer === 'A' ? Infinity : timers.T2);
      ms = this.#retransmitInterval;
    }
    this.#timers.set(timer, this.#ctx.clock.setTimeout(() => {
      this.#timers.delete(timer);
      this.#step({ kind: 'timer', timer });
    }, ms));
  }

  #stopTimer(timer: ClientTimer): void {
    const handle = this.#timers.get(timer);
    if (handle === undefined) return;
    this.#ctx.clock.clearTimeout(handle);
    this.#timers.delete(timer);
  }

  #settle(outcome: ClientTxOutcome): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve(outcome);
  }

  #finish(outcome: ClientTxOutcome): void {
    for (const handle of this.#timers.values()) this.#ctx.clock.clearTimeout(handle);
    this.#timers.clear();
    this.#settle(outcome);
    this.#ctx.terminated(this);
    this.emit('terminated');
    this.removeAllListeners();
  }
}
