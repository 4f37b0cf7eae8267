import { E_VIA, E_VERSION } from '../errors';
import { cls, C_TOKEN, skipLws, trimEnd, equalsLower, lower, isDigit } from '../util/ascii';
import { skipQuoted } from './name-addr';

let failAt: usize = 0;
/** Span of the branch value found by the last parseVia (absolute), len -1 when absent. */
export let viaBranchAt: usize = 0;
export let viaBranchLen: i32 = -1;
/** The other fields of the last parseVia a host reads (absolute spans, len -1 when absent). */
export let viaTransportAt: usize = 0;
export let viaTransportLen: i32 = -1;
export let viaHostAt: usize = 0;
export let viaHostLen: i32 = -1;
/** sent-by port as written (0..99999: the host checks the range), -1 when absent. */
export let viaPort: i32 = -1;
export let viaReceivedAt: usize = 0;
export let viaReceivedLen: i32 = -1;
export let viaMaddrAt: usize = 0;
export let viaMaddrLen: i32 = -1;
/** rport: -1 absent, 0 bare (RFC 3581 §4: the client asks for it), 1 with a value. */
export let viaRport: i32 = -1;
/** Span of the rport parameter name (where a value goes), len -1 when absent. */
export let viaRportAt: usize = 0;
export let viaRportLen: i32 = -1;

/** @return the absolute address where the last Via parse failed. */
export function viaFailAt(): usize {
  return failAt;
}

// @ts-ignore: decorator
@inline
function fail(code: i32, at: usize): i32 {
  failAt = at;
  return code;
}

/** Parse a token at p; @return its end (== p when none). */
function tokenEnd(p: usize, end: usize): usize {
  while (p < end && (cls(load<u8>(p)) & C_TOKEN) != 0) p++;
  return p;
}

/**
 * Parse one via-parm (RFC 3261 §20.42): sent-protocol LWS sent-by *( SEMI via-params ),
 * with LWS tolerated around '/', ':', ';' and '=' (RFC 4475 §3.1.1.1).
 * Param values may be tokens, hosts (IPv6 with or without brackets, RFC 5118 §4.5)
 * or quoted strings. Sets viaBranchAt/viaBranchLen.
 * @return 0 or an error code (viaFailAt() tells where)
 */
export function parseVia(p: usize, end: usize): i32 {
  viaBranchLen = -1;
  viaTransportLen = -1;
  viaHostLen = -1;
  viaPort = -1;
  viaReceivedLen = -1;
  viaMaddrLen = -1;
  viaRport = -1;
  viaRportLen = -1;
  p = skipLws(p, end);
  end = trimEnd(p, end);
  // protocol-name "/" protocol-version "/" transport
  let q = tokenEnd(p, end);
  if (!equalsLower(p, <i32>(q - p), 'sip')) return fail(E_VIA, p);
  p = skipLws(q, end);
  if (p >= end || load<u8>(p) != 0x2f) return fail(E_VIA, p);
  p = skipLws(p + 1, end);
  q = tokenEnd(p, end);
  if (!(q - p == 3 && load<u8>(p) == 0x32 && load<u8>(p + 1) == 0x2e && load<u8>(p + 2) == 0x30)) {
    return fail(q > p && isDigit(load<u8>(p)) ? E_VERSION : E_VIA, p);
  }
  p = skipLws(q, end);
  if (p >= end || load<u8>(p) != 0x2f) return fail(E_VIA, p);
  p = skipLws(p + 1, end);
  q = tokenEnd(p, end);
  if (q == p) return fail(E_VIA, p);
  viaTransportAt = p;
  viaTransportLen = <i32>(q - p);
  p = skipLws(q, end);
  if (p == q) return fail(E_VIA, p); // LWS required before sent-by
  // sent-by: host [ ":" port ]
  const hostStart = p;
  if (p < end && load<u8>(p) == 0x5b) {
    while (p < end && load<u8>(p) != 0x5d) p++;
    if (p >= end) return fail(E_VIA, hostStart);
    p++;
  } else {
    while (p < end) {
      const c = load<u8>(p);
      if ((cls(c) & C_TOKEN) == 0) break;
      p++;
    }
  }
  if (p == hostStart) return fail(E_VIA, p);
  viaHostAt = hostStart;
  viaHostLen = <i32>(p - hostStart);
  p = skipLws(p, end);
  if (p < end && load<u8>(p) == 0x3a) {
    p = skipLws(p + 1, end);
    const portStart = p;
    let port: i32 = 0;
    while (p < end && isDigit(load<u8>(p))) {
      port = port * 10 + <i32>(load<u8>(p) - 0x30);
      p++;
    }
    if (p == portStart || p - portStart > 5) return fail(E_VIA, portStart);
    viaPort = port;
    p = skipLws(p, end);
  }
  while (p < end) {
    if (load<u8>(p) != 0x3b) return fail(E_VIA, p);
    p = skipLws(p + 1, end);
    const nameStart = p;
    p = tokenEnd(p, end);
    if (p == nameStart) return fail(E_VIA, p);
    const nameEnd = p;
    const nameLen = <i32>(nameEnd - nameStart);
    if (nameLen == 5 && equalsLower(nameStart, 5, 'rport')) {
      viaRport = 0;
      viaRportAt = nameStart;
      viaRportLen = 5;
    }
    p = skipLws(p, end);
    if (p < end && load<u8>(p) == 0x3d) {
      p = skipLws(p + 1, end);
      const vStart = p;
      if (p < end && load<u8>(p) == 0x22) {
        const r = skipQuoted(p, end);
        if (r == 0) return fail(E_VIA, p);
        p = r;
      } else {
        while (p < end) {
          const c = load<u8>(p);
          if ((cls(c) & C_TOKEN) == 0 && c != 0x3a && c != 0x5b && c != 0x5d) break;
          p++;
        }
        if (p == vStart) return fail(E_VIA, p);
      }
      const vLen = <i32>(p - vStart);
      if (nameLen == 6 && lower(load<u8>(nameStart)) == 0x62 && equalsLower(nameStart, 6, 'branch')) {
        viaBranchAt = vStart;
        viaBranchLen = vLen;
      } else if (nameLen == 8 && equalsLower(nameStart, 8, 'received')) {
        viaReceivedAt = vStart;
        viaReceivedLen = vLen;
      } else if (nameLen == 5 && equalsLower(nameStart, 5, 'maddr')) {
        viaMaddrAt = vStart;
        viaMaddrLen = vLen;
      } else if (viaRportLen == 5 && viaRportAt == nameStart) {
        viaRport = 1; // rport=<port>: already filled in
      }
      p = skipLws(p, end);
    }
  }
  return 0;
}
