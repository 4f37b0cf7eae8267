import { beforeAll, describe, expect, it } from 'vitest';
import twilio from 'twilio';
import { validateSipTarget } from '../../../runtime/sip/sip-target.js';
import { createParser } from '../../../runtime/wasm/load.js';
import type { WasmParser } from '../../../runtime/wasm/parser.js';
import { parseTwiml, type ParseTwimlOptions } from '../../../runtime/twiml/index.js';

const { VoiceResponse } = twilio.twiml;

let options: ParseTwimlOptions;

beforeAll(() => {
  const parser: WasmParser = createParser();
  options = {
    validateSipUri(uri) {
      const r = validateSipTarget(parser, uri);
      return r.ok ? { ok: true } : { ok: false, message: r.error.message, twilioCode: r.error.twilioCode };
    },
  };
});

function sipDoc(uri: string): string {
  const r = new VoiceResponse();
  r.dial().sip(uri);
  return r.toString();
}

describe('<Sip> targets checked by the injected WASM validator', () => {
  it('accepts valid targets with custom headers', () => {
    const uri = 'sip:alice@example.com;transport=tls?X-Custom=1&User-to-User=0A1B%3Bencoding%3Dhex';
    const r = parseTwiml(sipDoc(uri), options);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value.verbs[0]).toMatchObject({ kind: 'dial', nouns: [{ kind: 'sip', uri }] });
  });

  it('refuses an X-Twilio header with the validator code (32113) and the noun path', () => {
    const r = parseTwiml(sipDoc('sip:alice@example.com?X-Twilio-CallSid=CA123'), options);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe(32113);
      expect(r.error.path).toBe('Response/Dial[0]/Sip[0]');
      expect(r.error.message).toContain('X-Twilio-CallSid');
    }
  });

  it('refuses a malformed URI with an invalid-target code', () => {
    const r = parseTwiml(sipDoc('sip:alice@exa mple.com'), options);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBeGreaterThanOrEqual(13000);
      expect(r.error.path).toBe('Response/Dial[0]/Sip[0]');
    }
  });

  it('reports the first failing noun among several', () => {
    const resp = new VoiceResponse();
    const d = resp.dial();
    d.sip('sip:a@example.com');
    d.sip('sip:b@example.com?X-Twilio-AccountSid=AC1');
    const r = parseTwiml(resp.toString(), options);
    expect(r.ok ? null : r.error).toMatchObject({ code: 32113, path: 'Response/Dial[0]/Sip[1]' });
  });

  it('without a validator every non-empty URI is accepted as written', () => {
    expect(parseTwiml(sipDoc('sip:alice@example.com?X-Twilio-CallSid=CA123')).ok).toBe(true);
  });
});
