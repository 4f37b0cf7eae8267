/** build.ts and ids.ts: responses per RFC 3261 §8.2.6, new requests, ACK for non-2xx, CANCEL, identifiers. */
import { describe, it, expect } from 'vitest';
import { createAckForFailure, createCancel, createRequest, createResponse, hasTag } from '../../../runtime/sip/build.js';
import { newBranch, newCallId, newTag } from '../../../runtime/sip/ids.js';
import { reasonPhrase } from '../../../runtime/sip/reason-phrases.js';
import { findHeader, findHeaders } from '../../../runtime/sip/message.js';
import { serializeResponse } from '../../../runtime/sip/serialize.js';
import { bytesOf, parserFor } from '../../support/wasm.js';

const parser = parserFor('release');
const INVITE = bytesOf([
  'INVITE sip:bob@example.com SIP/2.0',
  'v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKtop, SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKmid',
  'Via: SIP/2.0/TCP 192.0.2.7;branch=z9hG4bKlow',
  'Max-Forwards: 70',
  'f: "Alice" <sip:alice@example.com>;tag=abc',
  't: <sip:bob@example.com>',
  'i: call-1@example.com',
  'CSeq: 7 INVITE',
  'Timestamp: 54',
  'Content-Length: 0', '', '',
].join('\r\n'));

describe('createResponse', () => {
  it('copies every Via in order, From, To, Call-ID and CSeq, and adds the To tag', () => {
    const request = parser.parseDetached(INVITE);
    const r = createResponse(request, 486, undefined, { toTag: 'xyz', headers: [['Retry-After', '30']] });
    expect(r.reason).toBe('Busy Here');
    expect(r.headers).toEqual([
      ['Via', 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKtop'],
      ['Via', 'SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKmid'],
      ['Via', 'SIP/2.0/TCP 192.0.2.7;branch=z9hG4bKlow'],
      ['From', '"Alice" <sip:alice@example.com>;tag=abc'],
      ['To', '<sip:bob@example.com>;tag=xyz'],
      ['Call-ID', 'call-1@example.com'],
      ['CSeq', '7 INVITE'],
      ['Retry-After', '30'],
    ]);
    const back = parser.parse(serializeResponse(r));
    expect(back.error).toBeUndefined();
    expect(back.toTag).toBe('xyz');
  });

  it('keeps an existing To tag and copies Timestamp into a 100', () => {
    const withTag = bytesOf(new TextDecoder().decode(INVITE).replace('t: <sip:bob@example.com>', 't: <sip:bob@example.com>;tag=old'));
    const r = createResponse(parser.parseDetached(withTag), 200, 'Fine', { toTag: 'new' });
    expect(findHeader(r.headers, 'To')).toBe('<sip:bob@example.com>;tag=old');
    expect(r.reason).toBe('Fine');
    const trying = createResponse(parser.parseDetached(INVITE), 100);
    expect(findHeader(trying.headers, 'Timestamp')).toBe('54');
    expect(findHeader(trying.headers, 'To')).toBe('<sip:bob@example.com>');
  });
});

describe('createRequest, createAckForFailure, createCancel', () => {
  const invite = createRequest('INVITE', 'sip:bob@example.com', { from: '<sip:alice@example.com>', to: '<sip:bob@example.com>', cseq: 5, contact: '<sip:alice@192.0.2.1>' });
  invite.headers.unshift(['Via', 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsent'], ['Route', '<sip:proxy;lr>']);

  it('adds a From tag, Max-Forwards, a Call-ID and the CSeq', () => {
    expect(hasTag(findHeader(invite.headers, 'From')!)).toBe(true);
    expect(findHeader(invite.headers, 'Max-Forwards')).toBe('70');
    expect(findHeader(invite.headers, 'CSeq')).toBe('5 INVITE');
    expect(findHeader(invite.headers, 'Call-ID')).toMatch(/^[A-Za-z0-9]{24}$/);
  });

  it('builds the ACK for a non-2xx from the INVITE as sent and the response To (RFC 3261 §17.1.1.3)', () => {
    const response = parser.parseDetached(bytesOf([
      'SIP/2.0 486 Busy Here', 'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsent',
      `From: ${findHeader(invite.headers, 'From')}`, 'To: <sip:bob@example.com>;tag=callee',
      `Call-ID: ${findHeader(invite.headers, 'Call-ID')}`, 'CSeq: 5 INVITE', 'Content-Length: 0', '', '',
    ].join('\r\n')));
    const ack = createAckForFailure(invite, response);
    expect(ack.method).toBe('ACK');
    expect(ack.uri).toBe('sip:bob@example.com');
    expect(findHeaders(ack.headers, 'Via')).toEqual(['SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsent']);
    expect(findHeader(ack.headers, 'Route')).toBe('<sip:proxy;lr>');
    expect(findHeader(ack.headers, 'To')).toBe('<sip:bob@example.com>;tag=callee');
    expect(findHeader(ack.headers, 'CSeq')).toBe('5 ACK');
    expect(findHeader(ack.headers, 'Contact')).toBeUndefined();
  });

  it('builds CANCEL with the same Via, To and CSeq number (RFC 3261 §9.1)', () => {
    const cancel = createCancel(invite, [['Reason', 'SIP;cause=487']]);
    expect(cancel.method).toBe('CANCEL');
    expect(findHeaders(cancel.headers, 'Via')).toEqual(['SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsent']);
    expect(findHeader(cancel.headers, 'To')).toBe('<sip:bob@example.com>');
    expect(findHeader(cancel.headers, 'CSeq')).toBe('5 CANCEL');
    expect(findHeader(cancel.headers, 'Reason')).toBe('SIP;cause=487');
  });
});

describe('identifiers and reason phrases', () => {
  it('generates distinct, well-formed branches, tags and Call-IDs', () => {
    const branches = new Set(Array.from({ length: 1000 }, newBranch));
    expect(branches.size).toBe(1000);
    for (const b of branches) expect(b).toMatch(/^z9hG4bK[A-Za-z0-9_-]{22}$/);
    expect(newTag()).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(newCallId('h.example')).toMatch(/^[A-Za-z0-9]{24}@h\.example$/);
  });

  it('knows the standard phrases and falls back to the class phrase', () => {
    expect(reasonPhrase(487)).toBe('Request Terminated');
    expect(reasonPhrase(499)).toBe('Bad Request');
    expect(reasonPhrase(299)).toBe('OK');
  });

  it('detects tags outside the URI only', () => {
    expect(hasTag('<sip:a@b;tag=1>')).toBe(false);
    expect(hasTag('<sip:a@b>;tag=1')).toBe(true);
    expect(hasTag('sip:a@b;tag=1')).toBe(true);
  });
});
