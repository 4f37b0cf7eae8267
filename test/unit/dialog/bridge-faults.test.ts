/**
 * The static-route Bridge over the loop transport with a fake clock: an
 * exception in one of its handlers ends that call (the parties get what can
 * still be sent), and a relayed re-INVITE the other leg never answers
 * (Timer B) hangs up both legs (RFC 3261 §12.2.1.2).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Bridge } from '../../../runtime/dialog/bridge.js';
import { Dialog } from '../../../runtime/dialog/dialog.js';
import { DialogRegistry, type DialogHandler } from '../../../runtime/dialog/registry.js';
import { UacLeg, sendInDialog } from '../../../runtime/dialog/uac-leg.js';
import { createRequest } from '../../../runtime/sip/build.js';
import { LoopNetwork } from '../../../runtime/transport/loop.js';
import { FakeClock } from '../../support/fake-clock.js';
import { loopStack, startLine, type LoopStack } from '../../support/sip-stack.js';
import { faulty, faultyServerTx, type Faults } from '../../support/faults.js';

const SDP = new TextEncoder().encode('v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n');
const stacks: LoopStack[] = [];
afterEach(async () => {
  for (const s of stacks.splice(0)) await s.layer.close();
});

async function bridgeRig(faults: Faults = {}) {
  const clock = new FakeClock();
  const network = new LoopNetwork({ clock });
  const pb = await loopStack(network, { port: 5060 });
  const caller = await loopStack(network, { port: 5070 });
  const callee = await loopStack(network, { port: 5080 });
  stacks.push(pb, caller, callee);
  const registry = new DialogRegistry<DialogHandler>();
  const bridges = new Set<Bridge>();
  const faultsSeen: string[] = [];
  pb.tx.onRequest((tx, request) => {
    const stx = faultyServerTx(tx, faults);
    if (request.toTag) {
      const owner = registry.forRequest(request);
      if (owner) owner.bridge.onRequest(owner.side, stx, request);
      else tx.respond(tx.createResponse(481));
      return;
    }
    const bridge = new Bridge({
      transactions: faulty(pb.tx, faults), transport: pb.layer, clock, registry, contactFor: () => '<sip:patchbay@127.0.0.1:5060>',
      ringTimeoutMs: 60_000, onEnded: (b) => bridges.delete(b), onFault: (_b, _e, where) => faultsSeen.push(where),
    }, stx, 'sip:callee@127.0.0.1:5080');
    bridges.add(bridge);
    bridge.start();
  });
  pb.tx.onAck((ack) => { const o = registry.forRequest(ack); o?.bridge.onAck(o.side, ack); });
  pb.tx.onStrayResponse((r) => { const o = registry.forResponse(r); o?.bridge.onStrayResponse(r); });
  // the callee: 180, then 200 with SDP; remembers its dialog
  const ua = { dialog: undefined as Dialog | undefined, byes: 0, cancels: 0, callerByes: 0, status: 0 };
  callee.tx.onRequest((tx, request) => {
    if (tx.method === 'INVITE' && !request.toTag) {
      tx.on('cancel', () => { ua.cancels++; tx.respond(tx.createResponse(487, undefined, { toTag: 'callee' })); });
      tx.respond(tx.createResponse(180, 'Ringing', { toTag: 'callee' }));
      ua.dialog = Dialog.fromRequest(request, 'callee', tx.source);
      clock.setTimeout(() => {
        if (tx.lastStatus < 200) tx.respond(tx.createResponse(200, 'OK', { toTag: 'callee', headers: [['Contact', '<sip:callee@127.0.0.1:5080>'], ['Content-Type', 'application/sdp']], body: SDP }));
      }, 100);
      return;
    }
    if (tx.method === 'BYE') ua.byes++;
    tx.respond(tx.createResponse(200));
  });
  caller.tx.onRequest((tx) => {
    if (tx.method === 'BYE') ua.callerByes++;
    tx.respond(tx.createResponse(200));
  });
  const invite = createRequest('INVITE', 'sip:callee@127.0.0.1:5060', { from: '<sip:alice@127.0.0.1:5070>', to: '<sip:callee@127.0.0.1:5060>', contact: '<sip:alice@127.0.0.1:5070>', headers: [['Content-Type', 'application/sdp']], body: SDP });
  const leg = new UacLeg({ transactions: caller.tx, transport: caller.layer, contact: '<sip:alice@127.0.0.1:5070>' }, invite, { transport: 'udp', host: '127.0.0.1', port: 5060 }, {
    provisional: () => undefined, answered: (r) => { ua.status = r.statusCode; }, failed: (s) => { ua.status = s; },
  });
  const until = async (done: () => boolean, what: string): Promise<void> => {
    for (let i = 0; i < 4000 && !done(); i++) await clock.advance(50);
    if (!done()) throw new Error(`not reached: ${what}`);
  };
  return { clock, pb, callee, registry, bridges, faultsSeen, ua, leg, until };
}

describe('Bridge faults', () => {
  it('the 180 to the caller cannot be built: the caller gets 500, the target CANCEL, the bridge ends', async () => {
    const r = await bridgeRig({ response: (m) => m.status === 180 });
    r.leg.start();
    await r.until(() => r.ua.status !== 0 && r.ua.cancels === 1, 'the caller answered and the target cancelled');
    expect(r.ua.status).toBe(500);
    expect(r.bridges.size).toBe(0);
    expect(r.registry.size).toBe(0);
    expect(r.faultsSeen).toContain('provisional');
  });

  it('a re-INVITE relayed to a caller that never answers it (Timer B): 408 to the target, BYE on both legs', async () => {
    const r = await bridgeRig();
    r.leg.start();
    await r.until(() => r.ua.status === 200 && r.registry.size === 2, 'the call is up');
    r.pb.transport.discardWhen((bytes, d) => d.port === 5070 && startLine(bytes).startsWith('INVITE '));
    let status = -1;
    void sendInDialog({ transactions: r.callee.tx, transport: r.callee.layer, contact: '<sip:callee@127.0.0.1:5080>' }, r.ua.dialog!, 'INVITE', { headers: [['Content-Type', 'application/sdp']], body: SDP })
      .then((res) => { status = res?.statusCode ?? 0; });
    await r.until(() => status !== -1, 'the re-INVITE is answered');
    expect(status).toBe(408);
    await r.until(() => r.ua.byes === 1 && r.ua.callerByes === 1, 'both legs get BYE');
    await r.until(() => r.bridges.size === 0 && r.registry.size === 0, 'the bridge is over');
  });
});
