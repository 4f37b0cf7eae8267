/**
 * URI record helpers shared by the `<Sip>` target and Refer-To checks, and
 * checks over the URI header list that parseUri recorded (RFC 3261 §19.1.1
 * `headers`). The spans stay percent-encoded: every test reads the decoded
 * bytes on the fly, so nothing is copied and nothing is allocated. Callers
 * run these only after parseUri succeeded, so every '%' starts a valid
 * `%HH` escape.
 */
import {
  U_STATUS, U_ERROR_OFFSET, U_USER_START, U_USER_LEN, U_PASSWORD_START, U_PASSWORD_LEN,
  U_HOST_START, U_HOST_LEN, U_URI_HEADERS, UH_SIZE, U_HEADERS_START, U_URI_HEADER_COUNT,
  MAX_URI_HEADERS,
} from '../abi';
import { E_CTL_CHAR, E_TOO_MANY_URI_HEADERS } from '../errors';
import { put, resetUriRecord } from '../parse/uri';
import { hexValue, lower, cls, C_TOKEN } from '../util/ascii';

let failAt: usize = 0;

/** @return the absolute address where the last header check failed. */
export function uriHeaderFailAt(): usize {
  return failAt;
}

/**
 * resetUriRecord, then mark the user, password and host spans absent
 * (start 0, len -1): resetUriRecord resets slots in (even, odd) pairs, which
 * leaves these three odd-start spans with len 0.
 */
export function resetRecord(out: usize): void {
  resetUriRecord(out);
  put(out, U_USER_START, 0);
  put(out, U_USER_LEN, -1);
  put(out, U_PASSWORD_START, 0);
  put(out, U_PASSWORD_LEN, -1);
  put(out, U_HOST_START, 0);
  put(out, U_HOST_LEN, -1);
}

/**
 * Write U_STATUS and U_ERROR_OFFSET of a URI record.
 * @param offset  byte offset of the error in the input, -1 when it has none
 * @return `code`
 */
export function setStatus(out: usize, code: i32, offset: i32): i32 {
  put(out, U_STATUS, code);
  put(out, U_ERROR_OFFSET, offset);
  return code;
}

/**
 * @return true for a control character that must never reach a header:
 * %x00-1F and %x7F except HTAB (RFC 5234 CTL; RFC 3261 §25.1 allows HTAB in values).
 */
// @ts-ignore: decorator
@inline
export function isCtl(c: u32): bool {
  return (c < 0x20 && c != 0x09) || c == 0x7f;
}

/** @return the byte that the octet or `%HH` escape at `p` stands for. */
// @ts-ignore: decorator
@inline
function decodedAt(p: usize): u32 {
  const c = <u32>load<u8>(p);
  if (c != 0x25) return c;
  return <u32>((hexValue(load<u8>(p + 1)) << 4) | hexValue(load<u8>(p + 2)));
}

/** @return the width (1 or 3) of the octet or escape at `p`. */
// @ts-ignore: decorator
@inline
function widthAt(p: usize): usize {
  return load<u8>(p) == 0x25 ? 3 : 1;
}

/** @return the address of the first octet or escape in [p, end) that decodes to a CTL (isCtl), or 0. */
export function findDecodedCtl(p: usize, end: usize): usize {
  while (p < end) {
    if (isCtl(decodedAt(p))) return p;
    p += widthAt(p);
  }
  return 0;
}

/** @return the address of the first octet or escape in [p, end) that decodes to a non-token byte, or 0. */
export function findDecodedNonToken(p: usize, end: usize): usize {
  while (p < end) {
    if ((cls(decodedAt(p)) & C_TOKEN) == 0) return p;
    p += widthAt(p);
  }
  return 0;
}

/** Case-insensitive test: do the decoded bytes of [p, end) start with the lower-case ASCII `s`? */
export function decodedStartsWithLower(p: usize, end: usize, s: string): bool {
  for (let i = 0; i < s.length; i++) {
    if (p >= end || lower(decodedAt(p)) != <u32>s.charCodeAt(i)) return false;
    p += widthAt(p);
  }
  return true;
}

/** Case-insensitive test: are the decoded bytes of [p, end) exactly the lower-case ASCII `s`? */
export function decodedEqualsLower(p: usize, end: usize, s: string): bool {
  for (let i = 0; i < s.length; i++) {
    if (p >= end || lower(decodedAt(p)) != <u32>s.charCodeAt(i)) return false;
    p += widthAt(p);
  }
  return p == end;
}

/** @return the address of slot 0 of URI header entry `i` of record `out`. */
export function headerEntry(out: usize, i: i32): usize {
  return out + (<usize>(U_URI_HEADERS + i * UH_SIZE) << 2);
}

/**
 * @return the address of the first byte of URI header number `n` (0-based),
 * found by counting '&' from U_HEADERS_START; for headers past the recorded list.
 */
export function nthHeaderAt(base: usize, out: usize, n: i32): usize {
  let p = base + <usize>load<i32>(out + (<usize>U_HEADERS_START << 2));
  while (n > 0) {
    if (load<u8>(p) == 0x26) n--;
    p++;
  }
  return p;
}

/**
 * Refuse a URI header list longer than MAX_URI_HEADERS (only that many
 * entries fit the record).
 * @return 0 or E_TOO_MANY_URI_HEADERS (uriHeaderFailAt() = the first extra header)
 */
export function checkHeaderCount(base: usize, out: usize): i32 {
  if (load<i32>(out + (<usize>U_URI_HEADER_COUNT << 2)) <= MAX_URI_HEADERS) return 0;
  failAt = nthHeaderAt(base, out, MAX_URI_HEADERS);
  return E_TOO_MANY_URI_HEADERS;
}

/**
 * The header-injection guard for URI header `i`: its name and value, once
 * percent-decoded, must hold no CTL (so `%0D%0A` cannot start a new header
 * when the URI headers become real headers, RFC 3261 §19.1.5).
 * @return 0 or E_CTL_CHAR (uriHeaderFailAt() = the offending octet or escape)
 */
export function checkHeaderCtl(base: usize, out: usize, i: i32): i32 {
  const e = headerEntry(out, i);
  const name = base + <usize>load<i32>(e);
  const value = base + <usize>load<i32>(e + 8);
  let bad = findDecodedCtl(name, name + <usize>load<i32>(e + 4));
  if (bad == 0) bad = findDecodedCtl(value, value + <usize>load<i32>(e + 12));
  if (bad == 0) return 0;
  failAt = bad;
  return E_CTL_CHAR;
}
