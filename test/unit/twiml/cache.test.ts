import { describe, expect, it } from 'vitest';
import twilio from 'twilio';
import { cachedTwimlParser } from '../../../runtime/twiml/cache.js';
import { parseTwiml } from '../../../runtime/twiml/parse.js';

function counting(): { parse: Parameters<typeof cachedTwimlParser>[0]; calls: () => number } {
  let n = 0;
  return { parse: (xml) => { n++; return parseTwiml(xml); }, calls: () => n };
}

function dialDoc(uri: string): string {
  const response = new twilio.twiml.VoiceResponse();
  response.dial({ timeout: 12 }).sip(uri);
  return response.toString();
}

describe('cachedTwimlParser', () => {
  it('parses a repeated document once and returns the same result', () => {
    const { parse, calls } = counting();
    const cached = cachedTwimlParser(parse);
    const first = cached(dialDoc('sip:alice@example.com'));
    const second = cached(dialDoc('sip:alice@example.com'));
    expect(calls()).toBe(1);
    expect(second).toBe(first);
    expect(first.ok && first.value.verbs[0]).toMatchObject({ kind: 'dial', timeout: 12 });
  });

  it('gives different documents different results', () => {
    const cached = cachedTwimlParser(counting().parse);
    const a = cached(dialDoc('sip:alice@example.com'));
    const b = cached(dialDoc('sip:bob@example.com'));
    expect(a.ok && b.ok).toBe(true);
    if (a.ok && b.ok) {
      expect(a.value.verbs[0]).toMatchObject({ nouns: [{ uri: 'sip:alice@example.com' }] });
      expect(b.value.verbs[0]).toMatchObject({ nouns: [{ uri: 'sip:bob@example.com' }] });
    }
  });

  it('freezes cached trees so no call can change the next one', () => {
    const cached = cachedTwimlParser(counting().parse);
    const doc = cached(dialDoc('sip:alice@example.com'));
    expect(doc.ok).toBe(true);
    if (!doc.ok) return;
    const dial = doc.value.verbs[0] as { timeout: number };
    expect(() => { dial.timeout = 99; }).toThrow(TypeError);
    expect(() => doc.value.verbs.push({ kind: 'hangup' })).toThrow(TypeError);
  });

  it('caches failures too, and evicts the least recently used past capacity', () => {
    const { parse, calls } = counting();
    const cached = cachedTwimlParser(parse, { capacity: 2 });
    const bad = cached('<Response><Dial>');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.code).toBe(12100);
    cached('<Response><Hangup/></Response>');
    cached('<Response><Dial>');
    expect(calls()).toBe(2);
    cached('<Response><Pause/></Response>');
    cached('<Response><Dial>');
    expect(calls()).toBe(3);
    cached('<Response><Hangup/></Response>');
    expect(calls()).toBe(4);
  });

  it('parses documents over maxLength every time', () => {
    const { parse, calls } = counting();
    const cached = cachedTwimlParser(parse, { maxLength: 10 });
    cached('<Response><Hangup/></Response>');
    cached('<Response><Hangup/></Response>');
    expect(calls()).toBe(2);
  });
});
