/**
 * Executing `<Dial>` (SPEC-DETAIL.md §1, §2.6, §1.7): children rung in
 * parallel (first to answer and pass screening wins, the rest get CANCEL
 * or BYE) or in sequence (each until it fails or its `timeout` fires);
 * answerOnBridge decides whether the parent is answered first (hold SDP,
 * children get a late-offer INVITE, the winner's offer reaches the parent
 * in a re-INVITE, RFC 3725 flow I) or only when a child answers (the
 * parent's offer goes to the children, the winner's answer to the parent).
 * Once connected, a Link (link.ts) relays in-dialog requests between the
 * two legs until either hangs up, timeLimit fires or the caller presses
 * `*` with hangupOnStar. The outcome is what the `action` request reports.
 * Exceptions in the dial's handlers and promise chains end the call
 * through its host (`crash`), never escape.
 */
import type { MessageView } from '../wasm/message-view.js';
import type { ServerTx } from '../transaction/server-tx.js';
import type { TimerHandle } from '../transport/clock.js';
import type { DialOpts } from '../twiml/types.js';
import { ChildLeg, type ChildEvents } from './child.js';
import type { Sdp } from './parent.js';
import { holdAnswer } from './sdp.js';
import { resolveTarget, type ResolvedTarget } from './targets.js';
import { sipUser, xHeaderParams, type Params } from './params.js';
import { dialogGone } from '../dialog/bridge.js';
import type { ChildRedirect, DialHost } from './dial-host.js';
import { Link } from './link.js';

/** DialCallStatus values a SIP dial can end with. */
export type DialCallStatus = 'completed' | 'busy' | 'no-answer' | 'failed' | 'canceled';

/** How a `<Dial>` ended. */
export interface DialResult {
  status: DialCallStatus;
  /** The child that was bridged, else the most relevant attempt. */
  child: ChildLeg | undefined;
  bridged: boolean;
  /** Seconds the child was connected. */
  duration: number;
}

/** The `action` request's Dial parameters (SPEC-DETAIL §2.5): outcome, child, SIP code and X- headers. */
export function dialActionParams(result: DialResult): Params {
  const p: Params = { DialCallStatus: result.status, DialBridged: String(result.bridged) };
  const child = result.child;
  if (child) {
    p.DialCallSid = child.sid;
    p.DialCallDuration = String(result.duration);
    p.DialSipCallId = child.record.sipCallId ?? '';
    if (child.sipStatus) p.DialSipResponseCode = String(child.sipStatus);
    // X- headers of the answer, then of the final message (a failure, or the BYE exchange), the later winning
    if (result.bridged) xHeaderParams(child.finalResponse, 'DialSipHeader_', p);
    xHeaderParams(child.lastMessage, 'DialSipHeader_', p);
  }
  return p;
}

const SDP = 'application/sdp';

function sdpOf(message: MessageView | undefined): Sdp | undefined {
  if (!message || message.bodyLength === 0) return undefined;
  return { body: message.body.slice(), contentType: message.header('Content-Type') ?? SDP };
}

/** One `<Dial>` being executed. */
export class DialRun implements ChildEvents {
  #host: DialHost;
  #opts: DialOpts;
  #targets: ResolvedTarget[] = [];
  #children: ChildLeg[] = [];
  #timers = new Map<ChildLeg, TimerHandle>();
  #next = 0;
  #winner: ChildLeg | undefined;
  #finish!: (result: DialResult) => void;
  #done = false;
  #link: Link | undefined;
  /** A REST redirect of the winner that came before its link existed (the caller was still being answered). */
  #heldRedirect: ChildRedirect | undefined;
  /** The parent's SDP children are offered (undefined = late offer). */
  #offer: Sdp | undefined;

  constructor(host: DialHost, opts: DialOpts) {
    this.#host = host;
    this.#opts = opts;
  }

  /** Run the dial to its end. */
  async run(): Promise<DialResult> {
    const { ctx, record } = this.#host;
    for (const noun of this.#opts.nouns) {
      const r = resolveTarget(ctx, noun);
      if (r.ok) {
        // resolved targets are shared (frozen): relative URLs resolve against this call's document in a copy
        const t = r.value;
        const resolve = (url: string): string => this.#host.resolve(url);
        this.#targets.push(t.url === undefined && t.statusCallback === undefined ? t : {
          ...t,
          url: t.url === undefined ? undefined : resolve(t.url),
          statusCallback: t.statusCallback === undefined ? undefined : { ...t.statusCallback, url: resolve(t.statusCallback.url) },
        });
      }
      else ctx.alert(record.sid, 'error', r.error.code, r.error.message);
    }
    if (this.#targets.length === 0) return { status: 'failed', child: undefined, bridged: false, duration: 0 };
    const parent = this.#host.parent;
    if (!parent.answered && !this.#opts.answerOnBridge) {
      // answerOnBridge false: the caller is answered at once (on hold until a child connects)
      this.#catch(this.#host.answerParent({ body: holdAnswer(parent.offer?.body, this.#host.mediaIp()), contentType: SDP }), 'answering the caller');
    }
    this.#offer = parent.answered ? undefined : parent.offer;
    if (this.#host.signal.stopped) return { status: 'canceled', child: undefined, bridged: false, duration: 0 };
    const result = new Promise<DialResult>((resolve) => { this.#finish = resolve; });
    this.#host.signal.onStop(() => this.#abort());
    if (this.#opts.sequential) this.#startNext();
    else while (this.#next < this.#targets.length) this.#startNext();
    return result;
  }

  #startNext(): void {
    const target = this.#targets[this.#next++];
    if (!target) return;
    const { ctx, record } = this.#host;
    const callerUser = this.#opts.callerId ?? sipUser(ctx.parser, record.from) ?? 'anonymous';
    const child = new ChildLeg(ctx, record, target, callerUser, this.#offer, this);
    this.#children.push(child);
    ctx.store.emit({ type: 'dial.attempt', at: Date.now(), callSid: record.sid, childSid: child.sid, target: target.uri });
    this.#timers.set(child, ctx.clock.setTimeout(() => child.cancel('timeout'), this.#opts.timeout * 1000));
    child.start();
  }

  #clearTimer(child: ChildLeg): void {
    const t = this.#timers.get(child);
    if (t !== undefined) this.#host.ctx.clock.clearTimeout(t);
    this.#timers.delete(child);
  }

  ringing(child: ChildLeg, response: MessageView): void {
    if (this.#winner || this.#done) return;
    const parent = this.#host.parent;
    if (parent.answered || parent.finished) return;
    // answerOnBridge: the caller hears the child's ringing (183 with its early media when there is some)
    const status = response.statusCode === 183 && response.bodyLength > 0 ? 183 : 180;
    parent.provisional(status, status === 183 ? 'Session Progress' : 'Ringing', status === 183 && this.#offer ? sdpOf(response) : undefined);
    void child;
  }

  answered(child: ChildLeg, response: MessageView): void {
    this.#clearTimer(child);
    if (this.#winner || this.#done) {
      this.#catch(this.#decline(child, response), 'declining a late answer');
      return;
    }
    const target = child.target;
    if (target.url) {
      this.#catch(this.#host.screen(child, target.url, target.method).then((connect) => {
        if (this.#winner || this.#done || !connect) return this.#decline(child, response).then(() => this.#attemptOver());
        return this.#connect(child, response);
      }), 'screening');
      return;
    }
    this.#catch(this.#connect(child, response), 'connecting');
  }

  /**
   * A promise of the dial's own settles without anyone awaiting it: a
   * rejection ends the call (and this dial, failed), never goes unhandled.
   */
  #catch(work: Promise<unknown>, where: string): void {
    void work.catch((e: unknown) => this.fault(e, where));
  }

  /** A handler of the dial (or of one of its children) threw: the call ends, and so does this dial. */
  fault(error: unknown, where: string): void {
    this.#host.crash(error, where);
    this.#end({ status: 'failed', child: this.#winner, bridged: false, duration: 0 });
  }

  failed(child: ChildLeg): void {
    this.#clearTimer(child);
    this.#attemptOver();
  }

  redirect(child: ChildLeg, source: ChildRedirect): boolean {
    if (!child.live) return false;
    const link = this.#link;
    if (link?.child === child) {
      this.#host.redirectChild(link, source);
      return true;
    }
    // answered and ACKed, but the caller is still being answered: the link comes in a moment, the redirect with it
    if (this.#winner !== child || this.#done) return false;
    this.#heldRedirect = source;
    return true;
  }

  hungUp(child: ChildLeg): void {
    if (this.#link?.child === child) this.#link.childHungUp();
    else this.#attemptOver();
  }

  request(child: ChildLeg, tx: ServerTx, request: MessageView): void {
    if (this.#link?.child === child) {
      this.#link.fromChild(tx, request);
      return;
    }
    // not connected yet (screening): keep the dialog alive, take no new media, no transfer
    if (tx.method === 'INVITE' || tx.method === 'UPDATE') tx.respond(tx.createResponse(491, 'Request Pending'));
    else if (tx.method === 'REFER') tx.respond(tx.createResponse(603, 'Decline', { headers: [['Warning', '399 patchbay "not connected yet: nothing to transfer"']] }));
    else tx.respond(tx.createResponse(200, 'OK'));
  }

  ack(child: ChildLeg): void {
    if (this.#link?.child === child) this.#link.acked('child');
  }

  /** The link, for the parent's in-dialog requests. */
  get link(): Link | undefined { return this.#link; }

  /** ACK a late-offer 2xx on hold (so it can be hung up cleanly), then BYE. */
  async #decline(child: ChildLeg, response: MessageView | undefined): Promise<void> {
    if (!this.#offer) child.uac.completeAck(holdAnswer(response && response.bodyLength > 0 ? response.body : undefined, this.#host.mediaIp()), SDP);
    await child.hangup();
  }

  async #connect(child: ChildLeg, response: MessageView): Promise<void> {
    this.#winner = child;
    for (const other of this.#children) {
      if (other === child) continue;
      this.#clearTimer(other);
      if (other.live) this.#catch(other.hangup(), 'hanging up a losing child');
      else other.cancel('lost');
    }
    const parent = this.#host.parent;
    const childSdp = sdpOf(response);
    let connected = true;
    let callerGone = false;
    if (this.#offer) {
      // early offer: the child's 2xx holds the answer to the caller's offer
      if (!parent.answered) {
        if (childSdp) await this.#host.answerParent(childSdp);
        else connected = false;
      }
    } else if (!parent.answered) {
      // the caller sent no offer: the child's offer goes in our 2xx, the caller's answer in its ACK
      if (childSdp) {
        const ack = await this.#host.answerParent(childSdp);
        child.uac.completeAck(ack && ack.bodyLength > 0 ? ack.body.slice() : holdAnswer(childSdp.body, this.#host.mediaIp()), ack?.header('Content-Type') ?? SDP);
      } else connected = false;
    } else if (childSdp) {
      // late offer to the child, the parent answered already: re-INVITE it with the child's offer
      const r = await parent.request('INVITE', { headers: [['Content-Type', childSdp.contentType]], body: parent.origin.apply(childSdp.body) });
      if (r && r.statusCode >= 200 && r.statusCode < 300 && r.bodyLength > 0) {
        child.uac.completeAck(r.body.slice(), r.header('Content-Type') ?? SDP);
      } else {
        connected = false;
        this.#host.ctx.alert(this.#host.record.sid, 'error', 32102, `re-INVITE of the caller with the answering party's media failed (${r?.statusCode ?? 'no response'})`);
        // the caller did not answer (timeout, transport error) or its dialog is gone (408, 481): nothing is left to connect
        if (dialogGone(r)) callerGone = true;
      }
    } else {
      connected = false;
      this.#host.ctx.alert(this.#host.record.sid, 'error', 32103, 'the answering party sent no SDP offer in its 200 OK');
    }
    if (!connected || this.#host.signal.stopped || parent.finished && !parent.answered || child.ended) {
      // (a child that hung up while the caller was being answered or re-INVITEd is not connected either)
      const stopped = this.#host.signal.stopped;
      if (!child.ended) await this.#decline(child, response);
      this.#end({ status: stopped ? 'canceled' : child.ended && connected ? 'completed' : 'failed', child, bridged: false, duration: 0 });
      if (callerGone) this.#host.endCall('the caller did not answer the re-INVITE');
      return;
    }
    const link = new Link(this.#host, child, this.#opts);
    this.#link = link;
    this.#host.setLink(link);
    const held = this.#heldRedirect;
    this.#heldRedirect = undefined;
    if (held) this.#host.redirectChild(link, held);
    await link.ended;
    this.#host.unsetLink(link);
    this.#end({ status: 'completed', child, bridged: true, duration: child.duration });
  }

  /** An attempt ended without a connection: try the next (sequential) or see whether all are over. */
  #attemptOver(): void {
    if (this.#winner || this.#done) return;
    if (this.#opts.sequential && this.#next < this.#targets.length && !this.#host.signal.stopped) {
      this.#startNext();
      return;
    }
    if (this.#children.some((c) => !c.ended)) return;
    this.#end(this.#aggregate());
  }

  /** DialCallStatus when nobody was connected (SPEC-DETAIL §1.5 [OURS]). */
  #aggregate(): DialResult {
    const children = this.#children;
    const declined = children.find((c) => c.status === 'completed');
    if (declined) return { status: 'completed', child: declined, bridged: false, duration: 0 };
    const busy = children.find((c) => c.status === 'busy');
    if (busy) return { status: 'busy', child: busy, bridged: false, duration: 0 };
    const noAnswer = children.find((c) => c.status === 'no-answer');
    if (noAnswer) return { status: 'no-answer', child: noAnswer, bridged: false, duration: 0 };
    const canceled = children.find((c) => c.status === 'canceled');
    if (canceled) return { status: 'canceled', child: canceled, bridged: false, duration: 0 };
    return { status: 'failed', child: children[children.length - 1], bridged: false, duration: 0 };
  }

  #abort(): void {
    if (this.#link) return; // the link hangs up the child
    for (const c of this.#children) {
      this.#clearTimer(c);
      if (c === this.#winner) {
        // answered, not yet connected (the caller was being answered or re-INVITEd): ACK on hold and BYE
        this.#catch(this.#decline(c, c.finalResponse), 'hanging up the answered child');
        continue;
      }
      if (c.live) this.#catch(c.hangup().then(() => this.#attemptOver()), 'hanging up a child');
      else c.cancel('canceled');
    }
    this.#next = this.#targets.length;
    if (this.#children.every((c) => c.ended)) this.#end({ status: 'canceled', child: this.#children.at(-1), bridged: false, duration: 0 });
  }

  #end(result: DialResult): void {
    if (this.#done) return;
    this.#done = true;
    for (const c of [...this.#timers.keys()]) this.#clearTimer(c);
    this.#finish(result);
  }
}
