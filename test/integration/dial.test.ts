/**
 * <Dial> with several nouns, seen from the dialled phones, the caller and
 * the action request: parallel (first answer wins, the others get CANCEL)
 * and sequential (each until it fails or its timeout fires). Loop transport
 * and fake clock (test/support/call-stack.ts).
 */
import { describe, expect, it } from 'vitest';
import { callStackPerTest, type CallStack } from '../support/call-stack.js';
import { mediaPortOf, type SipParty } from '../support/sip-party.js';

const startStack = callStackPerTest();

/** A rig, a caller and three phones to dial. */
async function start(): Promise<{ rig: CallStack; alice: SipParty; phones: [SipParty, SipParty, SipParty] }> {
  const rig = await startStack({ routes: { '/action': '<Response><Hangup/></Response>' } });
  const alice = await rig.party('alice');
  const phones: [SipParty, SipParty, SipParty] = [await rig.party('bob'), await rig.party('carol'), await rig.party('dave')];
  return { rig, alice, phones };
}

/** answerOnBridge: the caller rings until a phone answers, and gets that phone's media in its 200. */
const dialDoc = (attrs: string, phones: SipParty[]): string =>
  `<Response><Dial action="/action" answerOnBridge="true" ${attrs}>${phones.map((p) => `<Sip>${p.uri}</Sip>`).join('')}</Dial></Response>`;

describe('parallel <Dial>', () => {
  it('every noun rings at once; the first to answer is connected to the caller, the others get CANCEL (487)', async () => {
    const { rig, alice, phones: [bob, carol, dave] } = await start();
    rig.app.route('/voice', dialDoc('', [bob, carol, dave]));
    bob.answer = [{ status: 180 }, { wait: 2000 }, { status: 200 }];
    carol.answer = [{ status: 180 }, { wait: 500 }, { status: 200 }];
    dave.answer = [{ status: 180 }];
    const call = alice.call(rig.uri('support'));
    await rig.until(() => bob.incoming.length + carol.incoming.length + dave.incoming.length === 3, 'three INVITEs');
    const rang = Math.max(...[bob, carol, dave].map((p) => p.incoming[0]!.at)) - Math.min(...[bob, carol, dave].map((p) => p.incoming[0]!.at));
    expect(rang, 'all at once').toBeLessThan(50);
    await rig.until(() => call.status > 0, 'the caller answered');
    expect(call.status).toBe(200);
    expect(mediaPortOf(call.final!.body), 'the caller gets the winner\'s media').toBe(carol.mediaPort);
    await rig.until(() => bob.incoming[0]!.cancelled && dave.incoming[0]!.cancelled, 'the CANCELs');
    expect(carol.incoming[0]!.cancelled).toBe(false);
    expect(bob.incoming[0]!.finalStatus).toBe(487);
    expect(dave.incoming[0]!.finalStatus).toBe(487);
    await rig.until(() => carol.dialogs[0]!.requests('ACK').length > 0, 'the winner\'s ACK');
    expect(mediaPortOf(carol.incoming[0]!.invite.body), 'the winner got the caller\'s offer').toBe(alice.mediaPort);
    // the clock past bob's 2 s answer: his INVITE was cancelled, nothing more reaches him
    await rig.until(() => rig.clock.now() > bob.incoming[0]!.at + 3000, '3 s');
    expect(bob.dialogs[0]!.received).toEqual([]);
    await alice.outgoing[0]!.dialog!.bye();
    await rig.until(() => carol.dialogs[0]!.requests('BYE').length > 0, 'the BYE to the winner');
    await rig.until(() => rig.app.to('/action').length > 0, 'the action request');
    expect(rig.app.to('/action')[0]!.params).toMatchObject({ DialCallStatus: 'completed' });
  });

  it('all fail: the Dial fails with the status the action request reports (busy), no CANCEL is sent', async () => {
    const { rig, alice, phones: [bob, carol] } = await start();
    rig.app.route('/voice', dialDoc('', [bob, carol]));
    rig.app.route('/action', '<Response><Reject reason="busy"/></Response>');
    bob.answer = [{ status: 486, reason: 'Busy Here' }];
    carol.answer = [{ status: 180 }, { wait: 300 }, { status: 486, reason: 'Busy Here' }];
    const call = alice.call(rig.uri('support'));
    await rig.until(() => call.status > 0, 'the caller\'s final response');
    expect(call.status, 'the action document rejected the unanswered caller').toBe(486);
    expect(rig.app.to('/action')[0]!.params).toMatchObject({ DialCallStatus: 'busy' });
    expect(bob.incoming[0]!.cancelled || carol.incoming[0]!.cancelled).toBe(false);
  });
});

describe('<Dial> without answerOnBridge', () => {
  it('answers the caller before dialling; once the phone answers, the caller is re-INVITEd with its media and the phone gets the caller\'s answer in its ACK', async () => {
    const { rig, alice, phones: [bob] } = await start();
    rig.app.route('/voice', `<Response><Dial><Sip>${bob.uri}</Sip></Dial></Response>`);
    bob.answer = [{ status: 180 }, { wait: 1000 }, { status: 200 }];
    const call = alice.call(rig.uri('support'));
    await rig.until(() => call.status > 0, 'the caller answered');
    expect(call.status).toBe(200);
    expect(bob.incoming[0]?.answeredAt, 'before the phone answered').toBeUndefined();
    await rig.until(() => (bob.dialogs[0]?.requests('ACK').length ?? 0) > 0, 'the phone\'s ACK');
    const [reinvite] = alice.requests('INVITE');
    expect(mediaPortOf(reinvite!.body), 'the caller\'s re-INVITE offers the phone\'s media').toBe(bob.mediaPort);
    expect(mediaPortOf(bob.dialogs[0]!.requests('ACK')[0]!.body), 'the phone gets the caller\'s answer').toBe(alice.mediaPort);
    await bob.dialogs[0]!.bye();
    await rig.until(() => alice.requests('BYE').length > 0, 'the BYE to the caller');
  });
});

describe('sequential <Dial>', () => {
  it('tries the nouns in document order: one that does not answer within timeout is cancelled and the next rings', async () => {
    const { rig, alice, phones: [bob, carol, dave] } = await start();
    rig.app.route('/voice', dialDoc('sequential="true" timeout="5"', [bob, carol, dave]));
    bob.answer = [{ status: 180 }];
    carol.answer = [{ status: 180 }];
    dave.answer = [{ status: 180 }, { wait: 1000 }, { status: 200 }];
    const call = alice.call(rig.uri('support'));
    await rig.until(() => bob.incoming.length > 0, 'bob rings');
    expect(carol.incoming, 'one at a time').toHaveLength(0);
    await rig.until(() => carol.incoming.length > 0, 'carol rings');
    expect(bob.incoming[0]!.cancelled, 'bob was cancelled first').toBe(true);
    const bobRang = carol.incoming[0]!.at - bob.incoming[0]!.at;
    expect(bobRang).toBeGreaterThanOrEqual(5000);
    expect(bobRang).toBeLessThan(5500);
    expect(dave.incoming).toHaveLength(0);
    await rig.until(() => dave.incoming.length > 0, 'dave rings');
    expect(carol.incoming[0]!.cancelled).toBe(true);
    expect(dave.incoming[0]!.at - carol.incoming[0]!.at).toBeGreaterThanOrEqual(5000);
    await rig.until(() => call.status > 0, 'the caller answered');
    expect(call.status).toBe(200);
    expect(mediaPortOf(call.final!.body)).toBe(dave.mediaPort);
    await dave.dialogs[0]!.bye();
    await rig.until(() => alice.requests('BYE').length > 0, 'the BYE to the caller');
    expect(rig.app.to('/action')[0]!.params).toMatchObject({ DialCallStatus: 'completed' });
  });

  it('a noun that rejects moves on at once; when the last one times out the Dial is no-answer', async () => {
    const { rig, alice, phones: [bob, carol] } = await start();
    rig.app.route('/voice', dialDoc('sequential="true" timeout="5"', [bob, carol]));
    bob.answer = [{ status: 180 }, { wait: 200 }, { status: 603, reason: 'Decline' }];
    carol.answer = [{ status: 180 }];
    const call = alice.call(rig.uri('support'));
    await rig.until(() => carol.incoming.length > 0, 'carol rings');
    expect(carol.incoming[0]!.at - bob.incoming[0]!.at, 'right after bob declined').toBeLessThan(500);
    await rig.until(() => call.status > 0, 'the caller\'s final response');
    expect(carol.incoming[0]!.cancelled).toBe(true);
    expect(call.status, 'the action document hung up the unanswered caller').toBe(603);
    expect(rig.app.to('/action')[0]!.params).toMatchObject({ DialCallStatus: 'no-answer' });
  });
});
