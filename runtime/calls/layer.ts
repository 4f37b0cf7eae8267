/**
 * CallLayer: inbound calls run the configured TwiML application; the REST
 * API's originate/redirect/end act on live calls (CallControl). Whatever a
 * call does runs under that call's guard: an exception ends that call
 * (logged, record failed, completed callback) and reaches neither the SIP
 * stack nor the REST API, which answers with the call's record.
 */
import type { MessageView } from '../wasm/message-view.js';
import type { ServerTx } from '../transaction/server-tx.js';
import { newTag } from '../sip/ids.js';
import { UasLeg } from '../dialog/uas-leg.js';
import { legContext } from '../dialog/leg-context.js';
import { uriOf } from '../dialog/target.js';
import type { CallContext } from './context.js';
import type { CallControl, ControlResult, OriginateRequest } from './control.js';
import { InboundParent } from './parent.js';
import { sipHost, xHeaderParams, type Params } from './params.js';
import { newCallRecord, type CallRecord } from './record.js';
import { CallSession } from './session.js';
import { newSid } from './sid.js';
import { originate } from './originate.js';
import { describeFault } from '../dialog/fault.js';
import type { LiveSession } from './live.js';

/** Inbound TwiML calls and call control. */
export class CallLayer implements CallControl {
  readonly ctx: CallContext;

  constructor(ctx: CallContext) {
    this.ctx = ctx;
  }

  /** Live TwiML calls (REST-created ones that still ring included). */
  get size(): number {
    return this.ctx.live.size;
  }

  /** Cancel every REST-created call that still rings (drain). */
  cancelRinging(): void {
    this.ctx.live.cancelRinging();
  }

  /** Every live session (drain). */
  sessions(): LiveSession[] {
    return this.ctx.live.sessions();
  }

  /** An admitted inbound INVITE: ring, fetch the voice URL, run the TwiML. */
  inbound(tx: ServerTx, request: MessageView): void {
    const ctx = this.ctx;
    const voiceUrl = ctx.config.voiceUrl!;
    const onSendError = (error: unknown, what: string): void => ctx.log.warn('message not sent', { callId: request.callId ?? '', what, error: describeFault(error) });
    const uas = new UasLeg(legContext(ctx, ctx.contactFor(tx.source.transport), { onSendError }), tx, newTag());
    const parent = new InboundParent(uas);
    const now = Date.now();
    const record = newCallRecord({
      sid: newSid('CA'), accountSid: ctx.config.accountSid, direction: 'inbound',
      from: uriOf(request.header('From') ?? ''), to: request.requestUri ?? '',
      status: 'ringing', dateCreated: now, sipCallId: request.callId ?? '',
      // the CDR's start line carries it: a restart after a crash sends the call's completed callback
      statusCallback: ctx.config.statusCallback ? { url: ctx.config.statusCallback, method: ctx.config.statusCallbackMethod, events: ['completed'] } : undefined,
    });
    ctx.store.create(record);
    const params: Params = {
      SipCallId: request.callId ?? '',
      SipDomain: sipHost(ctx.parser, record.to),
      SipDomainSid: ctx.config.sipDomainSid,
      SipSourceIp: tx.source.host,
    };
    const session = new CallSession(ctx, record, parent, params, (s) => ctx.live.forget(s));
    ctx.live.adopt(session);
    session.guard('inbound INVITE', () => {
      xHeaderParams(request, 'SipHeader_', params);
      tx.on('cancel', () => session.cancelled());
      // Twilio rings the caller while it fetches the TwiML (answerOnBridge, https://www.twilio.com/docs/voice/twiml/dial)
      parent.provisional(180, 'Ringing');
      const c = ctx.config;
      void session.run({ url: voiceUrl, method: c.voiceMethod, params, fallback: c.fallbackUrl ? { url: c.fallbackUrl, method: c.fallbackMethod } : undefined });
    });
  }

  originate(request: OriginateRequest): Promise<ControlResult<CallRecord>> {
    return originate(this.ctx, request);
  }

  redirect(sid: string, source: { url: string; method: 'GET' | 'POST' } | { twiml: string }): ControlResult<CallRecord> {
    const session = this.ctx.live.session(sid);
    const child = session ? undefined : this.ctx.live.child(sid);
    if (child) {
      let redirected = false;
      child.guard('REST redirect', () => { redirected = child.redirect(source); });
      if (redirected) return { ok: true, value: child.record };
      return { ok: false, error: { code: 21220, message: `Call ${sid} is a <Dial> leg that is not connected (${child.status}): it cannot be redirected yet`, status: 400 } };
    }
    if (!session) {
      const known = this.ctx.store.get(sid);
      if (known) return { ok: false, error: { code: 21220, message: `Call ${sid} is not in-progress. Cannot redirect.`, status: 400 } };
      return this.#notLive(sid);
    }
    session.redirect('twiml' in source ? source : { url: source.url, method: source.method });
    return { ok: true, value: session.record };
  }

  end(sid: string, status: 'completed' | 'canceled'): ControlResult<CallRecord> {
    const ringing = this.ctx.live.cancelOf(sid);
    if (ringing) {
      ringing();
      return { ok: true, value: this.ctx.store.get(sid)! };
    }
    const session = this.ctx.live.session(sid);
    const child = session ? undefined : this.ctx.live.child(sid);
    if (child) {
      if (status === 'completed' || child.status !== 'in-progress') child.guard('REST hang-up', () => { void child.end().catch((e: unknown) => child.guard('REST hang-up', () => { throw e; })); });
      return { ok: true, value: child.record };
    }
    if (!session) return this.#notLive(sid);
    if (status === 'canceled' && session.parent.answered) return { ok: true, value: session.record };
    session.hangup(status === 'canceled' ? 'canceled' : 'completed');
    return { ok: true, value: session.record };
  }

  #notLive(sid: string): ControlResult<CallRecord> {
    const known = this.ctx.store.get(sid);
    if (known) return { ok: true, value: known };
    return { ok: false, error: { code: 20404, message: `The requested resource /Calls/${sid}.json was not found`, status: 404 } };
  }
}
