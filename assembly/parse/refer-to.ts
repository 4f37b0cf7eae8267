/**
 * Refer-To of an inbound REFER (RFC 3515 §2.1) with Twilio's limit of 256
 * characters ("Inbound SIP REFER to Twilio"). Reads one header value span
 * and fills a URI record of its own, so the message record stays usable.
 */
import { U_URI_HEADER_COUNT, U_REPLACES_INDEX, REFER_TO_MAX } from '../abi';
import { E_REFER_TO_MISSING, E_REFER_TO_MULTIPLE, E_REFER_TO_TOO_LONG } from '../errors';
import { skipLws } from '../util/ascii';
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

/**
 * Check and take apart one Refer-To header value in [p, p+len) (the
 * header's value span in the REFER, as the message record gives it) into
 * the URI record at `out`: the name-addr or addr-spec (any absolute URI:
 * sip, sips, tel, ...) is parsed by parseNameAddr, its URI headers are
 * listed (percent-encoded spans) and checked against CTL injection after
 * decoding, and U_REPLACES_INDEX names the first `Replaces` header (RFC
 * 3891 §6), -1 when there is none. Offsets are relative to `base`. The
 * REFER-level checks (a REFER, exactly one Refer-To header) are the
 * caller's: it has the message record.
 * @return 0, or E_REFER_TO_MISSING (empty), E_REFER_TO_MULTIPLE (a comma
 *   list), E_REFER_TO_TOO_LONG (more than REFER_TO_MAX bytes), a
 *   name-addr/URI error, E_TOO_MANY_URI_HEADERS or E_CTL_CHAR
 */
export function extractReferTo(base: usize, p: usize, len: i32, out: usize): i32 {
  resetRecord(out);
  const start = <i32>(p - base);
  const end = p + <usize>len;
  if (skipLws(p, end) == end) return setStatus(out, E_REFER_TO_MISSING, start);
  const comma = findListComma(p, end);
  if (comma != 0) return setStatus(out, E_REFER_TO_MULTIPLE, <i32>(comma - base));
  if (len > REFER_TO_MAX) return setStatus(out, E_REFER_TO_TOO_LONG, start + REFER_TO_MAX);
  let r = parseNameAddr(base, p, end, out);
  if (r < 0) return setStatus(out, r, <i32>(nameAddrFailAt() - base));
  r = checkHeaderCount(base, out);
  if (r < 0) return setStatus(out, r, <i32>(uriHeaderFailAt() - base));
  const headers = get(out, U_URI_HEADER_COUNT);
  let replaces = -1;
  for (let i = 0; i < headers; i++) {
    r = checkHeaderCtl(base, out, i);
    if (r < 0) return setStatus(out, r, <i32>(uriHeaderFailAt() - base));
    if (replaces < 0) {
      const e = headerEntry(out, i);
      const name = base + <usize>load<i32>(e);
      if (decodedEqualsLower(name, name + <usize>load<i32>(e + 4), 'replaces')) replaces = i;
    }
  }
  put(out, U_REPLACES_INDEX, replaces);
  return setStatus(out, 0, -1);
}
