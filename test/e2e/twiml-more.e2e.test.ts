/**
 * More TwiML call control end to end, on top of twiml.e2e.test.ts:
 * a voice URL that cannot be fetched (with and without a fallback URL),
 * <Redirect> with GET and relative URLs, <Number>/<Client> through the
 * configured URI templates, region egress through an outbound proxy, SIPp
 * as the dialled party over UDP and TCP, hangupOnStar from a SIPp caller's
 * INFO, record= without media, and the webhook conventions (User-Agent,
 * form encoding, a valid X-Twilio-Signature on every request, checked after
 * every test). Ports from its range in ports.ts (100); one daemon per configuration.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import twilio from 'twilio';
import { startSipp, sippSuiteEnabled, haveSipp, describeRun, type SippResult } from './sipp.js';
import { e2ePorts } from './ports.js';
import { startDaemonProcess, type DaemonProcess } from './daemon.js';
import { startWebApp, type AppRequest, type WebApp } from '../support/web-app.js';
import { header, type TestUa } from './test-ua.js';
import { useTwimlRig } from './twiml-rig.js';

const { VoiceResponse } = twilio.twiml;
const enabled = sippSuiteEnabled();
const BASE = e2ePorts(import.meta.url).base;
const TOKEN = 'test-auth-token-more-0123456789';
const ACCOUNT = 'ACfedcba9876543210fedcba9876543210';
/** Nothing listens here: a voice URL on it fails with connection refused. */
const CLOSED_PORT = BASE + 99;
const TIMERS = ['--t1', '100', '--t4', '500', '--timer-d', '1000', '--log-level', 'info'];

/**
 * What every webhook request must look like (Twilio's conventions, https://www.twilio.com/docs/voice/twiml): Twilio's
 * User-Agent, a signature the twilio package accepts, POST bodies
 * form-encoded, GET without a body, the account and API version.
 */
function expectWebhookConventions(requests: readonly AppRequest[]): void {
  for (const r of requests) {
    const what = `${r.method} ${r.url}`;
    expect(r.signatureValid, `${what}: signature`).toBe(true);
    expect(r.headers['x-twilio-signature'], what).toMatch(/^[A-Za-z0-9+/]{27}=$/);
    expect(r.headers['user-agent'], what).toMatch(/^TwilioProxy\/1\.1\b/);
    expect(['GET', 'POST'], what).toContain(r.method);
    if (r.method === 'POST') expect(r.headers['content-type'], what).toBe('application/x-www-form-urlencoded');
    else expect(r.headers['content-type'], what).toBeUndefined();
    expect(r.params, what).toMatchObject({ AccountSid: ACCOUNT, ApiVersion: '2010-04-01' });
    expect(r.params.CallSid, what).toMatch(/^CA[0-9a-f]{32}$/);
  }
}

describe.skipIf(!enabled)('TwiML: Redirect, Number/Client routes, egress, SIPp callee, hangupOnStar, record, webhook conventions', () => {
  const SIP_PORT = BASE;
  const UA1 = BASE + 11;
  const UA2 = BASE + 12;
  const CALLER = BASE + 13;
  const SIPP_UAS_UDP = BASE + 14;
  const SIPP_UAS_TCP = BASE + 16;
  let app: WebApp;
  let daemon: DaemonProcess;
  let ua1: TestUa;
  let ua2: TestUa;

  useTwimlRig({
    sipPort: SIP_PORT, listen: `udp:127.0.0.1:${SIP_PORT},tcp:127.0.0.1:${SIP_PORT}`, token: TOKEN, account: ACCOUNT, uaPorts: [UA1, UA2],
    args: (web) => [
      '--status-callback', `${web.base}/parent-status`,
      '--number-route', `sip:{number}@127.0.0.1:${UA1}`,
      '--client-route', `sip:{client}@127.0.0.1:${UA2}`,
      '--egress', `us2=sip:127.0.0.1:${UA1}`,
      ...TIMERS,
    ],
    beforeEach: () => app.route('/parent-status', '<Response/>'),
    afterEach: () => expectWebhookConventions(app.requests),
  }, (rig) => {
    ({ app, daemon } = rig);
    [ua1, ua2] = rig.uas as [TestUa, TestUa];
  });

  function call(scenario: string, pauseMs = 300, transport: 'u1' | 't1' = 'u1'): Promise<SippResult> {
    return startSipp({ scenario, remote: `127.0.0.1:${SIP_PORT}`, localPort: CALLER, service: 'support', calls: 1, durationMs: pauseMs, transport, timeoutMs: 60_000 }).done;
  }

  const sip = (port: number, user = 'agent', params = ';transport=udp'): string => `sip:${user}@127.0.0.1:${port}${params}`;

  it('<Redirect method="GET"> with a relative URL: resolved against the redirecting document\'s URL, parameters in the query string, signature valid; its TwiML runs', async () => {
    app.route('/voice', '<Response><Redirect>/app/first</Redirect></Response>');
    app.route('/app/first', '<Response><Redirect method="GET">second?step=2</Redirect></Response>');
    app.route('/app/second', '<Response><Reject reason="busy"/></Response>');
    const caller = await call('uac-call-expect-486.xml');
    expect(caller.code, describeRun(caller)).toBe(0);

    const [voice] = app.to('/voice');
    const [first] = app.to('/app/first');
    const [second] = app.to('/app/second');
    expect(first, 'absolute-path Redirect resolved against the voice URL').toBeDefined();
    expect(first!.method, 'Redirect defaults to POST').toBe('POST');
    expect(first!.params.CallSid).toBe(voice!.params.CallSid);
    expect(second, 'relative Redirect resolved against /app/first').toBeDefined();
    expect(second!.method).toBe('GET');
    expect(second!.url.startsWith(`${app.base}/app/second?step=2&`), second!.url).toBe(true);
    expect(second!.params).toMatchObject({
      step: '2', CallSid: voice!.params.CallSid, AccountSid: ACCOUNT, CallStatus: 'ringing', Direction: 'inbound', ApiVersion: '2010-04-01',
    });
    expect(second!.params.From).toMatch(/^sip:sipp@127\.0\.0\.1/);
    expect(second!.signatureValid).toBe(true);
  });

  it('<Number> goes through --number-route and <Client> through --client-route with the right Request-URI; <Client><Parameter> becomes an X- header', async () => {
    const r = new VoiceResponse();
    const dial = r.dial({ answerOnBridge: true, action: '/action' });
    dial.number('+1 (555) 010-9999');
    const client = dial.client();
    client.identity('alice');
    client.parameter({ name: 'Team', value: 'sales desk' });
    client.parameter({ name: 'X-Ticket', value: 'T-42' });
    app.route('/voice', r.toString());
    app.route('/action', '<Response/>');
    ua1.script([{ status: 486, reason: 'Busy Here' }]);
    ua2.script([{ status: 180 }, { wait: 200 }, { status: 200, sdp: true }]);
    const caller = await call('uac-call-expect-200.xml');
    expect(caller.code, describeRun(caller)).toBe(0);

    const number = ua1.calls[0]!.invites[0]!;
    expect(number.text.split('\r\n')[0]).toBe(`INVITE sip:+15550109999@127.0.0.1:${UA1} SIP/2.0`);
    expect(header(number, 'To')).toBe(`<sip:+15550109999@127.0.0.1:${UA1}>`);
    expect(header(number, 'X-Twilio-CallSid')).toMatch(/^CA[0-9a-f]{32}$/);
    const client1 = ua2.calls[0]!.invites[0]!;
    expect(client1.text.split('\r\n')[0]).toBe(`INVITE sip:alice@127.0.0.1:${UA2} SIP/2.0`);
    expect(header(client1, 'X-Team')).toBe('sales desk');
    expect(header(client1, 'X-Ticket'), 'a name already starting with X- is not prefixed twice').toBe('T-42');
    expect(client1.headers.has('x-x-ticket')).toBe(false);
    expect(header(number, 'X-Team'), 'Parameters belong to their <Client> only').toBe('');
    const [action] = await app.waitFor('/action', 1);
    expect(action!.params).toMatchObject({ DialCallStatus: 'completed', DialBridged: 'true', DialCallSid: header(client1, 'X-Twilio-CallSid') });
  });

  it('<Client><Parameter> cannot forge X-Twilio headers (32113) or smuggle a header with CR/LF (32112): the noun is refused, the Dial fails', async () => {
    app.route('/voice', [
      '<Response><Dial answerOnBridge="true" action="/action">',
      '<Client><Identity>bob</Identity><Parameter name="Twilio-CallSid" value="CA00000000000000000000000000000000"/></Client>',
      // a literal line break: the XML parser keeps it in the attribute value
      '<Client><Identity>carol</Identity><Parameter name="Note" value="a\r\nVia: SIP/2.0/UDP evil"/></Client>',
      '</Dial></Response>',
    ].join(''));
    app.route('/action', '<Response><Reject/></Response>');
    const caller = await call('uac-call-expect-603.xml');
    expect(caller.code, describeRun(caller)).toBe(0);
    expect(ua2.calls, 'no INVITE left for a refused noun').toHaveLength(0);
    const [action] = app.to('/action');
    expect(action!.params).toMatchObject({ DialCallStatus: 'failed', DialBridged: 'false' });
    expect(daemon.logs.some((l) => l.includes('"call error"') && l.includes('"code":32113') && l.includes('bob'))).toBe(true);
    expect(daemon.logs.some((l) => l.includes('"call error"') && l.includes('"code":32112') && l.includes('carol'))).toBe(true);
  });

  it('region egress: <Sip>…;region=us2 leaves through the us2 proxy as a loose Route; the Request-URI loses region', async () => {
    const r = new VoiceResponse();
    r.dial({ answerOnBridge: true, action: '/action' }).sip('sip:agent@example.invalid;region=us2');
    app.route('/voice', r.toString());
    app.route('/action', '<Response/>');
    ua1.script([{ status: 180 }, { wait: 100 }, { status: 200, sdp: true }]);
    const caller = await call('uac-call-expect-200.xml');
    expect(caller.code, describeRun(caller)).toBe(0);
    const invite = ua1.calls[0]!.invites[0]!;
    expect(invite.text.split('\r\n')[0]).toBe('INVITE sip:agent@example.invalid SIP/2.0');
    expect(header(invite, 'Route')).toBe(`<sip:127.0.0.1:${UA1};lr>`);
    expect(invite.text).not.toContain('region=');
    // the caller's BYE is answered by Patchbay before its own BYE reaches the callee: wait for that one
    await ua1.waitUntil(() => ua1.calls[0]!.byes.length > 0);
    expect(ua1.calls[0]!.byes, 'in-dialog requests reach the callee').toHaveLength(1);
    const [action] = await app.waitFor('/action', 1);
    expect(action!.params).toMatchObject({ DialCallStatus: 'completed', DialSipResponseCode: '200' });
  });

  it('a SIPp UAS (uas-answer.xml, UDP) as the dialled party', async () => {
    const uas = startSipp({ scenario: 'uas-answer.xml', localPort: SIPP_UAS_UDP, calls: 1, timeoutMs: 30_000 });
    await uas.ready;
    const r = new VoiceResponse();
    r.dial({ answerOnBridge: true, action: '/action' }).sip(sip(SIPP_UAS_UDP, 'uas'));
    app.route('/voice', r.toString());
    app.route('/action', '<Response/>');
    const caller = await call('uac-call-expect-200.xml', 500);
    expect(caller.code, describeRun(caller)).toBe(0);
    const callee = await uas.done;
    expect(callee.code, describeRun(callee)).toBe(0);
    expect(callee.successful).toBe(1);
    const [action] = await app.waitFor('/action', 1);
    expect(action!.params).toMatchObject({ DialCallStatus: 'completed', DialBridged: 'true', DialSipResponseCode: '200' });
    expect(action!.params.DialSipCallId).toBeTruthy();
  });

  it('a SIPp UAS over TCP (<Sip>…;transport=tcp, SIPp -t t1), answerOnBridge false: the caller is answered on hold, then re-INVITEd to the callee\'s media', async () => {
    const uas = startSipp({ scenario: 'uas-answer.xml', localPort: SIPP_UAS_TCP, calls: 1, transport: 't1', timeoutMs: 30_000 });
    await uas.ready;
    const r = new VoiceResponse();
    r.dial({ action: '/action' }).sip(sip(SIPP_UAS_TCP, 'uas', ';transport=tcp'));
    app.route('/voice', r.toString());
    app.route('/action', '<Response/>');
    const caller = await call('uac-twiml-reinvite-then-bye.xml', 500);
    expect(caller.code, describeRun(caller)).toBe(0);
    const callee = await uas.done;
    expect(callee.code, describeRun(callee)).toBe(0);
    expect(callee.successful).toBe(1);
    const [action] = await app.waitFor('/action', 1);
    expect(action!.params).toMatchObject({ DialCallStatus: 'completed', DialBridged: 'true', DialSipResponseCode: '200' });
  });

  it('hangupOnStar: the caller\'s INFO with DTMF * (application/dtmf-relay) hangs up the callee; action gets completed and its <Hangup/> sends the caller BYE', async () => {
    const r = new VoiceResponse();
    r.dial({ answerOnBridge: true, hangupOnStar: true, action: '/action' }).sip(sip(UA1));
    app.route('/voice', r.toString());
    app.route('/action', '<Response><Hangup/></Response>');
    ua1.script([{ status: 200, sdp: true }]);
    const caller = await call('uac-info-star-expect-bye.xml', 500);
    expect(caller.code, describeRun(caller)).toBe(0);
    const c = ua1.calls[0]!;
    expect(c.byes, 'the callee got BYE').toHaveLength(1);
    expect(c.infos, 'the * was taken by Patchbay, not relayed').toHaveLength(0);
    const [action] = app.to('/action');
    expect(action!.params).toMatchObject({ DialCallStatus: 'completed', DialBridged: 'true', DialCallSid: header(c.invites[0], 'X-Twilio-CallSid') });
  });

  it('without hangupOnStar the same INFO is relayed to the callee, and the call goes on until the callee hangs up', async () => {
    const r = new VoiceResponse();
    r.dial({ answerOnBridge: true, action: '/action' }).sip(sip(UA1));
    app.route('/voice', r.toString());
    app.route('/action', '<Response><Hangup/></Response>');
    ua1.script([{ status: 200, sdp: true }]);
    const running = call('uac-info-star-expect-bye.xml', 300);
    await ua1.waitUntil(() => (ua1.calls[0]?.infos.length ?? 0) > 0);
    const c = ua1.calls[0]!;
    expect(c.infos).toHaveLength(1);
    expect(header(c.infos[0], 'Content-Type')).toBe('application/dtmf-relay');
    expect(c.infos[0]!.body).toMatch(/^Signal=\*\r\nDuration=160/);
    expect(c.byes).toHaveLength(0);
    expect(await ua1.bye(c)).toBe(200);
    const caller = await running;
    expect(caller.code, describeRun(caller)).toBe(0);
    const [action] = await app.waitFor('/action', 1);
    expect(action!.params).toMatchObject({ DialCallStatus: 'completed', DialBridged: 'true' });
  });

  it('record="record-from-answer" is accepted: the call is bridged, a 12200 warning says nothing is recorded, no Recording* parameters', async () => {
    const r = new VoiceResponse();
    r.dial({ answerOnBridge: true, record: 'record-from-answer', action: '/action' }).sip(sip(UA1));
    app.route('/voice', r.toString());
    app.route('/action', '<Response/>');
    ua1.script([{ status: 200, sdp: true }]);
    const caller = await call('uac-call-expect-200.xml');
    expect(caller.code, describeRun(caller)).toBe(0);
    const [voice] = app.to('/voice');
    const warning = daemon.logs.find((l) => l.includes('"call warning"') && l.includes(voice!.params.CallSid!) && l.includes('record'));
    expect(warning, daemon.logs.slice(-20).join('\n')).toBeDefined();
    expect(warning).toContain('"code":12200');
    expect(warning).toMatch(/record-from-answer.*unsupported without media/);
    const [action] = await app.waitFor('/action', 1);
    expect(action!.params).toMatchObject({ DialCallStatus: 'completed', DialBridged: 'true' });
    expect(Object.keys(action!.params).filter((k) => k.startsWith('Recording'))).toEqual([]);
  });

  it('webhook conventions: POST form-encoded and GET in the query string, TwilioProxy User-Agent, every request signed (voice, Redirect, action, child and parent status callbacks)', async () => {
    const r = new VoiceResponse();
    const dial = r.dial({ answerOnBridge: true, action: '/action', method: 'GET' });
    dial.sip({ statusCallback: `${app.base}/child-status`, statusCallbackEvent: 'initiated ringing answered completed', statusCallbackMethod: 'GET' } as never, sip(UA1, 'agent', ';transport=udp?X-Order=o%26k%3D1'));
    app.route('/voice', '<Response><Redirect>/app/dial?x=%C3%A9t%C3%A9&amp;y=a+b</Redirect></Response>');
    app.route('/app/dial', r.toString());
    app.route('/action', '<Response/>');
    app.route('/child-status', '<Response/>');
    ua1.script([{ status: 180 }, { wait: 100 }, { status: 200, sdp: true, headers: { 'X-Unicode': 'café' } }]);
    const caller = await call('uac-call-expect-200.xml');
    expect(caller.code, describeRun(caller)).toBe(0);
    await app.waitFor('/child-status', 4);
    await app.waitFor('/parent-status', 1);
    const [dialDoc] = app.to('/app/dial');
    const query = new URL(dialDoc!.url).searchParams;
    expect([query.get('x'), query.get('y')], 'the Redirect URL\'s own query survives a POST').toEqual(['été', 'a b']);
    expect(dialDoc!.params.x, 'POST parameters travel in the body only').toBeUndefined();
    const [action] = await app.waitFor('/action', 1);
    expect(action!.method).toBe('GET');
    expect(action!.params.DialCallStatus).toBe('completed');
    expect(header(ua1.calls[0]!.invites[0], 'X-Order')).toBe('o&k=1');
    const methods = new Set(app.requests.map((q) => `${q.method} ${q.path}`));
    expect([...methods].sort()).toEqual(['GET /action', 'GET /child-status', 'POST /app/dial', 'POST /parent-status', 'POST /voice']);
    expect(app.requests.length).toBeGreaterThanOrEqual(8);
    expectWebhookConventions(app.requests);
  });
});

describe.skipIf(!enabled)('TwiML: the voice URL cannot be fetched, --fallback-url is set', () => {
  const SIP_PORT = BASE + 20;
  const CALLER = BASE + 33;
  let app: WebApp;
  let daemon: DaemonProcess;
  const voiceUrl = `http://127.0.0.1:${CLOSED_PORT}/voice`;

  beforeAll(async () => {
    if (!haveSipp()) throw new Error('sipp is not installed: apt-get install -y sip-tester');
    app = await startWebApp(TOKEN);
    daemon = await startDaemonProcess([
      '--listen', `udp:127.0.0.1:${SIP_PORT}`,
      '--voice-url', voiceUrl, '--fallback-url', `${app.base}/fallback`,
      '--auth-token', TOKEN, '--account-sid', ACCOUNT, ...TIMERS,
    ], SIP_PORT + 5);
  });
  afterAll(async () => {
    await daemon?.stop();
    await app?.close();
  });
  afterEach(async () => {
    const stats = await daemon.settle(15_000);
    expect(stats, 'nothing left behind').toMatchObject({ calls: 0, dialogs: 0, clientTx: 0, serverTx: 0 });
    expectWebhookConventions(app.requests);
  });

  it('the fallback URL gets the standard parameters plus ErrorCode=11200 and ErrorUrl, and its TwiML runs', async () => {
    app.route('/fallback', '<Response><Reject reason="busy"/></Response>');
    const caller = await startSipp({ scenario: 'uac-call-expect-486.xml', remote: `127.0.0.1:${SIP_PORT}`, localPort: CALLER, service: 'support', calls: 1, timeoutMs: 60_000 }).done;
    expect(caller.code, describeRun(caller)).toBe(0);
    const requests = app.to('/fallback');
    expect(requests).toHaveLength(1);
    const fallback = requests[0]!;
    expect(fallback.method).toBe('POST');
    expect(fallback.params).toMatchObject({
      ErrorCode: '11200', ErrorUrl: voiceUrl,
      AccountSid: ACCOUNT, CallStatus: 'ringing', Direction: 'inbound', ApiVersion: '2010-04-01',
      SipSourceIp: '127.0.0.1',
    });
    expect(fallback.params.CallSid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(fallback.params.From).toMatch(/^sip:sipp@127\.0\.0\.1/);
    expect(fallback.params.To).toContain('sip:support@127.0.0.1');
    expect(fallback.params.SipCallId).toBeTruthy();
    // the failed fetch itself is reported with its specific code (connection refused)
    expect(daemon.logs.some((l) => l.includes('"call error"') && l.includes('"code":11205') && l.includes(fallback.params.CallSid!))).toBe(true);
  });
});

describe.skipIf(!enabled)('TwiML: the voice URL cannot be fetched, no fallback', () => {
  const SIP_PORT = BASE + 40;
  const CALLER = BASE + 53;
  let daemon: DaemonProcess;

  beforeAll(async () => {
    if (!haveSipp()) throw new Error('sipp is not installed: apt-get install -y sip-tester');
    daemon = await startDaemonProcess([
      '--listen', `udp:127.0.0.1:${SIP_PORT}`,
      '--voice-url', `http://127.0.0.1:${CLOSED_PORT}/voice`,
      '--auth-token', TOKEN, '--account-sid', ACCOUNT, ...TIMERS,
    ], SIP_PORT + 5);
  });
  afterAll(async () => {
    await daemon?.stop();
  });

  it('the caller gets 500 with Reason "Twilio error 11200"; the log has the call error 11200 (and 11205, connection refused)', async () => {
    const caller = await startSipp({ scenario: 'uac-call-expect-500-11200.xml', remote: `127.0.0.1:${SIP_PORT}`, localPort: CALLER, service: 'support', calls: 1, timeoutMs: 60_000 }).done;
    expect(caller.code, describeRun(caller)).toBe(0);
    const errors = daemon.logs.filter((l) => l.includes('"call error"'));
    const codes = errors.map((l) => (JSON.parse(l) as { code?: number }).code);
    expect(codes, errors.join('\n')).toContain(11200);
    expect(codes).toContain(11205);
    const final = errors.find((l) => l.includes('"code":11200'))!;
    expect(final).toContain(`127.0.0.1:${CLOSED_PORT}/voice`);
    const stats = await daemon.settle(15_000);
    expect(stats, 'nothing left behind').toMatchObject({ calls: 0, dialogs: 0, clientTx: 0, serverTx: 0 });
  });
});
