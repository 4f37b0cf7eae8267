/**
 * TwiML call control end to end: a SIPp caller calls the real
 * daemon, which fetches TwiML from a real web app on loopback (every
 * request recorded, its X-Twilio-Signature checked with the twilio
 * package's validateRequest) and dials scripted SIP endpoints over real
 * UDP sockets. Documents are built with twilio.twiml.VoiceResponse.
 */
import { describe, it, expect } from 'vitest';
import twilio from 'twilio';
import { startSipp, sippSuiteEnabled, describeRun, type SippResult } from './sipp.js';
import { e2ePorts } from './ports.js';
import { startDaemonProcess, type DaemonProcess } from './daemon.js';
import { startWebApp, type WebApp } from '../support/web-app.js';
import { startTestUa, header, type TestUa } from './test-ua.js';
import { useTwimlRig } from './twiml-rig.js';

const { VoiceResponse } = twilio.twiml;
const enabled = sippSuiteEnabled();
const BASE = e2ePorts(import.meta.url).base;
const SIP_PORT = BASE;
const UA1 = BASE + 11;
const UA2 = BASE + 12;
const CALLER = BASE + 13;
const TOKEN = 'test-auth-token-0123456789';
const ACCOUNT = 'AC0123456789abcdef0123456789abcdef';

describe.skipIf(!enabled)('TwiML <Dial><Sip> against the daemon', () => {
  let app: WebApp;
  let daemon: DaemonProcess;
  let ua1: TestUa;
  let ua2: TestUa;

  useTwimlRig({
    sipPort: SIP_PORT, token: TOKEN, account: ACCOUNT, uaPorts: [UA1, UA2],
    args: (web) => ['--status-callback', `${web.base}/parent-status`, '--t1', '100', '--t4', '500', '--timer-d', '1000', '--log-level', 'info'],
  }, (rig) => {
    ({ app, daemon } = rig);
    [ua1, ua2] = rig.uas as [TestUa, TestUa];
  });

  function call(scenario: string, pauseMs = 300): Promise<SippResult> {
    return startSipp({ scenario, remote: `127.0.0.1:${SIP_PORT}`, localPort: CALLER, service: 'support', calls: 1, durationMs: pauseMs, timeoutMs: 60_000 }).done;
  }

  /** POST to the daemon's REST API for one call (modify: Status, Url, Twiml). */
  function updateCall(sid: string, form: string): Promise<Response> {
    return fetch(`http://127.0.0.1:${SIP_PORT + 5}/2010-04-01/Accounts/${ACCOUNT}/Calls/${sid}.json`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(`${ACCOUNT}:${TOKEN}`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form,
    });
  }

  const sip = (port: number, user = 'agent', query = ''): string => `sip:${user}@127.0.0.1:${port};transport=udp${query}`;

  it('answerOnBridge: the caller rings until the <Sip> callee answers; custom headers arrive decoded with the X-Twilio identity and callerId; action gets the Dial outcome', async () => {
    const r = new VoiceResponse();
    r.dial({ answerOnBridge: true, callerId: '+15550001', action: '/action' })
      .sip(sip(UA1, 'agent', '?X-Customer=Madhu%2CM%3BTitle%3DManager&User-to-User=0A1B%3Bencoding%3Dhex'));
    app.route('/voice', r.toString());
    app.route('/action', '<Response><Hangup/></Response>');
    ua1.script([{ status: 180 }, { wait: 100 }, { status: 200, sdp: true, headers: { 'X-Agent-Id': '42' } }]);
    const caller = await call('uac-call-expect-200.xml', 500);
    expect(caller.code, describeRun(caller)).toBe(0);

    const [voice] = app.to('/voice');
    expect(voice).toBeDefined();
    expect(voice!.signatureValid).toBe(true);
    expect(voice!.params).toMatchObject({ AccountSid: ACCOUNT, CallStatus: 'ringing', Direction: 'inbound', ApiVersion: '2010-04-01' });
    expect(voice!.params.CallSid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(voice!.params.From).toMatch(/^sip:sipp@127\.0\.0\.1/);
    expect(voice!.params.To).toContain('sip:support@127.0.0.1');
    expect(voice!.params.SipCallId).toBeTruthy();
    expect(voice!.params.SipSourceIp).toBe('127.0.0.1');

    const invite = ua1.calls[0]!.invites[0]!;
    expect(invite.text.split('\r\n')[0]).toBe(`INVITE sip:agent@127.0.0.1:${UA1};transport=udp SIP/2.0`);
    expect(header(invite, 'X-Customer')).toBe('Madhu,M;Title=Manager');
    expect(header(invite, 'User-to-User')).toBe('0A1B;encoding=hex');
    expect(header(invite, 'X-Twilio-AccountSid')).toBe(ACCOUNT);
    expect(header(invite, 'X-Twilio-ApiVersion')).toBe('2010-04-01');
    const childSid = header(invite, 'X-Twilio-CallSid');
    expect(childSid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(childSid).not.toBe(voice!.params.CallSid);
    expect(header(invite, 'From')).toMatch(/^<sip:\+15550001@/);
    expect(invite.body).toContain('o=user1'); // the caller's offer went to the callee

    const [action] = await app.waitFor('/action', 1);
    expect(action!.signatureValid).toBe(true);
    expect(action!.params).toMatchObject({
      CallSid: voice!.params.CallSid, DialCallStatus: 'completed', DialCallSid: childSid, DialBridged: 'true',
      DialSipResponseCode: '200', DialSipCallId: header(invite, 'Call-ID'),
      'DialSipHeader_X-Bye-Reason': 'callee-done', 'DialSipHeader_X-Agent-Id': '42',
    });
    expect(Number(action!.params.DialCallDuration)).toBeGreaterThanOrEqual(0);
    const [parentStatus] = await app.waitFor('/parent-status', 1);
    expect(parentStatus!.params).toMatchObject({ CallSid: voice!.params.CallSid, CallStatus: 'completed', CallbackSource: 'call-progress-events', SequenceNumber: '0' });
  });

  it('answerOnBridge false: the caller is answered on hold at once, the callee gets a late offer, and the caller is re-INVITEd to the callee media; the far end hanging up ends the call', async () => {
    const r = new VoiceResponse();
    r.dial().sip(sip(UA1));
    app.route('/voice', r.toString());
    ua1.script([{ status: 180 }, { wait: 200 }, { status: 200, sdp: true }]);
    const running = call('uac-twiml-reinvite-expect-bye.xml');
    await ua1.waitUntil(() => ua1.calls[0]?.acks.length === 1);
    const c = ua1.calls[0]!;
    expect(c.invites[0]!.body, 'late offer: no SDP to the callee').toBe('');
    expect(c.acks[0]!.body, 'the caller\'s answer reaches the callee in the ACK').toContain('o=user1');
    await new Promise((res) => setTimeout(res, 300));
    expect(await ua1.bye(c)).toBe(200);
    const caller = await running;
    expect(caller.code, describeRun(caller)).toBe(0);
  });

  it('parallel: the second target answers first and the first is cancelled; each child reports its progress events in order', async () => {
    const r = new VoiceResponse();
    const dial = r.dial({ answerOnBridge: true, action: '/action' });
    dial.sip({ statusCallback: '/child-status', statusCallbackEvent: 'initiated ringing answered completed' } as never, sip(UA1, 'slow'));
    dial.sip({ statusCallback: '/child-status', statusCallbackEvent: 'initiated ringing answered completed' } as never, sip(UA2, 'fast'));
    app.route('/voice', r.toString().replace(/statusCallback="\/child-status"/g, `statusCallback="${app.base}/child-status"`));
    app.route('/action', '<Response/>');
    app.route('/child-status', '<Response/>');
    ua1.script([{ status: 180 }, { wait: 3000 }, { status: 200, sdp: true }]);
    ua2.script([{ status: 180 }, { wait: 300 }, { status: 200, sdp: true }]);
    const caller = await call('uac-call-expect-200.xml', 300);
    expect(caller.code, describeRun(caller)).toBe(0);
    expect(ua1.calls[0]!.cancels).toHaveLength(1);
    expect(ua1.calls[0]!.final).toBe(487);
    const winner = header(ua2.calls[0]!.invites[0], 'X-Twilio-CallSid');
    const loser = header(ua1.calls[0]!.invites[0], 'X-Twilio-CallSid');
    const [action] = await app.waitFor('/action', 1);
    expect(action!.params).toMatchObject({ DialCallStatus: 'completed', DialCallSid: winner, DialBridged: 'true' });
    const events = await app.waitFor('/child-status', 7);
    const of = (sid: string): Record<string, string>[] => events.filter((e) => e.params.CallSid === sid).map((e) => e.params).sort((a, b) => Number(a.SequenceNumber) - Number(b.SequenceNumber));
    expect(of(winner).map((p) => p.CallStatus)).toEqual(['initiated', 'ringing', 'in-progress', 'completed']);
    expect(of(winner).map((p) => p.SequenceNumber)).toEqual(['0', '1', '2', '3']);
    expect(of(loser).map((p) => p.CallStatus)).toEqual(['initiated', 'ringing', 'canceled']);
    for (const e of events) {
      expect(e.signatureValid).toBe(true);
      expect(e.params).toMatchObject({ ParentCallSid: action!.params.CallSid, Direction: 'outbound-dial', CallbackSource: 'call-progress-events', AccountSid: ACCOUNT });
      expect(e.params.Timestamp).toMatch(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    }
    expect(of(winner).at(-1)!.CallDuration).toMatch(/^\d+$/);
  });

  it('sequential: the first target is busy, the second is tried next and answers', async () => {
    const r = new VoiceResponse();
    const dial = r.dial({ answerOnBridge: true, sequential: true, action: '/action' } as never);
    dial.sip(sip(UA1, 'busy'));
    dial.sip(sip(UA2, 'free'));
    app.route('/voice', r.toString());
    app.route('/action', '<Response/>');
    ua1.script([{ status: 486, reason: 'Busy Here', headers: { 'X-Reason': 'on-a-call' } }]);
    ua2.script([{ status: 180 }, { wait: 100 }, { status: 200, sdp: true }]);
    const caller = await call('uac-call-expect-200.xml', 300);
    expect(caller.code, describeRun(caller)).toBe(0);
    expect(ua1.calls).toHaveLength(1);
    expect(ua2.calls).toHaveLength(1);
    expect(ua2.calls[0]!.invites[0]!.headers).toBeDefined();
    const [action] = await app.waitFor('/action', 1);
    expect(action!.params).toMatchObject({ DialCallStatus: 'completed', DialCallSid: header(ua2.calls[0]!.invites[0], 'X-Twilio-CallSid') });
  });

  it('busy everywhere: DialCallStatus busy with the 486 code and its X- headers; the action TwiML continues the call', async () => {
    const r = new VoiceResponse();
    r.dial({ answerOnBridge: true, action: '/action' }).sip(sip(UA1));
    app.route('/voice', r.toString());
    app.route('/action', '<Response><Reject reason="busy"/></Response>');
    ua1.script([{ status: 486, reason: 'Busy Here', headers: { 'X-Reason': 'on-a-call' } }]);
    const caller = await call('uac-call-expect-486.xml');
    expect(caller.code, describeRun(caller)).toBe(0);
    const [action] = app.to('/action');
    expect(action!.params).toMatchObject({ DialCallStatus: 'busy', DialSipResponseCode: '486', 'DialSipHeader_X-Reason': 'on-a-call', DialBridged: 'false' });
  });

  it('timeout: a callee ringing longer than timeout is cancelled and the Dial ends no-answer; no action means the next verb runs', async () => {
    const r = new VoiceResponse();
    r.dial({ answerOnBridge: true, timeout: 5 }).sip(sip(UA1));
    r.redirect({ method: 'POST' }, '/after');
    app.route('/voice', r.toString());
    app.route('/after', '<Response><Hangup/></Response>');
    ua1.script([{ status: 180 }]);
    const started = Date.now();
    const caller = await call('uac-call-expect-603.xml');
    expect(caller.code, describeRun(caller)).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4500);
    expect(ua1.calls[0]!.cancels).toHaveLength(1);
    expect(app.to('/after')).toHaveLength(1);
    expect(app.to('/after')[0]!.params.CallStatus).toBe('ringing');
  }, 30_000);

  it('digest: username/password answer the callee\'s challenge', async () => {
    const r = new VoiceResponse();
    r.dial({ answerOnBridge: true, action: '/action' }).sip({ username: 'alice', password: 's3cret' }, sip(UA1));
    app.route('/voice', r.toString());
    app.route('/action', '<Response/>');
    ua1.script([{ challenge: { realm: 'ua', username: 'alice', password: 's3cret' } }, { status: 200, sdp: true }]);
    const caller = await call('uac-call-expect-200.xml');
    expect(caller.code, describeRun(caller)).toBe(0);
    const c = ua1.calls[0]!;
    expect(c.invites).toHaveLength(2);
    expect(header(c.invites[1], 'Authorization')).toMatch(/^Digest username="alice"/);
    const [action] = await app.waitFor('/action', 1);
    expect(action!.params.DialCallStatus).toBe('completed');
  });

  it('screening url: runs on the answered callee with SipHeader_ parameters; <Hangup/> there declines it (DialBridged false)', async () => {
    const r = new VoiceResponse();
    r.dial({ answerOnBridge: true, action: '/action' }).sip({ url: '/screen' } as never, sip(UA1));
    app.route('/voice', r.toString().replace('url="/screen"', `url="${app.base}/screen"`));
    app.route('/screen', '<Response><Hangup/></Response>');
    app.route('/action', '<Response><Reject/></Response>');
    ua1.script([{ status: 200, sdp: true, headers: { 'X-Agent-Id': '42' } }]);
    const caller = await call('uac-call-expect-603.xml');
    expect(caller.code, describeRun(caller)).toBe(0);
    const [screen] = app.to('/screen');
    expect(screen!.signatureValid).toBe(true);
    expect(screen!.params).toMatchObject({ 'SipHeader_X-Agent-Id': '42', Direction: 'outbound-dial', CallStatus: 'in-progress' });
    expect(screen!.params.SipCallId).toBe(header(ua1.calls[0]!.invites[0], 'Call-ID'));
    expect(ua1.calls[0]!.byes).toHaveLength(1);
    expect(app.to('/action')[0]!.params).toMatchObject({ DialCallStatus: 'completed', DialBridged: 'false' });
  });

  it('screening url that ends without declining connects the callee; the answered status callback carries the SIP parameters', async () => {
    const r = new VoiceResponse();
    r.dial({ answerOnBridge: true, action: '/action' }).sip({ url: '/whisper', statusCallback: '/child-status', statusCallbackEvent: 'answered' } as never, sip(UA1));
    app.route('/voice', r.toString());
    app.route('/whisper', '<Response><Pause length="1"/></Response>');
    app.route('/child-status', '<Response/>');
    app.route('/action', '<Response/>');
    ua1.script([{ status: 200, sdp: true, headers: { 'X-Agent-Id': '7' } }]);
    const caller = await call('uac-call-expect-200.xml', 300);
    expect(caller.code, describeRun(caller)).toBe(0);
    expect(app.to('/whisper')).toHaveLength(1);
    const [answered] = await app.waitFor('/child-status', 1);
    expect(answered!.params).toMatchObject({ CallStatus: 'in-progress', 'SipHeader_X-Agent-Id': '7', SipDomain: '127.0.0.1', SipSourceIp: '127.0.0.1', SequenceNumber: '0' });
    expect(answered!.params.SipDomainSid).toMatch(/^SD[0-9a-f]{32}$/);
    expect((await app.waitFor('/action', 1))[0]!.params).toMatchObject({ DialCallStatus: 'completed', DialBridged: 'true' });
  });

  it('timeLimit: the callee gets BYE after timeLimit seconds and the caller continues with the action TwiML', async () => {
    const r = new VoiceResponse();
    r.dial({ answerOnBridge: true, timeLimit: 1, action: '/action' }).sip(sip(UA1));
    app.route('/voice', r.toString());
    app.route('/action', '<Response><Hangup/></Response>');
    ua1.script([{ status: 200, sdp: true }]);
    const caller = await call('uac-call-expect-bye.xml');
    expect(caller.code, describeRun(caller)).toBe(0);
    expect(ua1.calls[0]!.byes).toHaveLength(1);
    expect(app.to('/action')[0]!.params).toMatchObject({ DialCallStatus: 'completed', DialBridged: 'true' });
  });

  it('the REST API hangs up a <Dial> child by its SID: the child gets BYE, the Dial ends completed and the caller goes on', async () => {
    const r = new VoiceResponse();
    r.dial({ answerOnBridge: true, action: '/action' }).sip(sip(UA1));
    app.route('/voice', r.toString());
    app.route('/action', '<Response><Hangup/></Response>');
    ua1.script([{ status: 200, sdp: true }]);
    const running = call('uac-call-expect-bye.xml');
    await ua1.waitUntil(() => (ua1.calls[0]?.acks.length ?? 0) > 0);
    const childSid = header(ua1.calls[0]!.invites[0], 'X-Twilio-CallSid');
    const res = await updateCall(childSid, 'Status=completed');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { parent_call_sid: string }).parent_call_sid).toMatch(/^CA/);
    const caller = await running;
    expect(caller.code, describeRun(caller)).toBe(0);
    expect(ua1.calls[0]!.byes).toHaveLength(1);
    expect(app.to('/action')[0]!.params).toMatchObject({ DialCallStatus: 'completed', DialCallSid: childSid, DialBridged: 'true' });
  });

  it('the REST API redirects a connected <Dial> child: it runs the new TwiML on its own, the caller\'s Dial ends completed and the caller goes on', async () => {
    const r = new VoiceResponse();
    r.dial({ answerOnBridge: true, action: '/action' }).sip({ statusCallback: '/child-status', statusCallbackEvent: 'answered completed' } as never, sip(UA1));
    app.route('/child-status', '<Response/>');
    app.route('/voice', r.toString());
    app.route('/action', '<Response><Hangup/></Response>');
    app.route('/child-next', '<Response><Pause length="1"/><Hangup/></Response>');
    ua1.script([{ status: 200, sdp: true }]);
    // the caller holds its ACK 800 ms, so the redirect lands after the child is answered and ACKed but before
    // the caller is: the redirect waits for the two to be linked rather than being refused
    const running = call('uac-call-slow-ack-expect-bye.xml');
    await ua1.waitUntil(() => (ua1.calls[0]?.acks.length ?? 0) > 0);
    const childSid = header(ua1.calls[0]!.invites[0], 'X-Twilio-CallSid');
    const res = await updateCall(childSid, `Url=${encodeURIComponent(`${app.base}/child-next`)}&Method=POST`);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { sid: string }).sid).toBe(childSid);
    // the caller's Dial is over at once: action, then its <Hangup/> sends the caller BYE
    const caller = await running;
    expect(caller.code, describeRun(caller)).toBe(0);
    expect(app.to('/action')[0]!.params).toMatchObject({ DialCallStatus: 'completed', DialCallSid: childSid, DialBridged: 'true' });
    // the child ran the new document as itself, then its <Hangup/> after the pause
    const [next] = await app.waitFor('/child-next', 1);
    expect(next!.signatureValid).toBe(true);
    expect(next!.params).toMatchObject({ CallSid: childSid, Direction: 'outbound-dial', CallStatus: 'in-progress' });
    expect(next!.params.ParentCallSid).toMatch(/^CA[0-9a-f]{32}$/);
    await ua1.waitUntil(() => ua1.calls[0]!.byes.length > 0, 5000);
    expect(ua1.calls[0]!.byes).toHaveLength(1);
    // the noun's status callbacks follow the child out of the Dial: completed comes when it really ends
    const events = await app.waitFor('/child-status', 2);
    expect(events.map((e) => [e.params.CallStatus, e.params.SequenceNumber])).toEqual([['in-progress', '0'], ['completed', '1']]);
    expect(events[1]!.params).toMatchObject({ CallSid: childSid, CallbackSource: 'call-progress-events' });
    expect(Number(events[1]!.params.CallDuration)).toBeGreaterThanOrEqual(1);
  });

  it('the REST API refuses to redirect a child that is still ringing (21220)', async () => {
    const r = new VoiceResponse();
    r.dial({ answerOnBridge: true, timeout: 5 }).sip(sip(UA1));
    app.route('/voice', r.toString());
    ua1.script([{ status: 180 }, { wait: 1500 }, { status: 486, reason: 'Busy Here' }]);
    // the Dial ends busy, the document has nothing more: the unanswered caller gets 603
    const running = call('uac-call-expect-603.xml');
    await ua1.waitUntil(() => ua1.calls.length > 0);
    const childSid = header(ua1.calls[0]!.invites[0], 'X-Twilio-CallSid');
    const res = await updateCall(childSid, 'Twiml=%3CResponse%2F%3E');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 21220 });
    const caller = await running;
    expect(caller.code, describeRun(caller)).toBe(0);
  });

  it('invalid TwiML ends the call with 500 and a 12100 error naming the problem', async () => {
    app.route('/voice', '<Response><Dial><Foo/></Dial></Response>');
    const caller = await call('uac-call-expect-500.xml');
    expect(caller.code, describeRun(caller)).toBe(0);
    expect(daemon.logs.some((l) => l.includes('"code":13215') || l.includes('"code":12100'))).toBe(true);
  });

  it('<Reject> and <Hangup> before answer: 486 for busy, 603 otherwise', async () => {
    app.route('/voice', '<Response><Reject reason="busy"/></Response>');
    const busy = await call('uac-call-expect-486.xml');
    expect(busy.code, describeRun(busy)).toBe(0);
    app.route('/voice', '<Response><Hangup/></Response>');
    const hangup = await call('uac-call-expect-603.xml');
    expect(hangup.code, describeRun(hangup)).toBe(0);
  });
});

describe.skipIf(!enabled)('region egress profiles', () => {
  it('region=us2 leaves from the us2 source address through the us2 outbound proxy (Route ;lr), region stripped from the Request-URI', async () => {
    const port = BASE + 50;
    const proxy = await startTestUa(BASE + 51);
    const app = await startWebApp(TOKEN);
    const daemon = await startDaemonProcess([
      '--listen', `udp:127.0.0.1:${port},udp:127.0.0.2:${port}`,
      '--voice-url', `${app.base}/voice`, '--auth-token', TOKEN,
      '--egress', `us2.proxy=sip:127.0.0.1:${BASE + 51},us2.source=127.0.0.2`,
      '--t1', '100', '--t4', '500', '--timer-d', '1000',
    ], port + 5);
    try {
      app.route('/voice', '<Response><Dial answerOnBridge="true"><Sip>sip:agent@pbx.example.invalid;region=us2</Sip></Dial></Response>');
      proxy.script([{ status: 200, sdp: true }]);
      const caller = await startSipp({ scenario: 'uac-call-expect-200.xml', remote: `127.0.0.1:${port}`, localPort: BASE + 53, service: 'support', calls: 1, durationMs: 200, timeoutMs: 30_000 }).done;
      expect(caller.code, describeRun(caller)).toBe(0);
      const invite = proxy.calls[0]!.invites[0]!;
      expect(invite.from.address, 'sent from the us2 source address').toBe('127.0.0.2');
      expect(invite.text.split('\r\n')[0]).toBe('INVITE sip:agent@pbx.example.invalid SIP/2.0');
      expect(header(invite, 'Route')).toBe(`<sip:127.0.0.1:${BASE + 51};lr>`);
      expect(header(invite, 'Contact')).toContain('127.0.0.2');
      await proxy.waitUntil(() => proxy.calls[0]!.byes.length > 0);
      expect(proxy.calls[0]!.byes[0]!.from.address, 'in-dialog requests leave from the same address').toBe('127.0.0.2');
      expect(await daemon.settle(15_000)).toMatchObject({ calls: 0, dialogs: 0, clientTx: 0, serverTx: 0 });
    } finally {
      proxy.close();
      await daemon.stop();
      await app.close();
    }
  });
});
