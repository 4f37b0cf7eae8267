/**
 * DialogRegistry: finds the bridge and leg an in-dialog message belongs to
 * (RFC 3261 §12.2.2: Call-ID plus tags, seen from our side), and counts
 * live dialogs for the leak checks.
 */
import type { MessageView } from '../wasm/message-view.js';
import { dialogKey, type Dialog } from './dialog.js';

import type { ServerTx } from '../transaction/server-tx.js';

/** Whatever owns a dialog: the static-route Bridge, a TwiML call or one of its dial legs. */
export interface DialogHandler {
  /** An in-dialog request (not ACK) arrived on leg `side`. */
  onRequest(side: 'a' | 'b', tx: ServerTx, request: MessageView): void;
  /** The ACK for a 2xx we sent on leg `side`. */
  onAck(side: 'a' | 'b', ack: MessageView): void;
  /** A 2xx retransmission that reached no transaction (our ACK was lost). */
  onStrayResponse(response: MessageView): void;
}

/** A leg of a bridge, as the registry knows it. */
export interface DialogOwner<B> {
  bridge: B;
  side: 'a' | 'b';
}

/** Dialogs by key. */
export class DialogRegistry<B> {
  #byKey = new Map<string, DialogOwner<B>>();

  /** Register `dialog` as side `side` of `bridge`. */
  add(dialog: Dialog, bridge: B, side: 'a' | 'b'): void {
    this.#byKey.set(dialog.id, { bridge, side });
  }

  /** Forget `dialog`. */
  remove(dialog: Dialog): void {
    this.#byKey.delete(dialog.id);
  }

  /** The owner of an inbound in-dialog request (our tag is the To tag). */
  forRequest(request: MessageView): DialogOwner<B> | undefined {
    return this.#byKey.get(dialogKey(request.callId ?? '', request.toTag ?? '', request.fromTag ?? ''));
  }

  /** The owner of an inbound response to our request (our tag is the From tag). */
  forResponse(response: MessageView): DialogOwner<B> | undefined {
    return this.#byKey.get(dialogKey(response.callId ?? '', response.fromTag ?? '', response.toTag ?? ''));
  }

  /** Live dialogs. */
  get size(): number {
    return this.#byKey.size;
  }
}
