/**
 * Inbound SIP REFER end to end: a SIPp caller reaches a
 * transferor through `<Dial referUrl>`; the transferor sends REFER; the
 * referUrl app (a real HTTP server) answers with `<Dial><Sip>` to the
 * transfer target. Each row of the README's REFER table ("Blind transfer") is a named case
 * for answerOnBridge true and false, checking the SIP each party sees and
 * the webhooks the app receives. One case uses a SIPp transferor.
 */
import { describe, it, expect } from 'vitest';
import twilio from 'twilio';
import { startSipp, sippSuiteEnabled, describeRun, type SippResult } from './sipp.js';
import { e2ePorts } from './ports.js';
import type { DaemonProcess } from './daemon.js';
import type { WebApp, AppRequest } from '../support/web-app.js';
import { header, type TestUa, type UaCall } from './test-ua.js';
import { useTwimlRig } from './twiml-rig.js';

const { VoiceResponse } = twilio.twiml;
const enabled = sippSuiteEnabled();
const BASE = e2ePorts(import.meta.url).base;
const SIP_PORT = BASE;
const TRANSFEROR = BASE + 11;
const TARGET = BASE + 12;
const CALLER = BASE + 13;
const SIPP_TRANSFEROR = BASE + 14;
const TOKEN = 'transfer-test-token';


/** The referUrl app of the README: dial whatever the transferor asked for. */
function referApp(req: AppRequest): string {
  const target = req.params.ReferTransferTarget!.replace(/^<|>$/g, '');
  const r = new VoiceResponse();
  r.dial({ action: '/transfer-action' }).sip(target);
  return r.toString();
}

const sipfrag = (n: { body: string }): string => n.body.split('\r\n')[0]!;

describe.skipIf(!enabled)('Inbound SIP REFER (blind transfer)', () => {
  let app: WebApp;
  let daemon: DaemonProcess;
  let transferor: TestUa;
  let target: TestUa;

  useTwimlRig({
    sipPort: SIP_PORT, token: TOKEN, uaPorts: [TRANSFEROR, TARGET],
    args: () => ['--t1', '100', '--t4', '500', '--timer-d', '1000', '--webhook-timeout', '2'],
    beforeEach: () => {
      transferor.script([{ status: 180 }, { wait: 50 }, { status: 200, sdp: true }]);
      target.script([{ status: 180 }, { wait: 300 }, { status: 200, sdp: true }]);
      app.route('/refer', referApp);
      app.route('/transfer-action', '<Response/>');
      app.route('/action', '<Response/>');
    },
  }, (rig) => {
    ({ app, daemon } = rig);
    [transferor, target] = rig.uas as [TestUa, TestUa];
  });

  function dialDoc(aob: boolean, referUrl: string | undefined): string {
    const r = new VoiceResponse();
    const attrs: Record<string, unknown> = { answerOnBridge: aob, action: '/action' };
    if (referUrl) attrs.referUrl = referUrl;
    r.dial(attrs as never).sip(`sip:agenta@127.0.0.1:${TRANSFEROR}`);
    return r.toString();
  }

  function caller(scenario: string, pauseMs: number): Promise<SippResult> {
    return startSipp({ scenario, remote: `127.0.0.1:${SIP_PORT}`, localPort: CALLER, service: 'support', calls: 1, durationMs: pauseMs, timeoutMs: 60_000 }).done;
  }

  /** Wait for the transferor to be connected, then REFER; returns the transferor's call and the REFER's status. */
  async function refer(referTo: string, extra: Record<string, string> = {}): Promise<{ call: UaCall; status: number }> {
    await transferor.waitUntil(() => (transferor.calls[0]?.acks.length ?? 0) > 0);
    const call = transferor.calls[0]!;
    await new Promise((r) => setTimeout(r, 300)); // let the caller's re-INVITE (answerOnBridge false) finish
    const status = await transferor.request(call, 'REFER', { 'Refer-To': referTo, 'Referred-By': `<sip:agenta@127.0.0.1:${TRANSFEROR}>`, ...extra });
    return { call, status };
  }

  const targetUri = `<sip:agentb@127.0.0.1:${TARGET}?X-Transfer-Reason=escalation&User-to-User=0A1B%3Bencoding%3Dhex>`;

  describe('answerOnBridge false', () => {
    it('webhook executed + target answers: 202, NOTIFY 100 then 200 (terminated), the transferor is released at once, the caller is re-INVITEd to the target', async () => {
      app.route('/voice', dialDoc(false, '/refer'));
      const running = caller('uac-twiml-2reinvite-then-bye.xml', 1500);
      const { call, status } = await refer(targetUri);
      expect(status).toBe(202);
      const c = await running;
      expect(c.code, describeRun(c)).toBe(0);
      expect(call.notifies.map(sipfrag)).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 200 OK']);
      expect(header(call.notifies[0], 'Event')).toMatch(/^refer;id=\d+$/);
      expect(header(call.notifies[0], 'Subscription-State')).toMatch(/^active/);
      expect(header(call.notifies[1], 'Subscription-State')).toMatch(/^terminated/);
      expect(header(call.notifies[1], 'Content-Type')).toBe('message/sipfrag;version=2.0');
      expect(call.byes).toHaveLength(1);
      // released right after the webhook: before the target even answered
      expect(call.times.bye!).toBeLessThan(target.calls[0]!.times.answered!);
      const [hook] = app.to('/refer');
      expect(hook!.signatureValid).toBe(true);
      expect(hook!.params.ReferTransferTarget).toBe(targetUri);
      expect(hook!.params).toMatchObject({ 'ReferHeader_X-Transfer-Reason': 'escalation', CallStatus: 'in-progress', Direction: 'inbound' });
      const invite = target.calls[0]!.invites[0]!;
      expect(invite.text.split('\r\n')[0]).toBe(`INVITE sip:agentb@127.0.0.1:${TARGET} SIP/2.0`);
      expect(header(invite, 'X-Transfer-Reason')).toBe('escalation');
      expect(header(invite, 'User-to-User')).toBe('0A1B;encoding=hex');
      expect(target.calls[0]!.acks[0]!.body, 'the caller\'s answer reaches the target').toContain('o=user1');
    });

    it('target does not answer: the transferor is already gone and the caller\'s call ends', async () => {
      app.route('/voice', dialDoc(false, '/refer'));
      target.script([{ status: 480, reason: 'Temporarily Unavailable' }]);
      app.route('/transfer-action', '<Response><Hangup/></Response>');
      const running = caller('uac-twiml-reinvite-expect-bye.xml', 0);
      const { call, status } = await refer(targetUri);
      expect(status).toBe(202);
      const c = await running;
      expect(c.code, describeRun(c)).toBe(0);
      expect(call.notifies.map(sipfrag)).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 200 OK']);
      expect(call.byes).toHaveLength(1);
      const [action] = await app.waitFor('/transfer-action', 1);
      expect(action!.params).toMatchObject({ DialCallStatus: 'no-answer', DialSipResponseCode: '480' });
    });

    it('referUrl unreachable: NOTIFY 503, the transferor is released and the original call cannot be re-established', async () => {
      app.route('/voice', dialDoc(false, 'http://127.0.0.1:9/refer'));
      const running = caller('uac-twiml-reinvite-expect-bye.xml', 0);
      const { call, status } = await refer(targetUri);
      expect(status).toBe(202);
      const c = await running;
      expect(c.code, describeRun(c)).toBe(0);
      expect(call.notifies.map(sipfrag)).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 503 Service Unavailable']);
      expect(call.byes).toHaveLength(1);
      expect(target.calls).toHaveLength(0);
    });

    it('referUrl absent: REFER refused (603, alert 13802), the original call stays up', async () => {
      app.route('/voice', dialDoc(false, undefined));
      const running = caller('uac-twiml-reinvite-then-bye.xml', 1500);
      const { call, status } = await refer(targetUri);
      expect(status).toBe(603);
      const c = await running;
      expect(c.code, describeRun(c)).toBe(0);
      expect(call.notifies).toHaveLength(0);
      await transferor.waitUntil(() => call.byes.length > 0);
      expect(call.byes, 'the transferor is only hung up when the caller hangs up').toHaveLength(1);
      expect(app.to('/refer')).toHaveLength(0);
      expect(daemon.logs.some((l) => l.includes('"code":13802'))).toBe(true);
      expect(await transferor.request(call, 'REFER', { 'Refer-To': targetUri }), 'a REFER after the call ended').toBe(481);
    });
  });

  describe('answerOnBridge true', () => {
    it('webhook executed + target answers: the transferor stays connected until the target answers, then NOTIFY 200 and BYE', async () => {
      app.route('/voice', dialDoc(true, '/refer'));
      target.script([{ status: 180 }, { wait: 800 }, { status: 200, sdp: true }]);
      const running = caller('uac-twiml-reinvite-then-bye.xml', 1500);
      const { call, status } = await refer(targetUri);
      expect(status).toBe(202);
      const c = await running;
      expect(c.code, describeRun(c)).toBe(0);
      expect(call.notifies.map(sipfrag)).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 200 OK']);
      expect(call.byes).toHaveLength(1);
      expect(call.times.bye!, 'released only after the target answered').toBeGreaterThanOrEqual(target.calls[0]!.times.answered!);
      expect(app.to('/refer')[0]!.params.ReferTransferTarget).toBe(targetUri);
    });

    it('target does not answer: NOTIFY with the failure, the original call goes on (caller and transferor still connected)', async () => {
      app.route('/voice', dialDoc(true, '/refer'));
      target.script([{ status: 486, reason: 'Busy Here' }]);
      const running = caller('uac-call-expect-200.xml', 2500);
      const { call, status } = await refer(targetUri);
      expect(status).toBe(202);
      await transferor.waitUntil(() => call.notifies.length >= 2);
      expect(call.notifies.map(sipfrag)).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 480 Temporarily Unavailable']);
      expect(call.byes, 'still connected after the failed transfer').toHaveLength(0);
      const c = await running;
      expect(c.code, describeRun(c)).toBe(0);
      await transferor.waitUntil(() => call.byes.length > 0);
      expect(call.byes, 'the caller hanging up ends the original call').toHaveLength(1);
    });

    it('referUrl unreachable: NOTIFY 503 and the original call goes on', async () => {
      app.route('/voice', dialDoc(true, 'http://127.0.0.1:9/refer'));
      const running = caller('uac-call-expect-200.xml', 2500);
      const { call, status } = await refer(targetUri);
      expect(status).toBe(202);
      await transferor.waitUntil(() => call.notifies.length >= 2);
      expect(call.notifies.map(sipfrag)).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 503 Service Unavailable']);
      expect(call.byes).toHaveLength(0);
      const c = await running;
      expect(c.code, describeRun(c)).toBe(0);
      await transferor.waitUntil(() => call.byes.length > 0);
      expect(call.byes).toHaveLength(1);
    });

    it('referUrl absent: REFER refused (603, alert 13802), the original call stays up', async () => {
      app.route('/voice', dialDoc(true, undefined));
      const running = caller('uac-call-expect-200.xml', 1500);
      const { call, status } = await refer(targetUri);
      expect(status).toBe(603);
      const c = await running;
      expect(c.code, describeRun(c)).toBe(0);
      expect(call.notifies).toHaveLength(0);
      await transferor.waitUntil(() => call.byes.length > 0);
      expect(call.byes).toHaveLength(1);
    });
  });

  describe('REFERs that cannot be served leave the call untouched', () => {
    it('Refer-To over 256 characters, missing, or doubled gets 400; a second REFER during a transfer gets 491; Refer-Sub: false gets no NOTIFY; tel: targets pass through verbatim', async () => {
      app.route('/voice', dialDoc(true, '/refer'));
      app.route('/refer', { body: '<Response><Dial><Sip>sip:nobody@127.0.0.1:9</Sip></Dial></Response>', delayMs: 800 });
      const running = caller('uac-call-expect-200.xml', 4000);
      await transferor.waitUntil(() => (transferor.calls[0]?.acks.length ?? 0) > 0);
      const call = transferor.calls[0]!;
      expect(await transferor.request(call, 'REFER', { 'Refer-To': `<sip:${'a'.repeat(260)}@example.com>` })).toBe(400);
      expect(await transferor.request(call, 'REFER', {})).toBe(400);
      expect(await transferor.request(call, 'REFER', { 'Refer-To': '<sip:a@example.com>, <sip:b@example.com>' })).toBe(400);
      expect(await transferor.request(call, 'REFER', { 'Refer-To': 'tel:+14155550100', 'Refer-Sub': 'false' })).toBe(202);
      expect(await transferor.request(call, 'REFER', { 'Refer-To': 'tel:+14155550199' }), 'one transfer at a time').toBe(491);
      const [hook] = await app.waitFor('/refer', 1);
      expect(hook!.params.ReferTransferTarget).toBe('tel:+14155550100');
      const c = await running;
      expect(c.code, describeRun(c)).toBe(0);
      expect(call.notifies, 'Refer-Sub: false').toHaveLength(0);
    });
  });

  describe('REFER from the caller\'s own leg (the dialled party is the transferee)', () => {
    for (const aob of [true, false]) {
      it(`answerOnBridge ${aob}: the caller gets 202 and NOTIFY 100/200 then BYE; the dialled party is re-INVITEd to the target and stays with it`, async () => {
        app.route('/voice', dialDoc(aob, '/refer'));
        const caller = await startSipp({
          scenario: aob ? 'uac-refer-transferor.xml' : 'uac-refer-transferor-hold.xml', remote: `127.0.0.1:${SIP_PORT}`, localPort: CALLER, service: 'support',
          calls: 1, durationMs: 300, timeoutMs: 60_000, extra: ['-key', 'refer_to', `<sip:agentb@127.0.0.1:${TARGET}>`],
        }).done;
        expect(caller.code, describeRun(caller)).toBe(0);
        const transferee = transferor.calls[0]!;
        await target.waitUntil(() => (target.calls[0]?.acks.length ?? 0) > 0);
        const reinvite = transferee.invites.at(-1)!;
        expect(reinvite.body, 'the transferee is re-INVITEd with the target\'s media').toContain(`o=ua ${TARGET}`);
        expect(target.calls[0]!.acks[0]!.body, 'the target gets the transferee\'s answer').toContain(`o=ua ${TRANSFEROR}`);
        const [hook] = app.to('/refer');
        expect(hook!.params.ReferTransferTarget).toBe(`<sip:agentb@127.0.0.1:${TARGET}>`);
        expect(transferee.byes, 'the transferee was not hung up').toHaveLength(0);
        expect(await transferor.bye(transferee)).toBe(200);
        await target.waitUntil(() => target.calls[0]!.byes.length > 0);
        expect(target.calls[0]!.byes).toHaveLength(1);
      });
    }
  });

  it('a SIPp transferor: answers, REFERs, gets 202, NOTIFY 100 and 200, then BYE; the caller ends up with the target', async () => {
    const r = new VoiceResponse();
    r.dial({ referUrl: '/refer', answerOnBridge: true } as never).sip(`sip:agenta@127.0.0.1:${SIPP_TRANSFEROR}`);
    app.route('/voice', r.toString());
    const sippTransferor = startSipp({ scenario: 'uas-transferor.xml', localPort: SIPP_TRANSFEROR, calls: 1, timeoutMs: 60_000, extra: ['-key', 'refer_to', `<sip:agentb@127.0.0.1:${TARGET}>`] });
    await sippTransferor.ready;
    const c = await caller('uac-twiml-reinvite-then-bye.xml', 1500);
    expect(c.code, describeRun(c)).toBe(0);
    const t = await sippTransferor.done;
    expect(t.code, describeRun(t)).toBe(0);
    expect(target.calls).toHaveLength(1);
    // the caller's BYE is answered before Patchbay's own BYE reaches the target: wait for that one
    await target.waitUntil(() => target.calls[0]!.byes.length > 0);
    expect(target.calls[0]!.byes, 'the caller hung up on the target').toHaveLength(1);
  });
});
