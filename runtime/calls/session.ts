/**
 * CallSession: one parent call running TwiML. It fetches the document
 * (voice URL, then the fallback URL), runs its verbs in order on the verb
 * runner (runner.ts), fetches `action` after a Dial and continues with
 * what it returns. The caller's dialog is handled by parent-dialog.ts,
 * REFER and REST redirects of the dialled party by handover.ts, the end of
 * the call by ending.ts; this file keeps the document loop's state. No
 * exception leaves the session's handlers: one ends this call (`crash`)
 * and nothing else (runtime/dialog/fault.ts).
 */
import type { MessageView } from '../wasm/message-view.js';
import type { ServerTx } from '../transaction/server-tx.js';
import type { DialogHandler } from '../dialog/registry.js';
import type { DialOpts, Verb } from '../twiml/types.js';
import type { CallContext } from './context.js';
import type { ChildLeg } from './child.js';
import type { ChildRedirect, DialHost } from './dial-host.js';
import { DialRun, dialActionParams, type DialResult } from './dial.js';
import type { Link } from './link.js';
import type { Transfer } from './transfer.js';
import { OutboundParent, type ParentLeg, type Sdp } from './parent.js';
import { callParams, type Params } from './params.js';
import type { CallRecord, CallStatus } from './record.js';
import { StatusReporter } from './status-callbacks.js';
import { screenChild } from './screening.js';
import { mediaIpOf } from './sdp.js';
import { Stopper, type StopSignal } from './stop.js';
import { attempt } from '../dialog/fault.js';
import { CallDocuments, Interrupted, type PendingDial, type TwimlSource } from './documents.js';
import { CONTINUE, runVerbs, type VerbHost } from './runner.js';
import { CallEnding, type EndingCall } from './ending.js';
import { ParentDialog, type ParentDialogCall } from './parent-dialog.js';
import { redirectChild, referFromChild, referFromParent, type HandoverCall } from './handover.js';

/** One parent call. */
export class CallSession implements DialogHandler, DialHost {
  readonly ctx: CallContext;
  readonly record: CallRecord;
  readonly parent: ParentLeg;
  /** Extra parameters of the first request (SipCallId, SipHeader_…). */
  readonly initialParams: Params;
  #abort = new Stopper();
  #link: Link | undefined;
  #redirect: TwimlSource | undefined;
  #documents: CallDocuments;
  /** What the call does once the current Dial ends, set by a transfer. */
  #takeover: TwimlSource | undefined;
  #transfer: Transfer | undefined;
  #ending: CallEnding;
  #dialog: ParentDialog;
  #handover: HandoverCall;

  /**
   * @param status  the call's own status callbacks (default: the configured one for inbound calls, completed only)
   */
  constructor(ctx: CallContext, record: CallRecord, parent: ParentLeg, initialParams: Params, onEnded: (session: CallSession) => void, status?: StatusReporter) {
    this.ctx = ctx;
    this.record = record;
    this.parent = parent;
    this.initialParams = initialParams;
    this.#documents = new CallDocuments(ctx, record, () => this.#ending.ended);
    const cb = ctx.config.statusCallback;
    const reporter = status ?? (cb
      ? new StatusReporter(ctx.webhooks, { url: cb, method: ctx.config.statusCallbackMethod, events: ['completed'] }, (code, message) => ctx.alert(record.sid, 'warning', code, message))
      : StatusReporter.none);
    this.#dialog = new ParentDialog(CallSession.#dialogCall(this));
    this.#ending = new CallEnding(CallSession.#endingCall(this), reporter, () => onEnded(this));
    this.#handover = CallSession.#handoverCall(this);
  }

  /** The call as its dialog handler sees it (parent-dialog.ts). */
  static #dialogCall(session: CallSession): ParentDialogCall {
    return {
      ctx: session.ctx, parent: session.parent,
      get link() { return session.#link; },
      guard: (where, fn) => session.guard(where, fn),
      end: (s) => session.#ending.end(s),
      endCall: (reason) => session.endCall(reason),
      mediaIp: () => session.mediaIp(),
    };
  }

  /** The call as its ending sees it (ending.ts). */
  static #endingCall(session: CallSession): EndingCall {
    return {
      ctx: session.ctx, record: session.record, parent: session.parent,
      get link() { return session.#link; },
      stopRunning: () => session.#abort.stop(),
      stopAckWait: () => session.#dialog.stopAckWait(),
    };
  }

  /** The call as a hand-over sees it (handover.ts). */
  static #handoverCall(session: CallSession): HandoverCall {
    return {
      ctx: session.ctx, record: session.record, initialParams: session.initialParams, dialHost: session,
      get ended() { return session.#ending.ended; },
      get signal() { return session.#abort; },
      get transfer() { return session.#transfer; },
      set transfer(t) { session.#transfer = t; },
      get takeover() { return session.#takeover; },
      set takeover(t) { session.#takeover = t; },
      setLink: (link) => { session.#link = link; },
      fetch: (url, method, params) => session.#documents.fetch(url, method, params),
      resolve: (url) => session.resolve(url),
      run: (source) => session.run(source),
      stop: () => session.#abort.stop(),
      hangup: (s) => session.hangup(s),
      crash: (e, where) => session.crash(e, where),
      successorFor: (child) => {
        const successor = session.#successorFor(child);
        return { session: successor, call: successor.#handover };
      },
    };
  }

  get signal(): StopSignal { return this.#abort; }

  mediaIp(): string {
    return mediaIpOf(this.ctx.parser, this.ctx.contactFor('udp'));
  }

  /** An absolute URL for `url` (relative ones resolve against the running document's URL). */
  resolve(url: string): string {
    try {
      return new URL(url, this.#documents.base).href;
    } catch {
      return url;
    }
  }

  setLink(link: Link): void {
    this.#link = link;
  }

  unsetLink(link: Link): void {
    if (this.#link === link) this.#link = undefined;
  }

  /** A REFER from the dialled party: 202 and the transfer, or a refusal that leaves the call as it is. */
  refer(link: Link, opts: DialOpts, tx: ServerTx, request: MessageView): void {
    referFromChild(this.#handover, link, opts, tx, request);
  }

  /** A REFER from the parent's own leg (the caller transfers the dialled party): the child is the transferee. */
  referFromParent(link: Link, opts: DialOpts, tx: ServerTx, request: MessageView): void {
    referFromParent(this.#handover, link, opts, tx, request);
  }

  /** The REST API redirected the connected child: it leaves the Dial with a session of its own. */
  redirectChild(link: Link, source: ChildRedirect): void {
    redirectChild(this.#handover, link, source);
  }

  /** A session of its own for a child leaving its Dial (transferred, or redirected by the REST API). */
  #successorFor(child: ChildLeg): CallSession {
    return new CallSession(this.ctx, child.record, new OutboundParent(child.uac), {}, (s) => this.ctx.live.forget(s), child.statusReporter);
  }

  /** Answer the caller; resolves with its ACK (undefined when none came); rejects when the 2xx cannot be sent (the dial then crashes the call). */
  async answerParent(sdp: Sdp): Promise<MessageView | undefined> {
    if (this.parent.answered || this.parent.finished || this.#ending.ended) return undefined;
    const ack = this.parent.answer(sdp);
    if (this.parent.dialog) this.ctx.registry.add(this.parent.dialog, this, 'a');
    this.ctx.store.update(this.record.sid, 'in-progress');
    return ack;
  }

  /** Run `fn`, one of this call's handlers (SIP events, timers, REST API, drain): an exception in it ends this call (`crash`). */
  guard(where: string, fn: () => void): void {
    attempt(fn, (e, w) => this.crash(e, w), where);
  }

  /** A handler of this call threw: end the call (ending.ts). */
  crash(error: unknown, where: string): void {
    this.#ending.crash(error, where);
  }

  /** The caller's dialog is gone or unusable (an in-dialog request got no answer, 408 or 481): hang up everything. */
  endCall(reason: string): void {
    this.#ending.endCall(reason);
  }

  /** Run `source` and everything it leads to, then end the call; never rejects (a failure ends the call). */
  async run(source: TwimlSource): Promise<void> {
    let next: TwimlSource | undefined = source;
    try {
      while (next && !this.#ending.ended) {
        const pending: PendingDial | undefined = 'verbs' in next ? next.pending : undefined;
        const verbs = await this.#load(next);
        next = undefined;
        if (!verbs) break;
        next = pending ? await this.#afterDial(await pending.run, pending.opts) : undefined;
        next ??= await this.#execute(verbs);
        if (this.#redirect) {
          next = this.#redirect;
          this.#redirect = undefined;
          this.#abort = new Stopper();
        }
      }
    } catch (e) {
      if (!(e instanceof Interrupted)) {
        this.crash(e, 'TwiML');
        return;
      }
      if (this.#redirect) {
        const r = this.#redirect;
        this.#redirect = undefined;
        this.#abort = new Stopper();
        return this.run(r);
      }
    }
    this.hangup('completed');
  }

  /** Fetch and parse a document (with the fallback URL on failure); undefined = the call ended with an error. */
  async #load(source: TwimlSource): Promise<Verb[] | undefined> {
    const r = await this.#documents.load(source);
    if (r.ok) return r.verbs;
    if (r.code !== undefined) this.#ending.fail(r.code, r.message);
    return undefined;
  }

  /** Run verbs; returns the next document source (action, Redirect) or undefined when the document ended. */
  #execute(verbs: Verb[]): Promise<TwimlSource | undefined> {
    return runVerbs(verbs, this.#verbHost);
  }

  /** The caller's call as the verb runner sees it. */
  #verbHost: VerbHost<TwimlSource> = ((session: CallSession): VerbHost<TwimlSource> => ({
    get stopped() { return session.#ending.ended || session.#redirect !== undefined; },
    resolve: (url) => session.resolve(url),
    sleep: (ms) => session.#sleep(ms),
    // the document ends; run() hangs up once it is over
    hangup: () => undefined,
    reject: (reason) => session.#ending.reject(reason),
    redirect: (url, method) => ({ url, method }),
    dial: async (opts) => {
      const next = await session.#dial(opts);
      return next ? { done: true, next } : CONTINUE;
    },
  }))(this);

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let forget: () => void = () => undefined;
      const t = this.ctx.clock.setTimeout(() => { forget(); resolve(); }, ms);
      forget = this.#abort.onStop(() => { this.ctx.clock.clearTimeout(t); resolve(); });
    });
  }

  async #dial(opts: DialOpts): Promise<TwimlSource | undefined> {
    this.#takeover = undefined;
    const result = await new DialRun(this, opts).run();
    const takeover = this.#takeOverSource();
    // a transfer took the caller over: its document replaces action and the rest of this one
    if (takeover) return 'verbs' in takeover && takeover.verbs.length === 0 && !takeover.pending ? { twiml: '<Response><Hangup/></Response>' } : takeover;
    return this.#afterDial(result, opts);
  }

  #takeOverSource(): TwimlSource | undefined {
    const t = this.#takeover;
    this.#takeover = undefined;
    return t;
  }

  /** The action request after a Dial (or undefined: go on with the next verb). */
  #afterDial(result: DialResult, opts: DialOpts): TwimlSource | undefined {
    if (!opts.action) return undefined;
    const params = dialActionParams(result);
    const action = this.resolve(opts.action);
    if (this.#ending.ended) {
      // the caller hung up: action is still told (bookkeeping), its TwiML is not run
      void this.ctx.webhooks.request({ url: action, method: opts.method, params: callParams(this.record, params) });
      return undefined;
    }
    return { url: action, method: opts.method, params };
  }

  /** Screening: run `url`'s TwiML for the child; `<Hangup>`/`<Reject>` decline it, `<Dial>` is refused (13201). */
  screen(child: ChildLeg, url: string, method: 'GET' | 'POST'): Promise<boolean> {
    return screenChild({
      ctx: this.ctx,
      ended: () => this.#ending.ended,
      resolve: (u) => this.resolve(u),
      fetch: (u, m, params, call) => this.#documents.fetch(u, m, params, call).catch(() => undefined),
      sleep: (ms) => this.#sleep(ms),
    }, child, url, method);
  }

  /** Hang up whatever is up and end the call (`status` and `refusal` are used when it was never answered nor rejected). */
  hangup(status: CallStatus = 'completed', refusal: readonly [number, string] = [603, 'Decline']): void {
    this.#ending.hangup(status, refusal);
  }

  /** Replace the running document (REST API redirect): the current verb (a Dial too) stops. */
  redirect(source: TwimlSource): void {
    this.guard('redirect', () => {
      if (this.#ending.ended) return;
      this.#redirect = source;
      this.#abort.stop();
    });
  }

  /** The caller cancelled the INVITE. */
  cancelled(): void {
    this.#ending.cancelled();
  }

  onRequest(side: 'a' | 'b', tx: ServerTx, request: MessageView): void {
    this.#dialog.onRequest(side, tx, request);
  }

  onAck(side: 'a' | 'b', ack: MessageView): void {
    this.#dialog.onAck(side, ack);
  }

  onStrayResponse(): void {
    this.#dialog.onStrayResponse();
  }
}
