import { describe, expect, it } from 'vitest';
import { PARSE_DONE, PARSE_ERROR, PARSE_MORE, ResponseParser } from '../../../runtime/webhooks/http1-parser.js';

/** Feed `text` in pieces of `size` bytes; return the first result that is not PARSE_MORE (or PARSE_MORE). */
function feed(parser: ResponseParser, text: string, size = Number.MAX_SAFE_INTEGER): number {
  const bytes = Buffer.from(text, 'latin1');
  for (let at = 0; at < bytes.length; at += size) {
    const step = parser.feed(bytes.subarray(at, at + size));
    if (step !== PARSE_MORE) return step;
  }
  return PARSE_MORE;
}

function parser(maxHeaderBytes = 1024, maxBodyBytes = 1000): ResponseParser {
  const created = new ResponseParser(maxHeaderBytes);
  created.reset(maxBodyBytes);
  return created;
}

describe('ResponseParser fed one byte at a time', () => {
  const cases: [string, string, number, string][] = [
    ['length', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello', 200, 'hello'],
    ['chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n5;a=b\r\nhello\r\nA \r\n0123456789\r\n0\r\nT: 1\r\n\r\n', 200, 'hello0123456789'],
    ['interim', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n', 404, ''],
    ['no reason', 'HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx', 200, 'x'],
  ];
  for (const [name, text, status, body] of cases) {
    it(name, () => {
      const p = parser();
      const bytes = Buffer.from(text, 'latin1');
      for (let i = 0; i < bytes.length; i++) {
        expect(p.feed(bytes.subarray(i, i + 1))).toBe(i === bytes.length - 1 ? PARSE_DONE : PARSE_MORE);
      }
      expect([p.status, p.body().toString('latin1'), p.keepAlive]).toEqual([status, body, true]);
    });
  }
});

describe('ResponseParser headers and reuse', () => {
  it('lower-cases names, trims values, joins repeats, keeps latin1 bytes', () => {
    const p = parser();
    expect(feed(p, 'HTTP/1.1 302 Found\r\nLocation:  /next \t\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nX-Latin: caf\xe9\r\nContent-Length: 0\r\n\r\n')).toBe(PARSE_DONE);
    expect(Object.fromEntries(p.headers)).toEqual({ location: '/next', 'set-cookie': 'a=1, b=2', 'x-latin': 'café', 'content-length': '0' });
  });

  const reuse: [string, string, boolean][] = [
    ['HTTP/1.1 by default', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', true],
    ['Connection: close among other tokens', 'HTTP/1.1 200 OK\r\nConnection: Upgrade, Close\r\nContent-Length: 0\r\n\r\n', false],
    ['HTTP/1.0', 'HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n', false],
    ['HTTP/1.0 keep-alive', 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n', true],
    ['both Transfer-Encoding and Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n', false],
    ['extra bytes', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxy', false],
  ];
  for (const [name, text, keepAlive] of reuse) {
    it(`reuse after ${name}: ${keepAlive}`, () => {
      const p = parser();
      expect(feed(p, text)).toBe(PARSE_DONE);
      expect(p.keepAlive).toBe(keepAlive);
    });
  }

  it('reads until close when no framing is given, or when chunked is not the last coding', () => {
    for (const head of ['HTTP/1.1 200 OK\r\n\r\n', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n']) {
      const p = parser();
      expect(feed(p, `${head}abc`)).toBe(PARSE_MORE);
      expect(feed(p, 'def')).toBe(PARSE_MORE);
      expect(p.untilClose).toBe(true);
      expect([p.keepAlive, p.body().toString()]).toEqual([false, 'abcdef']);
    }
  });
});

describe('ResponseParser limits and errors', () => {
  it('stops at the first byte over the head limit, and works again after reset', () => {
    const p = parser(64);
    const bytes = Buffer.from(`HTTP/1.1 200 OK\r\nX: ${'y'.repeat(100)}`, 'latin1');
    let at = 0;
    while (p.feed(bytes.subarray(at, at + 1)) === PARSE_MORE) at++;
    expect(at).toBe(64);
    expect(p.errorKind).toBe('protocol');
    p.reset(1000);
    expect(feed(p, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')).toBe(PARSE_DONE);
  });

  it('fails a chunked body as soon as a chunk size takes it over the limit', () => {
    const p = parser(1024, 4);
    expect(feed(p, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\n')).toBe(PARSE_ERROR);
    expect(p.errorKind).toBe('too-large');
    const huge = parser(1024, 4);
    expect(feed(huge, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n')).toBe(PARSE_ERROR);
    expect(huge.errorKind).toBe('too-large');
  });

  it('bounds trailers and chunk-size lines', () => {
    const trailers = parser(64);
    expect(feed(trailers, `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${'T: 1234567890\r\n'.repeat(10)}`, 3)).toBe(PARSE_ERROR);
    expect(trailers.errorMessage).toContain('trailers');
    const line = parser();
    expect(feed(line, `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;${'e'.repeat(5000)}`, 100)).toBe(PARSE_ERROR);
    expect(line.errorMessage).toContain('chunk-size line');
  });

  const malformed: [string, string][] = [
    ['bare LF in a header value', 'HTTP/1.1 200 OK\r\nX-A: a\nb\r\nContent-Length: 0\r\n\r\n'],
    ['bare CR in a header value', 'HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n'],
    ['an empty header name', 'HTTP/1.1 200 OK\r\n: x\r\nContent-Length: 0\r\n\r\n'],
    ['a status below 100', 'HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n'],
    ['a status above 599', 'HTTP/1.1 600 Odd\r\nContent-Length: 0\r\n\r\n'],
    ['a negative Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'],
    ['a Content-Length list', 'HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\nx'],
    ['chunk data without CRLF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy0\r\n\r\n'],
    ['garbage after a chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1x\r\nx\r\n0\r\n\r\n'],
  ];
  for (const [name, text] of malformed) {
    it(`rejects ${name}`, () => {
      const p = parser();
      expect(feed(p, text)).toBe(PARSE_ERROR);
      expect(p.errorKind).toBe('protocol');
    });
  }
});
