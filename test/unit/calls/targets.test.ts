/**
 * resolveTarget: a noun of a cached (frozen) TwiML document is resolved once
 * and shared, frozen, by every call that dials it; a noun of a document that
 * is not cached is resolved afresh each time.
 */
import { describe, expect, it } from 'vitest';
import type { CallContext } from '../../../runtime/calls/context.js';
import { resolveTarget } from '../../../runtime/calls/targets.js';
import { defaultConfig } from '../../../runtime/config.js';
import { cachedTwimlParser } from '../../../runtime/twiml/cache.js';
import { parseTwiml } from '../../../runtime/twiml/parse.js';
import type { DialNoun } from '../../../runtime/twiml/types.js';
import { parserFor } from '../../support/wasm.js';

const XML = '<Response><Dial><Sip statusCallback="/status" statusCallbackEvent="answered" url="/screen">sip:bob@example.com;transport=tcp?X-Team=blue</Sip></Dial></Response>';

function context(): CallContext {
  return { config: defaultConfig().twiml, parser: parserFor('release') } as unknown as CallContext;
}

function firstNoun(doc: ReturnType<typeof parseTwiml>): DialNoun {
  if (!doc.ok) throw new Error(doc.error.message);
  const dial = doc.value.verbs[0];
  if (dial?.kind !== 'dial') throw new Error('no <Dial>');
  return dial.nouns[0]!;
}

describe('resolveTarget', () => {
  it('resolves a noun of a cached document once, to a frozen target every call shares', () => {
    const ctx = context();
    const noun = firstNoun(cachedTwimlParser((xml) => parseTwiml(xml))(XML));
    const first = resolveTarget(ctx, noun);
    const again = resolveTarget(ctx, noun);
    expect(again).toBe(first);
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    const t = first.value;
    expect(t).toMatchObject({ uri: 'sip:bob@example.com;transport=tcp', headers: [['X-Team', 'blue']], destination: { transport: 'tcp', host: 'example.com', port: 5060 }, url: '/screen' });
    for (const part of [t, t.destination, t.headers, t.headers[0], t.statusCallback]) expect(Object.isFrozen(part)).toBe(true);
    expect(() => { (t as { url?: string }).url = 'http://elsewhere/'; }).toThrow(TypeError);
    // another call context (another daemon in the same process) resolves for itself
    expect(resolveTarget(context(), noun)).not.toBe(first);
  });

  it('resolves a noun of a document that is not cached afresh each time', () => {
    const ctx = context();
    const noun = firstNoun(parseTwiml(XML));
    expect(Object.isFrozen(noun)).toBe(false);
    const first = resolveTarget(ctx, noun);
    expect(resolveTarget(ctx, noun)).not.toBe(first);
    expect(resolveTarget(ctx, noun)).toEqual(first);
  });

  it('keeps region and edge out of the Request-URI, sends sips: as sip: over TLS, and routes through the region\'s egress proxy', () => {
    const config = defaultConfig().twiml;
    const ctx = { config: { ...config, egress: { ...config.egress, ie1: { proxy: 'sip:[2001:db8::5]:5070;transport=tcp', source: '192.0.2.9' } } }, parser: parserFor('release') } as unknown as CallContext;
    const resolve = (target: string) => {
      const r = resolveTarget(ctx, firstNoun(parseTwiml(`<Response><Dial><Sip>${target}</Sip></Dial></Response>`)));
      if (!r.ok) throw new Error(r.error.message);
      return r.value;
    };
    expect(resolve('sip:bob@example.com;region=us2;edge=ashburn;user=phone')).toMatchObject({ uri: 'sip:bob@example.com;user=phone', destination: { transport: 'udp', host: 'example.com', port: 5060 } });
    expect(resolve('sips:bob@example.com')).toMatchObject({ uri: 'sip:bob@example.com;transport=tls', destination: { transport: 'tls', port: 5061 } });
    expect(resolve('sips:bob@example.com;transport=tls')).toMatchObject({ uri: 'sip:bob@example.com;transport=tls' });
    expect(resolve('sip:bob@[2001:db8::1]:5080')).toMatchObject({ destination: { host: '2001:db8::1', port: 5080 } });
    expect(resolve('sip:bob@example.com;region=ie1')).toMatchObject({
      uri: 'sip:bob@example.com', route: 'sip:[2001:db8::5]:5070;transport=tcp;lr',
      destination: { transport: 'tcp', host: '2001:db8::5', port: 5070, source: '192.0.2.9' },
    });
  });
});
