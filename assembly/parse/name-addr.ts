import {
  U_URI_START, U_URI_LEN, U_DISPLAY_START, U_DISPLAY_LEN, U_HPARAMS_START, U_HPARAMS_LEN, U_TAG_START, U_TAG_LEN,
} from '../abi';
import { E_NAME_ADDR, E_URI, E_SCHEME } from '../errors';
import { cls, C_TOKEN, isWsp, skipLws, trimEnd, equalsLower } from '../util/ascii';
import { parseUri, put, lastFailAt, SCHEME_SIP, SCHEME_SIPS } from './uri';

let failAt: usize = 0;

/** @return the absolute address where the last name-addr parse failed. */
export function nameAddrFailAt(): usize {
  return failAt;
}

// @ts-ignore: decorator
@inline
function fail(code: i32, at: usize): i32 {
  failAt = at;
  return code;
}

/**
 * Skip a quoted-string starting at the opening quote `p`.
 * @return the address after the closing quote, or 0 when unterminated.
 */
export function skipQuoted(p: usize, end: usize): usize {
  let q = p + 1;
  while (q < end) {
    const c = load<u8>(q);
    if (c == 0x5c) {
      q += 2; // quoted-pair: any octet, NUL included (RFC 4475 §3.1.1.2)
      continue;
    }
    if (c == 0x22) return q + 1;
    q++;
  }
  return 0;
}

/**
 * Parse generic header params `*( SEMI generic-param )` in [p, end), where
 * `p` points at the first ';' (or equals end). Records the span and `tag`.
 */
export function parseHeaderParams(base: usize, p: usize, end: usize, out: usize): i32 {
  p = skipLws(p, end);
  if (p >= end) return 0;
  if (load<u8>(p) != 0x3b) return fail(E_NAME_ADDR, p);
  put(out, U_HPARAMS_START, <i32>(p + 1 - base));
  put(out, U_HPARAMS_LEN, <i32>(end - p - 1));
  while (p < end) {
    // at ';'
    p = skipLws(p + 1, end);
    const nameStart = p;
    while (p < end && (cls(load<u8>(p)) & C_TOKEN) != 0) p++;
    const nameEnd = p;
    if (nameEnd == nameStart) return fail(E_NAME_ADDR, p);
    p = skipLws(p, end);
    let valueStart: usize = 0;
    let valueEnd: usize = 0;
    if (p < end && load<u8>(p) == 0x3d) {
      p = skipLws(p + 1, end);
      valueStart = p;
      if (p < end && load<u8>(p) == 0x22) {
        const q = skipQuoted(p, end);
        if (q == 0) return fail(E_NAME_ADDR, p);
        p = q;
      } else {
        // token / host (incl. IPv6 reference)
        while (p < end) {
          const c = load<u8>(p);
          if ((cls(c) & C_TOKEN) == 0 && c != 0x3a && c != 0x5b && c != 0x5d) break;
          p++;
        }
        if (p == valueStart) return fail(E_NAME_ADDR, p);
      }
      valueEnd = p;
      p = skipLws(p, end);
    }
    if (valueEnd > valueStart && equalsLower(nameStart, <i32>(nameEnd - nameStart), 'tag')) {
      put(out, U_TAG_START, <i32>(valueStart - base));
      put(out, U_TAG_LEN, <i32>(valueEnd - valueStart));
    }
    if (p < end && load<u8>(p) != 0x3b) return fail(E_NAME_ADDR, p);
  }
  return 0;
}

/**
 * Parse `( name-addr / addr-spec ) *( SEMI generic-param )` in [p, end)
 * (RFC 3261 §20.10, §20.20, §20.39). The caller has reset the URI record.
 * Unquoted display names must be tokens separated by LWS; a token directly
 * followed by '<' is tolerated (RFC 4475 §3.1.1.6).
 * @param light  skip the character-level URI check (the message parser's hot
 *               path: only the structure, display name and params are
 *               checked; parse_uri checks the URI when it is used)
 * @return 0 or an error code (nameAddrFailAt() tells where)
 */
export function parseNameAddr(base: usize, p: usize, end: usize, out: usize, light: bool = false): i32 {
  p = skipLws(p, end);
  end = trimEnd(p, end);
  if (p >= end) return fail(E_NAME_ADDR, p);
  let c = load<u8>(p);
  let lt: usize = 0;
  if (c == 0x22) {
    const q = skipQuoted(p, end);
    if (q == 0) return fail(E_NAME_ADDR, p);
    put(out, U_DISPLAY_START, <i32>(p - base));
    put(out, U_DISPLAY_LEN, <i32>(q - p));
    lt = skipLws(q, end);
    if (lt >= end || load<u8>(lt) != 0x3c) return fail(E_NAME_ADDR, lt);
  } else if (c != 0x3c) {
    // Either display-name tokens before '<', or an addr-spec.
    let q = p;
    let sawWsp = false;
    while (q < end) {
      c = load<u8>(q);
      if (c == 0x3c) break;
      if (isWsp(c) || c == 0x0d || c == 0x0a) sawWsp = true;
      q++;
    }
    if (q < end) {
      // display-name = *(token LWS)
      const dEnd = trimEnd(p, q);
      for (let r = p; r < dEnd; r++) {
        const d = load<u8>(r);
        if ((cls(d) & C_TOKEN) == 0 && !isWsp(d) && d != 0x0d && d != 0x0a) {
          return fail(E_NAME_ADDR, r);
        }
      }
      put(out, U_DISPLAY_START, <i32>(p - base));
      put(out, U_DISPLAY_LEN, <i32>(dEnd - p));
      lt = q;
    } else {
      // addr-spec: the URI runs to the first ';' (or whitespace); params after are header params
      let u = p;
      while (u < end) {
        c = load<u8>(u);
        if (c == 0x3b || isWsp(c) || c == 0x0d || c == 0x0a) break;
        if (c == 0x3f || c == 0x2c) return fail(E_NAME_ADDR, u); // RFC 3261 §20: needs <>
        u++;
      }
      if (sawWsp && u == end) return fail(E_NAME_ADDR, p);
      const r = light ? checkUriShape(base, p, u, out) : parseUri(base, p, u, out);
      if (r < 0) return light ? r : fail(r, lastFailAt());
      return parseHeaderParams(base, u, end, out);
    }
  } else {
    lt = p;
  }
  // at '<'
  let gt = lt + 1;
  while (gt < end && load<u8>(gt) != 0x3e) gt++;
  if (gt >= end) return fail(E_NAME_ADDR, lt);
  const r = light ? checkUriShape(base, lt + 1, gt, out) : parseUri(base, lt + 1, gt, out);
  if (r < 0) return light ? r : fail(r, lastFailAt());
  return parseHeaderParams(base, gt + 1, end, out);
}

/**
 * The light URI check of the hot path: a scheme, then no whitespace or
 * control characters; records the URI span.
 */
function checkUriShape(base: usize, p: usize, end: usize, out: usize): i32 {
  put(out, U_URI_START, <i32>(p - base));
  put(out, U_URI_LEN, <i32>(end - p));
  if (p >= end) return fail(E_URI, p);
  let q = p;
  let c = load<u8>(q);
  if (c - 0x61 >= 26 && c - 0x41 >= 26) return fail(E_SCHEME, q);
  while (q < end) {
    c = load<u8>(q);
    if (c == 0x3a) break;
    if (c <= 0x20) return fail(E_SCHEME, q);
    q++;
  }
  if (q >= end - 1) return fail(E_SCHEME, q);
  while (q < end) {
    if (load<u8>(q) <= 0x20) return fail(E_URI, q);
    q++;
  }
  return 0;
}

/** @return true when the parsed URI (record `out`) is sip: or sips:. */
export function isSipScheme(scheme: i32): bool {
  return scheme == SCHEME_SIP || scheme == SCHEME_SIPS;
}

/** Keep the display/tag slots reset helper next to the parser that fills them. */
export function resetNameAddrSlots(out: usize): void {
  put(out, U_DISPLAY_START, 0);
  put(out, U_DISPLAY_LEN, -1);
  put(out, U_TAG_START, 0);
  put(out, U_TAG_LEN, -1);
}
