/**
 * Inbound SIP REFER on a <Dial>ed call with referUrl, row by row of the
 * scenario table of Twilio's "SIP REFER" page (answerOnBridge true, and
 * false or absent), seen from the three phones and the web app: alice calls,
 * the document dials agent A, agent A REFERs the call to agent B. Loop
 * transport and fake clock (test/support/call-stack.ts).
 */
import { describe, expect, it } from 'vitest';
import { callStackPerTest, type CallStack } from '../support/call-stack.js';
import { bodyText, mediaPortOf, type PartyDialog, type SipParty } from '../support/sip-party.js';
import type { AppRequest } from '../support/web-app.js';

const startStack = callStackPerTest();

/** The referUrl app of the README: dial whatever the transferor asked for. */
function referApp(req: AppRequest): string {
  const target = (req.params.ReferTransferTarget ?? '').replace(/^<|>$/g, '');
  return `<Response><Dial action="/transfer-action"><Sip>${target}</Sip></Dial></Response>`;
}

/** The first line of a NOTIFY's message/sipfrag body. */
const sipfrag = (notify: { body: Uint8Array }): string => bodyText(notify).split('\r\n')[0]!;

interface Transfer {
  rig: CallStack;
  alice: SipParty;
  agentA: SipParty;
  agentB: SipParty;
  /** alice's dialog with Patchbay, and agent A's. */
  caller: PartyDialog;
  transferor: PartyDialog;
  /** Send agent A's REFER to agent B; resolves with its status. */
  refer(): Promise<number>;
}

/** alice calls, the document dials agent A (with `referUrl` unless undefined), A answers. */
async function connected(aob: boolean, referUrl: string | undefined): Promise<Transfer> {
  const rig = await startStack({ routes: { '/refer': referApp, '/transfer-action': '<Response/>', '/action': '<Response/>' } });
  const r = rig;
  const alice = await r.party('alice');
  const agentA = await r.party('agenta');
  const agentB = await r.party('agentb');
  const refer = referUrl === undefined ? '' : ` referUrl="${referUrl}"`;
  r.app.route('/voice', `<Response><Dial action="/action" answerOnBridge="${aob}"${refer}><Sip>${agentA.uri}</Sip></Dial></Response>`);
  agentA.answer = [{ status: 180 }, { wait: 50 }, { status: 200 }];
  agentB.answer = [{ status: 180 }, { wait: 1000 }, { status: 200 }];
  const call = alice.call(r.uri('support'));
  // connected: agent A's ACK comes after the caller's media was settled (its 200, or its re-INVITE without answerOnBridge)
  await r.until(() => call.dialog !== undefined && (agentA.dialogs[0]?.requests('ACK').length ?? 0) > 0, 'the caller connected to agent A');
  const transferor = agentA.dialogs[0]!;
  return {
    rig: r, alice, agentA, agentB, caller: call.dialog!, transferor,
    refer: async () => (await r.untilResolved(transferor.request('REFER', { headers: [['Refer-To', `<${agentB.uri}>`], ['Referred-By', agentA.contact]] })))?.statusCode ?? 0,
  };
}

describe('answerOnBridge="true"', () => {
  it('referUrl executed: 202, NOTIFY 100, the original call stays connected while the target rings; target answers: NOTIFY 200, then the original call is disconnected and the caller is with the target', async () => {
    const t = await connected(true, '/refer');
    expect(await t.refer()).toBe(202);
    await t.rig.until(() => t.agentB.incoming.length > 0, 'agent B rings');
    const hook = t.rig.app.to('/refer')[0]!;
    expect(hook.signatureValid).toBe(true);
    expect(hook.params).toMatchObject({ ReferTransferTarget: `<${t.agentB.uri}>`, CallStatus: 'in-progress' });
    expect(t.transferor.requests('NOTIFY').map(sipfrag)).toEqual(['SIP/2.0 100 Trying']);
    expect(t.transferor.requests('NOTIFY')[0]!.header('Event')).toMatch(/^refer/);
    // while agent B rings, the caller and agent A are still connected: a request still goes across
    expect((await t.rig.untilResolved(t.caller.request('INFO', { body: new TextEncoder().encode('Signal=1\r\n'), contentType: 'application/dtmf-relay' })))?.statusCode).toBe(200);
    expect(t.transferor.requests('INFO'), 'the INFO reached agent A').toHaveLength(1);
    expect(t.transferor.requests('BYE'), 'still connected').toHaveLength(0);
    await t.rig.until(() => t.transferor.requests('BYE').length > 0, 'agent A released');
    expect(t.transferor.firstAt('BYE')!, 'released only after the target answered').toBeGreaterThanOrEqual(t.agentB.incoming[0]!.answeredAt!);
    const notifies = t.transferor.requests('NOTIFY');
    expect(notifies.map(sipfrag)).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 200 OK']);
    expect(notifies[1]!.header('Subscription-State')).toMatch(/^terminated/);
    expect(notifies[1]!.header('Content-Type')).toBe('message/sipfrag;version=2.0');
    await t.rig.until(() => t.agentB.dialogs[0]!.requests('ACK').length > 0, 'agent B connected');
    const media = [...t.caller.requests('INVITE')].reverse().find((i) => i.bodyLength > 0);
    expect(mediaPortOf(media!.body), 'the caller is re-INVITEd to agent B\'s media').toBe(t.agentB.mediaPort);
    expect(t.caller.requests('BYE'), 'the caller stays').toHaveLength(0);
    expect(await t.rig.untilResolved(t.caller.bye())).toBe(200);
    await t.rig.until(() => t.agentB.dialogs[0]!.requests('BYE').length > 0, 'the caller\'s BYE reaches agent B');
  });

  it('target does not answer: NOTIFY with the failure, the original call is re-established (caller and agent A talk again)', async () => {
    const t = await connected(true, '/refer');
    t.agentB.answer = [{ status: 180 }, { wait: 200 }, { status: 486, reason: 'Busy Here' }];
    expect(await t.refer()).toBe(202);
    await t.rig.until(() => t.transferor.requests('NOTIFY').length >= 2, 'the final NOTIFY');
    expect(t.transferor.requests('NOTIFY').map(sipfrag)).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 480 Temporarily Unavailable']);
    expect(t.transferor.requests('BYE')).toHaveLength(0);
    expect(t.caller.requests('BYE')).toHaveLength(0);
    // connected again: requests go across both ways, and a BYE ends the original call on both sides
    expect((await t.rig.untilResolved(t.caller.request('MESSAGE', { body: new TextEncoder().encode('back?'), contentType: 'text/plain' })))?.statusCode).toBe(200);
    expect(t.transferor.requests('MESSAGE').map(bodyText)).toEqual(['back?']);
    expect((await t.rig.untilResolved(t.transferor.request('MESSAGE', { body: new TextEncoder().encode('yes'), contentType: 'text/plain' })))?.statusCode).toBe(200);
    expect(t.caller.requests('MESSAGE').map(bodyText)).toEqual(['yes']);
    expect(await t.rig.untilResolved(t.caller.bye())).toBe(200);
    await t.rig.until(() => t.transferor.requests('BYE').length > 0, 'the caller\'s BYE reaches agent A');
  });

  it('referUrl unreachable: NOTIFY 503, the original call is re-established', async () => {
    const t = await connected(true, 'http://127.0.0.1:9/refer');
    expect(await t.refer()).toBe(202);
    await t.rig.until(() => t.transferor.requests('NOTIFY').length >= 2, 'the final NOTIFY');
    expect(t.transferor.requests('NOTIFY').map(sipfrag)).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 503 Service Unavailable']);
    expect(t.agentB.incoming).toHaveLength(0);
    expect((await t.rig.untilResolved(t.transferor.request('INFO')))?.statusCode).toBe(200);
    expect(t.caller.requests('INFO'), 'agent A and the caller still connected').toHaveLength(1);
    expect(await t.rig.untilResolved(t.transferor.bye())).toBe(200);
    await t.rig.until(() => t.caller.requests('BYE').length > 0, 'agent A\'s BYE reaches the caller');
  });

  it('referUrl absent: REFER refused (603), alert 13802, the original call stays', async () => {
    const t = await connected(true, undefined);
    expect(await t.refer()).toBe(603);
    expect(t.rig.alerts().filter((a) => a.code === 13802)).toHaveLength(1);
    expect(t.transferor.requests('NOTIFY')).toHaveLength(0);
    expect(t.rig.app.to('/refer')).toHaveLength(0);
    expect((await t.rig.untilResolved(t.caller.request('INFO')))?.statusCode).toBe(200);
    expect(t.transferor.requests('INFO')).toHaveLength(1);
    expect(await t.rig.untilResolved(t.caller.bye())).toBe(200);
    await t.rig.until(() => t.transferor.requests('BYE').length > 0, 'the caller\'s BYE reaches agent A');
  });
});

describe('answerOnBridge false', () => {
  it('referUrl executed: 202, NOTIFY 100 then 200 and agent A is released right away, before the target answers; the caller is re-INVITEd to the target', async () => {
    const t = await connected(false, '/refer');
    expect(await t.refer()).toBe(202);
    await t.rig.until(() => t.transferor.requests('BYE').length > 0, 'agent A released');
    expect(t.transferor.requests('NOTIFY').map(sipfrag)).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 200 OK']);
    expect(t.transferor.requests('NOTIFY')[1]!.header('Subscription-State')).toMatch(/^terminated/);
    const answered = t.agentB.incoming[0]?.answeredAt;
    expect(answered === undefined || t.transferor.firstAt('BYE')! < answered, 'released before agent B answered').toBe(true);
    await t.rig.until(() => (t.agentB.dialogs[0]?.requests('ACK').length ?? 0) > 0, 'agent B connected');
    expect(t.transferor.firstAt('BYE')!).toBeLessThan(t.agentB.incoming[0]!.answeredAt!);
    const media = [...t.caller.requests('INVITE')].reverse().find((i) => i.bodyLength > 0);
    expect(mediaPortOf(media!.body), 'the caller is re-INVITEd to agent B\'s media').toBe(t.agentB.mediaPort);
    expect(mediaPortOf(t.agentB.dialogs[0]!.requests('ACK')[0]!.body), 'agent B gets the caller\'s answer').toBe(t.alice.mediaPort);
    expect(await t.rig.untilResolved(t.agentB.dialogs[0]!.bye())).toBe(200);
    await t.rig.until(() => t.caller.requests('BYE').length > 0, 'agent B\'s BYE reaches the caller');
  });

  it('target does not answer: agent A is already gone and the caller\'s call ends (the action document hangs up)', async () => {
    const t = await connected(false, '/refer');
    t.agentB.answer = [{ status: 480, reason: 'Temporarily Unavailable' }];
    t.rig.app.route('/transfer-action', '<Response><Hangup/></Response>');
    expect(await t.refer()).toBe(202);
    await t.rig.until(() => t.caller.requests('BYE').length > 0, 'the caller hung up');
    expect(t.transferor.requests('BYE')).toHaveLength(1);
    expect(t.transferor.requests('NOTIFY').map(sipfrag)).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 200 OK']);
    expect(t.rig.app.to('/transfer-action')[0]!.params).toMatchObject({ DialCallStatus: 'no-answer', DialSipResponseCode: '480' });
  });

  it('referUrl unreachable: NOTIFY 503, agent A is released and the original call cannot be re-established: the caller gets BYE', async () => {
    const t = await connected(false, 'http://127.0.0.1:9/refer');
    expect(await t.refer()).toBe(202);
    await t.rig.until(() => t.caller.requests('BYE').length > 0 && t.transferor.requests('BYE').length > 0, 'both hung up');
    expect(t.transferor.requests('NOTIFY').map(sipfrag)).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 503 Service Unavailable']);
    expect(t.agentB.incoming).toHaveLength(0);
  });

  it('referUrl absent: REFER refused (603), alert 13802, the original call stays', async () => {
    const t = await connected(false, undefined);
    expect(await t.refer()).toBe(603);
    expect(t.rig.alerts().filter((a) => a.code === 13802)).toHaveLength(1);
    expect(t.transferor.requests('NOTIFY')).toHaveLength(0);
    expect((await t.rig.untilResolved(t.transferor.request('INFO')))?.statusCode).toBe(200);
    expect(t.caller.requests('INFO')).toHaveLength(1);
    expect(await t.rig.untilResolved(t.transferor.bye())).toBe(200);
    await t.rig.until(() => t.caller.requests('BYE').length > 0, 'agent A\'s BYE reaches the caller');
  });
});

describe('REFER from the caller\'s own leg (the dialled party is the transferee)', () => {
  for (const aob of [true, false]) {
    it(`answerOnBridge ${aob}: the caller gets 202 and NOTIFY 100/200 then BYE; agent A is re-INVITEd to agent B and stays with it`, async () => {
      const t = await connected(aob, '/refer');
      const status = (await t.rig.untilResolved(t.caller.request('REFER', { headers: [['Refer-To', `<${t.agentB.uri}>`], ['Referred-By', t.alice.contact]] })))?.statusCode;
      expect(status).toBe(202);
      await t.rig.until(() => t.caller.requests('BYE').length > 0, 'the caller released');
      expect(t.caller.requests('NOTIFY').map(sipfrag)).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 200 OK']);
      await t.rig.until(() => (t.agentB.dialogs[0]?.requests('ACK').length ?? 0) > 0, 'agent B connected');
      expect(t.rig.app.to('/refer')[0]!.params.ReferTransferTarget).toBe(`<${t.agentB.uri}>`);
      const media = [...t.transferor.requests('INVITE')].reverse().find((i) => i.bodyLength > 0);
      expect(mediaPortOf(media!.body), 'agent A is re-INVITEd with agent B\'s media').toBe(t.agentB.mediaPort);
      expect(mediaPortOf(t.agentB.dialogs[0]!.requests('ACK')[0]!.body), 'agent B gets agent A\'s answer').toBe(t.agentA.mediaPort);
      expect(t.transferor.requests('BYE'), 'agent A was not hung up').toHaveLength(0);
      expect(await t.rig.untilResolved(t.transferor.bye())).toBe(200);
      await t.rig.until(() => t.agentB.dialogs[0]!.requests('BYE').length > 0, 'agent A\'s BYE reaches agent B');
    });
  }
});
