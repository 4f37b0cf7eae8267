/**
 * The caller's dialog once it is answered: a BYE ends the call; other
 * in-dialog requests go to the connected child (the Link), or are answered
 * here while nobody is connected (unlinked.ts). No exception leaves these
 * handlers: one ends this call (the call's guard).
 */
import type { MessageView } from '../wasm/message-view.js';
import type { ServerTx } from '../transaction/server-tx.js';
import type { DialogHandler } from '../dialog/registry.js';
import type { CallContext } from './context.js';
import type { Link } from './link.js';
import type { ParentLeg } from './parent.js';
import type { CallStatus } from './record.js';
import { answerUnlinked } from './unlinked.js';

/** What the caller's dialog needs of the call. */
export interface ParentDialogCall {
  readonly ctx: CallContext;
  readonly parent: ParentLeg;
  /** The connected link, if any. */
  readonly link: Link | undefined;
  /** Run one of the call's handlers (an exception ends the call). */
  guard(where: string, fn: () => void): void;
  /** The caller hung up: the call is over. */
  end(status: CallStatus): void;
  /** A leg of the call is gone: hang up everything. */
  endCall(reason: string): void;
  /** Our address for SDP we make up (hold). */
  mediaIp(): string;
}

/** The handler of the caller's dialog. */
export class ParentDialog implements DialogHandler {
  #call: ParentDialogCall;
  #pendingAck: (() => void) | undefined;

  constructor(call: ParentDialogCall) {
    this.#call = call;
  }

  /** Stop retransmitting a 2xx that waits for the caller's ACK (the call ends). */
  stopAckWait(): void {
    this.#pendingAck?.();
  }

  onRequest(_side: 'a' | 'b', tx: ServerTx, request: MessageView): void {
    this.#call.guard(`in-dialog ${tx.method}`, () => this.#onRequest(tx, request));
  }

  #onRequest(tx: ServerTx, request: MessageView): void {
    const call = this.#call;
    const dialog = call.parent.dialog;
    if (!dialog || !dialog.acceptRemoteSeq(request.cseqNumber, tx.method)) {
      tx.respond(tx.createResponse(500, 'Server Internal Error', { headers: [['Retry-After', '1']] }));
      return;
    }
    if (tx.method === 'BYE') {
      tx.respond(tx.createResponse(200, 'OK'));
      const link = call.link;
      call.end('completed');
      link?.parentHungUp();
      return;
    }
    const link = call.link;
    if (link) {
      link.fromParent(tx, request);
      return;
    }
    this.#answerLocally(tx, request);
  }

  /** Nobody is connected: keep the caller on hold, answer what needs an answer. */
  #answerLocally(tx: ServerTx, request: MessageView): void {
    const call = this.#call;
    // the caller not ACKing our 2xx of its re-INVITE is gone: end the call, as a bridge does
    const stop = answerUnlinked(call.ctx, call.parent, tx, request, call.mediaIp(), () => call.guard('ACK timeout', () => call.endCall('no ACK for a re-INVITE')));
    if (stop) this.#pendingAck = stop;
  }

  onAck(_side: 'a' | 'b', ack: MessageView): void {
    this.#call.guard('ACK', () => {
      this.#pendingAck?.();
      this.#pendingAck = undefined;
      this.#call.link?.acked('parent');
      this.#call.parent.acked(ack);
    });
  }

  onStrayResponse(): void {
    // the parent's 2xx retransmissions are absorbed by its transaction
  }
}
