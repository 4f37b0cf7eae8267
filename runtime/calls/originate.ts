/**
 * REST-created calls (POST Calls.json, Direction outbound-api): Patchbay
 * calls `To` with a hold offer; once it answers, the call runs the TwiML
 * from `Url` (or `Twiml`) like an inbound call whose caller is the callee.
 * Status callbacks follow StatusCallbackEvent (completed by default).
 */
import type { MessageView } from '../wasm/message-view.js';
import type { HeaderField } from '../sip/message.js';
import { newCallId, newTag } from '../sip/ids.js';
import { validateSipTarget } from '../sip/sip-target.js';
import { sipUriHostPort, unbracket, withoutUriParams, NO_URI_LIMITS } from '../sip/uri.js';
import { UacLeg } from '../dialog/uac-leg.js';
import { uriOf } from '../dialog/target.js';
import { legContext } from '../dialog/leg-context.js';
import type { DialogHandler } from '../dialog/registry.js';
import type { ServerTx } from '../transaction/server-tx.js';
import type { TimerHandle } from '../transport/clock.js';
import type { ControlResult, OriginateRequest } from './control.js';
import type { CallContext } from './context.js';
import { OutboundParent } from './parent.js';
import { API_VERSION, sipHost, sipUser } from './params.js';
import { newCallRecord, type CallRecord, type CallStatus } from './record.js';
import { holdOffer } from './sdp.js';
import { CallSession } from './session.js';
import { newSid } from './sid.js';
import { StatusReporter } from './status-callbacks.js';

/** Routes in-dialog messages to the session once it exists. */
class Relay implements DialogHandler {
  session: CallSession | undefined;
  uac: UacLeg | undefined;
  onRequest(side: 'a' | 'b', tx: ServerTx, request: MessageView): void {
    if (this.session) this.session.onRequest(side, tx, request);
    else tx.respond(tx.createResponse(481, 'Call/Transaction Does Not Exist'));
  }
  onAck(side: 'a' | 'b', ack: MessageView): void {
    this.session?.onAck(side, ack);
  }
  onStrayResponse(response: MessageView): void {
    if (response.cseqMethod === 'INVITE') this.uac?.ackRetransmission(response);
  }
}

/** Start an outbound-api call. */
export function originate(ctx: CallContext, request: OriginateRequest): Promise<ControlResult<CallRecord>> {
  const live = ctx.live;
  const checked = validateSipTarget(ctx.parser, request.to);
  if (!checked.ok) return Promise.resolve({ ok: false, error: { code: 21210, message: `To "${request.to}" is not a valid SIP URI: ${checked.error.message}`, status: 400 } });
  if (!request.url && !request.twiml) return Promise.resolve({ ok: false, error: { code: 21205, message: 'Url or Twiml is required', status: 400 } });
  const host = unbracket(checked.host);
  const destination = { transport: checked.transport, host, port: checked.effectivePort };
  const contact = ctx.contactFor(destination.transport);
  const ourUri = uriOf(contact);
  const ourHost = sipUriHostPort(ctx.parser, ourUri, NO_URI_LIMITS) ?? '127.0.0.1';
  const ip = unbracket(sipHost(ctx.parser, ourUri) || '127.0.0.1');
  // From: a SIP URI's user, else the From as a number (a phone number or a client name)
  const fromUser = sipUser(ctx.parser, request.from) ?? request.from.replace(/[^A-Za-z0-9+\-_.,]/g, '');
  const sid = newSid('CA');
  const callId = newCallId();
  const now = Date.now();
  const callback = request.statusCallback
    ? { url: request.statusCallback, method: request.statusCallbackMethod ?? 'POST', events: request.statusCallbackEvent?.length ? request.statusCallbackEvent : ['completed' as const] }
    : undefined;
  const record = newCallRecord({
    sid, accountSid: ctx.config.accountSid, direction: 'outbound-api', from: request.from, to: checked.uri,
    status: 'queued', dateCreated: now, sipCallId: callId, statusCallback: callback,
  });
  const headers: HeaderField[] = [
    ['Max-Forwards', '70'],
    ['From', `<sip:${fromUser || 'patchbay'}@${ourHost}>;tag=${newTag()}`],
    ['To', `<${checked.uri}>`],
    ['Call-ID', callId],
    ['CSeq', '1 INVITE'],
    ['Contact', contact],
    ['X-Twilio-AccountSid', record.accountSid],
    ['X-Twilio-CallSid', sid],
    ['X-Twilio-ApiVersion', API_VERSION],
    ...checked.headers.map((h): HeaderField => [h.name, h.value]),
    ['Content-Type', 'application/sdp'],
  ];
  const status = new StatusReporter(ctx.webhooks, callback, (code, message) => ctx.alert(sid, 'warning', code, message));
  const relay = new Relay();
  const ring: { timer?: TimerHandle } = {};
  let timedOut = false;
  let canceled = false;
  const finish = (final: CallStatus, code: number): void => {
    if (ring.timer !== undefined) ctx.clock.clearTimeout(ring.timer);
    const r = ctx.store.update(sid, final, { sipResponseCode: code }) ?? record;
    void status.fire('completed', r, { CallDuration: '0', SipResponseCode: String(code) });
  };
  const uac = new UacLeg(
    legContext(ctx, contact, { credentials: request.sipAuthUsername ? { username: request.sipAuthUsername, password: request.sipAuthPassword ?? '' } : undefined }),
    { method: 'INVITE', uri: withoutUriParams(ctx.parser, checked.uri, ['region', 'edge']), headers, body: holdOffer(ip) },
    destination,
    {
      provisional: () => {
        if (ctx.store.get(sid)?.status === 'initiated') {
          ctx.store.update(sid, 'ringing');
          void status.fire('ringing', record);
        }
      },
      answered: (r) => {
        live.settled(sid);
        if (ring.timer !== undefined) ctx.clock.clearTimeout(ring.timer);
        ctx.registry.add(uac.dialog!, relay, 'a');
        ctx.store.update(sid, 'in-progress', { sipResponseCode: r.statusCode });
        void status.fire('answered', record);
        const session = new CallSession(ctx, record, new OutboundParent(uac), {}, (s) => {
          live.forget(s);
          ctx.registry.remove(uac.dialog!);
        }, status);
        relay.session = session;
        live.adopt(session);
        void session.run(request.twiml !== undefined ? { twiml: request.twiml } : { url: request.url!, method: request.method ?? 'POST' });
      },
      failed: (code) => {
        live.settled(sid);
        let final: CallStatus = 'failed';
        if (canceled) final = 'canceled';
        else if (timedOut || code === 408 || code === 480 || code === 487) final = 'no-answer';
        else if (code === 486 || code === 600) final = 'busy';
        finish(final, code);
      },
    },
  );
  relay.uac = uac;
  ctx.store.create(record);
  ctx.store.update(sid, 'initiated');
  void status.fire('initiated', record);
  ring.timer = ctx.clock.setTimeout(() => { timedOut = true; uac.cancel(); }, (request.timeout ?? 60) * 1000);
  live.ringing(sid, () => { canceled = true; uac.cancel(); });
  try {
    uac.start();
  } catch (e) {
    // the INVITE cannot be built (a value the serializer refuses): the call failed before it rang
    live.settled(sid);
    ctx.alert(sid, 'error', 13224, `INVITE to ${checked.uri} not sent: ${(e as Error).message}`);
    finish('failed', 0);
  }
  return Promise.resolve({ ok: true, value: { ...record, status: 'queued' } });
}
