/** serialize.ts: wire format, computed Content-Length, compact forms expanded, CRLF injection refused. */
import { describe, it, expect } from 'vitest';
import { serializeRequest, serializeResponse } from '../../../runtime/sip/serialize.js';
import { SipBuildError } from '../../../runtime/sip/errors.js';
import { textBody, type OutgoingRequest } from '../../../runtime/sip/message.js';
import { parserFor } from '../../support/wasm.js';

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function request(headers: Array<[string, string]>, body?: Uint8Array): OutgoingRequest {
  return { method: 'OPTIONS', uri: 'sip:bob@example.com', headers, body };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof SipBuildError ? err.code : 'other';
  }
  return undefined;
}

describe('serializeRequest', () => {
  it('writes the request line, headers in order, computed Content-Length and the body', () => {
    const wire = text(serializeRequest(request([['Via', 'SIP/2.0/UDP h;branch=z9hG4bKx'], ['X-A', '1']], textBody('héllo'))));
    expect(wire).toBe('OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nX-A: 1\r\nContent-Length: 6\r\n\r\nhéllo');
  });

  it('expands compact names and drops a hand-written Content-Length', () => {
    const wire = text(serializeRequest(request([['v', 'SIP/2.0/UDP h'], ['i', 'abc'], ['l', '99'], ['Content-Length', '7'], ['k', 'timer']])));
    expect(wire).toContain('\r\nVia: SIP/2.0/UDP h\r\nCall-ID: abc\r\nSupported: timer\r\nContent-Length: 0\r\n\r\n');
    expect(wire.match(/Content-Length/g)).toHaveLength(1);
  });

  it('produces bytes the WASM parser accepts, also as a stream message', () => {
    const bytes = serializeRequest({
      method: 'INVITE', uri: 'sip:bob@example.com',
      headers: [['Via', 'SIP/2.0/TCP h:5060;branch=z9hG4bK1'], ['Max-Forwards', '70'], ['From', '<sip:a@b>;tag=1'], ['To', '<sip:bob@example.com>'], ['Call-ID', 'c1'], ['CSeq', '1 INVITE']],
      body: textBody('v=0\r\n'),
    });
    const view = parserFor('release').parse(bytes, true);
    expect(view.error).toBeUndefined();
    expect(text(view.body)).toBe('v=0\r\n');
  });

  it.each([
    ['CRLF in a value', [['X-A', 'ok\r\nX-Evil: 1']]],
    ['bare LF in a value', [['X-A', 'ok\nX-Evil: 1']]],
    ['bare CR in a value', [['X-A', 'ok\rX-Evil: 1']]],
    ['NUL in a value', [['X-A', 'a\u0000b']]],
    ['CRLF in a name', [['X-A\r\nX-Evil', '1']]],
    ['NUL in a name', [['X-\u0000', '1']]],
  ] as Array<[string, Array<[string, string]>]>)('refuses %s with PB_ERR_SIP_HEADER_INJECTION', (_label, headers) => {
    expect(codeOf(() => serializeRequest(request(headers)))).toBe('PB_ERR_SIP_HEADER_INJECTION');
  });

  it('allows HTAB in values and refuses names that are not tokens', () => {
    expect(codeOf(() => serializeRequest(request([['X-A', 'a\tb']])))).toBeUndefined();
    expect(codeOf(() => serializeRequest(request([['X A', '1']])))).toBe('PB_ERR_SIP_HEADER_NAME');
    expect(codeOf(() => serializeRequest(request([['X:A', '1']])))).toBe('PB_ERR_SIP_HEADER_NAME');
    expect(codeOf(() => serializeRequest(request([['', '1']])))).toBe('PB_ERR_SIP_HEADER_NAME');
  });

  it('refuses unsafe start lines', () => {
    expect(codeOf(() => serializeRequest({ method: 'INVITE\r\nX', uri: 'sip:a', headers: [] }))).toBe('PB_ERR_SIP_HEADER_INJECTION');
    expect(codeOf(() => serializeRequest({ method: 'INVITE', uri: 'sip:a\r\nX: 1', headers: [] }))).toBe('PB_ERR_SIP_HEADER_INJECTION');
    expect(codeOf(() => serializeRequest({ method: 'IN VITE', uri: 'sip:a', headers: [] }))).toBe('PB_ERR_SIP_START_LINE');
    expect(codeOf(() => serializeRequest({ method: 'INVITE', uri: 'sip:a b', headers: [] }))).toBe('PB_ERR_SIP_START_LINE');
  });
});

describe('serializeResponse', () => {
  it('writes the status line', () => {
    expect(text(serializeResponse({ status: 486, reason: 'Busy Here', headers: [['CSeq', '1 INVITE']] })))
      .toBe('SIP/2.0 486 Busy Here\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n');
  });

  it('refuses bad status codes and reason phrases with CR/LF', () => {
    expect(codeOf(() => serializeResponse({ status: 99, reason: 'x', headers: [] }))).toBe('PB_ERR_SIP_STATUS');
    expect(codeOf(() => serializeResponse({ status: 700, reason: 'x', headers: [] }))).toBe('PB_ERR_SIP_STATUS');
    expect(codeOf(() => serializeResponse({ status: 200, reason: 'OK\r\nX-Evil: 1', headers: [] }))).toBe('PB_ERR_SIP_HEADER_INJECTION');
  });
});
