import { E_BODY, E_CONTENT_LENGTH, E_MESSAGE_TOO_LARGE } from '../errors';
import { equalsLower, isDigit, isWsp, skipWsp } from '../util/ascii';
import { findLF, resetScan } from './line';

/**
 * Frame one message from the start of a stream buffer (RFC 3261 §18.3):
 * the headers end at the first empty line, the body is Content-Length bytes.
 * A run of CR/LF before a message is returned on its own: it is a keep-alive
 * (RFC 5626 §4.4.1) or the CRLFs RFC 3261 §7.5 says to ignore.
 * @param base  buffer start
 * @param len   bytes available
 * @param maxBytes  largest message accepted
 * @return >0 length of the next message, 0 need more bytes, <0 error code
 */
export function findMessageEnd(base: usize, len: i32, maxBytes: i32): i32 {
  const end = base + <usize>len;
  let p = base;
  while (p < end && (load<u8>(p) == 0x0d || load<u8>(p) == 0x0a)) p++;
  if (p > base) return <i32>(p - base);
  let contentLength: i32 = -1;
  let clError = false;
  resetScan(); // no header value state left from the last parse: framing needs none
  while (true) {
    const lf = findLF(p, end);
    if (lf >= end) return len > maxBytes ? E_MESSAGE_TOO_LARGE : 0;
    const lineLen = <i32>(lf - p);
    if (lineLen == 0 || (lineLen == 1 && load<u8>(p) == 0x0d)) {
      if (p == base) return E_BODY;
      const headersEnd = <i32>(lf + 1 - base);
      if (clError) return E_CONTENT_LENGTH;
      if (contentLength < 0) return E_BODY;
      const total = <i64>headersEnd + <i64>contentLength;
      if (total > <i64>maxBytes) return E_MESSAGE_TOO_LARGE;
      return total > <i64>len ? 0 : <i32>total;
    }
    if (lf + 1 - base > <usize>maxBytes) return E_MESSAGE_TOO_LARGE;
    // header line: is it Content-Length / l ?
    let q = p;
    while (q < lf && load<u8>(q) != 0x3a && !isWsp(load<u8>(q))) q++;
    const nlen = <i32>(q - p);
    if ((nlen == 1 && (load<u8>(p) | 0x20) == 0x6c) || equalsLower(p, nlen, 'content-length')) {
      q = skipWsp(q, lf);
      if (q < lf && load<u8>(q) == 0x3a) {
        q = skipWsp(q + 1, lf);
        let v: i64 = 0;
        const ds = q;
        while (q < lf && isDigit(load<u8>(q))) {
          v = v * 10 + <i64>(load<u8>(q) - 0x30);
          if (v > 0x7fffffff) break;
          q++;
        }
        const rest = skipWsp(q, lf);
        const ok = q > ds && v <= 0x7fffffff && (rest == lf || (rest + 1 == lf && load<u8>(rest) == 0x0d));
        if (!ok || (contentLength >= 0 && contentLength != <i32>v)) clError = true;
        else contentLength = <i32>v;
      }
    }
    p = lf + 1;
  }
  return 0;
}
