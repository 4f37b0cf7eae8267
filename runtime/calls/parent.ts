/**
 * The parent leg of a TwiML call, as the runner and the dial see it: the
 * inbound caller (a UasLeg: ringing, answer, reject) or, for REST-created
 * calls, the callee we dialled (a UacLeg, answered from the start). Both
 * can be re-INVITEd to new media and hung up.
 */
import type { MessageView } from '../wasm/message-view.js';
import type { HeaderField } from '../sip/message.js';
import type { Dialog } from '../dialog/dialog.js';
import type { UasLeg } from '../dialog/uas-leg.js';
import type { UacLeg } from '../dialog/uac-leg.js';
import { OriginKeeper } from './sdp.js';

/** SDP with its content type. */
export interface Sdp {
  body: Uint8Array;
  contentType: string;
}

/** A parent leg. */
export interface ParentLeg {
  readonly answered: boolean;
  /** True once a final response was sent (answered or rejected) or the leg ended. */
  readonly finished: boolean;
  /** The caller's SDP offer from its INVITE (inbound, early offer), if any. */
  readonly offer: Sdp | undefined;
  readonly dialog: Dialog | undefined;
  /** Every SDP sent on this leg goes through it (one origin, rising versions). */
  readonly origin: OriginKeeper;
  provisional(status: number, reason: string, sdp?: Sdp): void;
  /** Answer with `sdp`; resolves with the ACK (undefined when none came). */
  answer(sdp: Sdp): Promise<MessageView | undefined>;
  reject(status: number, reason: string, headers?: HeaderField[]): void;
  /** Send an in-dialog request; resolves with the final response. */
  request(method: string, options?: { headers?: HeaderField[]; body?: Uint8Array }): Promise<MessageView | undefined>;
  /** The ACK for our 2xx arrived. */
  acked(ack: MessageView): void;
  dispose(): void;
}

/** The inbound caller. */
export class InboundParent implements ParentLeg {
  readonly origin = new OriginKeeper();
  readonly offer: Sdp | undefined;
  #uas: UasLeg;
  #ackWaiter: ((ack: MessageView | undefined) => void) | undefined;
  /** The last provisional sent was a bodiless 180: another one tells the caller nothing new. */
  #ringing = false;

  constructor(uas: UasLeg) {
    this.#uas = uas;
    const invite = uas.tx.request;
    this.offer = invite.bodyLength > 0 ? { body: invite.body.slice(), contentType: invite.header('Content-Type') ?? 'application/sdp' } : undefined;
  }

  get answered(): boolean { return this.#uas.answered; }
  get finished(): boolean { return this.#uas.finished; }
  get dialog(): Dialog { return this.#uas.dialog; }
  get uas(): UasLeg { return this.#uas; }

  provisional(status: number, reason: string, sdp?: Sdp): void {
    const ringing = status === 180 && sdp === undefined;
    if (ringing && this.#ringing) return;
    this.#ringing = ringing;
    this.#uas.provisional(status, reason, sdp ? this.origin.apply(sdp.body) : undefined, sdp?.contentType);
  }

  answer(sdp: Sdp): Promise<MessageView | undefined> {
    return new Promise((resolve) => {
      this.#ackWaiter = resolve;
      this.#uas.answer(this.origin.apply(sdp.body), sdp.contentType, () => {
        this.#ackWaiter = undefined;
        resolve(undefined);
      });
    });
  }

  reject(status: number, reason: string, headers: HeaderField[] = []): void {
    this.#uas.reject(status, reason, headers);
  }

  request(method: string, options: { headers?: HeaderField[]; body?: Uint8Array } = {}): Promise<MessageView | undefined> {
    return this.#uas.request(method, options);
  }

  acked(ack: MessageView): void {
    this.#uas.acked();
    const waiter = this.#ackWaiter;
    this.#ackWaiter = undefined;
    waiter?.(ack);
  }

  dispose(): void {
    this.#uas.dispose();
    const waiter = this.#ackWaiter;
    this.#ackWaiter = undefined;
    waiter?.(undefined);
  }
}

/** A REST-created call: the callee we dialled, answered before any TwiML runs. */
export class OutboundParent implements ParentLeg {
  readonly origin = new OriginKeeper();
  readonly offer = undefined;
  #uac: UacLeg;

  constructor(uac: UacLeg) {
    this.#uac = uac;
  }

  get answered(): boolean { return this.#uac.dialog !== undefined; }
  get finished(): boolean { return !this.#uac.ringing; }
  get dialog(): Dialog | undefined { return this.#uac.dialog; }
  get uac(): UacLeg { return this.#uac; }

  provisional(): void {
    // nothing to send: we are the caller on this leg
  }

  answer(): Promise<MessageView | undefined> {
    return Promise.resolve(undefined);
  }

  reject(): void {
    this.#uac.cancel();
  }

  request(method: string, options: { headers?: HeaderField[]; body?: Uint8Array } = {}): Promise<MessageView | undefined> {
    return this.#uac.request(method, { ...options, body: options.body });
  }

  acked(): void {
    // no 2xx of ours to acknowledge on this leg except relayed re-INVITEs (the session tracks those)
  }

  dispose(): void {
    // the UacLeg holds no timers
  }
}
