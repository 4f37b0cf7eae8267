/**
 * Twilio `<Dial><Sip>` target rules (https://www.twilio.com/docs/voice/twiml/sip) over the URI
 * grammar of RFC 3261 §19.1.1. Everything a TwiML document puts into a SIP
 * URI passes here before it reaches the wire.
 */
import {
  U_SCHEME, U_PORT, U_PARAMS_START, U_PARAMS_LEN, U_TRANSPORT, U_URI_START, U_URI_LEN,
  U_REGION, U_EFFECTIVE_PORT, U_URI_HEADER_COUNT, U_FLAGS, UF_IMPLIED_SCHEME,
  SIP_TARGET_MAX_URI, SIP_TARGET_MAX_HEADERS_PART,
} from '../abi';
import {
  E_URI, E_SCHEME, E_CTL_CHAR, E_URI_TOO_LONG, E_URI_HEADERS_TOO_LONG, E_TRANSPORT, E_REGION,
  E_HEADER_NAME, E_TWILIO_HEADER, E_HEADER_NOT_ALLOWED,
} from '../errors';
import { parseUri, lastFailAt, put, SCHEME_SIPS } from '../parse/uri';
import { startsWithLower, equalsLower } from '../util/ascii';
import {
  setStatus, resetRecord, headerEntry, findDecodedNonToken, decodedStartsWithLower, decodedEqualsLower,
  checkHeaderCount, checkHeaderCtl, uriHeaderFailAt,
} from './uri-headers';

const TRANSPORT_UDP: i32 = 1;
const TRANSPORT_TCP: i32 = 2;
const TRANSPORT_TLS: i32 = 3;

/** "sip:" as a little-endian u32, prefixed to a scheme-less target. */
const SIP_PREFIX: u32 = 0x3a706973;
/** Scratch for a scheme-less target: "sip:" + the longest target that passes the length rules. */
const SCRATCH_CAP: i32 = 4 + SIP_TARGET_MAX_URI + 1 + SIP_TARGET_MAX_HEADERS_PART;
const SCRATCH: usize = memory.data(SCRATCH_CAP, 8);

let failAt: usize = 0;

// @ts-ignore: decorator
@inline
function get(out: usize, slot: i32): i32 {
  return load<i32>(out + (<usize>slot << 2));
}

// @ts-ignore: decorator
@inline
function fail(code: i32, at: usize): i32 {
  failAt = at;
  return code;
}

/**
 * Find the '?' that opens the URI headers the way parseUri delimits them:
 * userinfo runs to the first '@', the host to ';' or '?' outside an IPv6
 * reference, params to the next '?'.
 * @param p  first byte after the scheme
 * @return its address, or `end` when there are no headers
 */
function headersMark(p: usize, end: usize): usize {
  let host = p;
  for (let q = p; q < end; q++) {
    if (load<u8>(q) == 0x40) {
      host = q + 1;
      break;
    }
  }
  let inBracket = false;
  for (let q = host; q < end; q++) {
    const c = load<u8>(q);
    if (c == 0x5b) inBracket = true;
    else if (c == 0x5d) inBracket = false;
    else if (!inBracket && c == 0x3f) return q;
    else if (!inBracket && c == 0x3b) {
      for (let r = q + 1; r < end; r++) if (load<u8>(r) == 0x3f) return r;
      return end;
    }
  }
  return end;
}

/** @return the region id of a `region` value (index of runtime REGIONS), 0 when unknown. */
function regionId(p: usize, len: i32): i32 {
  if (equalsLower(p, len, 'us1')) return 1;
  if (equalsLower(p, len, 'us2')) return 2;
  if (equalsLower(p, len, 'ie1')) return 3;
  if (equalsLower(p, len, 'de1')) return 4;
  if (equalsLower(p, len, 'sg1')) return 5;
  if (equalsLower(p, len, 'jp1')) return 6;
  if (equalsLower(p, len, 'br1')) return 7;
  if (equalsLower(p, len, 'au1')) return 8;
  return 0;
}

/**
 * Check `transport` and `region` in the recorded params, then write the
 * effective transport, region and effective port. A repeated transport or
 * region param is refused: it would be ambiguous.
 * @return 0 or E_TRANSPORT / E_REGION (failAt set)
 */
function checkParams(base: usize, out: usize): i32 {
  let transport = 0;
  let region = 0;
  const len = get(out, U_PARAMS_LEN);
  if (len >= 0) {
    let p = base + <usize>get(out, U_PARAMS_START);
    const end = p + <usize>len;
    while (true) {
      let q = p;
      while (q < end && load<u8>(q) != 0x3b) q++;
      let eq = p;
      while (eq < q && load<u8>(eq) != 0x3d) eq++;
      const name = <i32>(eq - p);
      const value = eq < q ? eq + 1 : q;
      const valueLen = <i32>(q - value);
      if (equalsLower(p, name, 'transport')) {
        if (transport != 0) return fail(E_TRANSPORT, p);
        if (equalsLower(value, valueLen, 'udp')) transport = TRANSPORT_UDP;
        else if (equalsLower(value, valueLen, 'tcp')) transport = TRANSPORT_TCP;
        else if (equalsLower(value, valueLen, 'tls')) transport = TRANSPORT_TLS;
        else return fail(E_TRANSPORT, value);
        // TLS cannot run over UDP: sips;transport=udp contradicts itself
        if (transport == TRANSPORT_UDP && get(out, U_SCHEME) == SCHEME_SIPS) return fail(E_TRANSPORT, value);
      } else if (equalsLower(p, name, 'region')) {
        if (region != 0) return fail(E_REGION, p);
        region = regionId(value, valueLen);
        if (region == 0) return fail(E_REGION, value);
      }
      if (q >= end) break;
      p = q + 1;
    }
  }
  if (get(out, U_SCHEME) == SCHEME_SIPS) transport = TRANSPORT_TLS;
  else if (transport == 0) transport = TRANSPORT_UDP;
  put(out, U_TRANSPORT, transport);
  put(out, U_REGION, region);
  const port = get(out, U_PORT);
  put(out, U_EFFECTIVE_PORT, port >= 0 ? port : (transport == TRANSPORT_TLS ? 5061 : 5060));
  return 0;
}

/**
 * Twilio's header rules for every URI header: decoded name and value free
 * of CTLs, the name a token, `x-*` (but not `x-twilio*`) or one of
 * User-to-User, Remote-Party-ID, P-Preferred-Identity, P-Called-Party-ID
 * (names compare case-insensitively, RFC 3261 §7.3.1).
 * @return 0 or an error code (failAt set)
 */
function checkHeaders(base: usize, out: usize): i32 {
  let r = checkHeaderCount(base, out);
  if (r < 0) return fail(r, uriHeaderFailAt());
  const count = get(out, U_URI_HEADER_COUNT);
  for (let i = 0; i < count; i++) {
    r = checkHeaderCtl(base, out, i);
    if (r < 0) return fail(r, uriHeaderFailAt());
    const e = headerEntry(out, i);
    const name = base + <usize>load<i32>(e);
    const nameEnd = name + <usize>load<i32>(e + 4);
    const bad = findDecodedNonToken(name, nameEnd);
    if (bad != 0) return fail(E_HEADER_NAME, bad);
    if (decodedStartsWithLower(name, nameEnd, 'x-twilio')) return fail(E_TWILIO_HEADER, name);
    if (!(decodedStartsWithLower(name, nameEnd, 'x-') ||
      decodedEqualsLower(name, nameEnd, 'user-to-user') ||
      decodedEqualsLower(name, nameEnd, 'remote-party-id') ||
      decodedEqualsLower(name, nameEnd, 'p-preferred-identity') ||
      decodedEqualsLower(name, nameEnd, 'p-called-party-id'))) {
      return fail(E_HEADER_NOT_ALLOWED, name);
    }
  }
  return 0;
}

/** @return the address of the first raw CTL, SP or HTAB in [p, end), or 0. */
function findRawBlankOrCtl(p: usize, end: usize): usize {
  while (p < end) {
    const c = <u32>load<u8>(p);
    if (c <= 0x20 || c == 0x7f) return p;
    p++;
  }
  return 0;
}

/**
 * Validate the `<Sip>` target in [input, input+len) and fill the URI record
 * at `out`. Offsets in the record and the error offset are relative to
 * `input`. A target without a scheme (`kate@example.com`) is read as
 * `sip:` + target: it needs an '@' before any ':', the record's spans still
 * point into the input as written (U_URI_START 0, U_URI_LEN `len`), U_SCHEME
 * says sip and U_FLAGS has UF_IMPLIED_SCHEME; the length rules count the
 * target as written.
 * @return 0 or an error code (also in U_STATUS, offset in U_ERROR_OFFSET)
 */
export function validateSipTarget(input: usize, len: i32, out: usize): i32 {
  resetRecord(out);
  const end = input + <usize>len;
  const raw = findRawBlankOrCtl(input, end);
  if (raw != 0) {
    const c = load<u8>(raw);
    return setStatus(out, c == 0x20 || c == 0x09 ? E_URI : E_CTL_CHAR, <i32>(raw - input));
  }
  if (len == 0) return setStatus(out, E_URI, 0);
  let after = input;
  let implied = false;
  if (startsWithLower(input, len, 'sip:')) {
    after = input + 4;
  } else if (startsWithLower(input, len, 'sips:')) {
    after = input + 5;
  } else {
    let q = input;
    while (q < end && load<u8>(q) != 0x40 && load<u8>(q) != 0x3a) q++;
    if (q >= end || load<u8>(q) != 0x40) return setStatus(out, E_SCHEME, 0);
    implied = true;
  }
  const mark = headersMark(after, end);
  if (<i32>(mark - input) > SIP_TARGET_MAX_URI) return setStatus(out, E_URI_TOO_LONG, SIP_TARGET_MAX_URI);
  if (mark < end && <i32>(end - mark) - 1 > SIP_TARGET_MAX_HEADERS_PART) {
    return setStatus(out, E_URI_HEADERS_TOO_LONG, <i32>(mark - input) + 1 + SIP_TARGET_MAX_HEADERS_PART);
  }
  let r: i32;
  if (implied) {
    // the length rules above bound len + 4 by SCRATCH_CAP
    store<u32>(SCRATCH, SIP_PREFIX);
    memory.copy(SCRATCH + 4, input, <usize>len);
    r = parseUri(SCRATCH + 4, SCRATCH, SCRATCH + 4 + <usize>len, out);
    if (r < 0) {
      const at = <i32>(lastFailAt() - SCRATCH) - 4;
      return setStatus(out, r, at < 0 ? 0 : at);
    }
    put(out, U_URI_START, 0);
    put(out, U_URI_LEN, len);
    put(out, U_FLAGS, UF_IMPLIED_SCHEME);
  } else {
    r = parseUri(input, input, end, out);
    if (r < 0) return setStatus(out, r, <i32>(lastFailAt() - input));
  }
  r = checkParams(input, out);
  if (r == 0) r = checkHeaders(input, out);
  if (r < 0) return setStatus(out, r, <i32>(failAt - input));
  return setStatus(out, 0, -1);
}
