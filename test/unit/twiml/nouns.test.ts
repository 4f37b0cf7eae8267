import { describe, expect, it } from 'vitest';
import twilio from 'twilio';
import { parseTwiml, type DialNoun, type TwimlDocument } from '../../../runtime/twiml/index.js';

const { VoiceResponse } = twilio.twiml;

function doc(xml: string): TwimlDocument {
  const r = parseTwiml(xml);
  if (!r.ok) throw new Error(`unexpected error ${JSON.stringify(r.error)}`);
  return r.value;
}

function nouns(d: TwimlDocument): DialNoun[] {
  const v = d.verbs[0];
  return v?.kind === 'dial' ? v.nouns : [];
}

describe('<Client>', () => {
  it('takes its identity from text or <Identity>', () => {
    const r = new VoiceResponse();
    const d = r.dial();
    d.client('alice');
    d.client().identity('bob');
    expect(nouns(doc(r.toString())).map((n) => (n.kind === 'client' ? n.identity : ''))).toEqual(['alice', 'bob']);
  });

  it('an invalid identity is an invalid dial target', () => {
    const r = parseTwiml('<Response><Dial><Client>has space</Client></Dial></Response>');
    expect(r.ok ? null : r.error).toMatchObject({ code: 13224, path: 'Response/Dial[0]/Client[0]' });
  });

  it('a <Parameter> without a name is ignored with a warning', () => {
    const d = doc('<Response><Dial><Client>joey<Parameter value="x"/></Client></Dial></Response>');
    expect(nouns(d)[0]).toMatchObject({ kind: 'client', parameters: [] });
    expect(d.warnings).toEqual([expect.objectContaining({ code: 12200, path: 'Response/Dial[0]/Client[0]/Parameter[0]' })]);
  });

  it('clientNotificationUrl is accepted', () => {
    const xml = '<Response><Dial><Client clientNotificationUrl="https://push.example.com">joey</Client></Dial></Response>';
    expect(doc(xml).warnings).toEqual([]);
  });
});

describe('<Number> and <Sip> extras', () => {
  it('invalid sendDigits on Number → 13222, on Sip → 13242 (unsupported without media)', () => {
    const d = doc('<Response><Dial><Number sendDigits="12x">+15550001</Number>'
      + '<Sip sendDigits="123">sip:a@example.com</Sip></Dial></Response>');
    expect(nouns(d)[0]).not.toHaveProperty('sendDigits');
    expect(d.warnings.map((w) => [w.code, w.path])).toEqual([
      [13222, 'Response/Dial[0]/Number[0]'],
      [13242, 'Response/Dial[0]/Sip[0]'],
    ]);
  });

  it('machine detection is accepted with an unsupported-without-media warning', () => {
    const r = new VoiceResponse();
    r.dial().number({ machineDetection: 'Enable', amdStatusCallback: '/amd' }, '+15550001');
    const d = doc(r.toString());
    expect(d.warnings.map((w) => w.code)).toEqual([12200, 12200]);
    expect(d.warnings[0]?.message).toMatch(/media/);
  });

  it('an empty <Number> → 13223', () => {
    const r = parseTwiml('<Response><Dial><Number/></Dial></Response>');
    expect(r.ok ? null : r.error).toMatchObject({ code: 13223, path: 'Response/Dial[0]/Number[0]' });
  });

  it('entities in URIs and URLs are decoded', () => {
    const d = doc('<Response><Dial action="/a?x=1&amp;y=2"><Sip>sip:a@example.com?X-A=1&amp;X-B=2</Sip></Dial></Response>');
    expect(d.verbs[0]).toMatchObject({ action: '/a?x=1&y=2', nouns: [{ uri: 'sip:a@example.com?X-A=1&X-B=2' }] });
  });
});
