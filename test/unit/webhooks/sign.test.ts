import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { appendQuery, formEncode } from '../../../runtime/webhooks/params.js';
import { signableUrl, signatureBase, twilioSignature } from '../../../runtime/webhooks/sign.js';

const TOKEN = '12345';
const URL_ = 'https://example.com/myapp.php?foo=1&bar=2';
const PARAMS = {
  CallSid: 'CA1234567890ABCDE',
  Caller: '+14158675310',
  Digits: '1234',
  From: '+14158675310',
  To: '+18005551212',
};

describe('twilioSignature', () => {
  it('matches the worked vector of Twilio\'s webhook security page', () => {
    expect(signatureBase(URL_, PARAMS, 'POST')).toBe(
      'https://example.com/myapp.php?foo=1&bar=2CallSidCA1234567890ABCDECaller+14158675310Digits1234From+14158675310To+18005551212',
    );
    expect(twilioSignature(TOKEN, URL_, PARAMS, 'POST')).toBe('L/OH5YylLD5NRKLltdqwSvS0BnU=');
    expect(twilio.validateRequest(TOKEN, 'L/OH5YylLD5NRKLltdqwSvS0BnU=', URL_, PARAMS)).toBe(true);
  });

  it('sorts names whatever the insertion order', () => {
    const reversed = Object.fromEntries(Object.entries(PARAMS).reverse());
    expect(twilioSignature(TOKEN, URL_, reversed, 'POST')).toBe('L/OH5YylLD5NRKLltdqwSvS0BnU=');
  });

  it('drops userinfo and fragment, keeps the query', () => {
    const withExtras = 'https://user:pass@example.com/myapp.php?foo=1&bar=2#rc=3';
    expect(signableUrl(withExtras)).toBe(URL_);
    expect(twilioSignature(TOKEN, withExtras, PARAMS, 'POST')).toBe('L/OH5YylLD5NRKLltdqwSvS0BnU=');
  });

  it('GET signs the URL alone', () => {
    expect(signatureBase(URL_, PARAMS, 'GET')).toBe(URL_);
    const sig = twilioSignature(TOKEN, URL_, PARAMS, 'GET');
    expect(sig).toBe(twilioSignature(TOKEN, URL_, undefined, 'POST'));
    expect(twilio.validateRequest(TOKEN, sig, URL_, {})).toBe(true);
  });

  it('sorts by code unit, uppercase first; repeated names give each distinct value, sorted', () => {
    const params = { b: 'x', B: 'y', a: ['3', '1', '2', '1'] };
    expect(signatureBase('https://h/', params, 'POST')).toBe('https://h/Bya1a2a3bx');
    const sig = twilioSignature(TOKEN, 'https://h/', params, 'POST');
    expect(twilio.validateRequest(TOKEN, sig, 'https://h/', { b: 'x', B: 'y', a: ['3', '1', '2', '1'] })).toBe(true);
  });

  it('signs unicode as UTF-8', () => {
    const params = { Body: 'héllo wörld ☎ 😀', Ünï: 'ç' };
    const sig = twilioSignature(TOKEN, URL_, params, 'POST');
    expect(twilio.getExpectedTwilioSignature(TOKEN, URL_, params)).toBe(sig);
  });
});

describe('params', () => {
  it('form-encodes with + for space and repeated names', () => {
    expect(formEncode({ a: 'x y', b: ['1', '2'], 'c&d': '=é' })).toBe('a=x+y&b=1&b=2&c%26d=%3D%C3%A9');
    expect(formEncode(undefined)).toBe('');
  });

  it('appends to the query, before a fragment', () => {
    expect(appendQuery('http://h/p', { a: '1' })).toBe('http://h/p?a=1');
    expect(appendQuery('http://h/p?x=1', { a: '1' })).toBe('http://h/p?x=1&a=1');
    expect(appendQuery('http://h/p?', { a: '1' })).toBe('http://h/p?a=1');
    expect(appendQuery('http://h/p?x=1#frag', { a: '1' })).toBe('http://h/p?x=1&a=1#frag');
    expect(appendQuery('http://h/p?x=1', {})).toBe('http://h/p?x=1');
  });
});
