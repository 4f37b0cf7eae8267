/**
 * The B2BUA in-dialog relay (runtime/dialog/relay.ts) as both of its users
 * run it: the static-route Bridge and a TwiML `<Dial>`'s Link, each over
 * the loop transport with a fake clock, between two scripted SIP parties.
 * Every test runs against both and checks what the parties see on the wire:
 * each relayed header field in a request and in its answer, each in-dialog
 * method in both directions, the ACK of a relayed re-INVITE's 2xx, the end
 * of both legs when that ACK never comes (RFC 3261 §13.3.1.4) and when a
 * relayed request gets 408, 481 or no answer (RFC 3261 §12.2.1.2).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Bridge } from '../../../runtime/dialog/bridge.js';
import { DialogRegistry, type DialogHandler } from '../../../runtime/dialog/registry.js';
import { RELAYED_HEADERS } from '../../../runtime/dialog/relay.js';
import type { HeaderField } from '../../../runtime/sip/message.js';
import { LoopNetwork } from '../../../runtime/transport/loop.js';
import { T1 } from '../../../runtime/transaction/timers.js';
import { startCallStack } from '../../support/call-stack.js';
import { FakeClock } from '../../support/fake-clock.js';
import { SipParty, bodyText, mediaPortOf, sdpOf, type PartyDialog } from '../../support/sip-party.js';
import { loopStack, startLine, type LoopStack } from '../../support/sip-stack.js';

const CALLER_PORT = 5070;
const CALLEE_PORT = 5080;
const encoder = new TextEncoder();

/** Two parties with a call up through Patchbay. */
interface Rig {
  readonly caller: SipParty;
  readonly callee: SipParty;
  /** The caller's dialog with Patchbay. */
  readonly callerDialog: PartyDialog;
  /** The callee's dialog with Patchbay. */
  readonly calleeDialog: PartyDialog;
  readonly clock: FakeClock;
  /** Patchbay's stack (what it sends: `patchbay.transport`). */
  readonly patchbay: LoopStack;
  /** Move the fake clock until `done()` (bounded). */
  until(done: () => boolean, what: string): Promise<void>;
  /** Dialogs Patchbay still has. */
  dialogs(): number;
  close(): Promise<void>;
}

/** Wait until the caller is answered and the callee has our ACK. */
async function callUp(until: Rig['until'], caller: SipParty, callee: SipParty, uri: string): Promise<{ callerDialog: PartyDialog; calleeDialog: PartyDialog }> {
  const call = caller.call(uri);
  await until(() => call.status !== 0 && (callee.incoming[0]?.dialog.requests('ACK').length ?? 0) > 0, 'the call is up');
  expect(call.status).toBe(200);
  return { callerDialog: call.dialog!, calleeDialog: callee.incoming[0]!.dialog };
}

/** The static-route Bridge, wired to its transaction layer as runtime/daemon.ts wires it. */
async function bridgeRig(): Promise<Rig> {
  const clock = new FakeClock();
  const network = new LoopNetwork({ clock });
  const pb = await loopStack(network, { port: 5060 });
  const stacks: LoopStack[] = [pb];
  const registry = new DialogRegistry<DialogHandler>();
  pb.tx.onRequest((tx, request) => {
    if (request.toTag) {
      const owner = registry.forRequest(request);
      if (owner) owner.bridge.onRequest(owner.side, tx, request);
      else tx.respond(tx.createResponse(481, 'Call/Transaction Does Not Exist'));
      return;
    }
    const bridge = new Bridge({
      transactions: pb.tx, transport: pb.layer, clock, registry, contactFor: () => '<sip:patchbay@127.0.0.1:5060>',
      ringTimeoutMs: 60_000, onEnded: () => undefined,
    }, tx, `sip:callee@127.0.0.1:${CALLEE_PORT}`);
    bridge.start();
  });
  pb.tx.onAck((ack) => { const o = registry.forRequest(ack); o?.bridge.onAck(o.side, ack); });
  pb.tx.onStrayResponse((r) => { const o = registry.forResponse(r); o?.bridge.onStrayResponse(r); });
  const party = async (name: string, port: number): Promise<SipParty> => {
    const stack = await loopStack(network, { port });
    stacks.push(stack);
    return new SipParty(name, stack, pb.address, clock);
  };
  const caller = await party('caller', CALLER_PORT);
  const callee = await party('callee', CALLEE_PORT);
  const until: Rig['until'] = async (done, what) => {
    for (let i = 0; i < 8000 && !done(); i++) await clock.advance(50);
    if (!done()) throw new Error(`not reached: ${what}`);
  };
  const up = await callUp(until, caller, callee, 'sip:callee@127.0.0.1:5060');
  return {
    caller, callee, ...up, clock, until, patchbay: pb,
    dialogs: () => registry.size,
    async close() { for (const s of stacks) await s.layer.close(); },
  };
}

/** A TwiML call whose `<Dial>` connected the callee: the Link relays. */
async function linkRig(): Promise<Rig> {
  const stack = await startCallStack({
    routes: { '/voice': `<Response><Dial answerOnBridge="true"><Sip>sip:callee@127.0.0.1:${CALLEE_PORT}</Sip></Dial></Response>` },
  });
  const caller = await stack.party('caller', CALLER_PORT);
  const callee = await stack.party('callee', CALLEE_PORT);
  const up = await callUp((d, w) => stack.until(d, w), caller, callee, stack.uri('support'));
  // the link is made once the caller's ACK is in: the same microtasks as that ACK, run by one more step
  await stack.clock.advance(50);
  return {
    caller, callee, ...up, clock: stack.clock, patchbay: stack.patchbay,
    until: (d, w) => stack.until(d, w),
    dialogs: () => stack.stats().dialogs,
    close: () => stack.close(),
  };
}

const RIGS: Record<'Bridge' | 'Link', () => Promise<Rig>> = { Bridge: bridgeRig, Link: linkRig };

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
});

/** Which way a request goes: from the caller's leg to the callee's, or back. */
type Direction = 'caller to callee' | 'callee to caller';
const DIRECTIONS: Direction[] = ['caller to callee', 'callee to caller'];

function ends(r: Rig, direction: Direction): { from: PartyDialog; to: SipParty; toDialog: PartyDialog; fromParty: SipParty } {
  return direction === 'caller to callee'
    ? { from: r.callerDialog, fromParty: r.caller, to: r.callee, toDialog: r.calleeDialog }
    : { from: r.calleeDialog, fromParty: r.callee, to: r.caller, toDialog: r.callerDialog };
}

/** Each relayed header, the value it is tested with, and an in-dialog request it belongs on. */
const HEADERS: Array<{ name: string; value: string; method: string; body?: { type: string; text: string } }> = [
  { name: 'Content-Disposition', value: 'signal;handling=optional', method: 'INFO', body: { type: 'application/dtmf-relay', text: 'Signal=5\r\nDuration=160\r\n' } },
  { name: 'Content-Encoding', value: 'identity', method: 'MESSAGE', body: { type: 'text/plain', text: 'hello' } },
  { name: 'Content-Language', value: 'en', method: 'MESSAGE', body: { type: 'text/plain', text: 'hello' } },
  { name: 'Supported', value: 'timer, replaces', method: 'UPDATE' },
  { name: 'Require', value: 'timer', method: 'UPDATE' },
  { name: 'Session-Expires', value: '1800;refresher=uac', method: 'UPDATE' },
  { name: 'Min-SE', value: '90', method: 'UPDATE' },
  { name: 'Replaces', value: 'abc@127.0.0.1;to-tag=a;from-tag=b', method: 'INVITE' },
  { name: 'Refer-To', value: '<sip:carol@127.0.0.1:5090>', method: 'NOTIFY' },
  { name: 'Referred-By', value: '<sip:alice@127.0.0.1:5070>', method: 'NOTIFY' },
  { name: 'Allow', value: 'INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE', method: 'OPTIONS' },
  { name: 'Accept', value: 'application/sdp', method: 'OPTIONS' },
  { name: 'Allow-Events', value: 'talk, hold', method: 'OPTIONS' },
  { name: 'Event', value: 'refer;id=7', method: 'NOTIFY', body: { type: 'message/sipfrag', text: 'SIP/2.0 200 OK\r\n' } },
  { name: 'Subscription-State', value: 'terminated;reason=noresource', method: 'NOTIFY', body: { type: 'message/sipfrag', text: 'SIP/2.0 200 OK\r\n' } },
  { name: 'Reason', value: 'SIP;cause=200;text="Call completed elsewhere"', method: 'UPDATE' },
  { name: 'Info-Package', value: 'dtmf', method: 'INFO', body: { type: 'application/dtmf-relay', text: 'Signal=5\r\nDuration=160\r\n' } },
  { name: 'Recv-Info', value: 'dtmf', method: 'INVITE' },
  { name: 'X-Custom-Id', value: 'abc-123', method: 'INFO' },
];

/** The request's options for `header` (its body, SDP on a re-INVITE). */
function optionsFor(h: (typeof HEADERS)[number], port: number): { headers: HeaderField[]; body?: Uint8Array; contentType?: string } {
  if (h.method === 'INVITE') return { headers: [[h.name, h.value]], body: sdpOf('offer', port, 2) };
  if (h.body) return { headers: [[h.name, h.value]], body: encoder.encode(h.body.text), contentType: h.body.type };
  return { headers: [[h.name, h.value]] };
}

describe.each(Object.keys(RIGS) as Array<keyof typeof RIGS>)('%s relays in-dialog requests', (kind) => {
  async function rig(): Promise<Rig> {
    const r = await RIGS[kind]();
    rigs.push(r);
    return r;
  }

  it('the test list covers every relayed header but Content-Type (tested with the body)', () => {
    expect(new Set(['Content-Type', ...HEADERS.map((h) => h.name.startsWith('X-') ? undefined : h.name).filter(Boolean)])).toEqual(new Set(RELAYED_HEADERS));
  });

  describe.each(HEADERS)('$name', (h) => {
    it.each(DIRECTIONS)(`in a ${h.method} request (%s)`, async (direction) => {
      const r = await rig();
      const { from, to, fromParty } = ends(r, direction);
      const response = await runUntil(r, from.request(h.method, optionsFor(h, fromParty.stack.address.port)));
      expect(response?.statusCode).toBe(200);
      const got = to.requests(h.method).at(-1);
      // a comma list may arrive as one field or as several (RFC 3261 §7.3.1): the same to the receiver
      expect(got?.headers(h.name).join(', ')).toBe(h.value);
    });

    it.each(DIRECTIONS)(`in the answer to a ${h.method} (%s)`, async (direction) => {
      const r = await rig();
      const { from, to, fromParty } = ends(r, direction);
      to.replies.set(h.method, { status: 200, headers: [[h.name, h.value]] });
      const response = await runUntil(r, from.request(h.method, optionsFor({ ...h, name: 'X-Carrier', value: '1' }, fromParty.stack.address.port)));
      expect(response?.statusCode).toBe(200);
      expect(response?.headers(h.name).join(', ')).toBe(h.value);
    });
  });

  describe('Content-Type and the body', () => {
    it.each(DIRECTIONS)('an INFO body goes across with its Content-Type (%s)', async (direction) => {
      const r = await rig();
      const { from, to } = ends(r, direction);
      const response = await runUntil(r, from.request('INFO', { body: encoder.encode('Signal=7\r\nDuration=160\r\n'), contentType: 'application/dtmf-relay' }));
      expect(response?.statusCode).toBe(200);
      const got = to.requests('INFO').at(-1)!;
      expect(got.header('Content-Type')).toBe('application/dtmf-relay');
      expect(bodyText(got)).toBe('Signal=7\r\nDuration=160\r\n');
    });

    it.each(DIRECTIONS)('the SDP answer of a re-INVITE comes back with its Content-Type (%s)', async (direction) => {
      const r = await rig();
      const { from, to, fromParty } = ends(r, direction);
      const response = await runUntil(r, from.request('INVITE', { body: sdpOf(fromParty.name, fromParty.stack.address.port, 2) }));
      expect(response?.statusCode).toBe(200);
      expect(response?.header('Content-Type')).toBe('application/sdp');
      expect(mediaPortOf(response!.body)).toBe(to.mediaPort);
      expect(mediaPortOf(to.requests('INVITE').at(-1)!.body)).toBe(fromParty.mediaPort);
    });
  });

  it.each(DIRECTIONS)('each leg keeps its own Via, Call-ID, From, To, CSeq, Contact and Max-Forwards; other fields stay behind (%s)', async (direction) => {
    const r = await rig();
    const { from, to, toDialog } = ends(r, direction);
    const response = await runUntil(r, from.request('UPDATE', {
      headers: [['User-Agent', 'secret-phone/1.0'], ['Subject', 'private'], ['P-Asserted-Identity', '<sip:boss@example.com>'], ['Record-Route', '<sip:proxy.example.com;lr>']],
    }));
    expect(response?.statusCode).toBe(200);
    // our answer carries our Contact, not the far end's (RFC 3311 §5.2)
    expect(response?.header('Contact')).toContain('patchbay@127.0.0.1:5060');
    const got = to.requests('UPDATE').at(-1)!;
    expect(got.callId).toBe(toDialog.callId);
    expect(got.toTag).toBe(toDialog.localTag);
    expect(got.fromTag).toBe(toDialog.remoteTag);
    expect(got.header('Via')).toContain('127.0.0.1:5060');
    expect(got.headers('Via')).toHaveLength(1);
    expect(got.header('Max-Forwards')).toBe('70');
    expect(got.header('Contact')).toContain('patchbay@127.0.0.1:5060');
    for (const name of ['User-Agent', 'Subject', 'P-Asserted-Identity', 'Record-Route']) expect(got.header(name), name).toBeUndefined();
  });

  describe.each(DIRECTIONS)('%s', (direction) => {
    it.each(['UPDATE', 'INFO', 'MESSAGE', 'OPTIONS', 'NOTIFY'])('%s goes across and its final status comes back', async (method) => {
      const r = await rig();
      const { from, to } = ends(r, direction);
      to.replies.set(method, 202);
      const response = await runUntil(r, from.request(method));
      expect(response?.statusCode).toBe(202);
      expect(to.requests(method)).toHaveLength(1);
      // the call is still up: a later request goes across too
      to.replies.set(method, 200);
      expect((await runUntil(r, from.request(method)))?.statusCode).toBe(200);
      expect(to.requests(method)).toHaveLength(2);
    });

    it('a re-INVITE goes across, its 2xx is ACKed on the far leg, and the call stays up past 64·T1', async () => {
      const r = await rig();
      const { from, to, toDialog, fromParty } = ends(r, direction);
      const acksBefore = toDialog.requests('ACK').length;
      const response = await runUntil(r, from.request('INVITE', { body: sdpOf(fromParty.name, fromParty.stack.address.port, 2) }));
      expect(response?.statusCode).toBe(200);
      expect(response?.header('Contact')).toContain('patchbay@127.0.0.1:5060');
      await r.until(() => toDialog.requests('ACK').length > acksBefore, 'the far leg gets the ACK of its 2xx');
      await r.clock.advance(70 * T1);
      expect(to.requests('BYE')).toHaveLength(0);
      expect(fromParty.requests('BYE')).toHaveLength(0);
      expect(r.dialogs()).toBe(2);
    });

    it('a re-INVITE the far leg answers 488 gets 488, and the call stays up', async () => {
      const r = await rig();
      const { from, to, fromParty } = ends(r, direction);
      to.replies.set('INVITE', 488);
      const response = await runUntil(r, from.request('INVITE', { body: sdpOf(fromParty.name, fromParty.stack.address.port, 2) }));
      expect(response?.statusCode).toBe(488);
      await r.clock.advance(70 * T1);
      expect(to.requests('BYE')).toHaveLength(0);
      expect(r.dialogs()).toBe(2);
    });

    it('BYE is answered 200 and the far leg gets BYE; no dialog is left', async () => {
      const r = await rig();
      const { from, to } = ends(r, direction);
      expect(await runUntil(r, from.bye())).toBe(200);
      await r.until(() => to.requests('BYE').length === 1, 'the far leg gets BYE');
      await r.until(() => r.dialogs() === 0, 'no dialog left');
    });

    it('the 2xx of a relayed re-INVITE never ACKed within 64·T1 ends both legs (RFC 3261 §13.3.1.4)', async () => {
      const r = await rig();
      const { from, to, fromParty } = ends(r, direction);
      fromParty.stack.transport.discardWhen((bytes) => startLine(bytes).startsWith('ACK '));
      const response = await runUntil(r, from.request('INVITE', { body: sdpOf(fromParty.name, fromParty.stack.address.port, 2) }));
      expect(response?.statusCode).toBe(200);
      const answeredAt = r.clock.now();
      await r.until(() => to.requests('BYE').length === 1 && fromParty.requests('BYE').length === 1, 'both legs get BYE');
      expect(r.clock.now() - answeredAt).toBeGreaterThanOrEqual(64 * T1 - 50);
      await r.until(() => r.dialogs() === 0, 'no dialog left');
    });

    it.each([408, 481])('a relayed INFO answered %i ends both legs (RFC 3261 §12.2.1.2)', async (status) => {
      const r = await rig();
      const { from, to, fromParty } = ends(r, direction);
      to.replies.set('INFO', status);
      const response = await runUntil(r, from.request('INFO', { body: encoder.encode('Signal=1\r\n'), contentType: 'application/dtmf-relay' }));
      expect(response?.statusCode).toBe(status);
      await r.until(() => fromParty.requests('BYE').length === 1 && to.requests('BYE').length === 1, 'both legs get BYE');
      await r.until(() => r.dialogs() === 0, 'no dialog left');
    });

    it('a relayed re-INVITE lost on the way (no answer at all) gets 408, and both legs end (RFC 3261 §12.2.1.2)', async () => {
      const r = await rig();
      const { from, to, fromParty } = ends(r, direction);
      const lost = to.stack.address.port;
      r.patchbay.transport.discardWhen((bytes, d) => d.port === lost && startLine(bytes).startsWith('INVITE '));
      const response = await runUntil(r, from.request('INVITE', { body: sdpOf(fromParty.name, fromParty.stack.address.port, 2) }));
      expect(response?.statusCode).toBe(408);
      await r.until(() => fromParty.requests('BYE').length === 1 && to.requests('BYE').length === 1, 'both legs get BYE');
      await r.until(() => r.dialogs() === 0, 'no dialog left');
    });
  });
});

/** Run the rig's clock until `promise` settles; resolve with its value. */
async function runUntil<T>(r: Rig, promise: Promise<T>): Promise<T> {
  let done = false;
  let value!: T;
  void promise.then((v) => { value = v; done = true; });
  await r.until(() => done, 'the request is answered');
  return value;
}
