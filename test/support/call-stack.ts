/**
 * The call layer end to end without sockets: Patchbay's call layer with the
 * TwiML route, wired to its transaction layer as the daemon wires it, over
 * the loop transport with a fake clock; a real HTTP web app on loopback
 * (test/support/web-app.ts) serving the TwiML documents; and scripted SIP
 * parties (test/support/sip-party.ts) as the caller and the dialled parties.
 *
 * Tests drive it with SIP messages and HTTP only. The call layer itself is
 * built in one place, `startCallLayer`, so a change to how it is put
 * together touches this function and no test.
 */
import { afterEach, expect } from 'vitest';
import { CallLayer } from '../../runtime/calls/layer.js';
import type { CallContext } from '../../runtime/calls/context.js';
import { CallStore } from '../../runtime/calls/store.js';
import { LiveCalls } from '../../runtime/calls/live.js';
import { defaultConfig, type TwimlConfig } from '../../runtime/config.js';
import { DialogRegistry, type DialogHandler } from '../../runtime/dialog/registry.js';
import { createLogger } from '../../runtime/log.js';
import type { TimerSettings } from '../../runtime/transaction/timers.js';
import { LoopNetwork } from '../../runtime/transport/loop.js';
import { cachedTwimlParser } from '../../runtime/twiml/cache.js';
import { parseTwiml } from '../../runtime/twiml/parse.js';
import { sipUriChecker } from '../../runtime/sip/sip-target.js';
import { createWebhookClient, type WebhookClient } from '../../runtime/webhooks/client.js';
import { FakeClock } from './fake-clock.js';
import { loopStack, type LoopStack } from './sip-stack.js';
import { SipParty } from './sip-party.js';
import { parserFor } from './wasm.js';
import { startWebApp, type Route, type WebApp } from './web-app.js';

/** Patchbay's address on the loop network. */
export const PATCHBAY_PORT = 5060;

/** One line Patchbay logged. */
export interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

/** Options of {@link startCallStack}. */
export interface CallStackOptions {
  /** The web app's routes to start with (the voice URL is /voice; /status answers 200). */
  readonly routes?: Record<string, Route>;
  /** TwiML settings over the defaults (voiceUrl, statusCallback and authToken are set by the rig). */
  readonly twiml?: Partial<TwimlConfig>;
  /** SIP timers of every stack (default RFC 3261's). */
  readonly timers?: TimerSettings;
}

/** Live counts (the daemon's leak check). */
export interface StackStats {
  calls: number;
  dialogs: number;
  clientTx: number;
  serverTx: number;
}

/** A running rig. */
export interface CallStack {
  readonly clock: FakeClock;
  readonly network: LoopNetwork;
  readonly app: WebApp;
  /** Patchbay's SIP stack (what it sent: `patchbay.transport.sent`). */
  readonly patchbay: LoopStack;
  /** `sip:<user>@127.0.0.1:5060`: a Request-URI that reaches Patchbay. */
  uri(user: string): string;
  /** Everything Patchbay logged. */
  readonly logs: LogLine[];
  /** Alerts (Twilio debugger codes) Patchbay raised: `{ level, code, message, callSid }`. */
  alerts(): Array<{ level: string; code: number; message: string; callSid: string }>;
  /** A scripted party on its own stack at `port` (default: the next free one from 5070). */
  party(name: string, port?: number): Promise<SipParty>;
  /**
   * Move the fake clock (50 ms steps) until `done()`; while a webhook is in flight the clock
   * stands still and the real event loop runs (the HTTP round trip takes real time). Bounded.
   */
  until(done: () => boolean, what: string): Promise<void>;
  /** Run (as `until`) until `promise` settles; resolves with its value. */
  untilResolved<T>(promise: Promise<T>): Promise<T>;
  /** Run until no call, dialog or transaction is left (the daemon's leak check); returns the counts. */
  settle(): Promise<StackStats>;
  stats(): StackStats;
  close(): Promise<void>;
}

/** What the call layer needs, as the daemon gives it. */
interface LayerDeps {
  pb: LoopStack;
  clock: FakeClock;
  registry: DialogRegistry<DialogHandler>;
  store: CallStore;
  webhooks: WebhookClient;
  config: TwimlConfig;
  log: ReturnType<typeof createLogger>;
  alert: CallContext['alert'];
}

/** Build the call layer and wire it to Patchbay's transaction layer as runtime/daemon.ts does. */
function startCallLayer(d: LayerDeps): { size: () => number } {
  const parser = parserFor('release');
  const validateSipUri = sipUriChecker(parser);
  const layer = new CallLayer({
    transactions: d.pb.tx, transport: d.pb.layer, clock: d.clock, registry: d.registry,
    contactFor: () => `<sip:patchbay@127.0.0.1:${PATCHBAY_PORT};transport=udp>`, store: d.store, webhooks: d.webhooks,
    parser, parseTwiml: cachedTwimlParser((xml) => parseTwiml(xml, { validateSipUri })), config: d.config, log: d.log, live: new LiveCalls(), alert: d.alert,
  });
  const tx = d.pb.tx;
  tx.onRequest((stx, request) => {
    if (request.toTag !== undefined && request.toTag !== '') {
      const owner = d.registry.forRequest(request);
      if (!owner) stx.respond(stx.createResponse(481, 'Call/Transaction Does Not Exist'));
      else owner.bridge.onRequest(owner.side, stx, request);
      return;
    }
    if (stx.method === 'INVITE') layer.inbound(stx, request);
    else stx.respond(stx.createResponse(405, 'Method Not Allowed'));
  });
  tx.onAck((ack) => { const o = d.registry.forRequest(ack); o?.bridge.onAck(o.side, ack); });
  tx.onStrayResponse((r) => { const o = d.registry.forResponse(r); o?.bridge.onStrayResponse(r); });
  return { size: () => layer.size };
}

/** Start the rig. */
export async function startCallStack(options: CallStackOptions = {}): Promise<CallStack> {
  const clock = new FakeClock();
  const network = new LoopNetwork({ clock });
  const pb = await loopStack(network, { port: PATCHBAY_PORT, timers: options.timers });
  const token = 'integration-token';
  const app = await startWebApp(token, { '/status': '', ...options.routes });
  const config: TwimlConfig = {
    ...defaultConfig().twiml, ...options.twiml, voiceUrl: `${app.base}/voice`, statusCallback: `${app.base}/status`, authToken: token,
  };
  const client = createWebhookClient({ accountSid: config.accountSid, authToken: token });
  let inFlight = 0;
  const webhooks: WebhookClient = {
    request: async (r) => { inFlight++; try { return await client.request(r); } finally { inFlight--; } },
    close: () => client.close(),
  };
  const logs: LogLine[] = [];
  const log = createLogger('debug', 'integration', (line) => {
    const fields = JSON.parse(line) as Record<string, unknown>;
    logs.push({ level: String(fields.level ?? ''), msg: String(fields.msg ?? ''), fields });
  });
  const registry = new DialogRegistry<DialogHandler>();
  const store = new CallStore();
  // as runtime/daemon.ts raises alerts: a log line and a call event
  const alert: CallContext['alert'] = (callSid, level, code, message) => {
    log[level === 'error' ? 'warn' : 'info'](`call ${level}`, { callSid, code, message });
    store.emit({ type: level, at: Date.now(), callSid, code, message });
  };
  const layer = startCallLayer({ pb, clock, registry, store, webhooks, config, log, alert });
  const parties: SipParty[] = [];
  let nextPort = 5070;
  const stats = (): StackStats => ({ calls: layer.size(), dialogs: registry.size, ...pb.tx.stats() });
  const rig: CallStack = {
    clock, network, app, patchbay: pb, logs,
    uri: (user) => `sip:${user}@127.0.0.1:${PATCHBAY_PORT}`,
    alerts: () => logs.filter((l) => l.msg === 'call warning' || l.msg === 'call error').map((l) => ({
      level: l.msg.slice(5), code: Number(l.fields.code), message: String(l.fields.message ?? ''), callSid: String(l.fields.callSid ?? ''),
    })),
    async party(name, port) {
      const p = port ?? nextPort++;
      const stack = await loopStack(network, { port: p, timers: options.timers });
      const party = new SipParty(name, stack, pb.address, clock);
      parties.push(party);
      return party;
    },
    async until(done, what) {
      const deadline = Date.now() + 30_000;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`not reached within 30 s of real time: ${what}`);
        if (inFlight > 0) await new Promise((r) => setTimeout(r, 1));
        else await clock.advance(50);
      }
    },
    async untilResolved(promise) {
      let settled = false;
      const watched = promise.finally(() => { settled = true; });
      await rig.until(() => settled, 'a request\'s final response');
      return watched;
    },
    stats,
    async settle() {
      const idle = (): boolean => { const s = stats(); return s.calls === 0 && s.dialogs === 0 && s.clientTx === 0 && s.serverTx === 0; };
      try { await rig.until(idle, 'nothing left behind'); } catch { /* the caller's expect shows what is left */ }
      return stats();
    },
    async close() {
      await client.close();
      await app.close();
      for (const s of [pb, ...parties.map((x) => x.stack)]) await s.layer.close();
    },
  };
  return rig;
}

/**
 * For a test file: a `startCallStack` whose stack is settled and closed after each test, and
 * the test fails when anything is left behind (a call, a dialog or a transaction).
 */
export function callStackPerTest(): (options?: CallStackOptions) => Promise<CallStack> {
  let current: CallStack | undefined;
  afterEach(async () => {
    if (!current) return;
    const stack = current;
    current = undefined;
    const left = await stack.settle();
    await stack.close();
    expect(left, 'nothing left behind').toEqual({ calls: 0, dialogs: 0, clientTx: 0, serverTx: 0 });
  });
  return async (options) => (current = await startCallStack(options));
}
