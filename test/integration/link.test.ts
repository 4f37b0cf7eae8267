/**
 * A connected <Dial> (the caller and the dialled phone bridged by Patchbay,
 * a B2BUA): each in-dialog request goes across to the other phone with its
 * body and the headers that describe it, and the other phone's final
 * response comes back; BYE from either side ends the call on both. Loop
 * transport and fake clock (test/support/call-stack.ts).
 */
import { describe, expect, it } from 'vitest';
import { callStackPerTest, type CallStack } from '../support/call-stack.js';
import { bodyText, mediaPortOf, sdpOf, type PartyDialog, type SipParty } from '../support/sip-party.js';
import type { HeaderField } from '../../runtime/sip/message.js';

const startStack = callStackPerTest();

interface Connected {
  rig: CallStack;
  alice: SipParty;
  bob: SipParty;
  /** The caller's dialog with Patchbay, and the dialled phone's. */
  sides: { caller: PartyDialog; callee: PartyDialog };
}

/** alice calls, the document dials bob (answerOnBridge), bob answers: both ACKed. */
async function connected(): Promise<Connected> {
  const rig = await startStack();
  const alice = await rig.party('alice');
  const bob = await rig.party('bob');
  rig.app.route('/voice', `<Response><Dial answerOnBridge="true"><Sip>${bob.uri}</Sip></Dial></Response>`);
  const call = alice.call(rig.uri('support'));
  const r = rig;
  await r.until(() => call.dialog !== undefined && (bob.dialogs[0]?.requests('ACK').length ?? 0) > 0, 'both legs up');
  return { rig: r, alice, bob, sides: { caller: call.dialog!, callee: bob.dialogs[0]! } };
}

/** What each method carries in the test: its body, its Content-Type and the headers describing it. */
const REQUESTS: Record<string, { contentType?: string; body?: string; headers: HeaderField[]; status: number }> = {
  INFO: { contentType: 'application/dtmf-relay', body: 'Signal=5\r\nDuration=160\r\n', headers: [['Info-Package', 'dtmf'], ['X-Note', 'digit']], status: 200 },
  MESSAGE: { contentType: 'text/plain', body: 'hello over the call', headers: [['X-Note', 'chat']], status: 202 },
  OPTIONS: { headers: [['X-Note', 'ping']], status: 200 },
  NOTIFY: { contentType: 'application/simple-message-summary', body: 'Messages-Waiting: yes\r\n', headers: [['Event', 'message-summary'], ['Subscription-State', 'active;expires=3600'], ['X-Note', 'mwi']], status: 200 },
};

const header = (m: { header(name: string): string | undefined }, name: string): string | undefined => m.header(name);

for (const from of ['caller', 'callee'] as const) {
  const to = from === 'caller' ? 'callee' : 'caller';
  describe(`in-dialog requests from the ${from} reach the ${to}`, () => {
    for (const [method, spec] of Object.entries(REQUESTS)) {
      it(`${method}: body, Content-Type and ${spec.headers.map(([n]) => n).join(', ')} go across; the ${to}'s ${spec.status} comes back`, async () => {
        const { rig, alice, bob, sides } = await connected();
        const far = to === 'caller' ? alice : bob;
        far.replies.set(method, spec.status);
        const body = spec.body === undefined ? undefined : new TextEncoder().encode(spec.body);
        const response = await rig.untilResolved(sides[from].request(method, { headers: spec.headers, body, contentType: spec.contentType }));
        expect(response?.statusCode).toBe(spec.status);
        const [got] = sides[to].requests(method);
        expect(got, `${method} reached the ${to}`).toBeDefined();
        expect(bodyText(got!)).toBe(spec.body ?? '');
        if (spec.contentType) expect(header(got!, 'Content-Type')).toBe(spec.contentType);
        for (const [name, value] of spec.headers) expect(header(got!, name), name).toBe(value);
        expect(got!.callId, 'on the other leg\'s dialog').toBe(sides[to].callId);
        // the call is still up: the caller's BYE ends it on both sides
        expect(await rig.untilResolved(sides.caller.bye())).toBe(200);
        await rig.until(() => sides.callee.requests('BYE').length > 0, 'the BYE to the callee');
      });
    }

    it(`a failure the ${to} answers (415) comes back as it is, and the call stays up`, async () => {
      const { rig, alice, bob, sides } = await connected();
      (to === 'caller' ? alice : bob).replies.set('MESSAGE', 415);
      const response = await rig.untilResolved(sides[from].request('MESSAGE', { body: new TextEncoder().encode('x'), contentType: 'application/x-unknown' }));
      expect(response?.statusCode).toBe(415);
      expect(await rig.untilResolved(sides[from].request('INFO'))).toMatchObject({ statusCode: 200 });
      expect(await rig.untilResolved(sides.callee.bye())).toBe(200);
      await rig.until(() => sides.caller.requests('BYE').length > 0, 'the BYE to the caller');
    });

    it(`re-INVITE: the ${from}'s new offer reaches the ${to}, whose answer comes back in the 200; the ACK goes across`, async () => {
      const { rig, alice, bob, sides } = await connected();
      const near = from === 'caller' ? alice : bob;
      const farParty = to === 'caller' ? alice : bob;
      const offer = sdpOf(near.name, near.stack.address.port + 500, 3);
      const response = await rig.untilResolved(sides[from].request('INVITE', { body: offer }));
      expect(response?.statusCode).toBe(200);
      expect(mediaPortOf(response!.body), `the ${to}'s media`).toBe(farParty.mediaPort);
      const [reinvite] = sides[to].requests('INVITE');
      expect(mediaPortOf(reinvite!.body), `the ${from}'s new media`).toBe(near.mediaPort + 500);
      expect(header(reinvite!, 'Content-Type')).toBe('application/sdp');
      await rig.until(() => sides[to].requests('ACK').length > 0, `the ACK to the ${to}`);
      expect(await rig.untilResolved(sides[from].bye())).toBe(200);
      await rig.until(() => sides[to].requests('BYE').length > 0, `the BYE to the ${to}`);
    });

    it(`UPDATE with an offer: it reaches the ${to}, whose answer comes back in the 200`, async () => {
      const { rig, alice, bob, sides } = await connected();
      const near = from === 'caller' ? alice : bob;
      const farParty = to === 'caller' ? alice : bob;
      const response = await rig.untilResolved(sides[from].request('UPDATE', { body: sdpOf(near.name, near.stack.address.port + 600, 3) }));
      expect(response?.statusCode).toBe(200);
      expect(mediaPortOf(response!.body)).toBe(farParty.mediaPort);
      const [update] = sides[to].requests('UPDATE');
      expect(mediaPortOf(update!.body)).toBe(near.mediaPort + 600);
      expect(await rig.untilResolved(sides[to].bye())).toBe(200);
      await rig.until(() => sides[from].requests('BYE').length > 0, `the BYE to the ${from}`);
    });

    it(`BYE from the ${from}: answered 200, the ${to} gets BYE, the completed callback follows`, async () => {
      const { rig, sides } = await connected();
      expect(await rig.untilResolved(sides[from].bye())).toBe(200);
      await rig.until(() => sides[to].requests('BYE').length > 0, `the BYE to the ${to}`);
      expect(sides[to].requests('BYE')).toHaveLength(1);
      await rig.until(() => rig.app.to('/status').length > 0, 'the completed callback');
      expect(rig.app.to('/status')[0]!.params.CallStatus).toBe('completed');
    });
  });
}
