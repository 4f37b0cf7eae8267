import { describe, expect, it } from 'vitest';
import twilio from 'twilio';
import { parseTwiml, type DialOpts, type TwimlDocument, type TwimlError } from '../../../runtime/twiml/index.js';

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

function dialOf(doc: TwimlDocument): DialOpts {
  const v = doc.verbs[0];
  if (v?.kind !== 'dial') throw new Error(`first verb is ${v?.kind}`);
  return v;
}

/** `<Dial {attrs}>sip:a@example.com</Dial>` as raw XML, for values the helper's types refuse. */
function rawDial(attrs: string, body = '<Sip>sip:a@example.com</Sip>'): string {
  return `<Response><Dial ${attrs}>${body}</Dial></Response>`;
}

describe('<Dial> attributes', () => {
  it('applies the defaults of Twilio\'s <Dial> page', () => {
    const r = new VoiceResponse();
    r.dial().sip('sip:alice@example.com');
    const doc = ok(r.toString());
    expect(doc.warnings).toEqual([]);
    expect(dialOf(doc)).toEqual({
      kind: 'dial',
      method: 'POST',
      timeout: 30,
      timeLimit: 14400,
      hangupOnStar: false,
      answerOnBridge: false,
      record: 'do-not-record',
      trim: 'do-not-trim',
      recordingStatusCallbackMethod: 'POST',
      recordingStatusCallbackEvent: ['completed'],
      recordingTrack: 'both',
      referMethod: 'POST',
      sequential: false,
      nouns: [{
        kind: 'sip', uri: 'sip:alice@example.com', method: 'POST',
        statusCallbackEvent: [], statusCallbackMethod: 'POST',
      }],
    });
  });

  it('keeps every attribute set through the helper', () => {
    const r = new VoiceResponse();
    r.dial({
      action: 'https://app.example.com/after?x=1&y=2',
      method: 'GET',
      timeout: 600,
      timeLimit: 60,
      hangupOnStar: true,
      callerId: '+1-555_0.1,2',
      answerOnBridge: true,
      ringTone: 'uk',
      referUrl: '/refer',
      referMethod: 'GET',
      sequential: true,
      trim: 'trim-silence',
      recordingStatusCallback: '/rec',
      recordingStatusCallbackMethod: 'GET',
      recordingStatusCallbackEvent: ['in-progress', 'absent'],
      recordingTrack: 'inbound',
    }).sip('sip:bob@example.com');
    const doc = ok(r.toString());
    expect(doc.warnings).toEqual([]);
    expect(dialOf(doc)).toMatchObject({
      action: 'https://app.example.com/after?x=1&y=2',
      method: 'GET',
      timeout: 600,
      timeLimit: 60,
      hangupOnStar: true,
      callerId: '+1-555_0.1,2',
      answerOnBridge: true,
      ringTone: 'uk',
      referUrl: '/refer',
      referMethod: 'GET',
      sequential: true,
      trim: 'trim-silence',
      recordingStatusCallback: '/rec',
      recordingStatusCallbackMethod: 'GET',
      recordingStatusCallbackEvent: ['in-progress', 'absent'],
      recordingTrack: 'inbound',
    });
  });

  it('timeout bounds 5 and 600 are accepted', () => {
    expect(dialOf(ok(rawDial('timeout="5"'))).timeout).toBe(5);
    expect(dialOf(ok(rawDial('timeout="600"'))).timeout).toBe(600);
  });

  it.each([
    ['timeout="4"', 'timeout', 30, 13212],
    ['timeout="601"', 'timeout', 30, 13212],
    ['timeout="ten"', 'timeout', 30, 13212],
    ['timeout="12.5"', 'timeout', 30, 13212],
    ['method="PUT"', 'method', 'POST', 13210],
    ['timeLimit="0"', 'timeLimit', 14400, 13216],
    ['timeLimit="forever"', 'timeLimit', 14400, 13216],
    ['hangupOnStar="yes"', 'hangupOnStar', false, 13213],
    ['answerOnBridge="1"', 'answerOnBridge', false, 13219],
    ['sequential="maybe"', 'sequential', false, 13218],
    ['ringTone="xx"', 'ringTone', undefined, 13220],
    ['record="always"', 'record', 'do-not-record', 13217],
    ['callerId="+1 555 0100"', 'callerId', undefined, 13214],
    ['callerId="bob@example.com"', 'callerId', undefined, 13214],
    [`callerId="${'1'.repeat(200)}"`, 'callerId', undefined, 13248],
    ['recordingStatusCallbackEvent="in-progress bogus"', 'recordingStatusCallbackEvent', ['in-progress'], 13621],
  ] as const)('%s falls back to the default with warning', (attrs, key, def, code) => {
    const doc = ok(rawDial(attrs));
    expect(dialOf(doc)[key]).toEqual(def);
    expect(doc.warnings).toEqual([expect.objectContaining({ code, path: 'Response/Dial[0]' })]);
  });

  it('hangupOnStar / answerOnBridge / sequential accept true and false', () => {
    const d = dialOf(ok(rawDial('hangupOnStar="true" answerOnBridge="false" sequential="true"')));
    expect([d.hangupOnStar, d.answerOnBridge, d.sequential]).toEqual([true, false, true]);
  });

  it('record is accepted (legacy aliases resolved) with an unsupported-without-media warning', () => {
    const r = new VoiceResponse();
    r.dial({ record: 'record-from-ringing-dual' }).sip('sip:a@example.com');
    const doc = ok(r.toString());
    expect(dialOf(doc).record).toBe('record-from-ringing-dual');
    expect(doc.warnings).toEqual([expect.objectContaining({ code: 12200, path: 'Response/Dial[0]' })]);
    expect(doc.warnings[0]?.message).toMatch(/media/);
    expect(dialOf(ok(rawDial('record="true"'))).record).toBe('record-from-answer');
    expect(ok(rawDial('record="false"')).warnings).toEqual([]);
  });

  it('unknown attributes warn 12200; callReason and events are accepted silently', () => {
    const doc = ok(rawDial('callReason="hello" events="call-progress-event" colour="red"'));
    expect(doc.warnings).toEqual([expect.objectContaining({ code: 12200 })]);
    expect(doc.warnings[0]?.message).toContain('colour');
  });

  it('callerId may be a client identity', () => {
    expect(dialOf(ok(rawDial('callerId="client:joey"'))).callerId).toBe('client:joey');
  });
});

describe('<Dial> nouns', () => {
  it('plain text inside <Dial> is a Number', () => {
    const r = new VoiceResponse();
    r.dial({ timeout: 10 }, '+15551234567');
    expect(dialOf(ok(r.toString())).nouns).toEqual([{
      kind: 'number', number: '+15551234567', method: 'POST', statusCallbackEvent: [], statusCallbackMethod: 'POST',
    }]);
  });

  it('invalid plain text number → 13223', () => {
    expect(err('<Response><Dial>call bob</Dial></Response>')).toMatchObject({ code: 13223, path: 'Response/Dial[0]' });
  });

  it('<Dial> with no target → 12100', () => {
    expect(err('<Response><Dial timeout="10"/></Response>').code).toBe(12100);
  });

  it('mixes Sip, Number and Client with all their attributes, in order', () => {
    const r = new VoiceResponse();
    const d = r.dial();
    d.sip({
      username: 'user', password: 'secret', url: '/screen', method: 'GET',
      statusCallback: '/status', statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
      statusCallbackMethod: 'GET',
    }, 'sip:alice@example.com;transport=tcp');
    d.number({ sendDigits: 'ww1234#', byoc: 'BY123', statusCallback: '/n' }, '+44 20 7946 0000');
    const c = d.client({ url: '/c', statusCallbackEvent: ['ringing'] });
    c.identity('joey');
    c.parameter({ name: 'team', value: 'blue' });
    const doc = ok(r.toString());
    expect(doc.warnings).toEqual([]);
    expect(dialOf(doc).nouns).toEqual([
      {
        kind: 'sip', uri: 'sip:alice@example.com;transport=tcp', username: 'user', password: 'secret',
        url: '/screen', method: 'GET', statusCallback: '/status',
        statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'], statusCallbackMethod: 'GET',
      },
      {
        kind: 'number', number: '+44 20 7946 0000', sendDigits: 'ww1234#', byoc: 'BY123', method: 'POST',
        statusCallback: '/n', statusCallbackEvent: ['completed'], statusCallbackMethod: 'POST',
      },
      {
        kind: 'client', identity: 'joey', parameters: [{ name: 'team', value: 'blue' }], url: '/c',
        method: 'POST', statusCallbackEvent: ['ringing'], statusCallbackMethod: 'POST',
      },
    ]);
  });

  it('statusCallbackEvent defaults to completed only when statusCallback is set', () => {
    const r = new VoiceResponse();
    const d = r.dial();
    d.sip({ statusCallback: 'https://cb.example.com/s' }, 'sip:a@example.com');
    d.sip('sip:b@example.com');
    const nouns = dialOf(ok(r.toString())).nouns;
    expect(nouns.map((n) => n.statusCallbackEvent)).toEqual([['completed'], []]);
  });

  it('unknown statusCallbackEvent tokens are dropped with a warning', () => {
    const doc = ok(rawDial('', '<Sip statusCallbackEvent="ringing bogus" statusCallback="/s">sip:a@example.com</Sip>'));
    expect(dialOf(doc).nouns[0]?.statusCallbackEvent).toEqual(['ringing']);
    expect(doc.warnings).toEqual([expect.objectContaining({ code: 12200, path: 'Response/Dial[0]/Sip[0]' })]);
  });

  it('invalid noun methods fall back to POST with 13241 (Sip) and 13221 (Number)', () => {
    const doc = ok(rawDial('', '<Sip method="PUT">sip:a@example.com</Sip><Number method="x">+15550001</Number>'));
    expect(dialOf(doc).nouns.map((n) => n.method)).toEqual(['POST', 'POST']);
    expect(doc.warnings).toEqual([
      expect.objectContaining({ code: 13241, path: 'Response/Dial[0]/Sip[0]' }),
      expect.objectContaining({ code: 13221, path: 'Response/Dial[0]/Number[0]' }),
    ]);
  });

  it('10 nouns are fine, 11 → 13250', () => {
    const ten = new VoiceResponse();
    const d = ten.dial();
    for (let i = 0; i < 10; i++) d.sip(`sip:u${i}@example.com`);
    expect(dialOf(ok(ten.toString())).nouns).toHaveLength(10);
    const eleven = new VoiceResponse();
    const e = eleven.dial();
    for (let i = 0; i < 6; i++) e.sip(`sip:u${i}@example.com`);
    for (let i = 0; i < 5; i++) e.number(`+1555000000${i}`);
    expect(err(eleven.toString())).toMatchObject({ code: 13250, path: 'Response/Dial[0]' });
  });

  it('paths index nouns among same-named siblings', () => {
    const r = new VoiceResponse();
    const d = r.dial();
    d.number('+15550000001');
    d.sip('sip:a@example.com');
    d.sip('');
    expect(err(r.toString())).toMatchObject({ code: 13243, path: 'Response/Dial[0]/Sip[1]' });
  });

  it('Conference/Queue inside Dial are skipped with 13215; unknown nested elements → 13215 error', () => {
    const r = new VoiceResponse();
    const d = r.dial();
    d.conference('room');
    d.sip('sip:a@example.com');
    const doc = ok(r.toString());
    expect(dialOf(doc).nouns.map((n) => n.kind)).toEqual(['sip']);
    expect(doc.warnings).toEqual([expect.objectContaining({ code: 13215, path: 'Response/Dial[0]/Conference[0]' })]);
    expect(err(rawDial('', '<Sip>sip:a@example.com</Sip><Bogus/>'))).toMatchObject({
      code: 13215, path: 'Response/Dial[0]/Bogus[0]',
    });
  });

  it('text next to nouns is ignored with a warning', () => {
    const doc = ok(rawDial('', '+15550000001<Sip>sip:a@example.com</Sip>'));
    expect(dialOf(doc).nouns.map((n) => n.kind)).toEqual(['sip']);
    expect(doc.warnings[0]?.code).toBe(12200);
  });
});
