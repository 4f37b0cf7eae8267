/**
 * Link: a `<Dial>`'s connected parent and child (SPEC-DETAIL.md §1).
 * In-dialog requests go across and their final responses come back; a BYE
 * on either side, timeLimit or `*` with hangupOnStar ends it. A relayed
 * request the other leg does not answer, or answers 408 or 481, ends the
 * whole call (RFC 3261 §12.2.1.2: that dialog is gone), and so does a
 * relayed 2xx that is never ACKed (RFC 3261 §13.3.1.4).
 */
import type { MessageView } from '../wasm/message-view.js';
import type { HeaderField, OutgoingResponse } from '../sip/message.js';
import type { ServerTx } from '../transaction/server-tx.js';
import type { TimerHandle } from '../transport/clock.js';
import { retransmitUntilAck } from '../dialog/uas-leg.js';
import { legContext } from '../dialog/leg-context.js';
import { dialogGone } from '../dialog/bridge.js';
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

function relayedHeaders(view: MessageView): HeaderField[] {
  const out: HeaderField[] = [];
  for (let i = 0; i < view.headerCount; i++) {
    const name = view.headerName(i);
    const lower = name.toLowerCase();
    if (lower === 'content-type' || lower === 'event' || lower === 'subscription-state' || lower === 'info-package' || /^x-/.test(lower)) {
      out.push([name, view.valueAt(i) ?? '']);
    }
  }
  return out;
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
  #pendingAcks = new Map<'parent' | 'child', () => void>();
  #limit: TimerHandle | undefined;
  #over = false;
  readonly ended: Promise<LinkEnd>;

  constructor(host: LinkHost, child: ChildLeg, opts: DialOpts) {
    this.#host = host;
    this.child = child;
    this.#opts = opts;
    let done!: (how: LinkEnd) => void;
    this.ended = new Promise((resolve) => { done = resolve; });
    this.#done = (how) => {
      if (this.#over) return;
      this.#over = true;
      if (this.#limit !== undefined) host.ctx.clock.clearTimeout(this.#limit);
      for (const stop of this.#pendingAcks.values()) stop();
      this.#pendingAcks.clear();
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
    this.#relay(tx, request, 'child');
  }

  /** An in-dialog request from the child. */
  fromChild(tx: ServerTx, request: MessageView): void {
    if (tx.method === 'REFER') {
      this.#host.refer(this, this.#opts, tx, request);
      return;
    }
    this.#relay(tx, request, 'parent');
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
    this.#pendingAcks.get(side)?.();
    this.#pendingAcks.delete(side);
  }

  #relay(tx: ServerTx, request: MessageView, to: 'parent' | 'child'): void {
    const parent = this.#host.parent;
    let body: Uint8Array | undefined = request.bodyLength > 0 ? request.body.slice() : undefined;
    if (to === 'parent') body = parent.origin.apply(body);
    const send = to === 'parent'
      ? parent.request(tx.method, { headers: relayedHeaders(request), body })
      : this.child.uac.request(tx.method, { headers: relayedHeaders(request), body });
    void send.then((response) => {
      const status = response?.statusCode ?? 408;
      const headers: HeaderField[] = response ? relayedHeaders(response) : [];
      if (tx.method === 'INVITE' || tx.method === 'UPDATE') headers.push(['Contact', this.#host.ctx.contactFor(tx.source.transport)]);
      let answer: Uint8Array | undefined = response && response.bodyLength > 0 ? response.body.slice() : undefined;
      if (to === 'child') answer = parent.origin.apply(answer);
      const out: OutgoingResponse = tx.createResponse(status, response?.reason ?? 'Request Timeout', { headers, body: answer });
      tx.respond(out);
      if (tx.method === 'INVITE' && status >= 200 && status < 300) {
        const from = to === 'parent' ? 'child' : 'parent';
        const ctx = this.#host.ctx;
        // no ACK within 64·T1: the requester is gone (RFC 3261 §13.3.1.4), the call ends
        this.#pendingAcks.set(from, retransmitUntilAck(legContext(ctx, ''), tx, out, () => { if (!this.#over) this.#host.endCall(`no ACK for a relayed ${tx.method}`); }));
      }
      // the other leg's dialog is gone (no answer, 408, 481): the call cannot go on (RFC 3261 §12.2.1.2);
      // once the link is over (hung up, transferred), the call is someone else's business
      if (dialogGone(response) && !this.#over) this.#host.endCall(`no answer from the ${to} to a relayed ${tx.method}`);
    }).catch((e: unknown) => this.#host.crash(e, `relayed ${tx.method}`));
  }
}

