import * as A from '../abi';
import * as E from '../errors';
import { cls, C_TOKEN, isWsp, isDigit, skipWsp, skipLws, trimEnd, startsWithLower, equalsLower, equalBytes } from '../util/ascii';
import {
  lookupHeader, isListHeader, isCheckedHeader, isSingleHeader, H_VIA, H_FROM, H_TO,
  H_CALL_ID, H_CSEQ, H_CONTACT, H_CONTENT_LENGTH, H_MAX_FORWARDS, H_ROUTE, H_RECORD_ROUTE,
  H_REFER_TO, H_DATE,
} from './header-names';
import { lookupMethod } from './methods';
import { parseUri, resetUriRecord, lastFailAt, put, SCHEME_SIP, SCHEME_SIPS } from './uri';
import { parseNameAddr, nameAddrFailAt } from './name-addr';
import {
  parseVia, viaFailAt, viaBranchAt, viaBranchLen, viaTransportAt, viaTransportLen, viaHostAt, viaHostLen, viaPort,
  viaReceivedAt, viaReceivedLen, viaMaddrAt, viaMaddrLen, viaRport, viaRportAt, viaRportLen,
} from './via';
import { findLF, scannedHighBits, scannedCtlAt, scannedEscapedCtlAt, NO_CTL, resetScan, beginValue } from '../frame/line';

/** Configurable limits (set_limits). */
export let maxMessageBytes: i32 = A.DEFAULT_MAX_MESSAGE_BYTES;
export let maxHeaders: i32 = A.DEFAULT_MAX_HEADERS;
export let maxLineBytes: i32 = A.DEFAULT_MAX_LINE_BYTES;

/** Set the limits; values out of range are clamped. */
export function setLimits(messageBytes: i32, headers: i32, lineBytes: i32): void {
  maxMessageBytes = messageBytes < 64 ? 64 : (messageBytes > A.IN_CAP ? A.IN_CAP : messageBytes);
  maxHeaders = headers < 8 ? 8 : (headers > A.HARD_MAX_HEADERS ? A.HARD_MAX_HEADERS : headers);
  maxLineBytes = lineBytes < 64 ? 64 : lineBytes;
}

/** Scratch URI record for sub-parses of the message parser. */
const SCRATCH: usize = memory.data(A.URI_RECORD_SIZE << 2, 8);

// Per-parse state (module globals: the parser is single-threaded per instance).
let gBase: usize = 0;
let gOut: usize = 0;
let gCount: i32 = 0;
let gSeen: u32 = 0;
let gErrAt: usize = 0;
let gMethodStart: usize = 0;
let gMethodLen: i32 = 0;
let gIsRequest = false;

// @ts-ignore: decorator
@inline
function get(slot: i32): i32 {
  return load<i32>(gOut + (<usize>slot << 2));
}

// @ts-ignore: decorator
@inline
function fail(code: i32, at: usize): i32 {
  gErrAt = at;
  return code;
}

/** Parse an unsigned decimal in [p, end) with LWS trimmed; -1 when not digits, -2 on overflow of `max`. */
function parseDecimal(p: usize, end: usize, max: u64): i64 {
  p = skipLws(p, end);
  end = trimEnd(p, end);
  if (p >= end) return -1;
  let v: u64 = 0;
  while (p < end) {
    const c = load<u8>(p);
    if (!isDigit(c)) return -1;
    v = v * 10 + <u64>(c - 0x30);
    if (v > max) return -2;
    p++;
  }
  return <i64>v;
}

/** @return true when the byte at `p` (< `end`) is a control character RFC 3261 §25.1 forbids in a header line. */
function isRawCtl(p: usize, end: usize): bool {
  if (p >= end) return false;
  const c = load<u8>(p);
  if (c == 0x0d) return !(p + 1 < end && load<u8>(p + 1) == 0x0a);
  return (c < 0x20 && c != 0x09 && c != 0x0a) || c == 0x7f;
}

/** Validate one header value by id; fills the record's key fields. */
function checkValue(id: i32, p: usize, end: usize, first: bool): i32 {
  if (id == H_VIA) {
    const r = parseVia(p, end);
    if (r < 0) return fail(r, viaFailAt());
    if (first) {
      put(gOut, A.M_VIA_TRANSPORT_START, <i32>(viaTransportAt - gBase));
      put(gOut, A.M_VIA_TRANSPORT_LEN, viaTransportLen);
      put(gOut, A.M_VIA_HOST_START, <i32>(viaHostAt - gBase));
      put(gOut, A.M_VIA_HOST_LEN, viaHostLen);
      put(gOut, A.M_VIA_PORT, viaPort);
      if (viaReceivedLen >= 0) {
        put(gOut, A.M_VIA_RECEIVED_START, <i32>(viaReceivedAt - gBase));
        put(gOut, A.M_VIA_RECEIVED_LEN, viaReceivedLen);
      }
      if (viaMaddrLen >= 0) {
        put(gOut, A.M_VIA_MADDR_START, <i32>(viaMaddrAt - gBase));
        put(gOut, A.M_VIA_MADDR_LEN, viaMaddrLen);
      }
      put(gOut, A.M_VIA_RPORT, viaRport);
      if (viaRportLen >= 0) {
        put(gOut, A.M_VIA_RPORT_START, <i32>(viaRportAt - gBase));
        put(gOut, A.M_VIA_RPORT_LEN, viaRportLen);
      }
      if (viaBranchLen >= 0) {
        put(gOut, A.M_BRANCH_START, <i32>(viaBranchAt - gBase));
        put(gOut, A.M_BRANCH_LEN, viaBranchLen);
        if (!(viaBranchLen >= 7 && startsWithLower(viaBranchAt, viaBranchLen, 'z9hg4bk'))) {
          put(gOut, A.M_FLAGS, get(A.M_FLAGS) | A.F_RFC2543_BRANCH);
        }
      } else {
        put(gOut, A.M_FLAGS, get(A.M_FLAGS) | A.F_NO_BRANCH);
      }
    }
    return 0;
  }
  if (id == H_FROM || id == H_TO || id == H_CONTACT) {
    if (id == H_CONTACT) {
      const s = skipLws(p, end);
      if (s < end && load<u8>(s) == 0x2a && trimEnd(s, end) == s + 1) return 0; // Contact: *
    }
    put(SCRATCH, A.U_TAG_START, 0);
    put(SCRATCH, A.U_TAG_LEN, -1);
    const r = parseNameAddr(gBase, p, end, SCRATCH, true);
    if (r < 0) return fail(E.E_NAME_ADDR, nameAddrFailAt());
    if (id != H_CONTACT) {
      const tagLen = load<i32>(SCRATCH + (<usize>A.U_TAG_LEN << 2));
      const tagStart = load<i32>(SCRATCH + (<usize>A.U_TAG_START << 2));
      if (id == H_FROM) {
        put(gOut, A.M_FROM_TAG_START, tagStart);
        put(gOut, A.M_FROM_TAG_LEN, tagLen);
        if (tagLen < 0) put(gOut, A.M_FLAGS, get(A.M_FLAGS) | A.F_NO_FROM_TAG);
      } else {
        put(gOut, A.M_TO_TAG_START, tagStart);
        put(gOut, A.M_TO_TAG_LEN, tagLen);
      }
    }
    return 0;
  }
  if (id == H_CALL_ID) {
    if (p >= end) return fail(E.E_MISSING_HEADER, p);
    return 0;
  }
  if (id == H_CSEQ) {
    let q = skipLws(p, end);
    const numStart = q;
    while (q < end && isDigit(load<u8>(q))) q++;
    if (q == numStart) return fail(E.E_CSEQ, q);
    const n = parseDecimal(numStart, q, 0xffffffff);
    if (n < 0) return fail(E.E_CSEQ, numStart);
    const afterNum = q;
    q = skipLws(q, end);
    if (q == afterNum) return fail(E.E_CSEQ, q);
    const mStart = q;
    while (q < end && (cls(load<u8>(q)) & C_TOKEN) != 0) q++;
    if (q == mStart || trimEnd(q, end) != q) return fail(E.E_CSEQ, q);
    put(gOut, A.M_CSEQ_NUMBER, <i32>(<u32>n));
    put(gOut, A.M_CSEQ_METHOD_START, <i32>(mStart - gBase));
    put(gOut, A.M_CSEQ_METHOD_LEN, <i32>(q - mStart));
    put(gOut, A.M_CSEQ_METHOD_ID, lookupMethod(mStart, <i32>(q - mStart)));
    if (gIsRequest && !equalBytes(mStart, <i32>(q - mStart), gMethodStart, gMethodLen)) {
      return fail(E.E_CSEQ_METHOD, mStart);
    }
    return 0;
  }
  if (id == H_MAX_FORWARDS) {
    const n = parseDecimal(p, end, 255);
    if (n < 0) return fail(E.E_MAX_FORWARDS, p);
    put(gOut, A.M_MAX_FORWARDS, <i32>n);
    return 0;
  }
  if (id == H_DATE) {
    // RFC 3261 §20.17: rfc1123-date, always "GMT"; anything else is ignored and flagged
    if (!(end - p >= 4 && load<u8>(end - 4) == 0x20 && load<u8>(end - 3) == 0x47 &&
      load<u8>(end - 2) == 0x4d && load<u8>(end - 1) == 0x54)) {
      put(gOut, A.M_FLAGS, get(A.M_FLAGS) | A.F_BAD_DATE);
    }
    return 0;
  }
  if (id == H_CONTENT_LENGTH) {
    const n = parseDecimal(p, end, 0x7fffffff);
    if (n == -2) return fail(E.E_CONTENT_LENGTH_MISMATCH, p);
    if (n < 0) return fail(E.E_CONTENT_LENGTH, p);
    put(gOut, A.M_CONTENT_LENGTH, <i32>n);
    return 0;
  }
  return 0;
}

/** Append one header entry. */
// @ts-ignore: decorator
@inline
function emit(id: i32, nameStart: usize, nameLen: i32, vStart: usize, vEnd: usize, flags: i32): i32 {
  if (gCount >= maxHeaders) return fail(E.E_TOO_MANY_HEADERS, nameStart);
  const e = gOut + (<usize>(A.M_HEADERS + gCount * A.H_SIZE) << 2);
  store<i32>(e, id);
  store<i32>(e + 4, <i32>(nameStart - gBase));
  store<i32>(e + 8, nameLen);
  store<i32>(e + 12, <i32>(vStart - gBase));
  store<i32>(e + 16, <i32>(vEnd - vStart));
  store<i32>(e + 20, flags);
  let first = false;
  if (id > 0 && id <= H_REFER_TO) {
    let slot = -1;
    if (id == H_VIA) slot = A.M_IDX_VIA;
    else if (id == H_FROM) slot = A.M_IDX_FROM;
    else if (id == H_TO) slot = A.M_IDX_TO;
    else if (id == H_CALL_ID) slot = A.M_IDX_CALL_ID;
    else if (id == H_CSEQ) slot = A.M_IDX_CSEQ;
    else if (id == H_CONTACT) slot = A.M_IDX_CONTACT;
    else if (id == H_REFER_TO) {
      slot = A.M_IDX_REFER_TO;
      put(gOut, A.M_REFER_TO_COUNT, get(A.M_REFER_TO_COUNT) + 1);
    }
    if (slot >= 0 && get(slot) < 0) {
      put(gOut, slot, gCount);
      first = true;
    }
  }
  gCount++;
  return isCheckedHeader(id) ? checkValue(id, vStart, vEnd, first) : 0;
}

/** Split a list value on commas outside quotes and angle brackets, emitting one entry per item. */
function emitList(id: i32, nameStart: usize, nameLen: i32, vStart: usize, vEnd: usize, flags: i32): i32 {
  const special = scanSpecial(vStart, vEnd);
  if (special == 0) return emit(id, nameStart, nameLen, vStart, vEnd, flags);
  if (special == 1) return emitCommaList(id, nameStart, nameLen, vStart, vEnd, flags);
  let p = vStart;
  let itemStart = vStart;
  let angle = false;
  let items = 0;
  const strict = id == H_VIA || id == H_CONTACT || id == H_ROUTE || id == H_RECORD_ROUTE;
  while (true) {
    if (p < vEnd) {
      const c = load<u8>(p);
      if (c == 0x22) {
        p++;
        while (p < vEnd && load<u8>(p) != 0x22) p += load<u8>(p) == 0x5c ? 2 : 1;
        p++;
        continue;
      }
      if (c == 0x3c) angle = true;
      else if (c == 0x3e) angle = false;
      if (c != 0x2c || angle) {
        p++;
        continue;
      }
    }
    const end = p < vEnd ? p : vEnd;
    const s = skipLws(itemStart, end);
    const t = trimEnd(s, end);
    const isLast = p >= vEnd;
    if (s == t) {
      if (strict && (items > 0 || !isLast)) {
        return fail(id == H_VIA ? E.E_VIA : E.E_NAME_ADDR, s);
      }
      if (items == 0 && isLast) return emit(id, nameStart, nameLen, s, t, flags);
    } else {
      const r = emit(id, nameStart, nameLen, s, t, flags | (isLast && items == 0 ? 0 : A.HF_LIST_ITEM));
      if (r < 0) return r;
      items++;
    }
    if (isLast) return 0;
    p++;
    itemStart = p;
  }
}

/**
 * Classify a list value with v128 compares: 0 = no comma (one item),
 * 1 = commas but no quote or '<' (split at every comma), 2 = needs the
 * careful splitter.
 */
function scanSpecial(p: usize, end: usize): i32 {
  const comma = i8x16.splat(0x2c);
  const quote = i8x16.splat(0x22);
  const lt = i8x16.splat(0x3c);
  let commas = 0;
  while (p + 16 <= end) {
    const v = v128.load(p);
    if (i8x16.bitmask(v128.or(i8x16.eq(v, quote), i8x16.eq(v, lt))) != 0) return 2;
    commas |= i8x16.bitmask(i8x16.eq(v, comma));
    p += 16;
  }
  while (p < end) {
    const c = load<u8>(p);
    if (c == 0x22 || c == 0x3c) return 2;
    if (c == 0x2c) commas = 1;
    p++;
  }
  return commas != 0 ? 1 : 0;
}

/** Split a value that holds commas but no quotes or brackets. */
function emitCommaList(id: i32, nameStart: usize, nameLen: i32, vStart: usize, vEnd: usize, flags: i32): i32 {
  const strict = id == H_VIA || id == H_CONTACT || id == H_ROUTE || id == H_RECORD_ROUTE;
  let itemStart = vStart;
  let p = vStart;
  while (true) {
    while (p < vEnd && load<u8>(p) != 0x2c) p++;
    const s = skipLws(itemStart, p);
    const t = trimEnd(s, p);
    if (s == t) {
      if (strict) return fail(id == H_VIA ? E.E_VIA : E.E_NAME_ADDR, s);
    } else {
      const r = emit(id, nameStart, nameLen, s, t, flags | A.HF_LIST_ITEM);
      if (r < 0) return r;
    }
    if (p >= vEnd) return 0;
    p++;
    itemStart = p;
  }
}

/** Parse the start line [p, eol). @return 0 or error. */
function parseStartLine(p: usize, eol: usize): i32 {
  const len = <i32>(eol - p);
  if (startsWithLower(p, len, 'sip/')) {
    let q = p;
    while (q < eol && load<u8>(q) != 0x20) q++;
    if (!equalsLower(p, <i32>(q - p), 'sip/2.0')) return fail(E.E_VERSION, p);
    if (q >= eol) return fail(E.E_START_LINE, q);
    q++;
    const codeStart = q;
    while (q < eol && isDigit(load<u8>(q))) q++;
    if (q - codeStart != 3 || (q < eol && load<u8>(q) != 0x20)) return fail(E.E_STATUS_CODE, codeStart);
    const code = <i32>(load<u8>(codeStart) - 0x30) * 100 + <i32>(load<u8>(codeStart + 1) - 0x30) * 10 +
      <i32>(load<u8>(codeStart + 2) - 0x30);
    if (code < 100 || code > 699) return fail(E.E_STATUS_CODE, codeStart);
    put(gOut, A.M_KIND, 2);
    put(gOut, A.M_STATUS_CODE, code);
    const reason = q < eol ? q + 1 : eol;
    put(gOut, A.M_REASON_START, <i32>(reason - gBase));
    put(gOut, A.M_REASON_LEN, <i32>(eol - reason));
    gIsRequest = false;
    return 0;
  }
  // Request-Line = Method SP Request-URI SP SIP-Version
  let q = p;
  while (q < eol && (cls(load<u8>(q)) & C_TOKEN) != 0) q++;
  if (q == p) return fail(E.E_METHOD, p);
  if (q >= eol || load<u8>(q) != 0x20) return fail(q >= eol ? E.E_START_LINE : E.E_METHOD, q);
  gMethodStart = p;
  gMethodLen = <i32>(q - p);
  put(gOut, A.M_KIND, 1);
  put(gOut, A.M_METHOD_START, <i32>(p - gBase));
  put(gOut, A.M_METHOD_LEN, gMethodLen);
  put(gOut, A.M_METHOD_ID, lookupMethod(p, gMethodLen));
  gIsRequest = true;
  const uriStart = q + 1;
  q = uriStart;
  while (q < eol && load<u8>(q) != 0x20) q++;
  if (q == uriStart) return fail(E.E_START_LINE, q);
  if (q >= eol) return fail(E.E_START_LINE, q);
  const uriEnd = q;
  const ver = q + 1;
  const vlen = <i32>(eol - ver);
  if (!equalsLower(ver, vlen, 'sip/2.0')) {
    if (startsWithLower(ver, vlen, 'sip/2.0')) return fail(E.E_START_LINE, ver + 7);
    if (startsWithLower(ver, vlen, 'sip/')) return fail(E.E_VERSION, ver);
    return fail(E.E_START_LINE, ver);
  }
  put(gOut, A.M_RURI_START, <i32>(uriStart - gBase));
  put(gOut, A.M_RURI_LEN, <i32>(uriEnd - uriStart));
  resetUriRecord(SCRATCH);
  const r = parseUri(gBase, uriStart, uriEnd, SCRATCH);
  if (r < 0) return fail(E.E_REQUEST_URI, lastFailAt());
  const scheme = load<i32>(SCRATCH + (<usize>A.U_SCHEME << 2));
  if (scheme == SCHEME_SIP || scheme == SCHEME_SIPS) {
    put(gOut, A.M_FLAGS, get(A.M_FLAGS) | A.F_SIP_URI);
    // RFC 3261 §19.1.5: headers are not allowed in a Request-URI
    const hStart = load<i32>(SCRATCH + (<usize>A.U_HEADERS_START << 2));
    if (load<i32>(SCRATCH + (<usize>A.U_HEADERS_LEN << 2)) >= 0) {
      return fail(E.E_REQUEST_URI, gBase + <usize>hStart - 1);
    }
  }
  return 0;
}

function resetRecord(): void {
  for (let s = 0; s < A.M_HEADERS; s++) put(gOut, s, 0);
  put(gOut, A.M_ERROR_OFFSET, -1);
  put(gOut, A.M_CONTENT_LENGTH, -1);
  put(gOut, A.M_MAX_FORWARDS, -1);
  put(gOut, A.M_RURI_LEN, -1);
  put(gOut, A.M_REASON_LEN, -1);
  put(gOut, A.M_METHOD_LEN, -1);
  for (let s = A.M_IDX_VIA; s <= A.M_IDX_REFER_TO; s++) put(gOut, s, -1);
  put(gOut, A.M_BRANCH_LEN, -1);
  put(gOut, A.M_FROM_TAG_LEN, -1);
  put(gOut, A.M_TO_TAG_LEN, -1);
  put(gOut, A.M_CSEQ_METHOD_LEN, -1);
  put(gOut, A.M_ESCAPED_CTL_OFFSET, -1);
  put(gOut, A.M_ESCAPED_CTL_ENTRY, -1);
  put(gOut, A.M_VIA_TRANSPORT_LEN, -1);
  put(gOut, A.M_VIA_HOST_LEN, -1);
  put(gOut, A.M_VIA_PORT, -1);
  put(gOut, A.M_VIA_RECEIVED_LEN, -1);
  put(gOut, A.M_VIA_MADDR_LEN, -1);
  put(gOut, A.M_VIA_RPORT, -1);
  put(gOut, A.M_VIA_RPORT_LEN, -1);
}

/** Record an error in the record and return it. */
function finish(code: i32): i32 {
  put(gOut, A.M_STATUS, code);
  if (code < 0) put(gOut, A.M_ERROR_OFFSET, <i32>(gErrAt - gBase));
  put(gOut, A.M_HEADER_COUNT, gCount);
  return code;
}

/**
 * Parse and index one SIP message held in [base, base+len) into the record
 * at `out` (abi.ts M_*). `isStream` = the bytes were framed from TCP/TLS:
 * Content-Length is then mandatory and a missing end is E_TRUNCATED.
 * @return 0 ok, 1 keep-alive, <0 error (record holds code and offset)
 */
export function parseMessage(base: usize, len: i32, out: usize, isStream: bool): i32 {
  gBase = base;
  gOut = out;
  gCount = 0;
  gSeen = 0;
  gErrAt = base;
  resetRecord();
  const end = base + <usize>len;
  if (len > maxMessageBytes) return finish(fail(E.E_MESSAGE_TOO_LARGE, base + <usize>maxMessageBytes));
  let p = base;
  while (p < end && (load<u8>(p) == 0x0d || load<u8>(p) == 0x0a)) p++;
  if (p == end) {
    if (len == 0) return finish(fail(E.E_TRUNCATED, base));
    put(out, A.M_KIND, 3);
    put(out, A.M_MESSAGE_LEN, len);
    return finish(1);
  }
  let flags = 0;
  resetScan();
  let lf = findLF(p, end);
  if (scannedCtlAt != NO_CTL) return finish(fail(E.E_RAW_CTL, scannedCtlAt));
  if (lf >= end) return finish(fail(E.E_TRUNCATED, end));
  let eol = lf;
  if (eol > p && load<u8>(eol - 1) == 0x0d) eol--;
  else flags |= A.F_BARE_LF;
  if (<i32>(eol - p) > maxLineBytes) return finish(fail(E.E_LINE_TOO_LONG, p + <usize>maxLineBytes));
  let r = parseStartLine(p, eol);
  if (r < 0) return finish(r);
  p = lf + 1;
  let bodyStart: usize = end;
  while (true) {
    if (p >= end) {
      if (isStream) return finish(fail(E.E_TRUNCATED, end));
      flags |= A.F_NO_BLANK_LINE;
      bodyStart = end;
      break;
    }
    let c = load<u8>(p);
    if (c == 0x0a) {
      flags |= A.F_BARE_LF;
      bodyStart = p + 1;
      break;
    }
    if (c == 0x0d) {
      if (p + 1 < end && load<u8>(p + 1) == 0x0a) {
        bodyStart = p + 2;
        break;
      }
      return finish(fail(E.E_RAW_CTL, p)); // a bare CR
    }
    const nameStart = p;
    while (p < end && (cls(load<u8>(p)) & C_TOKEN) != 0) p++;
    const nameLen = <i32>(p - nameStart);
    if (nameLen == 0) return finish(fail(isRawCtl(p, end) ? E.E_RAW_CTL : E.E_HEADER_SYNTAX, p));
    p = skipWsp(p, end);
    if (p >= end || load<u8>(p) != 0x3a) return finish(fail(isRawCtl(p, end) ? E.E_RAW_CTL : E.E_HEADER_SYNTAX, p));
    const vStart = skipLws(p + 1, end);
    beginValue(p + 1);
    let q = findLF(p, end);
    let folded = 0;
    while (q < end && q + 1 < end && isWsp(load<u8>(q + 1))) {
      folded = A.HF_FOLDED;
      q = findLF(q + 1, end);
    }
    if (q >= end && isStream) return finish(fail(E.E_TRUNCATED, end));
    // RFC 3261 §25.1: no CTL in a header value but HTAB and the CRLF of line folding
    if (scannedCtlAt != NO_CTL) return finish(fail(E.E_RAW_CTL, scannedCtlAt));
    if (q < end && (q == nameStart || load<u8>(q - 1) != 0x0d)) flags |= A.F_BARE_LF;
    if (<i32>(q - nameStart) > maxLineBytes) return finish(fail(E.E_LINE_TOO_LONG, nameStart + <usize>maxLineBytes));
    const vEnd = trimEnd(vStart, q);
    if (folded != 0) flags |= A.F_FOLDED;
    const id = lookupHeader(nameStart, nameLen);
    if (id != 0 && isSingleHeader(id)) {
      const bit: u32 = 1 << <u32>id;
      if ((gSeen & bit) != 0) {
        return finish(fail(id == H_CONTENT_LENGTH ? E.E_CONTENT_LENGTH : E.E_DUPLICATE_HEADER, nameStart));
      }
      gSeen |= bit;
    }
    if (id != 0 && isListHeader(id)) r = emitList(id, nameStart, nameLen, vStart, vEnd, folded);
    else r = emit(id, nameStart, nameLen, vStart, vEnd, folded);
    if (r < 0) return finish(r);
    p = q < end ? q + 1 : end;
  }
  if (scannedHighBits != 0) flags |= A.F_NON_ASCII;
  if (scannedEscapedCtlAt != NO_CTL) {
    flags |= A.F_ESCAPED_CTL;
    noteEscapedCtl(scannedEscapedCtlAt);
  }
  put(out, A.M_FLAGS, get(A.M_FLAGS) | flags);
  // Mandatory headers (RFC 3261 §8.1.1, §20)
  if (get(A.M_IDX_VIA) < 0 || get(A.M_IDX_FROM) < 0 || get(A.M_IDX_TO) < 0 ||
    get(A.M_IDX_CALL_ID) < 0 || get(A.M_IDX_CSEQ) < 0) {
    return finish(fail(E.E_MISSING_HEADER, bodyStart));
  }
  if (gIsRequest && get(A.M_MAX_FORWARDS) < 0) put(out, A.M_FLAGS, get(A.M_FLAGS) | A.F_NO_MAX_FORWARDS);
  if (!gIsRequest) put(out, A.M_METHOD_ID, get(A.M_CSEQ_METHOD_ID));
  // Body framing (RFC 3261 §18.3)
  const avail = <i32>(end - bodyStart);
  let bodyLen = avail;
  const cl = get(A.M_CONTENT_LENGTH);
  if (cl >= 0) {
    if (cl > avail) {
      if (isStream) return finish(fail(E.E_TRUNCATED, end));
      const idx = findHeaderIndex(H_CONTENT_LENGTH);
      const at = idx >= 0 ? base + <usize>load<i32>(out + (<usize>(A.M_HEADERS + idx * A.H_SIZE + A.H_VALUE_START) << 2)) : bodyStart;
      return finish(fail(E.E_CONTENT_LENGTH_MISMATCH, at));
    }
    if (cl < avail) put(out, A.M_FLAGS, get(A.M_FLAGS) | A.F_TRAILING_BYTES);
    bodyLen = cl;
  } else {
    if (isStream) return finish(fail(E.E_BODY, bodyStart));
    put(out, A.M_FLAGS, get(A.M_FLAGS) | A.F_NO_CONTENT_LENGTH);
  }
  put(out, A.M_BODY_START, <i32>(bodyStart - base));
  put(out, A.M_BODY_LEN, bodyLen);
  put(out, A.M_MESSAGE_LEN, <i32>(bodyStart - base) + bodyLen);
  return finish(0);
}

/**
 * Record where the first control byte escaped by a quoted-pair is: its
 * offset and the entry whose value holds it. Cold: only a message with
 * such a byte (F_ESCAPED_CTL) comes here, once.
 */
function noteEscapedCtl(at: usize): void {
  const off = <i32>(at - gBase);
  put(gOut, A.M_ESCAPED_CTL_OFFSET, off);
  for (let i = 0; i < gCount; i++) {
    const e = gOut + (<usize>(A.M_HEADERS + i * A.H_SIZE) << 2);
    const start = load<i32>(e, A.H_VALUE_START << 2);
    if (off >= start && off < start + load<i32>(e, A.H_VALUE_LEN << 2)) {
      put(gOut, A.M_ESCAPED_CTL_ENTRY, i);
      return;
    }
  }
}

/** @return the first entry index with header id `id`, or -1. */
function findHeaderIndex(id: i32): i32 {
  for (let i = 0; i < gCount; i++) {
    if (load<i32>(gOut + (<usize>(A.M_HEADERS + i * A.H_SIZE) << 2)) == id) return i;
  }
  return -1;
}
