/**
 * CallSession: one parent call running TwiML. It fetches the document
 * (voice URL, then the fallback URL), runs its verbs in order (`<Dial>`,
 * `<Hangup>`, `<Reject>`, `<Redirect>`, `<Pause>`; media verbs are
 * reported and skipped), fetches `action` after a Dial and continues with
 * what it returns, and owns the parent's dialog: a BYE or CANCEL from the
 * caller ends everything; other in-dialog requests go to the connected
 * child, or are answered here while nobody is connected. No exception
 * leaves the session's handlers: one ends this call (`crash`) and nothing
 * else (runtime/dialog/fault.ts).
 */
import type { MessageView } from '../wasm/message-view.js';
import type { ServerTx } from '../transaction/server-tx.js';
import type { DialogHandler } from '../dialog/registry.js';
import type { DialOpts, Verb } from '../twiml/types.js';
import type { CallContext } from './context.js';
import type { ChildLeg } from './child.js';
import { DialRun, dialActionParams, type ChildRedirect, type DialHost, type DialResult, type Link } from './dial.js';
import { lendHost } from './dial-host.js';
import { Transfer, type BridgedDialOutcome, type TransferHost, type TransferorLeg } from './transfer.js';
import { transferHostFor } from './transfer-host.js';
import { OutboundParent, type ParentLeg, type Sdp } from './parent.js';
import { callParams, type Params } from './params.js';
import type { CallRecord, CallStatus } from './record.js';
import { StatusReporter } from './status-callbacks.js';
import { screenChild } from './screening.js';
import { mediaIpOf } from './sdp.js';
import { answerUnlinked } from './unlinked.js';
import { Stopper, type StopSignal } from './stop.js';
import { attempt, describeFault, type FaultSink } from '../dialog/fault.js';
import { CallDocuments, Interrupted } from './documents.js';

/** A Dial already running (a transfer's) whose outcome the call continues from. */
export interface PendingDial {
  run: Promise<DialResult>;
  opts: DialOpts;
}

/** Where the next document comes from. */
export type TwimlSource =
  | { url: string; method: 'GET' | 'POST'; params?: Params; fallback?: { url: string; method: 'GET' | 'POST' } }
  | { twiml: string }
  /** Verbs already fetched (a transfer's document), after the outcome of `pending`. */
  | { verbs: Verb[]; pending?: PendingDial };

/** The code the call's record gets when a handler of the call threw (as for an internal error in a document's run). */
const INTERNAL_ERROR = 11200;


/** One parent call. */
export class CallSession implements DialogHandler, DialHost {
  readonly ctx: CallContext;
  readonly record: CallRecord;
  readonly parent: ParentLeg;
  /** Extra parameters of the first request (SipCallId, SipHeader_…). */
  readonly initialParams: Params;
  #abort = new Stopper();
  #link: Link | undefined;
  #pendingAck: (() => void) | undefined;
  #ended = false;
  #redirect: TwimlSource | undefined;
  #status: StatusReporter;
  #onEnded: (session: CallSession) => void;
  #documents: CallDocuments;
  /** What the call does once the current Dial ends, set by a transfer. */
  #takeover: TwimlSource | undefined;
  #transfer: Transfer | undefined;
  /** Logs an exception caught while the call ends (the call is ending already). */
  #logFault: FaultSink = (e, where) => this.ctx.log.error('call failed', { callSid: this.record.sid, where, error: describeFault(e) });

  /**
   * @param status  the call's own status callbacks (default: the configured one for inbound calls, completed only)
   */
  constructor(ctx: CallContext, record: CallRecord, parent: ParentLeg, initialParams: Params, onEnded: (session: CallSession) => void, status?: StatusReporter) {
    this.ctx = ctx;
    this.record = record;
    this.parent = parent;
    this.initialParams = initialParams;
    this.#onEnded = onEnded;
    this.#documents = new CallDocuments(ctx, record, () => this.#ended);
    const cb = ctx.config.statusCallback;
    this.#status = status ?? (cb
      ? new StatusReporter(ctx.webhooks, { url: cb, method: ctx.config.statusCallbackMethod, events: ['completed'] }, (code, message) => ctx.alert(record.sid, 'warning', code, message))
      : StatusReporter.none);
  }

  get signal(): StopSignal { return this.#abort; }

  mediaIp(): string {
    return mediaIpOf(this.ctx.contactFor('udp'));
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
    if (this.#ended) {
      tx.respond(tx.createResponse(481, 'Call/Transaction Does Not Exist'));
      return;
    }
    const host = this.#transferHost();
    const child = link.child;
    const transferor: TransferorLeg = { get ended() { return child.ended; }, request: (m, o) => child.uac.request(m, o) };
    const accepted = Transfer.accept(host, transferor, opts, tx, request, this.#transfer !== undefined, () => link.release());
    if (!accepted) return;
    this.#transfer = accepted.transfer;
    const referredBy = request.header('Referred-By');
    void accepted.transfer.run(accepted.target, callParams(this.record, this.initialParams), referredBy)
      .catch((e: unknown) => this.crash(e, 'transfer'))
      .finally(() => { this.#transfer = undefined; });
  }

  /**
   * A REFER from the parent's own leg (the caller transfers the dialled
   * party): the child is the transferee. It gets a session of its own
   * that runs the referUrl TwiML; the caller (transferor) is released.
   */
  referFromParent(link: Link, opts: DialOpts, tx: ServerTx, request: MessageView): void {
    if (this.#ended) {
      tx.respond(tx.createResponse(481, 'Call/Transaction Does Not Exist'));
      return;
    }
    const successor = this.#successorFor(link.child);
    let handedOver = false;
    const handOver = (): void => {
      if (handedOver) return;
      handedOver = true;
      this.#handOver(link, successor);
    };
    // the caller hanging up before the hand-over stops the transferee's new dial too
    this.signal.onStop(() => { if (!handedOver) successor.#abort.stop(); });
    const host: TransferHost = {
      ...this.#transferHost(),
      takeOver: (verbs) => {
        handOver();
        void successor.run(verbs.length > 0 ? { verbs } : { twiml: '<Response><Hangup/></Response>' });
      },
      dialWhileBridged: (verbs, onConnected) => successor.#dialWhileBridged(verbs, async () => {
        handOver();
        const next = successor.#takeOverSource();
        if (next) void successor.run(next);
        await onConnected();
      }),
    };
    const parent = this.parent, isEnded = (): boolean => this.#ended;
    const transferor: TransferorLeg = { get ended() { return isEnded(); }, request: (m, o) => parent.request(m, o) };
    const release = (): Promise<void> => Promise.resolve(this.hangup('completed'));
    const accepted = Transfer.accept(host, transferor, opts, tx, request, this.#transfer !== undefined, release);
    if (!accepted) return;
    this.#transfer = accepted.transfer;
    void accepted.transfer.run(accepted.target, callParams(this.record, this.initialParams), request.header('Referred-By'))
      .catch((e: unknown) => this.crash(e, 'transfer'))
      .finally(() => { this.#transfer = undefined; });
  }

  /**
   * The REST API redirected the connected child: the link lets go of it
   * (this Dial ends completed and the parent goes on with its action or
   * next verb), and the child runs the new TwiML in a session of its own.
   */
  redirectChild(link: Link, source: ChildRedirect): void {
    const successor = this.#successorFor(link.child);
    this.#handOver(link, successor);
    void successor.run('twiml' in source ? source : { url: source.url, method: source.method });
  }

  /** A session of its own for a child leaving its Dial (transferred, or redirected by the REST API). */
  #successorFor(child: ChildLeg): CallSession {
    return new CallSession(this.ctx, child.record, new OutboundParent(child.uac), {}, (s) => this.ctx.live.forget(s), child.statusReporter);
  }

  /** The link lets go of its child; the child's dialog and SID now belong to `successor`. */
  #handOver(link: Link, successor: CallSession): void {
    link.detach();
    this.ctx.live.untrackChild(link.child);
    this.ctx.registry.add(link.child.uac.dialog!, successor, 'a');
    this.ctx.live.adopt(successor);
  }

  #transferHost(): TransferHost {
    return transferHostFor(this.ctx, this.record.sid, {
      fetch: (url, method, params) => this.#documents.fetch(this.resolve(url), method, params),
      takeOver: (verbs) => { this.#takeover = { verbs }; },
      dialWhileBridged: (verbs, onConnected) => this.#dialWhileBridged(verbs, onConnected),
    });
  }

  /**
   * answerOnBridge transfer: ring the document's first Dial while the old
   * link stays; when it connects, the new link takes over and the rest of
   * the document follows the new Dial's outcome.
   */
  #dialWhileBridged(verbs: Verb[], onConnected: () => Promise<void>): Promise<BridgedDialOutcome> {
    const index = verbs.findIndex((v) => v.kind === 'dial');
    const opts = verbs[index] as DialOpts & { kind: 'dial' };
    const rest = verbs.slice(index + 1);
    return new Promise<BridgedDialOutcome>((resolve) => {
      let connected = false;
      const host = lendHost(this, (link) => {
        this.#link = link;
        if (connected) return;
        connected = true;
        this.#takeover = { verbs: rest, pending: { run, opts } };
        resolve('connected');
        void onConnected().catch((e: unknown) => this.crash(e, 'transfer'));
      });
      const run = new DialRun(host, opts).run();
      void run.then((result) => {
        if (connected) return;
        // a target that answered (2xx) but could not be connected to the caller is not "no answer"
        const status = result.child?.sipStatus ?? 0;
        resolve(status >= 200 && status < 300 ? 'answered' : 'unanswered');
      }, (e: unknown) => {
        this.crash(e, 'transfer dial');
        if (!connected) resolve('unanswered');
      });
    });
  }

  /** Answer the caller; resolves with its ACK (undefined when none came); rejects when the 2xx cannot be sent (the dial then crashes the call). */
  async answerParent(sdp: Sdp): Promise<MessageView | undefined> {
    if (this.parent.answered || this.parent.finished || this.#ended) return undefined;
    const ack = this.parent.answer(sdp);
    if (this.parent.dialog) this.ctx.registry.add(this.parent.dialog, this, 'a');
    this.ctx.store.update(this.record.sid, 'in-progress');
    return ack;
  }

  /** Run `fn`, one of this call's handlers (SIP events, timers, REST API, drain): an exception in it ends this call (`crash`). */
  guard(where: string, fn: () => void): void {
    attempt(fn, (e, w) => this.crash(e, w), where);
  }

  /**
   * A handler of this call threw: log it, then end the call with what can
   * still be sent, each send tried on its own (500 to a caller not yet
   * answered, BYE to an answered one, the connected party hung up), the
   * record failed (completed once answered), its completed callback sent.
   */
  crash(error: unknown, where: string): void {
    const sid = this.record.sid;
    this.ctx.log.error('call failed', { callSid: sid, where, error: describeFault(error) });
    if (this.#ended) return;
    this.ctx.alert(sid, 'error', INTERNAL_ERROR, `internal error (${where}): ${(error as Error | undefined)?.message ?? String(error)}`);
    const quiet = this.#logFault;
    const link = this.#link;
    if (!this.parent.answered && !this.parent.finished) attempt(() => this.parent.reject(500, 'Server Internal Error'), quiet, 'sending 500');
    else if (this.parent.answered) void this.parent.request('BYE');
    this.#end('failed');
    if (link) attempt(() => link.parentHungUp(), quiet, 'hanging up the connected party');
  }

  /** The caller's dialog is gone or unusable (an in-dialog request got no answer, 408 or 481): hang up everything. */
  endCall(reason: string): void {
    if (this.#ended) return;
    this.ctx.log.warn('hanging up: a leg of the call is gone', { callSid: this.record.sid, reason });
    this.hangup('completed');
  }

  /** Run `source` and everything it leads to, then end the call; never rejects (a failure ends the call). */
  async run(source: TwimlSource): Promise<void> {
    let next: TwimlSource | undefined = source;
    try {
      while (next && !this.#ended) {
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
    if (r.code !== undefined) this.#fail(r.code, r.message);
    return undefined;
  }

  /** Run verbs; returns the next document source (action, Redirect) or undefined when the document ended. */
  async #execute(verbs: Verb[]): Promise<TwimlSource | undefined> {
    for (const verb of verbs) {
      if (this.#ended || this.#redirect) return undefined;
      switch (verb.kind) {
        case 'hangup':
          return undefined;
        case 'reject':
          this.#reject(verb.reason);
          return undefined;
        case 'redirect':
          return { url: this.resolve(verb.url), method: verb.method };
        case 'pause':
          await this.#sleep(verb.length * 1000);
          break;
        case 'unsupported':
          break;
        case 'dial': {
          const next = await this.#dial(verb);
          if (next) return next;
          break;
        }
      }
    }
    return undefined;
  }

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
    if (this.#ended) {
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
      ended: () => this.#ended,
      resolve: (u) => this.resolve(u),
      fetch: (u, m, params, call) => this.#documents.fetch(u, m, params, call).catch(() => undefined),
      sleep: (ms) => this.#sleep(ms),
    }, child, url, method);
  }

  #reject(reason: 'busy' | 'rejected'): void {
    if (this.parent.answered) return;
    const status = reason === 'busy' ? 486 : 603;
    this.parent.reject(status, reason === 'busy' ? 'Busy Here' : 'Decline');
    this.#end(reason === 'busy' ? 'busy' : 'failed');
  }

  /** End the call with an error: unanswered → 500 with the code in a Reason header; answered → BYE. */
  #fail(code: number, message: string): void {
    this.ctx.alert(this.record.sid, 'error', code, message);
    if (!this.parent.answered && !this.parent.finished) {
      this.parent.reject(500, 'Server Internal Error', [['Reason', `SIP;cause=500;text="Twilio error ${code}"`], ['Warning', `399 patchbay "${code} ${message.replace(/["\\\r\n]/g, '')}"`]]);
      this.#end('failed', { errorCode: code, errorMessage: message });
    }
  }

  /** Hang up whatever is up and end the call (`status` and `refusal` are used when it was never answered nor rejected). */
  hangup(status: CallStatus = 'completed', refusal: readonly [number, string] = [603, 'Decline']): void {
    this.guard('hangup', () => {
      if (this.#ended) return;
      if (!this.parent.answered && !this.parent.finished) {
        // the document ended or said <Hangup> before anything answered the caller (603), or the daemon stops (503)
        this.parent.reject(refusal[0], refusal[1]);
        this.#end(status);
        return;
      }
      if (this.parent.answered) void this.parent.request('BYE');
      this.#end(status);
    });
  }

  /** Replace the running document (REST API redirect): the current verb (a Dial too) stops. */
  redirect(source: TwimlSource): void {
    this.guard('redirect', () => {
      if (this.#ended) return;
      this.#redirect = source;
      this.#abort.stop();
    });
  }

  /** The caller cancelled the INVITE. */
  cancelled(): void {
    this.guard('CANCEL', () => {
      if (this.#ended) return;
      this.parent.reject(487, 'Request Terminated');
      this.#end('canceled');
    });
  }

  /**
   * The call is over: stop what runs, forget its dialog, write its final
   * status, send its completed callback. Each step runs even when one
   * before it throws (the call must not stay half-ended), then the first
   * failure is logged.
   */
  #end(status: CallStatus, patch: Partial<CallRecord> = {}): void {
    if (this.#ended) return;
    this.#ended = true;
    const log = this.#logFault;
    attempt(() => this.#abort.stop(), log, 'stopping the running verb');
    attempt(() => { this.#pendingAck?.(); this.parent.dispose(); }, log, 'ending');
    if (this.parent.dialog) this.ctx.registry.remove(this.parent.dialog);
    const final: CallStatus = this.parent.answered ? 'completed' : status;
    const record = attempt(() => this.ctx.store.update(this.record.sid, final, patch), log, 'recording the end') ?? this.record;
    attempt(() => this.#status.completed(record), log, 'completed callback');
    this.#onEnded(this);
  }

  onRequest(_side: 'a' | 'b', tx: ServerTx, request: MessageView): void {
    this.guard(`in-dialog ${tx.method}`, () => this.#onRequest(tx, request));
  }

  #onRequest(tx: ServerTx, request: MessageView): void {
    const dialog = this.parent.dialog;
    if (!dialog || !dialog.acceptRemoteSeq(request.cseqNumber, tx.method)) {
      tx.respond(tx.createResponse(500, 'Server Internal Error', { headers: [['Retry-After', '1']] }));
      return;
    }
    if (tx.method === 'BYE') {
      tx.respond(tx.createResponse(200, 'OK'));
      const link = this.#link;
      this.#end('completed');
      link?.parentHungUp();
      return;
    }
    if (this.#link) {
      this.#link.fromParent(tx, request);
      return;
    }
    this.#answerLocally(tx, request);
  }

  /** Nobody is connected: keep the caller on hold, answer what needs an answer. */
  #answerLocally(tx: ServerTx, request: MessageView): void {
    // the caller not ACKing our 2xx of its re-INVITE is gone: end the call, as a bridge does
    const stop = answerUnlinked(this.ctx, this.parent, tx, request, this.mediaIp(), () => this.guard('ACK timeout', () => this.endCall('no ACK for a re-INVITE')));
    if (stop) this.#pendingAck = stop;
  }

  onAck(_side: 'a' | 'b', ack: MessageView): void {
    this.guard('ACK', () => {
      this.#pendingAck?.();
      this.#pendingAck = undefined;
      this.#link?.acked('parent');
      this.parent.acked(ack);
    });
  }

  onStrayResponse(): void {
    // the parent's 2xx retransmissions are absorbed by its transaction
  }
}
