/**
 * A TwiML call over the loop transport with a fake clock: Patchbay's call
 * layer wired as the daemon wires it, a caller and a dialled party on
 * their own stacks, and a real HTTP server on loopback as the web
 * application. Faults are injected below the call layer: a message whose
 * building the test picks throws SipBuildError, as the serializer does for
 * a value it refuses.
 */
import { CallLayer } from '../../../runtime/calls/layer.js';
import type { CallContext } from '../../../runtime/calls/context.js';
import { CallStore } from '../../../runtime/calls/store.js';
import { LiveCalls } from '../../../runtime/calls/live.js';
import { defaultConfig } from '../../../runtime/config.js';
import { Dialog } from '../../../runtime/dialog/dialog.js';
import { DialogRegistry, type DialogHandler } from '../../../runtime/dialog/registry.js';
import { UacLeg, sendInDialog } from '../../../runtime/dialog/uac-leg.js';
import { createLogger } from '../../../runtime/log.js';
import { createRequest } from '../../../runtime/sip/build.js';
import { LoopNetwork } from '../../../runtime/transport/loop.js';
import { cachedTwimlParser } from '../../../runtime/twiml/cache.js';
import { parseTwiml } from '../../../runtime/twiml/parse.js';
import type { MessageView } from '../../../runtime/wasm/message-view.js';
import type { CallRecord } from '../../../runtime/calls/record.js';
import { createWebhookClient, type WebhookClient } from '../../../runtime/webhooks/client.js';
import { FakeClock } from '../../support/fake-clock.js';
import { loopStack, startLine, type LoopStack } from '../../support/sip-stack.js';
import { parserFor } from '../../support/wasm.js';
import { faulty, faultyServerTx, type Faults } from '../../support/faults.js';
import { startWebApp } from '../../support/web-app.js';

export type { Faults };

export const PATCHBAY = { transport: 'udp' as const, host: '127.0.0.1', port: 5060 };
export const CALLER_PORT = 5070;
export const CALLEE_PORT = 5080;
const SDP = (port: number): Uint8Array => new TextEncoder().encode(`v=0\r\no=- ${port} 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port + 10000} RTP/AVP 0\r\n`);

/** What Patchbay sent to the party on `port`, by start line ("BYE sip:…", "SIP/2.0 500 …"). */
export function sentTo(rig: { pb: LoopStack }, port: number): string[] {
  return rig.pb.transport.sent.filter((r) => r.destination.port === port).map((r) => startLine(r.bytes));
}

/** The dialled party: answers INVITEs by `answer`, keeps its dialog so it can send in-dialog requests. */
export interface Callee {
  /** The dialog of the answered call. */
  dialog: Dialog | undefined;
  acks: number;
  byes: number;
  cancels: number;
  /** Send an in-dialog request to Patchbay on `dialog` (default: the last one); resolves with the status (0: none). */
  request(method: string, body?: Uint8Array, headers?: Array<[string, string]>, dialog?: Dialog): Promise<number>;
}

/** A rig. */
export interface Rig {
  clock: FakeClock;
  pb: LoopStack;
  caller: LoopStack;
  callee: LoopStack;
  calleeUa: Callee;
  layer: CallLayer;
  ctx: CallContext;
  registry: DialogRegistry<DialogHandler>;
  store: CallStore;
  /** Requests the web application received, by path. */
  webhooks: Array<{ path: string; params: URLSearchParams }>;
  /** Errors logged by Patchbay. */
  errors: Array<{ msg: string; fields: Record<string, unknown> }>;
  /** Place a call from the caller (INVITE with SDP); `status` is the caller's final status once there is one. */
  call(): CallerUa;
  /** Run the clock and the real event loop until `done()` (bounded). */
  until(done: () => boolean, what: string): Promise<void>;
  close(): Promise<void>;
}

/** The caller. */
export interface CallerUa {
  leg: UacLeg;
  /** Final status of its INVITE (0 until there is one). */
  status: number;
  byes: number;
  /** Send BYE on the answered call. */
  hangup(): Promise<void>;
}

/**
 * @param twiml  the web application: path → TwiML (the voice URL is /voice)
 * @param faults which of Patchbay's messages cannot be built
 */
export async function callRig(twiml: Record<string, string>, faults: Faults = {}, callee: { answer?: boolean; reinviteAnswer?: boolean } = {}): Promise<Rig> {
  const clock = new FakeClock();
  const network = new LoopNetwork({ clock });
  const pb = await loopStack(network, { port: PATCHBAY.port });
  const caller = await loopStack(network, { port: CALLER_PORT });
  const calleeStack = await loopStack(network, { port: CALLEE_PORT });
  const app = await startWebApp('token', twiml, { unrouted: '<Response/>' });
  let pendingHttp = 0;
  const base = app.base;
  const config = { ...defaultConfig().twiml, voiceUrl: `${base}/voice`, statusCallback: `${base}/status`, authToken: 'token' };
  const client = createWebhookClient({ accountSid: config.accountSid, authToken: 'token' });
  // the fake clock stands still while a webhook is in flight (its time is real)
  const webhookClient: WebhookClient = {
    request: async (r) => { pendingHttp++; try { return await client.request(r); } finally { pendingHttp--; } },
    close: () => client.close(),
  };
  const errors: Rig['errors'] = [];
  const registry = new DialogRegistry<DialogHandler>();
  const store = new CallStore();
  const ctx: CallContext = {
    transactions: faulty(pb.tx, faults), transport: pb.layer, clock, registry,
    contactFor: () => `<sip:patchbay@127.0.0.1:${PATCHBAY.port}>`, store, webhooks: webhookClient,
    parser: parserFor('release'), parseTwiml: cachedTwimlParser((xml) => parseTwiml(xml)), config,
    log: createLogger('info', 'test', (line) => {
      const parsed = JSON.parse(line) as { msg: string } & Record<string, unknown>;
      errors.push({ msg: parsed.msg, fields: parsed });
    }),
    alert: () => undefined,
    live: new LiveCalls(),
  };
  const layer = new CallLayer(ctx);
  // wired as runtime/daemon.ts wires it
  pb.tx.onRequest((tx, request) => {
    const stx = faultyServerTx(tx, faults);
    if (request.toTag) {
      const owner = registry.forRequest(request);
      if (owner) owner.bridge.onRequest(owner.side, stx, request);
      else tx.respond(tx.createResponse(481, 'Call/Transaction Does Not Exist'));
      return;
    }
    if (tx.method === 'INVITE') layer.inbound(stx, request);
  });
  pb.tx.onAck((ack) => { const o = registry.forRequest(ack); o?.bridge.onAck(o.side, ack); });
  pb.tx.onStrayResponse((r) => { const o = registry.forResponse(r); o?.bridge.onStrayResponse(r); });

  // the dialled party: 180, then 200 with SDP; re-INVITEs answered 200 unless told not to
  const calleeUa: Callee = {
    dialog: undefined, acks: 0, byes: 0, cancels: 0,
    async request(method, body, headers = [], dialog = calleeUa.dialog!) {
      const r = await sendInDialog({ transactions: calleeStack.tx, transport: calleeStack.layer, contact: `<sip:callee@127.0.0.1:${CALLEE_PORT}>` }, dialog, method, {
        headers: [...headers, ...(body ? [['Content-Type', 'application/sdp'] as [string, string]] : [])], body,
      });
      return r?.statusCode ?? 0;
    },
  };
  calleeStack.tx.onRequest((tx, request) => {
    if (tx.method === 'INVITE' && !request.toTag) {
      tx.on('cancel', () => { calleeUa.cancels++; tx.respond(tx.createResponse(487, 'Request Terminated', { toTag: 'callee' })); });
      tx.respond(tx.createResponse(180, 'Ringing', { toTag: 'callee' }));
      calleeUa.dialog = Dialog.fromRequest(request, 'callee', tx.source);
      // the 200 carries SDP: the answer to an offer, or the offer of a late-offer INVITE
      if (callee.answer !== false) clock.setTimeout(() => {
        if (tx.lastStatus >= 200) return;
        tx.respond(tx.createResponse(200, 'OK', { toTag: 'callee', headers: [['Contact', `<sip:callee@127.0.0.1:${CALLEE_PORT}>`], ['Content-Type', 'application/sdp']], body: SDP(CALLEE_PORT) }));
      }, 100);
      return;
    }
    if (tx.method === 'BYE') { calleeUa.byes++; tx.respond(tx.createResponse(200, 'OK')); return; }
    if (tx.method === 'INVITE' && callee.reinviteAnswer === false) return;
    tx.respond(tx.createResponse(200, 'OK', { headers: [['Contact', `<sip:callee@127.0.0.1:${CALLEE_PORT}>`]], body: tx.method === 'INVITE' ? SDP(CALLEE_PORT) : undefined }));
  });
  calleeStack.tx.onAck(() => { calleeUa.acks++; });

  const callers: CallerUa[] = [];
  caller.tx.onRequest((tx) => {
    if (tx.method === 'BYE') for (const c of callers) c.byes++;
    tx.respond(tx.createResponse(200, 'OK'));
  });
  caller.tx.onStrayResponse((r) => { for (const c of callers) c.leg.ackRetransmission(r); });

  const rig: Rig = {
    clock, pb, caller, callee: calleeStack, calleeUa, layer, ctx, registry, store, errors,
    get webhooks() { return app.requests.map((r) => ({ path: r.path, params: new URLSearchParams(r.params) })); },
    call() {
      const invite = createRequest('INVITE', `sip:support@127.0.0.1:${PATCHBAY.port}`, {
        from: `<sip:alice@127.0.0.1:${CALLER_PORT}>`, to: `<sip:support@127.0.0.1:${PATCHBAY.port}>`, contact: `<sip:alice@127.0.0.1:${CALLER_PORT}>`,
        headers: [['Content-Type', 'application/sdp']], body: SDP(CALLER_PORT),
      });
      const ua: CallerUa = {
        leg: undefined as unknown as UacLeg, status: 0, byes: 0,
        async hangup() { await ua.leg.bye(); },
      };
      ua.leg = new UacLeg({ transactions: caller.tx, transport: caller.layer, contact: `<sip:alice@127.0.0.1:${CALLER_PORT}>` }, invite, PATCHBAY, {
        provisional: () => undefined,
        answered: (r) => { ua.status = r.statusCode; },
        failed: (status) => { ua.status = status; },
      });
      callers.push(ua);
      ua.leg.start();
      return ua;
    },
    async until(done, what) {
      const deadline = Date.now() + 20_000;
      for (let i = 0; i < 20_000 && !done(); i++) {
        if (Date.now() > deadline) break;
        if (pendingHttp > 0) await new Promise((r) => setTimeout(r, 2));
        else await clock.advance(50);
        await new Promise((r) => setImmediate(r));
      }
      if (!done()) throw new Error(`not reached: ${what}`);
    },
    async close() {
      await client.close();
      await app.close();
      for (const s of [pb, caller, calleeStack]) await s.layer.close();
    },
  };
  return rig;
}

/** The status callback requests the application got for call `sid`. */
export function callbacks(rig: Rig, sid: string): string[] {
  return rig.webhooks.filter((w) => w.path === '/status' && w.params.get('CallSid') === sid).map((w) => w.params.get('CallStatus') ?? '');
}

/** The records of the inbound call and of its Dial legs. */
export function records(rig: Rig): { parent: CallRecord | undefined; children: CallRecord[] } {
  const all = rig.store.list();
  return { parent: all.find((c) => c.direction === 'inbound'), children: all.filter((c) => c.direction === 'outbound-dial') };
}

export type { MessageView };
