import {
  U_STATUS, U_ERROR_OFFSET, U_SCHEME, U_USER_START, U_USER_LEN, U_PASSWORD_START,
  U_PASSWORD_LEN, U_HOST_START, U_HOST_LEN, U_PORT, U_PARAMS_START, U_PARAMS_LEN,
  U_HEADERS_START, U_HEADERS_LEN, U_HOST_KIND, U_TRANSPORT, U_URI_START, U_URI_LEN,
  U_REGION, U_EFFECTIVE_PORT, U_URI_HEADER_COUNT, U_REPLACES_INDEX, U_URI_HEADERS, UH_SIZE,
  MAX_URI_HEADERS, U_DISPLAY_LEN, U_HPARAMS_LEN, U_TAG_LEN,
} from '../abi';
import { E_URI, E_BAD_ESCAPE, E_HOST, E_PORT, E_SCHEME } from '../errors';
import {
  cls, C_USER, C_PASSWORD, C_PARAM, C_HNV, C_HEX, C_HOST, C_TOKEN, isDigit, lower,
  startsWithLower, equalsLower,
} from '../util/ascii';

export const SCHEME_SIP: i32 = 1;
export const SCHEME_SIPS: i32 = 2;
export const SCHEME_TEL: i32 = 3;
export const SCHEME_OTHER: i32 = 4;

export const HOST_NAME: i32 = 1;
export const HOST_IPV4: i32 = 2;
export const HOST_IPV6: i32 = 3;

/** Error offset of the last failed sub-parse (absolute address). */
let failAt: usize = 0;

/** @return the absolute address where the last sub-parser failed. */
export function lastFailAt(): usize {
  return failAt;
}

// @ts-ignore: decorator
@inline
function fail(code: i32, at: usize): i32 {
  failAt = at;
  return code;
}

/** Write an i32 slot of a record. */
// @ts-ignore: decorator
@inline
export function put(out: usize, slot: i32, v: i32): void {
  store<i32>(out + (<usize>slot << 2), v);
}

/** Reset a URI record (every span absent). */
export function resetUriRecord(out: usize): void {
  for (let s = 0; s < U_URI_HEADERS; s++) put(out, s, 0);
  // every span starts absent: [start 0, len -1]
  put(out, U_USER_LEN, -1);
  put(out, U_PASSWORD_LEN, -1);
  put(out, U_HOST_LEN, -1);
  put(out, U_PARAMS_LEN, -1);
  put(out, U_HEADERS_LEN, -1);
  put(out, U_URI_LEN, -1);
  put(out, U_DISPLAY_LEN, -1);
  put(out, U_HPARAMS_LEN, -1);
  put(out, U_TAG_LEN, -1);
  put(out, U_ERROR_OFFSET, -1);
  put(out, U_PORT, -1);
  put(out, U_EFFECTIVE_PORT, -1);
  put(out, U_REPLACES_INDEX, -1);
}

/** Check `%HH` escapes and a byte class over [p, end). @return 0 or an error code. */
function checkChars(p: usize, end: usize, klass: u8): i32 {
  while (p < end) {
    const c = load<u8>(p);
    if (c == 0x25) {
      if (p + 2 >= end) return fail(E_BAD_ESCAPE, p);
      if ((cls(load<u8>(p + 1)) & C_HEX) == 0 || (cls(load<u8>(p + 2)) & C_HEX) == 0) {
        return fail(E_BAD_ESCAPE, p);
      }
      p += 3;
      continue;
    }
    if ((cls(c) & klass) == 0) return fail(E_URI, p);
    p++;
  }
  return 0;
}

/** Validate an IPv6 reference body (between brackets). Liberal: RFC 5118 §4.10 three-colon form accepted. */
function checkIpv6(p: usize, end: usize): i32 {
  let colons = 0;
  if (p >= end) return fail(E_HOST, p);
  while (p < end) {
    const c = load<u8>(p);
    if (c == 0x3a) colons++;
    else if (c != 0x2e && (cls(c) & C_HEX) == 0) return fail(E_HOST, p);
    p++;
  }
  return colons >= 2 ? 0 : fail(E_HOST, end);
}

/**
 * Parse host[:port] in [p, end). Writes host span (relative to `base`),
 * kind and port. @return 0 or an error code.
 */
export function parseHostPort(base: usize, p: usize, end: usize, out: usize): i32 {
  if (p >= end) return fail(E_HOST, p);
  let hostEnd: usize;
  let kind = HOST_NAME;
  if (load<u8>(p) == 0x5b) {
    let q = p + 1;
    while (q < end && load<u8>(q) != 0x5d) q++;
    if (q >= end) return fail(E_HOST, p);
    const r = checkIpv6(p + 1, q);
    if (r < 0) return r;
    hostEnd = q + 1;
    kind = HOST_IPV6;
  } else {
    let q = p;
    let digitsAndDots = true;
    while (q < end) {
      const c = load<u8>(q);
      if (c == 0x3a) break;
      const k = cls(c);
      if ((k & C_HOST) == 0 || c == 0x5b || c == 0x5d) return fail(E_HOST, q);
      if (!isDigit(c) && c != 0x2e) digitsAndDots = false;
      q++;
    }
    if (q == p) return fail(E_HOST, p);
    hostEnd = q;
    if (digitsAndDots) kind = HOST_IPV4;
  }
  put(out, U_HOST_START, <i32>(p - base));
  put(out, U_HOST_LEN, <i32>(hostEnd - p));
  put(out, U_HOST_KIND, kind);
  if (hostEnd < end) {
    if (load<u8>(hostEnd) != 0x3a) return fail(E_HOST, hostEnd);
    let q = hostEnd + 1;
    if (q >= end) return fail(E_PORT, q);
    let port: i32 = 0;
    while (q < end) {
      const c = load<u8>(q);
      if (!isDigit(c)) return fail(E_PORT, q);
      port = port * 10 + <i32>(c - 0x30);
      if (port > 65535) return fail(E_PORT, q);
      q++;
    }
    if (port == 0) return fail(E_PORT, hostEnd + 1);
    put(out, U_PORT, port);
  }
  return 0;
}

/** Map a transport param value to its id. */
function transportId(p: usize, len: i32): i32 {
  if (equalsLower(p, len, 'udp')) return 1;
  if (equalsLower(p, len, 'tcp')) return 2;
  if (equalsLower(p, len, 'tls')) return 3;
  if (equalsLower(p, len, 'sctp')) return 4;
  if (equalsLower(p, len, 'ws')) return 5;
  if (equalsLower(p, len, 'wss')) return 6;
  return 7;
}

/** Parse uri-parameters in [p, end) (no leading ';'). Records transport. */
function parseUriParams(p: usize, end: usize, out: usize): i32 {
  while (p <= end) {
    let q = p;
    while (q < end && load<u8>(q) != 0x3b) q++;
    // one param [p, q): pname [ "=" pvalue ]
    let eq = p;
    while (eq < q && load<u8>(eq) != 0x3d) eq++;
    if (eq == p) return fail(E_URI, p);
    let r = checkChars(p, eq, C_PARAM);
    if (r < 0) return r;
    if (eq < q) {
      r = checkChars(eq + 1, q, C_PARAM);
      if (r < 0) return r;
      if (equalsLower(p, <i32>(eq - p), 'transport')) {
        put(out, U_TRANSPORT, transportId(eq + 1, <i32>(q - eq - 1)));
      }
    }
    if (q >= end) break;
    p = q + 1;
  }
  return 0;
}

/** Parse URI headers in [p, end) (no leading '?'): hname "=" hvalue *("&" ...). */
function parseUriHeaders(base: usize, p: usize, end: usize, out: usize): i32 {
  let count = 0;
  while (p <= end) {
    let q = p;
    while (q < end && load<u8>(q) != 0x26) q++;
    let eq = p;
    while (eq < q && load<u8>(eq) != 0x3d) eq++;
    if (eq == p || eq == q) return fail(E_URI, p);
    let r = checkChars(p, eq, C_HNV);
    if (r < 0) return r;
    r = checkChars(eq + 1, q, C_HNV | C_USER);
    if (r < 0) return r;
    if (count < MAX_URI_HEADERS) {
      const e = out + (<usize>(U_URI_HEADERS + count * UH_SIZE) << 2);
      store<i32>(e, <i32>(p - base));
      store<i32>(e + 4, <i32>(eq - p));
      store<i32>(e + 8, <i32>(eq + 1 - base));
      store<i32>(e + 12, <i32>(q - eq - 1));
    }
    count++;
    if (q >= end) break;
    p = q + 1;
  }
  put(out, U_URI_HEADER_COUNT, count);
  return 0;
}

/** Scheme ":" check for a generic absolute URI. @return position after ':' or 0. */
function schemeEnd(p: usize, end: usize): usize {
  if (p >= end) return 0;
  const c0 = lower(load<u8>(p));
  if (c0 - 0x61 >= 26) return 0;
  let q = p + 1;
  while (q < end) {
    const c = lower(load<u8>(q));
    if (c == 0x3a) return q + 1;
    if (!(c - 0x61 < 26 || isDigit(c) || c == 0x2b || c == 0x2d || c == 0x2e)) return 0;
    q++;
  }
  return 0;
}

/**
 * Parse a URI occupying exactly [p, end). SIP/SIPS URIs are parsed fully
 * (RFC 3261 §19.1.1, RFC 5118 for IPv6); tel: and any other absolute URI
 * are checked for scheme and printable, non-space characters only.
 * @param base  offsets in the record are relative to this address
 * @param out   URI record (see abi.ts U_*); caller resets it
 * @return 0 or an error code (lastFailAt() tells where)
 */
export function parseUri(base: usize, p: usize, end: usize, out: usize): i32 {
  put(out, U_URI_START, <i32>(p - base));
  put(out, U_URI_LEN, <i32>(end - p));
  const len = <i32>(end - p);
  let scheme = 0;
  let q: usize = 0;
  if (startsWithLower(p, len, 'sip:')) {
    scheme = SCHEME_SIP;
    q = p + 4;
  } else if (startsWithLower(p, len, 'sips:')) {
    scheme = SCHEME_SIPS;
    q = p + 5;
  } else {
    const after = schemeEnd(p, end);
    if (after == 0) return fail(E_SCHEME, p);
    scheme = startsWithLower(p, len, 'tel:') ? SCHEME_TEL : SCHEME_OTHER;
    put(out, U_SCHEME, scheme);
    if (after >= end) return fail(E_URI, after);
    for (let r = after; r < end; r++) {
      const c = load<u8>(r);
      if (c <= 0x20 || c >= 0x7f || c == 0x3c || c == 0x3e || c == 0x22) return fail(E_URI, r);
    }
    if (scheme == SCHEME_TEL) {
      let r = after;
      while (r < end && load<u8>(r) != 0x3b) r++;
      put(out, U_USER_START, <i32>(after - base));
      put(out, U_USER_LEN, <i32>(r - after));
      if (r < end) {
        put(out, U_PARAMS_START, <i32>(r + 1 - base));
        put(out, U_PARAMS_LEN, <i32>(end - r - 1));
      }
    }
    return 0;
  }
  put(out, U_SCHEME, scheme);
  // userinfo: up to the first '@' (RFC 3261 allows none elsewhere unescaped)
  let at: usize = 0;
  for (let r = q; r < end; r++) {
    if (load<u8>(r) == 0x40) {
      at = r;
      break;
    }
  }
  let hostStart = q;
  if (at != 0) {
    let colon = q;
    while (colon < at && load<u8>(colon) != 0x3a) colon++;
    if (colon == q) return fail(E_URI, q);
    let r = checkChars(q, colon, C_USER);
    if (r < 0) return r;
    put(out, U_USER_START, <i32>(q - base));
    put(out, U_USER_LEN, <i32>(colon - q));
    if (colon < at) {
      r = checkChars(colon + 1, at, C_PASSWORD);
      if (r < 0) return r;
      put(out, U_PASSWORD_START, <i32>(colon + 1 - base));
      put(out, U_PASSWORD_LEN, <i32>(at - colon - 1));
    }
    hostStart = at + 1;
  }
  // hostport ends at ';' or '?' (but not inside an IPv6 reference)
  let hostEnd = hostStart;
  let inBracket = false;
  while (hostEnd < end) {
    const c = load<u8>(hostEnd);
    if (c == 0x5b) inBracket = true;
    else if (c == 0x5d) inBracket = false;
    else if (!inBracket && (c == 0x3b || c == 0x3f)) break;
    hostEnd++;
  }
  let r = parseHostPort(base, hostStart, hostEnd, out);
  if (r < 0) return r;
  let cursor = hostEnd;
  if (cursor < end && load<u8>(cursor) == 0x3b) {
    let pe = cursor + 1;
    while (pe < end && load<u8>(pe) != 0x3f) pe++;
    put(out, U_PARAMS_START, <i32>(cursor + 1 - base));
    put(out, U_PARAMS_LEN, <i32>(pe - cursor - 1));
    r = parseUriParams(cursor + 1, pe, out);
    if (r < 0) return r;
    cursor = pe;
  }
  if (cursor < end) {
    // must be '?'
    put(out, U_HEADERS_START, <i32>(cursor + 1 - base));
    put(out, U_HEADERS_LEN, <i32>(end - cursor - 1));
    r = parseUriHeaders(base, cursor + 1, end, out);
    if (r < 0) return r;
  }
  return 0;
}

/** @return true when [p, end) is a token (non-empty). */
export function isToken(p: usize, end: usize): bool {
  if (p >= end) return false;
  while (p < end) {
    if ((cls(load<u8>(p)) & C_TOKEN) == 0) return false;
    p++;
  }
  return true;
}
