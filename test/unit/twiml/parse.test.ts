import { describe, expect, it } from 'vitest';
import twilio from 'twilio';
import { parseTwiml, type TwimlDocument, type TwimlError } from '../../../runtime/twiml/index.js';

const { VoiceResponse } = twilio.twiml;

function ok(xml: string): TwimlDocument {
  const r = parseTwiml(xml);
  if (!r.ok) throw new Error(`unexpected error ${JSON.stringify(r.error)}`);
  return r.value;
}

function err(xml: string): TwimlError {
  const r = parseTwiml(xml);
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.value)}`);
  return r.error;
}

describe('parseTwiml: document', () => {
  it('parses an empty <Response> from the helper', () => {
    expect(ok(new VoiceResponse().toString())).toEqual({ verbs: [], warnings: [] });
  });

  it.each([
    ['', 'empty'],
    ['   \n', 'blank'],
    ['hello world', 'not XML'],
    ['<Response><Dial>', 'unclosed'],
    ['<Response></Dial>', 'mismatched'],
    ['<Response/><Response/>', 'two roots'],
    ['<Response/>trailing', 'text after root'],
  ])('%j (%s) → 12100', (xml) => {
    const e = err(xml);
    expect(e.code).toBe(12100);
    expect(e.message).not.toBe('');
  });

  it('root other than <Response> → 12102 with its path', () => {
    expect(err('<Dial>+15551234567</Dial>')).toMatchObject({ code: 12102, path: 'Dial' });
    expect(err('<response><Hangup/></response>').code).toBe(12102);
  });

  it('ignores the XML declaration and comments', () => {
    const doc = ok('<?xml version="1.0" encoding="UTF-8"?><!-- hi --><Response><!-- x --><Hangup/></Response>');
    expect(doc).toEqual({ verbs: [{ kind: 'hangup' }], warnings: [] });
  });

  it('an unknown element is an invalid document → 12100 naming it', () => {
    const e = err('<Response><Hangup/><Frobnicate/></Response>');
    expect(e).toMatchObject({ code: 12100, path: 'Response/Frobnicate[0]' });
    expect(e.message).toContain('Frobnicate');
  });

  it('verb names are case-sensitive', () => {
    expect(err('<Response><hangup/></Response>').code).toBe(12100);
  });

  it('keeps verbs in document order', () => {
    const r = new VoiceResponse();
    r.pause({ length: 2 });
    r.dial('+15551230000');
    r.pause();
    r.hangup();
    expect(ok(r.toString()).verbs.map((v) => v.kind)).toEqual(['pause', 'dial', 'pause', 'hangup']);
  });

  it('media verbs are kept as unsupported with a 12200 warning, never dropped', () => {
    const r = new VoiceResponse();
    r.say('hello');
    r.play('https://example.com/a.mp3');
    r.gather({ numDigits: 1 });
    r.record();
    r.enqueue('support');
    r.leave();
    r.refer().sip('sip:a@example.com');
    r.sms('hi');
    r.hangup();
    const doc = ok(r.toString());
    expect(doc.verbs).toEqual([
      { kind: 'unsupported', name: 'Say' },
      { kind: 'unsupported', name: 'Play' },
      { kind: 'unsupported', name: 'Gather' },
      { kind: 'unsupported', name: 'Record' },
      { kind: 'unsupported', name: 'Enqueue' },
      { kind: 'unsupported', name: 'Leave' },
      { kind: 'unsupported', name: 'Refer' },
      { kind: 'unsupported', name: 'Sms' },
      { kind: 'hangup' },
    ]);
    expect(doc.warnings).toHaveLength(8);
    expect(doc.warnings.every((w) => w.code === 12200)).toBe(true);
    expect(doc.warnings[0]).toMatchObject({ path: 'Response/Say[0]' });
    expect(doc.warnings[0]?.message).toContain('Say');
  });

  it('<Conference> and <Queue> at the top level are unsupported too', () => {
    const doc = ok('<Response><Conference>room</Conference><Queue>q</Queue></Response>');
    expect(doc.verbs).toEqual([{ kind: 'unsupported', name: 'Conference' }, { kind: 'unsupported', name: 'Queue' }]);
  });
});

describe('parseTwiml: Hangup, Reject, Redirect, Pause', () => {
  it('<Hangup>', () => {
    const r = new VoiceResponse();
    r.hangup();
    expect(ok(r.toString())).toEqual({ verbs: [{ kind: 'hangup' }], warnings: [] });
  });

  it('<Reject> defaults to rejected; busy and rejected are kept', () => {
    const a = new VoiceResponse();
    a.reject();
    a.reject({ reason: 'busy' });
    a.reject({ reason: 'rejected' });
    expect(ok(a.toString()).verbs).toEqual([
      { kind: 'reject', reason: 'rejected' },
      { kind: 'reject', reason: 'busy' },
      { kind: 'reject', reason: 'rejected' },
    ]);
  });

  it('<Reject> with an invalid reason falls back with a warning', () => {
    const doc = ok('<Response><Reject reason="nope"/></Response>');
    expect(doc.verbs).toEqual([{ kind: 'reject', reason: 'rejected' }]);
    expect(doc.warnings).toEqual([expect.objectContaining({ code: 12200, path: 'Response/Reject[0]' })]);
  });

  it('<Redirect> with and without method', () => {
    const r = new VoiceResponse();
    r.redirect('https://example.com/next?a=1&b=2');
    r.redirect({ method: 'GET' }, '/relative');
    expect(ok(r.toString()).verbs).toEqual([
      { kind: 'redirect', method: 'POST', url: 'https://example.com/next?a=1&b=2' },
      { kind: 'redirect', method: 'GET', url: '/relative' },
    ]);
  });

  it('<Redirect> with a bad method warns and uses POST; an empty one is an error', () => {
    const doc = ok('<Response><Redirect method="PUT">/x</Redirect></Response>');
    expect(doc.verbs).toEqual([{ kind: 'redirect', method: 'POST', url: '/x' }]);
    expect(doc.warnings[0]?.code).toBe(12200);
    expect(err('<Response><Redirect/></Response>')).toMatchObject({ code: 12100, path: 'Response/Redirect[0]' });
  });

  it('<Pause> defaults to 1 second and keeps length', () => {
    const r = new VoiceResponse();
    r.pause();
    r.pause({ length: 5 });
    expect(ok(r.toString()).verbs).toEqual([{ kind: 'pause', length: 1 }, { kind: 'pause', length: 5 }]);
  });

  it.each(['abc', '0', '-3', '1.5'])('<Pause length="%s"> falls back to 1 with a warning', (len) => {
    const doc = ok(`<Response><Pause length="${len}"/></Response>`);
    expect(doc.verbs).toEqual([{ kind: 'pause', length: 1 }]);
    expect(doc.warnings).toEqual([expect.objectContaining({ code: 12200, path: 'Response/Pause[0]' })]);
  });

  it('unknown attributes warn 12200 and are ignored; paths index same-named siblings', () => {
    const doc = ok('<Response><Pause/><Hangup/><Pause foo="1"/></Response>');
    expect(doc.verbs).toEqual([{ kind: 'pause', length: 1 }, { kind: 'hangup' }, { kind: 'pause', length: 1 }]);
    expect(doc.warnings).toEqual([expect.objectContaining({ code: 12200, path: 'Response/Pause[1]' })]);
    expect(doc.warnings[0]?.message).toContain('foo');
  });
});
