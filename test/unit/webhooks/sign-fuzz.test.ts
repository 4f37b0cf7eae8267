/**
 * Seeded property tests: the hand-written form encoder and HMAC must give
 * byte for byte what `URLSearchParams` and `createHmac` over the original
 * signature-base construction give, for names and values well beyond what
 * Twilio sends (unicode, astral and lone surrogates, reserved characters,
 * repeated names, long and non-ASCII tokens).
 */
import { createHmac } from 'node:crypto';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { formBody, formEncode, paramPairs, type WebhookParams } from '../../../runtime/webhooks/params.js';
import { hmacSha1Base64, signableUrl, signatureBase, twilioSignature } from '../../../runtime/webhooks/sign.js';
import { prng } from '../../support/prng.js';

const CASES = 2000;


/** Pieces strings are made of: every class the encoders treat differently. */
const PIECES = [
  'a', 'Z', '0', '9', '*', '-', '.', '_', ' ', '+', '&', '=', '%', '%20', '?', '#', '/', ':', '@', '!', '~', "'", '(', ')',
  '\t', '\n', '\r', '\0', '\x7f', '"', '<', '>', '\\', '^', '`', '{', '|', '}', '[', ']', ';', ',', '$',
  'é', 'ß', '\u0080', '\u07ff', '\u0800', 'ü', '☎', '€', '\ufffd', '\ufeff', '\uffff', '\ue000', '\uff5e', 'Ａ',
  '😀', '𝄞', '\u{10000}', '\u{10ffff}', // astral: surrogate pairs
  '\ud800', '\udbff', '\udc00', '\udfff', // lone surrogates (when not completing a pair)
  'CallSid', 'sip:callee@127.0.0.1:46000', 'AC00000000000000000000000000000000',
];

/** Names chosen to sort differently by code unit than by locale or code point. */
const NAMES = ['a', 'B', 'b', 'A', 'é', 'f', 'E', '\uff5e', '😀', '\ue000', '1', '10', '2', '', ' ', '__proto__', 'Digits', 'From', 'from'];

function makeString(random: () => number, maxPieces: number): string {
  let text = '';
  const count = Math.floor(random() * (maxPieces + 1));
  for (let i = 0; i < count; i++) text += PIECES[Math.floor(random() * PIECES.length)];
  return text;
}

function makeParams(random: () => number): Record<string, string | string[]> {
  const entries: [string, string | string[]][] = [];
  const count = random() < 0.05 ? 33 + Math.floor(random() * 40) : Math.floor(random() * 8); // a few past the insertion-sort limit
  for (let i = 0; i < count; i++) {
    const name = random() < 0.5 ? (NAMES[Math.floor(random() * NAMES.length)] as string) : makeString(random, 4);
    let value: string | string[];
    if (random() < 0.25) {
      value = [];
      const repeats = Math.floor(random() * 5);
      for (let j = 0; j < repeats; j++) value.push(random() < 0.3 && value.length > 0 ? (value[0] as string) : makeString(random, 3));
    } else {
      value = makeString(random, 6);
    }
    entries.push([name, value]);
  }
  return Object.fromEntries(entries); // own properties, '__proto__' included
}

/** The signature base exactly as it was built before the rewrite. */
function referenceBase(url: string, params: WebhookParams | undefined, method: 'GET' | 'POST'): string {
  const order = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  let data = signableUrl(url);
  if (method === 'GET' || params === undefined) return data;
  for (const name of Object.keys(params).sort(order)) {
    const value = params[name];
    if (value === undefined) continue;
    const values = typeof value === 'string' ? [value] : [...new Set(value)].sort(order);
    for (const item of values) data += name + item;
  }
  return data;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Parse a form body as a receiver (Express, twilio.webhook) does: a repeated name becomes an array. */
function receivedParams(body: string): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of new URLSearchParams(body)) {
    const seen = params[name];
    if (seen === undefined) params[name] = value;
    else if (typeof seen === 'string') params[name] = [seen, value];
    else seen.push(value);
  }
  return params;
}

describe('formEncode (seeded fuzz)', () => {
  it(`equals URLSearchParams for ${CASES} generated parameter sets`, () => {
    const random = prng(0x5eed_f0a7);
    for (let n = 0; n < CASES; n++) {
      const params = makeParams(random);
      const expected = new URLSearchParams(paramPairs(params)).toString();
      const encoded = formEncode(params);
      if (encoded !== expected) expect({ n, params, encoded }).toEqual({ n, params, encoded: expected });
      const body = formBody(params);
      if (!body.equals(Buffer.from(expected, 'utf8'))) expect({ n, params, body: body.toString('latin1') }).toEqual({ n, params, body: expected });
    }
  });

  it('encodes every UTF-16 code unit alone, and every surrogate pair boundary', () => {
    for (let code = 0; code <= 0xffff; code += 1) {
      const text = `x${String.fromCharCode(code)}y`;
      const expected = new URLSearchParams([[text, text]]).toString();
      if (formEncode({ [text]: text }) !== expected) expect([code, formEncode({ [text]: text })]).toEqual([code, expected]);
    }
    for (const text of ['\ud83d\ude00', '\ud83d', '\ude00', '\ude00\ud83d', '\ud83d\ud83d\ude00', '\udbff\udfff', '\ud800\udc00', 'a\ud800']) {
      expect(formEncode({ v: text })).toBe(new URLSearchParams([['v', text]]).toString());
    }
  });

  it('handles values larger than its shared buffer, and keeps working after', () => {
    const huge = { a: '€'.repeat(30_000), b: ['😀 '.repeat(5000), ''], c: 'x'.repeat(70_000) };
    const expected = new URLSearchParams(paramPairs(huge)).toString();
    expect(formEncode(huge) === expected).toBe(true); // (no 300 kB diff on failure)
    expect(formBody(huge).equals(Buffer.from(expected))).toBe(true);
    expect(formEncode({ small: 'a b' })).toBe('small=a+b');
  });

  it('gives nothing for no parameters', () => {
    expect(formEncode(undefined)).toBe('');
    expect(formEncode({})).toBe('');
    expect(formBody(undefined).length).toBe(0);
    expect(formBody({}).length).toBe(0);
    expect(formEncode({ a: [] })).toBe('');
    expect(formEncode({ a: [], b: '' })).toBe('b=');
  });
});

describe('twilioSignature (seeded fuzz)', () => {
  const TOKENS = [
    '12345',
    '',
    'a'.repeat(63),
    'b'.repeat(64),
    'c'.repeat(65),
    'd'.repeat(300),
    'tökén ☎',
    '😀'.repeat(20), // 80 bytes of UTF-8: hashed first
    'é'.repeat(32), // 64 bytes of UTF-8, 32 code units
    '\ud800lone',
  ];
  const URLS = [
    'https://example.com/myapp.php?foo=1&bar=2',
    'http://127.0.0.1:46100/voice',
    'https://user:pass@example.com:8443/p/a/t/h?q=%20x&y=é#frag',
    'http://h/é?ü=1',
  ];

  it(`equals createHmac over the original base for ${CASES} generated requests`, () => {
    const random = prng(0x0dd_ba11);
    for (let n = 0; n < CASES; n++) {
      const params = makeParams(random);
      if (random() < 0.1) Object.assign(params, { skipped: undefined });
      const token = random() < 0.5 ? (TOKENS[Math.floor(random() * TOKENS.length)] as string) : makeString(random, 30);
      const url = URLS[Math.floor(random() * URLS.length)] as string;
      const method = random() < 0.85 ? 'POST' : 'GET';
      const base = referenceBase(url, params, method);
      expect(signatureBase(url, params, method)).toBe(base);
      const expected = createHmac('sha1', token).update(base, 'utf8').digest('base64');
      const signature = twilioSignature(token, url, params, method);
      if (signature !== expected) expect({ n, token, url, params, signature }).toEqual({ n, token, url, params, signature: expected });
    }
  });

  it('is accepted by twilio.validateRequest, with the parameters as sent and as received', () => {
    const random = prng(0xacce97);
    for (let n = 0; n < 300; n++) {
      const params = makeParams(random);
      const token = TOKENS[n % TOKENS.length] as string;
      const url = URLS[n % URLS.length] as string;
      const signature = twilioSignature(token, url, params, 'POST');
      expect(twilio.validateRequest(token, signature, signableUrl(url), params)).toBe(true);
      // the receiver sees the body parsed back (lone surrogates come back as U+FFFD and may sort elsewhere)
      if (paramPairs(params).every(([name, value]) => !LONE_SURROGATE.test(name) && !LONE_SURROGATE.test(value))) {
        const received = receivedParams(formEncode(params));
        expect(twilio.validateRequest(token, signature, signableUrl(url), received)).toBe(true);
      }
    }
  });

  it('hmacSha1Base64 equals createHmac for any token and data length, tokens interleaved', () => {
    const random = prng(0x4ac);
    const tokens = [...TOKENS, ...Array.from({ length: 20 }, (_, i) => `token-${i}`)]; // more than the key cache holds
    for (let n = 0; n < 500; n++) {
      const token = tokens[Math.floor(random() * tokens.length)] as string;
      const data = makeString(random, random() < 0.05 ? 3000 : 60);
      expect(hmacSha1Base64(token, data)).toBe(createHmac('sha1', token).update(data, 'utf8').digest('base64'));
    }
    for (const data of ['', 'x'.repeat(55), 'x'.repeat(56), 'x'.repeat(64), '€'.repeat(1400), '😀'.repeat(12_000), 'y'.repeat(100_000)]) {
      for (const token of TOKENS) expect(hmacSha1Base64(token, data)).toBe(createHmac('sha1', token).update(data, 'utf8').digest('base64'));
    }
    expect(hmacSha1Base64('12345', 'after')).toBe(createHmac('sha1', '12345').update('after').digest('base64'));
  });
});
