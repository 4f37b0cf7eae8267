/**
 * ChildLeg: one attempt of a `<Dial>` (a child call, Direction
 * outbound-dial). It sends the INVITE built from a resolved target (custom
 * headers from the URI, the X-Twilio identity headers, callerId as the
 * From user), answers digest challenges with the noun's credentials, keeps
 * its CallRecord and status callbacks up to date, and once answered owns
 * its dialog: a BYE from the far end ends it, other requests go to
 * whoever the dial connected it to. An exception in one of its handlers
 * is handed to the dial (`fault`: the call ends), never to the SIP stack.
 */
import type { MessageView } from '../wasm/message-view.js';
import type { HeaderField } from '../sip/message.js';
import { newCallId, newTag } from '../sip/ids.js';
import { SipBuildError } from '../sip/errors.js';
import { sipUriHostPort, NO_URI_LIMITS } from '../sip/uri.js';
import type { ServerTx } from '../transaction/server-tx.js';
import { UacLeg } from '../dialog/uac-leg.js';
import { uriOf } from '../dialog/target.js';
import { legContext } from '../dialog/leg-context.js';
import type { DialogHandler } from '../dialog/registry.js';
import type { StatusCallbackEvent } from '../twiml/types.js';
import type { CallContext } from './context.js';
import { API_VERSION, addParams, sipHost, xHeaderParams, type Params } from './params.js';
import { newCallRecord, type CallRecord, type CallStatus } from './record.js';
import { newSid } from './sid.js';
import { StatusReporter } from './status-callbacks.js';
import type { ResolvedTarget } from './targets.js';
import { attempt, describeFault } from '../dialog/fault.js';

/** What the dial hears from a child. */
export interface ChildEvents {
  ringing(child: ChildLeg, response: MessageView): void;
  answered(child: ChildLeg, response: MessageView): void;
  /** The attempt ended without an answer; child.status and child.finalResponse say how. */
  failed(child: ChildLeg): void;
  /** An answered child is over: the far end hung up (its BYE is answered already), or the REST API ended it. */
  hungUp(child: ChildLeg, bye: MessageView | undefined): void;
  /** Any other in-dialog request from the answered child. */
  request(child: ChildLeg, tx: ServerTx, request: MessageView): void;
  /** The ACK of a 2xx we sent the child (a relayed re-INVITE). */
  ack(child: ChildLeg, ack: MessageView): void;
  /** The REST API gave the child new TwiML; false when it is not connected to anyone (nothing done). */
  redirect(child: ChildLeg, source: { url: string; method: 'GET' | 'POST' } | { twiml: string }): boolean;
  /** A handler of the child threw (the call must end). */
  fault(error: unknown, where: string): void;
}

/** Why we stop ringing a child. */
export type CancelReason = 'timeout' | 'lost' | 'canceled';

/** One child call. */
export class ChildLeg implements DialogHandler {
  readonly record: CallRecord;
  readonly target: ResolvedTarget;
  readonly uac: UacLeg;
  /** The final response of the INVITE (2xx or failure), when there was one. */
  finalResponse: MessageView | undefined;
  /** The final SIP status (408 on timeout, 503 on transport failure). */
  sipStatus = 0;
  /** The message whose X- headers the action reports (final failure, or the BYE exchange). */
  lastMessage: MessageView | undefined;
  #ctx: CallContext;
  #events: ChildEvents;
  #status: StatusReporter;
  #cancelReason: CancelReason | undefined;
  #ended = false;
  #finished = false;
  #hangup: Promise<void> | undefined;
  #answeredAt = 0;

  /**
   * @param parent   the parent's record (ParentCallSid, From)
   * @param fromUser the From user (callerId, else the parent's caller)
   * @param offer    our SDP offer (the parent's), or undefined for a late offer
   */
  constructor(ctx: CallContext, parent: CallRecord, target: ResolvedTarget, fromUser: string, offer: { body: Uint8Array; contentType: string } | undefined, events: ChildEvents) {
    this.#ctx = ctx;
    this.target = target;
    this.#events = events;
    const sid = newSid('CA');
    const contact = ctx.contactFor(target.destination.transport, target.destination.source);
    const host = sipUriHostPort(ctx.parser, uriOf(contact), NO_URI_LIMITS) ?? '127.0.0.1';
    const from = `sip:${fromUser}@${host}`;
    const callId = newCallId();
    const now = Date.now();
    this.record = newCallRecord({
      sid, accountSid: parent.accountSid, parentCallSid: parent.sid, direction: 'outbound-dial',
      from, to: target.uri, status: 'initiated', dateCreated: now, sipCallId: callId, statusCallback: target.statusCallback,
    });
    const headers: HeaderField[] = [
      ...(target.route ? [['Route', `<${target.route}>`] as HeaderField] : []),
      ['Max-Forwards', '70'],
      ['From', `<${from}>;tag=${newTag()}`],
      ['To', `<${target.uri}>`],
      ['Call-ID', callId],
      ['CSeq', '1 INVITE'],
      ['Contact', contact],
      ['X-Twilio-AccountSid', parent.accountSid],
      ['X-Twilio-CallSid', sid],
      ['X-Twilio-ApiVersion', API_VERSION],
      ...target.headers,
    ];
    if (offer) headers.push(['Content-Type', offer.contentType]);
    const onSendError = (error: unknown, what: string): void => ctx.log.warn('message not sent', { callSid: sid, what, error: describeFault(error) });
    this.uac = new UacLeg(
      legContext(ctx, contact, { credentials: target.credentials, onSendError }),
      { method: 'INVITE', uri: target.uri, headers, body: offer?.body },
      target.destination,
      {
        provisional: (r) => this.guard('provisional', () => this.#provisional(r)),
        answered: (r) => this.guard('answer', () => this.#answered(r)),
        failed: (status, _reason, response) => this.guard('failure', () => this.#failed(status, response)),
      },
    );
    this.#status = target.statusCallback ? new StatusReporter(ctx.webhooks, target.statusCallback, (code, message) => ctx.alert(sid, 'warning', code, message)) : StatusReporter.none;
  }

  get sid(): string { return this.record.sid; }
  /** The noun's status callbacks; a session that takes the child over (transfer, REST redirect) keeps reporting through it. */
  get statusReporter(): StatusReporter { return this.#status; }
  get status(): CallStatus { return this.record.status; }
  /** True once answered and not yet ended. */
  get live(): boolean { return this.record.status === 'in-progress' && !this.#ended; }
  /** True when the attempt is over (failed, or answered and ended). */
  get ended(): boolean { return this.#ended; }
  /** Seconds since answer (0 when never answered). */
  get duration(): number { return this.#answeredAt ? Math.max(0, Math.round((Date.now() - this.#answeredAt) / 1000)) : 0; }

  /** Parameters of a webhook about the answered child (https://www.twilio.com/docs/voice/twiml/sip): SIP identity and the 200 OK's X- headers. */
  answeredParams(): Params {
    const host = this.target.destination.host;
    const params: Params = {
      SipCallId: this.record.sipCallId ?? '',
      SipDomain: sipHost(this.#ctx.parser, this.target.uri) || host,
      SipDomainSid: this.#ctx.config.sipDomainSid,
      SipSourceIp: host,
    };
    return xHeaderParams(this.finalResponse, 'SipHeader_', params);
  }

  /**
   * Run `fn`, one of this child's handlers: an exception in it goes to the
   * dial (the call ends) and this child is hung up (or cancelled).
   */
  guard(where: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      const fault = (error: unknown, w: string): void => this.#ctx.log.error('call failed', { callSid: this.sid, where: w, error: describeFault(error) });
      attempt(() => this.#events.fault(e, `${where} of ${this.sid}`), fault, where);
      attempt(() => { void this.hangup(); }, fault, 'hanging up');
    }
  }

  /**
   * Create the record, report initiated, send the INVITE. An INVITE that
   * cannot be built (a header value the serializer refuses) is an attempt
   * that failed without a SIP response: error 32112 or 13224 on the child,
   * `failed` told on the next tick, never an exception into the dial.
   */
  start(): void {
    this.#ctx.store.create(this.record);
    this.#ctx.live.trackChild(this);
    void this.#status.fire('initiated', this.record, { SipCallId: this.record.sipCallId ?? '' });
    try {
      this.uac.start();
    } catch (e) {
      const injection = e instanceof SipBuildError && e.code === 'PB_ERR_SIP_HEADER_INJECTION';
      this.#ctx.alert(this.sid, 'error', injection ? 32112 : 13224, `INVITE to ${this.target.uri} not sent: ${(e as Error).message}`);
      queueMicrotask(() => this.guard('failure', () => this.#failed(0, undefined)));
    }
  }

  #provisional(r: MessageView): void {
    if (this.record.status === 'initiated') {
      this.#set('ringing');
      this.#fire('ringing');
    }
    this.#events.ringing(this, r);
  }

  #answered(r: MessageView): void {
    this.finalResponse = r;
    this.lastMessage = r;
    this.sipStatus = r.statusCode;
    this.#answeredAt = Date.now();
    this.#ctx.registry.add(this.uac.dialog!, this, 'b');
    this.#set('in-progress', { sipResponseCode: r.statusCode });
    this.#fire('answered', () => this.answeredParams());
    this.#events.answered(this, r);
  }

  #failed(status: number, response: MessageView | undefined): void {
    this.finalResponse = response;
    if (response) this.lastMessage = response;
    this.sipStatus = status;
    const reason = this.#cancelReason;
    let final: CallStatus;
    if (reason === 'timeout') final = 'no-answer';
    else if (reason === 'canceled' || reason === 'lost') final = 'canceled';
    else if (status === 486 || status === 600) final = 'busy';
    else if (status === 408 || status === 480 || status === 487) final = 'no-answer';
    else final = 'failed';
    this.#finish(final);
    this.#events.failed(this);
  }

  /**
   * Give the connected child new TwiML (REST API): it leaves the Dial, which
   * ends completed for the parent, and runs the document as a call of its own.
   * @return false when the child is not connected (ringing, screening, over)
   */
  redirect(source: { url: string; method: 'GET' | 'POST' } | { twiml: string }): boolean {
    return this.#events.redirect(this, source);
  }

  /** Stop ringing (CANCEL); the attempt ends through `failed`. */
  cancel(reason: CancelReason): void {
    if (this.#ended || this.record.status === 'in-progress') return;
    this.#cancelReason ??= reason;
    this.uac.cancel();
  }

  /** Hang up an answered child (or cancel a ringing one); resolves when its BYE is answered. */
  hangup(): Promise<void> {
    if (this.#hangup) return this.#hangup;
    if (this.#ended) return Promise.resolve();
    if (this.record.status !== 'in-progress') {
      this.cancel('canceled');
      return Promise.resolve();
    }
    this.#ended = true;
    this.#hangup = this.uac.bye().then((response) => {
      if (response) this.lastMessage = response;
      this.#finish('completed');
    });
    return this.#hangup;
  }

  /** End the child from outside (REST API): cancel it while it rings, hang it up once answered. */
  async end(): Promise<void> {
    if (this.record.status !== 'in-progress') {
      this.cancel('canceled');
      return;
    }
    await this.hangup();
    this.#events.hungUp(this, undefined);
  }

  #finish(final: CallStatus): void {
    this.#ended = true;
    this.#ctx.live.untrackChild(this);
    if (this.uac.dialog) this.#ctx.registry.remove(this.uac.dialog);
    if (this.#finished) return;
    this.#finished = true;
    this.#set(final, { sipResponseCode: this.sipStatus || undefined });
    this.#fire('completed', () => ({ CallDuration: String(this.record.duration ?? 0), SipResponseCode: String(this.sipStatus || '') }));
  }

  #set(status: CallStatus, patch: Partial<CallRecord> = {}): void {
    this.#ctx.store.update(this.sid, status, patch);
  }

  /** Report `event` when it is wanted; `extra` builds its parameters only then. */
  #fire(event: StatusCallbackEvent, extra?: () => Params): void {
    if (!this.#status.wants(event)) return;
    const params: Params = { SipCallId: this.record.sipCallId ?? '' };
    void this.#status.fire(event, this.record, addParams(params, extra?.()));
  }

  onRequest(side: 'a' | 'b', tx: ServerTx, request: MessageView): void {
    this.guard(`in-dialog ${tx.method}`, () => this.#onRequest(side, tx, request));
  }

  #onRequest(_side: 'a' | 'b', tx: ServerTx, request: MessageView): void {
    const dialog = this.uac.dialog;
    if (!dialog || !dialog.acceptRemoteSeq(request.cseqNumber, tx.method)) {
      tx.respond(tx.createResponse(500, 'Server Internal Error', { headers: [['Retry-After', '1']] }));
      return;
    }
    if (tx.method === 'BYE') {
      tx.respond(tx.createResponse(200, 'OK'));
      this.lastMessage = request;
      this.uac.ended();
      this.#finish('completed');
      this.#events.hungUp(this, request);
      return;
    }
    this.#events.request(this, tx, request);
  }

  onAck(_side: 'a' | 'b', ack: MessageView): void {
    this.guard('ACK', () => this.#events.ack(this, ack));
  }

  onStrayResponse(response: MessageView): void {
    this.guard('2xx retransmission', () => { if (response.cseqMethod === 'INVITE') this.uac.ackRetransmission(response); });
  }
}
