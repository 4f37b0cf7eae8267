import { describe, expect, it } from 'vitest';
import { OriginKeeper, holdAnswer, holdOffer, mediaIpOf } from '../../../runtime/calls/sdp.js';
import { rfc2822, sipHost, sipUser, callParams, xHeaderParams } from '../../../runtime/calls/params.js';
import { StatusReporter } from '../../../runtime/calls/status-callbacks.js';
import type { WebhookClient, WebhookRequest } from '../../../runtime/webhooks/client.js';
import { createParser } from '../../../runtime/wasm/load.js';
import { isSid, newSid } from '../../../runtime/calls/sid.js';
import { CallStore } from '../../../runtime/calls/store.js';
import { loadConfig, ConfigError } from '../../../runtime/config.js';

const text = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);
const sdp = (origin: string, port: number): Uint8Array => new TextEncoder().encode(
  `v=0\r\no=${origin} IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0 8 101\r\nm=video ${port + 2} RTP/AVP 96\r\n`);

describe('hold SDP', () => {
  it('answers every offered stream on hold, in order, first payload type kept', () => {
    const answer = text(holdAnswer(sdp('alice 1 1', 4000), '192.0.2.7'));
    expect(answer).toContain('c=IN IP4 192.0.2.7');
    expect(answer.match(/^m=.*$/gm)).toEqual(['m=audio 9 RTP/AVP 0', 'm=video 9 RTP/AVP 96']);
    expect(answer.match(/a=inactive/g)).toHaveLength(2);
  });

  it('offers PCMU/PCMA on hold when there is nothing to answer, IPv6 too', () => {
    expect(text(holdOffer('::1'))).toContain('c=IN IP6 ::1');
    expect(text(holdAnswer(undefined, '127.0.0.1'))).toContain('m=audio 9 RTP/AVP 0');
  });
});

describe('OriginKeeper (RFC 3264 §8: one origin per leg, version up on change)', () => {
  it('keeps the first origin and bumps the version when another party\'s SDP is sent', () => {
    const keeper = new OriginKeeper();
    expect(text(keeper.apply(sdp('bob 77 5', 5000)))).toContain('o=bob 77 5 IN IP4 10.0.0.1');
    expect(text(keeper.apply(sdp('bob 77 5', 5000))), 'same body: same version').toContain('o=bob 77 5 ');
    const next = text(keeper.apply(sdp('carol 9 1', 6000)));
    expect(next).toContain('o=bob 77 6 IN IP4 10.0.0.1');
    expect(next).toContain('m=audio 6000');
    expect(keeper.apply(undefined)).toBeUndefined();
  });
});

describe('webhook parameters', () => {
  it('formats Timestamp as RFC 2822 in UTC', () => {
    expect(rfc2822(Date.UTC(2010, 7, 20, 1, 13, 42))).toBe('Fri, 20 Aug 2010 01:13:42 +0000');
  });

  it('names the host of our Contact in a made-up SDP, IPv6 without brackets', () => {
    const parser = createParser();
    expect(mediaIpOf(parser, '<sip:patchbay@192.0.2.7:5080;transport=udp>')).toBe('192.0.2.7');
    expect(mediaIpOf(parser, '<sip:patchbay@[2001:db8::7]:5080;transport=tcp>')).toBe('2001:db8::7');
    expect(mediaIpOf(parser, '<sip:patchbay>')).toBe('patchbay');
    expect(mediaIpOf(parser, 'garbage')).toBe('127.0.0.1');
  });

  it('reads host and user of SIP URIs', () => {
    const parser = createParser();
    expect(sipHost(parser, 'sip:bob@example.com:5060;transport=tcp')).toBe('example.com');
    expect(sipHost(parser, 'sips:[2001:db8::1]:5061')).toBe('[2001:db8::1]');
    expect(sipHost(parser, 'tel:+1555')).toBe('');
    expect(sipHost(parser, 'bob@example.com')).toBe('');
    expect(sipUser(parser, 'sip:+1555@h')).toBe('+1555');
    expect(sipUser(parser, 'sip:+1555:pw@h')).toBe('+1555');
    expect(sipUser(parser, 'sip:alice;day=tuesday@atlanta.com')).toBe('alice;day=tuesday'); // RFC 3261 §19.1.3
    expect(sipUser(parser, 'sip:h')).toBeUndefined();
    expect(sipUser(parser, 'tel:+1555')).toBeUndefined();
    expect(sipUser(parser, 'sip:bad user@h')).toBeUndefined();
  });

  it('sends the standard voice parameters of a call, ParentCallSid only on children', () => {
    const now = Date.now();
    const base = { sid: newSid('CA'), accountSid: newSid('AC'), direction: 'inbound' as const, from: 'sip:a@h', to: 'sip:b@h', status: 'ringing' as const, dateCreated: now, dateUpdated: now };
    expect(callParams(base)).toEqual({ CallSid: base.sid, AccountSid: base.accountSid, From: 'sip:a@h', To: 'sip:b@h', Caller: 'sip:a@h', Called: 'sip:b@h', CallStatus: 'ringing', ApiVersion: '2010-04-01', Direction: 'inbound' });
    expect(callParams({ ...base, parentCallSid: 'CA1' }).ParentCallSid).toBe('CA1');
    expect(isSid(base.sid, 'CA')).toBe(true);
    expect(isSid('CA123', 'CA')).toBe(false);
  });

  it('adds extra parameters after the standard ones, a repeated name replacing the standard value (as a spread would)', () => {
    const now = Date.now();
    const call = { sid: 'CA1', accountSid: 'AC1', direction: 'inbound' as const, from: 'sip:a@h', to: 'sip:b@h', status: 'ringing' as const, dateCreated: now, dateUpdated: now };
    const extra = { SipCallId: 'c1', CallStatus: 'in-progress' };
    const params = callParams(call, extra);
    expect(params).toEqual({ ...callParams(call), ...extra });
    expect(Object.keys(params).slice(-2)).toEqual(['Direction', 'SipCallId']);
    expect(params.CallStatus).toBe('in-progress');
    expect(extra, 'the extra bag is not changed').toEqual({ SipCallId: 'c1', CallStatus: 'in-progress' });
  });

  it('names every header starting X- (either case) SipHeader_<name>, into a given bag, and nothing else', () => {
    const parser = createParser();
    const wire = 'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nX-Tenant: t1\r\nx-lower: l\r\nXray: no\r\nX-: bare\r\nContent-Length: 0\r\n\r\n';
    const view = parser.parseDetached(new TextEncoder().encode(wire));
    const bag = { SipCallId: 'c' };
    expect(xHeaderParams(view, 'SipHeader_', bag)).toBe(bag);
    expect(bag).toEqual({ SipCallId: 'c', 'SipHeader_X-Tenant': 't1', 'SipHeader_x-lower': 'l', 'SipHeader_X-': 'bare' });
    expect(xHeaderParams(undefined, 'SipHeader_')).toEqual({});
  });

  it('drops a caller\'s own X-Twilio-* headers in any case (Twilio\'s names, error 32113)', () => {
    const parser = createParser();
    const wire = 'INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n'
      + 'X-Twilio-CallSid: CAspoofed\r\nx-twilio-accountsid: ACspoofed\r\nX-TWILIO-ApiVersion: 1\r\nX-TwilioFoo: f\r\nX-Twilight: kept\r\nX-Tenant: t1\r\nContent-Length: 0\r\n\r\n';
    const view = parser.parseDetached(new TextEncoder().encode(wire));
    expect(xHeaderParams(view, 'SipHeader_')).toEqual({ 'SipHeader_X-Twilight': 'kept', 'SipHeader_X-Tenant': 't1' });
  });

  it('never passes on a value holding a control character (defence in depth: the parser refuses them)', () => {
    const parser = createParser();
    const wire = 'INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n'
      + 'X-A: one^\r\nX-B: two\r\nX-Tab: a\tb\r\nX-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n';
    for (const byte of [0x00, 0x07, 0x1b, 0x7f, 0x0d]) {
      const bytes = new TextEncoder().encode(wire.replace('^', 'b'));
      const view = parser.parseDetached(bytes);
      expect(view.error).toBeUndefined();
      bytes[wire.indexOf('^')] = byte; // as if a parser had let it through: the view reads these bytes
      const params = xHeaderParams(view, 'SipHeader_');
      expect(params).toEqual({ 'SipHeader_X-B': 'two', 'SipHeader_X-Tab': 'a\tb', 'SipHeader_X-Folded': 'a b' });
      for (const v of Object.values(params)) expect(v).not.toMatch(/[\x00-\x08\x0a-\x1f\x7f]/);
    }
  });
});

describe('StatusReporter', () => {
  const now = Date.now();
  const call = { sid: 'CA1', accountSid: 'AC1', direction: 'outbound-dial' as const, from: 'sip:a@h', to: 'sip:b@h', status: 'completed' as const, dateCreated: now, dateUpdated: now, duration: 7, sipResponseCode: 200 };
  const recording = (): { client: WebhookClient; sent: WebhookRequest[] } => {
    const sent: WebhookRequest[] = [];
    const client: WebhookClient = {
      request: (r) => { sent.push(r); return Promise.resolve({ ok: true, value: { status: 200, contentType: '', body: '', url: r.url } }); },
      close: () => Promise.resolve(),
    };
    return { client, sent };
  };

  it('wants only the events asked for, once each, numbering them from 0', async () => {
    const { client, sent } = recording();
    const reporter = new StatusReporter(client, { url: 'http://cb/status', method: 'POST', events: ['answered', 'completed'] }, () => undefined);
    expect(reporter.wants('ringing')).toBe(false);
    expect(reporter.wants('answered')).toBe(true);
    await reporter.fire('ringing', call);
    await reporter.fire('answered', call, { SipCallId: 'c1' });
    expect(reporter.wants('answered'), 'sent already').toBe(false);
    await reporter.fire('answered', call);
    reporter.completed(call);
    expect(sent.map((r) => [r.params?.SequenceNumber, r.params?.CallbackSource])).toEqual([['0', 'call-progress-events'], ['1', 'call-progress-events']]);
    expect(sent[0]!.params).toMatchObject({ CallSid: 'CA1', SipCallId: 'c1' });
    expect(sent[1]!.params).toMatchObject({ CallDuration: '7', SipResponseCode: '200', CallStatus: 'completed' });
  });

  it('has one shared inert reporter for calls without a statusCallback: it wants nothing and sends nothing', async () => {
    expect(StatusReporter.none).toBe(StatusReporter.none);
    expect(StatusReporter.none.wants('completed')).toBe(false);
    await expect(StatusReporter.none.fire('completed', call)).resolves.toBeUndefined();
    expect(() => StatusReporter.none.completed(call)).not.toThrow();
  });
});

describe('CallStore', () => {
  it('moves a call to the completed window with its duration and publishes every change', () => {
    const store = new CallStore({ keepCompleted: 1 });
    const events: string[] = [];
    store.on((e) => events.push(e.type === 'call.status' ? `${e.previous}->${e.call.status}` : e.type));
    const now = Date.now();
    const mk = (sid: string) => store.create({ sid, accountSid: 'AC', direction: 'inbound', from: 'a', to: 'b', status: 'ringing', dateCreated: now, dateUpdated: now });
    mk('CA1');
    store.update('CA1', 'in-progress');
    store.update('CA1', 'completed');
    expect(store.get('CA1')).toMatchObject({ status: 'completed', duration: 0 });
    expect(store.liveCount).toBe(0);
    mk('CA2');
    store.update('CA2', 'busy');
    expect(store.get('CA1'), 'only keepCompleted calls are kept').toBeUndefined();
    expect(events).toEqual(['call.created', 'ringing->in-progress', 'in-progress->completed', 'call.created', 'ringing->busy']);
  });

  it('keeps the newest keepCompleted calls across many completions and a restore with repeats', () => {
    const store = new CallStore({ keepCompleted: 3 });
    const now = Date.now();
    const record = (sid: string, status: 'ringing' | 'completed') => ({ sid, accountSid: 'AC', direction: 'inbound' as const, from: 'a', to: 'b', status, dateCreated: now, dateUpdated: now });
    store.restore([record('CR1', 'completed'), record('CR2', 'completed'), record('CR1', 'completed')]);
    expect(store.list().map((r) => r.sid).sort()).toEqual(['CR1', 'CR2']);
    for (let i = 1; i <= 50; i++) {
      store.create(record(`CA${i}`, 'ringing'));
      store.update(`CA${i}`, 'completed');
    }
    expect(store.list().map((r) => r.sid).sort()).toEqual(['CA48', 'CA49', 'CA50']);
    expect(store.get('CR1')).toBeUndefined();
    expect(store.get('CA47')).toBeUndefined();
    expect(store.get('CA50')).toMatchObject({ status: 'completed' });
  });
});

describe('TwiML configuration', () => {
  it('reads account, voice URL, routes and egress profiles, and refuses what cannot work', () => {
    const c = loadConfig(['--voice-url', 'http://127.0.0.1:3000/voice', '--auth-token', 't', '--egress', 'us2=sip:10.0.0.1:5060,us2.source=10.0.0.5,ie1.proxy=sip:p.example.com', '--number-route', 'sip:{number}@carrier'], {});
    expect(c.twiml).toMatchObject({ voiceUrl: 'http://127.0.0.1:3000/voice', voiceMethod: 'POST', authToken: 't', numberRoute: 'sip:{number}@carrier' });
    expect(c.twiml.egress).toEqual({ us2: { proxy: 'sip:10.0.0.1:5060', source: '10.0.0.5' }, ie1: { proxy: 'sip:p.example.com' } });
    expect(() => loadConfig(['--voice-url', 'http://x/voice'], {})).toThrow(/--auth-token/);
    expect(() => loadConfig(['--egress', 'mars=sip:x'], {})).toThrow(ConfigError);
    expect(() => loadConfig(['--account-sid', 'AC12'], {})).toThrow(/32 hex/);
    expect(() => loadConfig(['--voice-url', 'ftp://x'], {})).toThrow(/http/);
    expect(() => loadConfig(['--number-route', 'sip:carrier'], {})).toThrow(/\{number\}/);
  });
});

describe('TwiML text', () => {
  it('decodes numeric character references in noun text', async () => {
    const { parseTwiml } = await import('../../../runtime/twiml/index.js');
    const r = parseTwiml('<Response><Dial><Sip>sip:jos&#233;@example.com?x-plan=a&#x2B;b</Sip></Dial></Response>');
    expect(r.ok && r.value.verbs[0]).toMatchObject({ kind: 'dial', nouns: [{ kind: 'sip', uri: 'sip:josé@example.com?x-plan=a+b' }] });
  });
});
