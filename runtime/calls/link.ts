/**
 * Link: a `<Dial>`'s connected parent and child (Twilio's TwiML `<Dial>`,
 * https://www.twilio.com/docs/voice/twiml/dial). In-dialog requests go
 * across on the B2BUA relay the static-route Bridge uses too
 * (dialog/relay.ts: the same header list, the same ACK bookkeeping) and
 * their final responses come back; a BYE
 * on either side, timeLimit or `*` with hangupOnStar ends it. A relayed
 * request the other leg does not answer, or answers 408 or 481, ends the
 * whole call (RFC 3261 §12.2.1.2: that dialog is gone), and so does a
 * relayed 2xx that is never ACKed (RFC 3261 §13.3.1.4).
 */
import type { MessageView } from '../wasm/message-view.js';
import type { ServerTx } from '../transaction/server-tx.js';
import type { TimerHandle } from '../transport/clock.js';
import { InDialogRelay } from '../dialog/relay.js';
import type { DialOpts } from '../twiml/types.js';
import type { ChildLeg } from './child.js';
import type { CallContext } from './context.js';
import type { ParentLeg } from './parent.js';
import type { StopSignal } from './stop.js';

/** What a link needs from the call it connects (a DialHost, dial-host.ts, is one). */
export interface LinkHost {
  readonly ctx: CallContext;
  readonly parent: ParentLeg;
  /** Aborted when the parent hangs up or the call gets new TwiML. */
  readonly signal: StopSignal;
  /** A REFER from the connected child (SIP blind transfer). */
  refer(link: Link, opts: DialOpts, tx: ServerTx, request: MessageView): void;
  /** A REFER from the parent's own leg: the child is the transferee. */
  referFromParent(link: Link, opts: DialOpts, tx: ServerTx, request: MessageView): void;
  /** A leg's dialog is gone: hang up the whole call. */
  endCall(reason: string): void;
  /** A handler threw: end the call. */
  crash(error: unknown, where: string): void;
}

/** DTMF `*` in an INFO body (application/dtmf-relay `Signal=*`, or application/dtmf `*`). */
function isStar(request: MessageView): boolean {
  const type = (request.header('Content-Type') ?? '').toLowerCase();
  if (!type.startsWith('application/dtmf')) return false;
  const text = new TextDecoder().decode(request.body);
  return /signal\s*=\s*\*/i.test(text) || text.trim() === '*';
}

/** Why a link ended. */
export type LinkEnd = 'child' | 'parent' | 'limit' | 'star' | 'aborted' | 'transferred';

/**
 * A connected parent and child: in-dialog requests go across, SDP towards
 * the parent keeps the parent's origin line; a BYE on either side ends it.
 */
export class Link {
  readonly child: ChildLeg;
  #host: LinkHost;
  #opts: DialOpts;
  #done: (how: LinkEnd) => void;
  #relay: InDialogRelay<'parent' | 'child'>;
  #limit: TimerHandle | undefined;
  #over = false;
  readonly ended: Promise<LinkEnd>;

  constructor(host: LinkHost, child: ChildLeg, opts: DialOpts) {
    this.#host = host;
    this.child = child;
    this.#opts = opts;
    this.#relay = new InDialogRelay({
      stack: host.ctx,
      contactFor: (transport) => host.ctx.contactFor(transport),
      end: (reason) => { if (!this.#over) host.endCall(reason); },
      fault: (e, where) => host.crash(e, where),
    });
    let done!: (how: LinkEnd) => void;
    this.ended = new Promise((resolve) => { done = resolve; });
    this.#done = (how) => {
      if (this.#over) return;
      this.#over = true;
      if (this.#limit !== undefined) host.ctx.clock.clearTimeout(this.#limit);
      this.#relay.close();
      done(how);
    };
    this.#limit = host.ctx.clock.setTimeout(() => this.#hangUpChild('limit'), opts.timeLimit * 1000);
    host.signal.onStop(() => {
      if (this.#over) return;
      this.#hangUpChild('aborted');
    });
  }

  /** BYE the child, then end the link with `how` (also when the BYE could not be sent). */
  #hangUpChild(how: LinkEnd): void {
    let bye: Promise<void>;
    try {
      bye = this.child.hangup();
    } catch (e) {
      bye = Promise.reject(e);
    }
    void bye.catch((e: unknown) => this.#host.crash(e, 'hanging up the connected party')).finally(() => this.#done(how));
  }

  /** The child hung up. */
  childHungUp(): void {
    this.#done('child');
  }

  /** The parent hung up (its BYE is answered): hang up the child. */
  parentHungUp(): void {
    this.#hangUpChild('parent');
  }

  /** An in-dialog request from the parent. */
  fromParent(tx: ServerTx, request: MessageView): void {
    if (tx.method === 'REFER') {
      this.#host.referFromParent(this, this.#opts, tx, request);
      return;
    }
    if (tx.method === 'INFO' && this.#opts.hangupOnStar && isStar(request)) {
      tx.respond(tx.createResponse(200, 'OK'));
      this.#hangUpChild('star');
      return;
    }
    this.#forward(tx, request, 'child');
  }

  /** An in-dialog request from the child. */
  fromChild(tx: ServerTx, request: MessageView): void {
    if (tx.method === 'REFER') {
      this.#host.refer(this, this.#opts, tx, request);
      return;
    }
    this.#forward(tx, request, 'parent');
  }

  /** The parent transferred the child away: end the link, leave the child up (it has a new owner). */
  detach(): void {
    this.#done('transferred');
  }

  /** The child transferred the caller away: hang it up and end the link. */
  async release(): Promise<void> {
    await this.child.hangup();
    this.#done('transferred');
  }

  /** The ACK of a relayed re-INVITE's 2xx. */
  acked(side: 'parent' | 'child'): void {
    this.#relay.acked(side);
  }

  #forward(tx: ServerTx, request: MessageView, to: 'parent' | 'child'): void {
    const parent = this.#host.parent;
    // SDP towards the parent keeps the parent's origin line (RFC 4566 §5.2, RFC 3264 §8)
    const keepOrigin = (body: Uint8Array | undefined): Uint8Array | undefined => parent.origin.apply(body);
    this.#relay.forward(tx, request, to === 'parent'
      ? { from: 'child', to: parent, toName: 'parent', requestBody: keepOrigin }
      : { from: 'parent', to: this.child.uac, toName: 'child', responseBody: keepOrigin });
  }
}
