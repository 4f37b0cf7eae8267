/**
 * The Patchbay WASM ABI. Every export takes and returns numbers; the host
 * copies input bytes into IN and reads i32 records from OUT (layouts in
 * abi.ts, error codes in errors.ts).
 */
import * as A from './abi';
import { E_ARGUMENT } from './errors';
import { parseMessage, setLimits, maxMessageBytes, maxHeaders } from './parse/message';
import { findMessageEnd } from './frame/message-end';
import { parseUri, lastFailAt } from './parse/uri';
import { extractReferTo } from './parse/refer-to';
import { validateSipTarget } from './validate/sip-target';
import { validateHeaderValue } from './validate/header-value';
import { setStatus, resetRecord } from './validate/uri-headers';

const IN: usize = memory.data(A.IN_CAP, 16);
const OUT: usize = memory.data(A.OUT_CAP << 2, 16);

/** @return the ABI version; the runtime refuses a mismatch. */
export function abi_version(): i32 {
  return A.ABI_VERSION;
}

/** @return address of the IN region (bytes). */
export function in_ptr(): usize {
  return IN;
}

/** @return size of the IN region in bytes. */
export function in_cap(): i32 {
  return A.IN_CAP;
}

/** @return address of the OUT region (i32 slots). */
export function out_ptr(): usize {
  return OUT;
}

/** @return size of the OUT region in i32 slots. */
export function out_cap(): i32 {
  return A.OUT_CAP;
}

/**
 * Set parser limits.
 * @param messageBytes  largest message (default 65535)
 * @param headers       most header entries (default 256, at most 1024)
 * @param lineBytes     longest line (default 8192)
 */
export function set_limits(messageBytes: i32, headers: i32, lineBytes: i32): void {
  setLimits(messageBytes, headers, lineBytes);
}

/**
 * Parse the message in IN[0, len) into the record at OUT (M_* slots).
 * @param len       message length in bytes
 * @param isStream  1 when framed from a stream (Content-Length mandatory)
 * @return 0 ok, 1 keep-alive, <0 error code (OUT[M_ERROR_OFFSET] tells where)
 */
export function parse_message(len: i32, isStream: i32): i32 {
  if (len < 0 || len > A.IN_CAP) return E_ARGUMENT;
  return parseMessage(IN, len, OUT, isStream != 0);
}

/**
 * Frame the next message of a stream buffer held in IN[0, len).
 * @return >0 message length, 0 need more bytes, <0 error code
 */
export function find_message_end(len: i32): i32 {
  if (len < 0 || len > A.IN_CAP) return E_ARGUMENT;
  return findMessageEnd(IN, len, maxMessageBytes);
}

/**
 * Parse a batch. IN holds `count` entries of [u32 length LE][bytes], each
 * entry padded to a multiple of 4 bytes; bit 31 of the length word marks a
 * message framed from a stream (Content-Length mandatory). OUT receives `count` record offsets
 * (in i32 slots from OUT) followed by the records; each record's offsets are
 * relative to the first byte of its message.
 * @return the number of messages parsed, or <0 when the batch is malformed
 */
export function parse_batch(count: i32, totalBytes: i32): i32 {
  if (count < 0 || totalBytes < 0 || totalBytes > A.IN_CAP || count > A.OUT_CAP) return E_ARGUMENT;
  let p: usize = IN;
  const end: usize = IN + <usize>totalBytes;
  let slot: i32 = count;
  for (let i = 0; i < count; i++) {
    if (p + 4 > end) return E_ARGUMENT;
    const word = load<u32>(p);
    const isStream = (word & 0x80000000) != 0;
    const len = <i32>(word & 0x7fffffff);
    const msg = p + 4;
    if (len < 0 || msg + <usize>len > end) return E_ARGUMENT;
    // each record needs M_HEADERS + headers * H_SIZE slots; stop when OUT is full
    const recordSlots = A.M_HEADERS + maxHeaders * A.H_SIZE;
    if (slot + recordSlots > A.OUT_CAP) return i;
    store<i32>(OUT + (<usize>i << 2), slot);
    const rec = OUT + (<usize>slot << 2);
    parseMessage(msg, len, rec, isStream);
    slot += A.M_HEADERS + load<i32>(rec + (<usize>A.M_HEADER_COUNT << 2)) * A.H_SIZE;
    p = msg + ((<usize>len + 3) & ~<usize>3);
  }
  return count;
}

/**
 * Parse the URI in IN[start, start+len) into the URI record at OUT (U_*
 * slots; spans relative to IN[0], len -1 when a part is absent). SIP and
 * SIPS URIs are parsed fully (RFC 3261 §19.1.1), tel: and other absolute
 * URIs are checked for scheme and characters. The URI headers are listed at
 * U_URI_HEADERS (at most MAX_URI_HEADERS entries, U_URI_HEADER_COUNT may be
 * larger).
 * @param start  first byte of the URI in IN
 * @param len    URI length in bytes
 * @return 0 or an error code (E_SCHEME, E_URI, E_HOST, E_PORT, E_BAD_ESCAPE,
 *   E_ARGUMENT); also in OUT[U_STATUS], byte offset in OUT[U_ERROR_OFFSET]
 */
export function parse_uri(start: i32, len: i32): i32 {
  resetRecord(OUT);
  if (start < 0 || len < 0 || start > A.IN_CAP - len) return setStatus(OUT, E_ARGUMENT, -1);
  const p = IN + <usize>start;
  const r = parseUri(IN, p, p + <usize>len, OUT);
  return setStatus(OUT, r, r < 0 ? <i32>(lastFailAt() - IN) : -1);
}

/**
 * Check a header value in IN[0, len) before it is written into a SIP
 * message: CR, LF, NUL and every other CTL except HTAB are refused.
 * Writes only OUT[U_STATUS] and OUT[U_ERROR_OFFSET].
 * @param len  value length in bytes
 * @return 0, E_CTL_CHAR (offset of the byte in OUT[U_ERROR_OFFSET]) or E_ARGUMENT
 */
export function validate_header_value(len: i32): i32 {
  if (len < 0 || len > A.IN_CAP) return setStatus(OUT, E_ARGUMENT, -1);
  return validateHeaderValue(IN, len, OUT);
}

/**
 * Validate a TwiML `<Sip>` target in IN[0, len) (Twilio rules, SPEC-DETAIL.md
 * §2.1) and write its URI record at OUT, spans relative to IN[0].
 * Accepted: `sip:` and `sips:` URIs, and `user@host` without a scheme, read
 * as `sip:user@host` (U_SCHEME 1, U_FLAGS has UF_IMPLIED_SCHEME, spans still
 * point into the input as written, U_URI_START 0 and U_URI_LEN `len`). On
 * success OUT[U_TRANSPORT] is the effective transport (1 udp, 2 tcp, 3 tls;
 * sips means tls), OUT[U_REGION] the region id (0 none, 1 us1 .. 8 au1, see
 * REGIONS) and OUT[U_EFFECTIVE_PORT] the explicit port, else 5061 for tls,
 * else 5060.
 * @param len  target length in bytes
 * @return 0 or an error code; also in OUT[U_STATUS], byte offset in
 *   OUT[U_ERROR_OFFSET]: E_CTL_CHAR (raw CTL, or a URI header name or value
 *   that decodes to one), E_URI (raw SP/HTAB, empty, malformed), E_SCHEME,
 *   E_URI_TOO_LONG (URI without its headers over SIP_TARGET_MAX_URI bytes),
 *   E_URI_HEADERS_TOO_LONG (part after '?' over SIP_TARGET_MAX_HEADERS_PART),
 *   E_HOST, E_PORT, E_BAD_ESCAPE, E_TRANSPORT (not udp/tcp/tls, repeated, or
 *   udp with sips), E_REGION (unknown or repeated), E_TOO_MANY_URI_HEADERS,
 *   E_HEADER_NAME (decoded name not a token), E_TWILIO_HEADER (X-Twilio*),
 *   E_HEADER_NOT_ALLOWED, E_ARGUMENT
 */
export function validate_sip_target(len: i32): i32 {
  if (len < 0 || len > A.IN_CAP) {
    resetRecord(OUT);
    return setStatus(OUT, E_ARGUMENT, -1);
  }
  return validateSipTarget(IN, len, OUT);
}

/**
 * Check and take apart one Refer-To header value in IN[start, start+len):
 * the value span of a REFER's Refer-To header (the message record's entry,
 * M_IDX_REFER_TO), wherever the host put the message. The REFER-level
 * checks (a REFER, exactly one Refer-To header) are the host's, from the
 * message record. The URI record is written at OUT + REFER_RECORD_SLOT
 * slots, so a message record at OUT stays intact; spans relative to
 * IN[0]: the name-addr parts (U_DISPLAY_*, U_HPARAMS_*), the URI, its
 * headers (percent-encoded spans at U_URI_HEADERS) and U_REPLACES_INDEX
 * (the first `Replaces` header, -1 when none).
 * @param start  first byte of the value in IN
 * @param len    value length in bytes
 * @return 0 or an error code, also in the record's U_STATUS with the byte
 *   offset in U_ERROR_OFFSET: E_REFER_TO_MISSING (empty),
 *   E_REFER_TO_MULTIPLE (a comma list), E_REFER_TO_TOO_LONG (over
 *   REFER_TO_MAX bytes), E_NAME_ADDR, E_SCHEME, E_URI, E_HOST, E_PORT,
 *   E_BAD_ESCAPE, E_TOO_MANY_URI_HEADERS, E_CTL_CHAR (a URI header decodes
 *   to a CTL), E_ARGUMENT (span outside IN)
 */
export function extract_refer_to(start: i32, len: i32): i32 {
  const rec = OUT + (<usize>A.REFER_RECORD_SLOT << 2);
  if (start < 0 || len < 0 || start > A.IN_CAP - len) {
    resetRecord(rec);
    return setStatus(rec, E_ARGUMENT, -1);
  }
  return extractReferTo(IN, IN + <usize>start, len, rec);
}
