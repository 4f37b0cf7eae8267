/**
 * UasLeg: the incoming INVITE of a B2BUA (RFC 3261 §13.3): provisional and
 * final responses through the server transaction, the dialog made by our
 * 2xx, and the 2xx retransmitted by the UAS core until the ACK arrives
 * (§13.3.1.4: T1 doubling to T2, given up after 64·T1).
 */
import type { HeaderField, OutgoingResponse } from '../sip/message.js';
import type { Clock, TimerHandle } from '../transport/clock.js';
import { responseDestination, stampedVia } from '../transport/via-routing.js';
import type { TransactionLayer } from '../transaction/layer.js';
import type { TransportLayer } from '../transport/layer.js';
import type { ServerTx } from '../transaction/server-tx.js';
import { Dialog } from './dialog.js';
import { sendInDialog } from './uac-leg.js';
import type { MessageView } from '../wasm/message-view.js';

/** Dependencies of a leg. */
export interface UasLegContext {
  transactions: TransactionLayer;
  transport: TransportLayer;
  clock: Clock;
  /** Our Contact for this leg. */
  contact: string;
  /** Told when an in-dialog request cannot be built or sent (it then resolves undefined, as on a timeout). */
  onSendError?: (error: unknown, what: string) => void;
}

/** The incoming side of a bridged call. */
export class UasLeg {
  readonly tx: ServerTx;
  readonly toTag: string;
  #ctx: UasLegContext;
  #dialog: Dialog;
  #answered = false;
  #answeredAt: number | undefined;
  #acked = false;
  #final = false;
  #stop: (() => void) | undefined;
  #onAckTimeout: (() => void) | undefined;

  constructor(ctx: UasLegContext, tx: ServerTx, toTag: string) {
    this.#ctx = ctx;
    this.tx = tx;
    this.toTag = toTag;
    this.#dialog = Dialog.fromRequest(tx.request, toTag, tx.source);
  }

  /** The dialog (confirmed once answered). */
  get dialog(): Dialog { return this.#dialog; }
  /** True once a final response was sent. */
  get finished(): boolean { return this.#final; }
  /** True once our 2xx was sent. */
  get answered(): boolean { return this.#answered; }
  /** When our 2xx was sent (the leg's clock), for the call's duration. */
  get answeredAt(): number | undefined { return this.#answeredAt; }

  /** Send a 1xx with our tag (and the body of an early-media 183). */
  provisional(status: number, reason: string, body?: Uint8Array, contentType?: string): void {
    if (this.#final) return;
    this.tx.respond(this.#response(status, reason, body, contentType));
  }

  /**
   * Send the 2xx and retransmit it until the ACK (UDP only).
   * @throws SipBuildError when the 2xx cannot be built (nothing was sent: still unanswered)
   * @param onAckTimeout  called when no ACK came within 64·T1 (the call must be ended)
   */
  answer(body: Uint8Array | undefined, contentType: string | undefined, onAckTimeout: () => void): void {
    if (this.#final) return;
    const response = this.#response(200, 'OK', body, contentType);
    // a 2xx that cannot be built throws here, and the leg is still unanswered (its owner may yet send a failure)
    this.tx.respond(response);
    this.#final = true;
    this.#answered = true;
    this.#answeredAt = this.#ctx.clock.now();
    this.#onAckTimeout = onAckTimeout;
    this.#stop = retransmitUntilAck(this.#ctx, this.tx, response, () => this.#onAckTimeout?.());
  }

  /** Send a final failure response (the transaction ACKs it). */
  reject(status: number, reason: string, headers: HeaderField[] = []): void {
    if (this.#final) return;
    const response = this.tx.createResponse(status, reason, { toTag: this.toTag, headers });
    this.tx.respond(response);
    this.#final = true;
  }

  /** The ACK for our 2xx arrived. */
  acked(): void {
    this.#acked = true;
    this.#stopRetransmit();
  }

  #response(status: number, reason: string, body?: Uint8Array, contentType?: string): OutgoingResponse {
    const headers: HeaderField[] = [['Contact', this.#ctx.contact]];
    if (body && body.length > 0) headers.push(['Content-Type', contentType ?? 'application/sdp']);
    return this.tx.createResponse(status, reason, { toTag: this.toTag, headers, body: body && body.length > 0 ? body : undefined });
  }

  #stopRetransmit(): void {
    this.#stop?.();
    this.#stop = undefined;
  }

  /** Send an in-dialog request to the caller; resolves with the final response. */
  request(method: string, options: { headers?: HeaderField[]; body?: Uint8Array } = {}): Promise<MessageView | undefined> {
    return sendInDialog(this.#ctx, this.#dialog, method, options);
  }

  /** Stop timers (the call is over). */
  dispose(): void {
    this.#stopRetransmit();
  }
}

/**
 * Retransmit a 2xx already sent through `tx` until the ACK (RFC 3261
 * §13.3.1.4): over UDP, T1 doubling to T2; after 64·T1 `onTimeout`. Over
 * TCP/TLS nothing is retransmitted (§17.2.1) but the ACK is still awaited
 * for 64·T1, the same as RFC 6026's Timer L: a caller that drops its
 * connection after our 2xx, or never ACKs, would otherwise hold the call
 * and both dialogs forever.
 * @return a function that stops it (call it when the ACK arrives)
 */
export function retransmitUntilAck(ctx: UasLegContext, tx: ServerTx, response: OutgoingResponse, onTimeout: () => void): () => void {
  const timers = ctx.transactions.timers;
  if (tx.source.transport !== 'udp') {
    const handle = ctx.clock.setTimeout(onTimeout, 64 * timers.T1);
    return () => ctx.clock.clearTimeout(handle);
  }
  const destination = responseDestination(tx.via, tx.source);
  const viaIndex = response.headers.findIndex(([h]) => h === 'Via');
  const stamped: OutgoingResponse = {
    ...response,
    headers: response.headers.map(([n, v], i): HeaderField => (i === viaIndex ? [n, stampedVia(tx.via)] : [n, v])),
  };
  let interval = timers.T1;
  let elapsed = 0;
  let handle: TimerHandle | undefined;
  let stopped = false;
  const tick = (): void => {
    if (stopped) return;
    elapsed += interval;
    if (elapsed >= 64 * timers.T1) {
      stopped = true;
      onTimeout();
      return;
    }
    void ctx.transactions.write(stamped, destination);
    interval = Math.min(interval * 2, timers.T2);
    handle = ctx.clock.setTimeout(tick, interval);
  };
  handle = ctx.clock.setTimeout(tick, interval);
  return () => {
    stopped = true;
    if (handle !== undefined) ctx.clock.clearTimeout(handle);
  };
}
