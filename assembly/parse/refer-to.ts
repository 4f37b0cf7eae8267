/**
 * Refer-To of an inbound REFER (RFC 3515 §2.1) with Twilio's limit of 256
 * characters (SPEC-DETAIL.md §5.1). Reads the message record parseMessage
 * wrote and fills a separate URI record, so the message record stays usable.
 */
import {
  M_STATUS, M_KIND, M_METHOD_ID, M_METHOD_START, M_BODY_START, M_REFER_TO_COUNT, M_IDX_REFER_TO,
  M_HEADER_COUNT, M_HEADERS, H_SIZE, H_ID, H_NAME_START, H_VALUE_START, H_VALUE_LEN,
  U_URI_HEADER_COUNT, U_REPLACES_INDEX, REFER_TO_MAX,
} from '../abi';
import {
  E_ARGUMENT, E_NOT_REFER, E_REFER_TO_MISSING, E_REFER_TO_MULTIPLE, E_REFER_TO_TOO_LONG,
} from '../errors';
import { METHOD_REFER } from './methods';
import { H_REFER_TO } from './header-names';
import { put } from './uri';
import { parseNameAddr, nameAddrFailAt, skipQuoted } from './name-addr';
import {
  setStatus, resetRecord, headerEntry, decodedEqualsLower, checkHeaderCount, checkHeaderCtl, uriHeaderFailAt,
} from '../validate/uri-headers';

// @ts-ignore: decorator
@inline
function get(rec: usize, slot: i32): i32 {
  return load<i32>(rec + (<usize>slot << 2));
}

/** @return field `field` (H_*) of header entry `i` of the message record `msg`. */
// @ts-ignore: decorator
@inline
function entryField(msg: usize, i: i32, field: i32): i32 {
  return get(msg, M_HEADERS + i * H_SIZE + field);
}

/**
 * @return the address of the first ',' in [p, end) outside angle brackets
 * and quoted strings (a second list value, RFC 3261 §7.3.1), or 0.
 */
function findListComma(p: usize, end: usize): usize {
  let angle = false;
  while (p < end) {
    const c = load<u8>(p);
    if (c == 0x22 && !angle) {
      const q = skipQuoted(p, end);
      if (q == 0) return 0;
      p = q;
      continue;
    }
    if (c == 0x3c) angle = true;
    else if (c == 0x3e) angle = false;
    else if (c == 0x2c && !angle) return p;
    p++;
  }
  return 0;
}

/** @return the index of the second Refer-To entry of `msg`, or -1. */
function secondReferTo(msg: usize, first: i32): i32 {
  const count = get(msg, M_HEADER_COUNT);
  for (let i = first + 1; i < count; i++) {
    if (entryField(msg, i, H_ID) == H_REFER_TO) return i;
  }
  return -1;
}

/**
 * Extract the single Refer-To of the REFER request in [input, input+len)
 * whose message record (abi.ts M_*) is at `msg`, into the URI record at
 * `out`: the name-addr or addr-spec (any absolute URI: sip, sips, tel, ...)
 * is parsed by parseNameAddr, its URI headers are listed (percent-encoded
 * spans) and checked against CTL injection after decoding, and
 * U_REPLACES_INDEX names the first `Replaces` header (RFC 3891 §6), -1 when
 * there is none. Offsets are relative to `input`.
 * @return 0, or E_ARGUMENT (the message did not parse), E_NOT_REFER,
 *   E_REFER_TO_MISSING (absent or empty), E_REFER_TO_MULTIPLE (two headers
 *   or a comma list), E_REFER_TO_TOO_LONG (more than REFER_TO_MAX bytes),
 *   a name-addr/URI error, E_TOO_MANY_URI_HEADERS or E_CTL_CHAR
 */
export function extractReferTo(input: usize, len: i32, msg: usize, out: usize): i32 {
  resetRecord(out);
  if (get(msg, M_STATUS) < 0) return setStatus(out, E_ARGUMENT, -1);
  if (get(msg, M_KIND) != 1 || get(msg, M_METHOD_ID) != METHOD_REFER) {
    return setStatus(out, E_NOT_REFER, get(msg, M_METHOD_START));
  }
  const count = get(msg, M_REFER_TO_COUNT);
  if (count == 0) return setStatus(out, E_REFER_TO_MISSING, get(msg, M_BODY_START));
  const idx = get(msg, M_IDX_REFER_TO);
  if (count > 1) {
    const second = secondReferTo(msg, idx);
    return setStatus(out, E_REFER_TO_MULTIPLE, second >= 0 ? entryField(msg, second, H_NAME_START) : -1);
  }
  const start = entryField(msg, idx, H_VALUE_START);
  const vlen = entryField(msg, idx, H_VALUE_LEN);
  if (start < 0 || vlen < 0 || start + vlen > len) return setStatus(out, E_ARGUMENT, -1);
  if (vlen == 0) return setStatus(out, E_REFER_TO_MISSING, start);
  const p = input + <usize>start;
  const end = p + <usize>vlen;
  const comma = findListComma(p, end);
  if (comma != 0) return setStatus(out, E_REFER_TO_MULTIPLE, <i32>(comma - input));
  if (vlen > REFER_TO_MAX) return setStatus(out, E_REFER_TO_TOO_LONG, start + REFER_TO_MAX);
  let r = parseNameAddr(input, p, end, out);
  if (r < 0) return setStatus(out, r, <i32>(nameAddrFailAt() - input));
  r = checkHeaderCount(input, out);
  if (r < 0) return setStatus(out, r, <i32>(uriHeaderFailAt() - input));
  const headers = get(out, U_URI_HEADER_COUNT);
  let replaces = -1;
  for (let i = 0; i < headers; i++) {
    r = checkHeaderCtl(input, out, i);
    if (r < 0) return setStatus(out, r, <i32>(uriHeaderFailAt() - input));
    if (replaces < 0) {
      const e = headerEntry(out, i);
      const name = input + <usize>load<i32>(e);
      if (decodedEqualsLower(name, name + <usize>load<i32>(e + 4), 'replaces')) replaces = i;
    }
  }
  put(out, U_REPLACES_INDEX, replaces);
  return setStatus(out, 0, -1);
}
