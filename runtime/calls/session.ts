/**
 * CallSession: one parent call running TwiML. It fetches the document
 * (voice URL, then the fallback URL), runs its verbs in order (`<Dial>`,
 * `<Hangup>`, `<Reject>`, `<Redirect>`, `<Pause>`; media verbs are
 * reported and skipped), fetches `action` after a Dial and continues with
 * what it returns, and owns the parent's dialog: a BYE or CANCEL from the
 * caller ends everything; other in-dialog requests go to the connected
 * child, or are answered here while nobody is connected.
 */
import type { MessageView } from '../wasm/message-view.js';
import type { ServerTx } from '../transaction/server-tx.js';
import type { DialogHandler } from '../dialog/registry.js';
import type { DialOpts, Verb } from '../twiml/types.js';
import type { CallContext } from './context.js';
import type { ChildLeg } from './child.js';
import { DialRun, dialActionParams, type ChildRedirect, type DialHost, type DialResult, type Link } from './dial.js';
import { Transfer, readReferTo, type TransferHost, type TransferorLeg } from './transfer.js';
import { OutboundParent, type ParentLeg, type Sdp } from './parent.js';
import { callParams, type Params } from './params.js';
import type { CallRecord, CallStatus } from './record.js';
import { StatusReporter } from './status-callbacks.js';
import { screenChild } from './screening.js';
import { answerUnlinked } from './unlinked.js';
import { Stopper, type StopSignal } from './stop.js';

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

/** Most documents one call may fetch (Redirect loops end here). */
const MAX_DOCUMENTS = 100;
/** Document parse failure. */
const PARSE_FAILURE = 12100;

/** The verb loop stops early (the call ended while a webhook was in flight). */
class Interrupted extends Error {}

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
  #documents = 0;
  /** URL of the running document: relative URLs in it resolve against it, as Twilio does. */
  #base: string | undefined;
  /** What the call does once the current Dial ends, set by a transfer. */
  #takeover: TwimlSource | undefined;
  #transfer: Transfer | undefined;

  /**
   * @param status  the call's own status callbacks (default: the configured one for inbound calls, completed only)
   */
  constructor(ctx: CallContext, record: CallRecord, parent: ParentLeg, initialParams: Params, onEnded: (session: CallSession) => void, status?: StatusReporter) {
    this.ctx = ctx;
    this.record = record;
    this.parent = parent;
    this.initialParams = initialParams;
    this.#onEnded = onEnded;
    const cb = ctx.config.statusCallback;
    this.#status = status ?? (cb
      ? new StatusReporter(ctx.webhooks, { url: cb, method: ctx.config.statusCallbackMethod, events: ['completed'] }, (code, message) => ctx.alert(record.sid, 'warning', code, message))
      : StatusReporter.none);
  }

  get signal(): StopSignal { return this.#abort; }

  mediaIp(): string {
    const contact = this.ctx.contactFor('udp');
    const host = /@(\[[^\]]+\]|[^:;>]+)/.exec(contact)?.[1] ?? '127.0.0.1';
    return host.replace(/^\[|\]$/g, '');
  }

  /** An absolute URL for `url` (relative ones resolve against the running document's URL). */
  resolve(url: string): string {
    try {
      return new URL(url, this.#base).href;
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
      .catch((e: unknown) => this.ctx.log.error('transfer failed', { callSid: this.record.sid, error: String((e as Error)?.stack ?? e) }))
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
      .catch((e: unknown) => this.ctx.log.error('transfer failed', { callSid: this.record.sid, error: String((e as Error)?.stack ?? e) }))
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
    return new CallSession(this.ctx, child.record, new OutboundParent(child.uac), {}, (s) => this.ctx.sessions?.forget(s), child.statusReporter);
  }

  /** The link lets go of its child; the child's dialog and SID now belong to `successor`. */
  #handOver(link: Link, successor: CallSession): void {
    link.detach();
    this.ctx.sessions?.untrackChild(link.child);
    this.ctx.registry.add(link.child.uac.dialog!, successor, 'a');
    this.ctx.sessions?.adopt(successor);
  }

  #transferHost(): TransferHost {
    const sid = this.record.sid;
    return {
      callSid: sid, notifyWaitMs: 4 * this.ctx.transactions.timers.T1,
      alert: (level, code, message) => this.ctx.alert(sid, level, code, message),
      fetchTwiml: async (url, method, params) => {
        const r = await this.#fetch(this.resolve(url), method, params).catch(() => undefined);
        return r && r.ok ? r.verbs : undefined;
      },
      referTo: (request) => readReferTo(this.ctx.parser, request),
      takeOver: (verbs) => { this.#takeover = { verbs }; },
      dialWhileBridged: (verbs, onConnected) => this.#dialWhileBridged(verbs, onConnected),
      emit: (stage, target, detail) => {
        this.ctx.store.emit({ type: 'transfer', at: Date.now(), callSid: sid, stage, target, detail });
        if (stage === 'completed' || stage === 'failed') this.ctx.log.info(`transfer ${stage}`, { callSid: sid, target, detail });
      },
    };
  }

  /**
   * answerOnBridge transfer: ring the document's first Dial while the old
   * link stays; when it connects, the new link takes over and the rest of
   * the document follows the new Dial's outcome.
   */
  #dialWhileBridged(verbs: Verb[], onConnected: () => Promise<void>): Promise<boolean> {
    const index = verbs.findIndex((v) => v.kind === 'dial');
    const opts = verbs[index] as DialOpts & { kind: 'dial' };
    const rest = verbs.slice(index + 1);
    return new Promise<boolean>((resolve) => {
      let connected = false;
      const signal = (): StopSignal => this.signal;
      const host: DialHost = {
        ctx: this.ctx, record: this.record, parent: this.parent,
        get signal() { return signal(); },
        answerParent: (sdp) => this.answerParent(sdp),
        setLink: (link) => {
          this.#link = link;
          if (connected) return;
          connected = true;
          this.#takeover = { verbs: rest, pending: { run, opts } };
          resolve(true);
          void onConnected();
        },
        unsetLink: (link) => this.unsetLink(link),
        refer: (link, o, tx, request) => this.refer(link, o, tx, request),
        referFromParent: (link, o, tx, request) => this.referFromParent(link, o, tx, request),
        redirectChild: (link, source) => this.redirectChild(link, source),
        screen: (child, url, method) => this.screen(child, url, method),
        resolve: (url) => this.resolve(url),
        mediaIp: () => this.mediaIp(),
      };
      const run = new DialRun(host, opts).run();
      void run.then(() => { if (!connected) resolve(false); });
    });
  }

  async answerParent(sdp: Sdp): Promise<MessageView | undefined> {
    if (this.parent.answered || this.parent.finished) return undefined;
    const ack = this.parent.answer(sdp);
    if (this.parent.dialog) this.ctx.registry.add(this.parent.dialog, this, 'a');
    this.ctx.store.update(this.record.sid, 'in-progress');
    return ack;
  }

  /** Run `source` and everything it leads to, then end the call. */
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
        this.ctx.log.error('call failed', { callSid: this.record.sid, error: String((e as Error)?.stack ?? e) });
        this.ctx.alert(this.record.sid, 'error', 11200, `internal error: ${(e as Error).message}`);
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
    if (++this.#documents > MAX_DOCUMENTS) {
      this.#fail(11215, `more than ${MAX_DOCUMENTS} TwiML documents for one call (a <Redirect> loop?)`);
      return undefined;
    }
    if ('verbs' in source) return source.verbs;
    if ('twiml' in source) return this.#parse(source.twiml, 'inline TwiML', this.record.sid);
    const first = await this.#fetch(source.url, source.method, source.params);
    if (first.ok) return first.verbs;
    if (source.fallback) {
      const again = await this.#fetch(source.fallback.url, source.fallback.method, { ...source.params, ErrorCode: String(first.code), ErrorUrl: source.url });
      if (again.ok) return again.verbs;
      this.#fail(again.code, again.message);
      return undefined;
    }
    this.#fail(first.code, first.message);
    return undefined;
  }

  async #fetch(url: string, method: 'GET' | 'POST', extra: Params | undefined, call: CallRecord = this.record): Promise<{ ok: true; verbs: Verb[] } | { ok: false; code: number; message: string }> {
    const params = callParams(call, extra);
    const r = await this.ctx.webhooks.request({ url, method, params });
    if (this.#ended) throw new Interrupted();
    if (r.ok && call === this.record) this.#base = r.value.url;
    if (!r.ok) {
      this.ctx.alert(call.sid, 'error', r.error.twilioCode, r.error.message);
      return { ok: false, code: 11200, message: `${url}: ${r.error.message}` };
    }
    const verbs = this.#parse(r.value.body, url, call.sid);
    return verbs ? { ok: true, verbs } : { ok: false, code: PARSE_FAILURE, message: `${url}: invalid TwiML` };
  }

  #parse(xml: string, where: string, sid: string): Verb[] | undefined {
    const doc = this.ctx.parseTwiml(xml);
    if (!doc.ok) {
      this.ctx.alert(sid, 'error', doc.error.code, `${where}: ${doc.error.path}: ${doc.error.message}`);
      return undefined;
    }
    for (const w of doc.value.warnings) this.ctx.alert(sid, 'warning', w.code, `${where}: ${w.path}: ${w.message}`);
    return doc.value.verbs;
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
      fetch: (u, m, params, call) => this.#fetch(u, m, params, call).catch(() => undefined),
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
    if (this.#ended) return;
    if (!this.parent.answered && !this.parent.finished) {
      // the document ended or said <Hangup> before anything answered the caller (603), or the daemon stops (503)
      this.parent.reject(refusal[0], refusal[1]);
      this.#end(status);
      return;
    }
    if (this.parent.answered) void this.parent.request('BYE');
    this.#end(status);
  }

  /** Replace the running document (REST API redirect): the current verb (a Dial too) stops. */
  redirect(source: TwimlSource): void {
    if (this.#ended) return;
    this.#redirect = source;
    this.#abort.stop();
  }

  /** The caller cancelled the INVITE. */
  cancelled(): void {
    if (this.#ended) return;
    this.parent.reject(487, 'Request Terminated');
    this.#end('canceled');
  }

  #end(status: CallStatus, patch: Partial<CallRecord> = {}): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#abort.stop();
    this.#pendingAck?.();
    this.parent.dispose();
    if (this.parent.dialog) this.ctx.registry.remove(this.parent.dialog);
    const final: CallStatus = this.parent.answered ? 'completed' : status;
    const record = this.ctx.store.update(this.record.sid, final, patch) ?? this.record;
    this.#status.completed(record);
    this.#onEnded(this);
  }

  onRequest(_side: 'a' | 'b', tx: ServerTx, request: MessageView): void {
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
    const stop = answerUnlinked(this.ctx, this.parent, tx, request, this.mediaIp());
    if (stop) this.#pendingAck = stop;
  }

  onAck(_side: 'a' | 'b', ack: MessageView): void {
    if (this.#pendingAck) {
      this.#pendingAck();
      this.#pendingAck = undefined;
    }
    this.#link?.acked('parent');
    this.parent.acked(ack);
  }

  onStrayResponse(): void {
    // the parent's 2xx retransmissions are absorbed by its transaction
  }
}
