/**
 * The ABI contract between `assembly/` and the runtime: scripts/gen-abi.mjs
 * writes it to runtime/wasm/abi.generated.ts (and the README's export table).
 *
 * Every export takes and returns numbers only. Input bytes are copied by the
 * host into the IN region (`in_ptr()`, `in_cap()` bytes); results are written
 * as i32 records into the OUT region (`out_ptr()`, `out_cap()` i32 slots).
 * All offsets in records are byte offsets relative to the start of the parsed
 * message (for `parse_message`: relative to IN).
 *
 * Change anything here and bump ABI_VERSION; the runtime refuses a mismatch.
 */

/**
 * Bumped on every incompatible change of a record layout or export.
 * 3: F_ESCAPED_CTL and M_ESCAPED_CTL_*: a message with escaped control bytes
 * parses now, and a host that does not know the flag would take it as clean.
 * 4: extract_refer_to(start, len) reads one Refer-To value span of IN
 * instead of the message record of the last parse_message.
 * 5: M_VIA_* (the top Via's transport, sent-by, received, maddr, rport);
 * M_HEADERS moves from 40 to 50.
 */
export const ABI_VERSION: i32 = 5;

/** Size of the IN region in bytes (holds one message or one batch). */
export const IN_CAP: i32 = 1 << 20;
/** Size of the OUT region in i32 slots. */
export const OUT_CAP: i32 = 1 << 20;

/** Default limits (RFC 3261 leaves them to the implementation). */
export const DEFAULT_MAX_MESSAGE_BYTES: i32 = 65535;
export const DEFAULT_MAX_HEADERS: i32 = 256;
export const DEFAULT_MAX_LINE_BYTES: i32 = 8192;
/** Hard ceiling for max headers: sizes the OUT record. */
export const HARD_MAX_HEADERS: i32 = 1024;

// ---------------------------------------------------------------------------
// Message record (parse_message / parse_batch): i32 slots, index = field.
// ---------------------------------------------------------------------------
/** 0 ok, 1 keep-alive (RFC 5626 CRLFCRLF), <0 error code (errors.ts). */
export const M_STATUS = 0;
/** Byte offset of the error, or -1. */
export const M_ERROR_OFFSET = 1;
/** 1 request, 2 response, 3 keep-alive. */
export const M_KIND = 2;
/** Method id of a request (methods table), 0 = extension method. */
export const M_METHOD_ID = 3;
/** Status code of a response, 0 for requests. */
export const M_STATUS_CODE = 4;
export const M_METHOD_START = 5;
export const M_METHOD_LEN = 6;
export const M_RURI_START = 7;
export const M_RURI_LEN = 8;
export const M_REASON_START = 9;
export const M_REASON_LEN = 10;
export const M_BODY_START = 11;
export const M_BODY_LEN = 12;
/** Bytes that make up the message (start line .. end of body). */
export const M_MESSAGE_LEN = 13;
/** Number of header entries (one per value after comma splitting). */
export const M_HEADER_COUNT = 14;
/** CSeq number as u32 bits. */
export const M_CSEQ_NUMBER = 15;
export const M_CSEQ_METHOD_ID = 16;
/** Bit set of F_* flags (tolerated oddities and facts). */
export const M_FLAGS = 17;
/** Content-Length value, -1 when absent. */
export const M_CONTENT_LENGTH = 18;
/** Entry index of the first Via / From / To / Call-ID / CSeq / Contact / Refer-To header, -1 if absent. */
export const M_IDX_VIA = 19;
export const M_IDX_FROM = 20;
export const M_IDX_TO = 21;
export const M_IDX_CALL_ID = 22;
export const M_IDX_CSEQ = 23;
export const M_IDX_CONTACT = 24;
export const M_IDX_REFER_TO = 25;
/** Span of the top Via branch parameter value (len -1 when absent). */
export const M_BRANCH_START = 26;
export const M_BRANCH_LEN = 27;
export const M_FROM_TAG_START = 28;
export const M_FROM_TAG_LEN = 29;
export const M_TO_TAG_START = 30;
export const M_TO_TAG_LEN = 31;
/** Span of the CSeq method token. */
export const M_CSEQ_METHOD_START = 32;
export const M_CSEQ_METHOD_LEN = 33;
/** Number of Refer-To header entries. */
export const M_REFER_TO_COUNT = 34;
/** Max-Forwards value, -1 when absent. */
export const M_MAX_FORWARDS = 35;
/** F_ESCAPED_CTL: offset of the first control byte escaped by a quoted-pair, and the entry index holding it; -1 when none. */
export const M_ESCAPED_CTL_OFFSET = 36;
export const M_ESCAPED_CTL_ENTRY = 37;
/**
 * The top Via's fields the host routes responses by (RFC 3261 §18.2.2,
 * RFC 3581 §4), len -1 when absent: transport token of sent-protocol,
 * sent-by host (IPv6 brackets included), received and maddr values.
 */
export const M_VIA_TRANSPORT_START = 38;
export const M_VIA_TRANSPORT_LEN = 39;
export const M_VIA_HOST_START = 40;
export const M_VIA_HOST_LEN = 41;
/** sent-by port as written (0..99999, the host checks 1..65535), -1 when absent. */
export const M_VIA_PORT = 42;
export const M_VIA_RECEIVED_START = 43;
export const M_VIA_RECEIVED_LEN = 44;
export const M_VIA_MADDR_START = 45;
export const M_VIA_MADDR_LEN = 46;
/** rport: -1 absent, 0 bare (the client asks for it), 1 with a value. */
export const M_VIA_RPORT = 47;
/** Span of the rport parameter name (a bare rport gets its value after it). */
export const M_VIA_RPORT_START = 48;
export const M_VIA_RPORT_LEN = 49;
/** First header entry starts here. */
export const M_HEADERS = 50;
/** Slots per header entry: [id, nameStart, nameLen, valueStart, valueLen, flags]. */
export const H_SIZE = 6;
export const H_ID = 0;
export const H_NAME_START = 1;
export const H_NAME_LEN = 2;
export const H_VALUE_START = 3;
export const H_VALUE_LEN = 4;
export const H_FLAGS = 5;
/** Header entry flag: the value span contains line folding (CRLF + WSP) to be read as one SP. */
export const HF_FOLDED = 1;
/** Header entry flag: this value came from a comma-separated list on one header field. */
export const HF_LIST_ITEM = 2;

/** Message flags (M_FLAGS). */
export const F_NO_MAX_FORWARDS = 1; // request without Max-Forwards (RFC 2543 traffic)
export const F_NO_BRANCH = 2; // top Via has no branch (RFC 2543)
export const F_RFC2543_BRANCH = 4; // top Via branch lacks the z9hG4bK magic cookie
export const F_NO_CONTENT_LENGTH = 8; // body = rest of datagram
export const F_TRAILING_BYTES = 16; // datagram holds bytes after the message (ignored)
export const F_FOLDED = 32; // some header used line folding
export const F_BARE_LF = 64; // some line ended in LF without CR
export const F_NO_BLANK_LINE = 128; // datagram ended after the headers without the empty line
export const F_NO_FROM_TAG = 256; // From without tag (RFC 2543)
export const F_SIP_URI = 512; // Request-URI is sip: or sips:
export const F_NON_ASCII = 2048; // some byte >= 0x80 in the start line or header values (strings need UTF-8 decoding)
export const F_BAD_DATE = 1024; // Date not in RFC 1123 GMT form (ignored, RFC 4475 §3.1.2.12)
/**
 * A quoted-string in a header value holds a control byte (NUL, BEL, DEL...,
 * never CR or LF) as a quoted-pair: valid (RFC 3261 §25.1, RFC 4475
 * §3.1.1.2), but a host that never sends control bytes must not copy that
 * header anywhere. See M_ESCAPED_CTL_OFFSET / M_ESCAPED_CTL_ENTRY.
 */
export const F_ESCAPED_CTL = 4096;

/** Record size of one message with `maxHeaders` entries. */
export function messageRecordSize(maxHeaders: i32): i32 {
  return M_HEADERS + maxHeaders * H_SIZE;
}

// ---------------------------------------------------------------------------
// URI record (parse_uri, validate_sip_target, extract_refer_to): spans are
// [start, len] pairs, len -1 when the part is absent.
// ---------------------------------------------------------------------------
export const U_STATUS = 0; // 0 ok, <0 error
export const U_ERROR_OFFSET = 1;
/** 1 sip, 2 sips, 3 tel, 4 other absolute URI. */
export const U_SCHEME = 2;
export const U_USER_START = 3;
export const U_USER_LEN = 4;
export const U_PASSWORD_START = 5;
export const U_PASSWORD_LEN = 6;
export const U_HOST_START = 7;
export const U_HOST_LEN = 8;
/** Port number, -1 when absent. */
export const U_PORT = 9;
/** Span of ";params" without the first ';'. */
export const U_PARAMS_START = 10;
export const U_PARAMS_LEN = 11;
/** Span of "headers" after '?', without the '?'. */
export const U_HEADERS_START = 12;
export const U_HEADERS_LEN = 13;
/** 1 hostname, 2 IPv4, 3 IPv6 reference (span includes brackets). */
export const U_HOST_KIND = 14;
/**
 * transport param: 0 none, 1 udp, 2 tcp, 3 tls, 4 sctp, 5 ws, 6 wss, 7 other.
 * validate_sip_target writes the effective transport instead (1 udp, 2 tcp, 3 tls).
 */
export const U_TRANSPORT = 15;
/** Whole URI span (inside any <>). */
export const U_URI_START = 16;
export const U_URI_LEN = 17;
/** name-addr: display name span (quotes included), -1 len when absent. */
export const U_DISPLAY_START = 18;
export const U_DISPLAY_LEN = 19;
/** name-addr: header params after '>' (or after an addr-spec), without first ';'. */
export const U_HPARAMS_START = 20;
export const U_HPARAMS_LEN = 21;
/** tag param value span within header params. */
export const U_TAG_START = 22;
export const U_TAG_LEN = 23;
/** Sip target: region id (0 none/us1 default ... see REGIONS), effective port. */
export const U_REGION = 24;
export const U_EFFECTIVE_PORT = 25;
/** Number of URI header entries that follow at U_URI_HEADERS. */
export const U_URI_HEADER_COUNT = 26;
/** Refer-To: index into the URI header list of Replaces, -1 when absent. */
export const U_REPLACES_INDEX = 27;
/** UF_* bits. */
export const U_FLAGS = 28;
/** validate_sip_target: the target had no scheme and reads as `sip:` + the input (spans stay relative to the input). */
export const UF_IMPLIED_SCHEME = 1;
/** URI header list: [nameStart, nameLen, valueStart, valueLen] per entry (percent-encoded spans). */
export const U_URI_HEADERS = 32;
export const UH_SIZE = 4;
export const MAX_URI_HEADERS = 32;
export const URI_RECORD_SIZE = U_URI_HEADERS + MAX_URI_HEADERS * UH_SIZE;

/** `<Sip>` target limits (Twilio <Sip> noun). */
export const SIP_TARGET_MAX_URI = 254; // "fewer than 255 characters"
export const SIP_TARGET_MAX_HEADERS_PART = 1023; // "under 1024 characters"
export const REFER_TO_MAX = 256; // "at most 256 characters"
/** extract_refer_to writes its URI record at this OUT slot, past the message record it reads. */
export const REFER_RECORD_SLOT = 1 << 19;
