/**
 * The runtime's view of the WASM ABI: the numbers come from
 * abi.generated.ts (written from assembly/abi.ts and assembly/errors.ts by
 * scripts/gen-abi.mjs); this file adds the readable side (error messages,
 * SIP statuses, Twilio codes, enumeration names). Browser-safe (no Node
 * imports).
 */

import * as G from './abi.generated.js';

/** Must equal the module's abi_version(). */
export const ABI_VERSION = G.ABI_VERSION;

/** Message record slots, message flags (M.FLAGS), URI record slots and flags: assembly/abi.ts's M_*, F_*, U_*, UF_* (see there for each field). */
export { M, F, U, UF } from './abi.generated.js';

/** Header entry: [id, nameStart, nameLen, valueStart, valueLen, flags]. */
export const H_SIZE = G.H_SIZE;
export const HF_FOLDED = G.HF_FOLDED;
export const HF_LIST_ITEM = G.HF_LIST_ITEM;
export const UH_SIZE = G.UH_SIZE;
export const MAX_URI_HEADERS = G.MAX_URI_HEADERS;
/** `<Sip>` target and Refer-To limits (bytes). */
export const SIP_TARGET_MAX_URI = G.SIP_TARGET_MAX_URI;
export const SIP_TARGET_MAX_HEADERS_PART = G.SIP_TARGET_MAX_HEADERS_PART;
export const REFER_TO_MAX = G.REFER_TO_MAX;
/** OUT slot of the URI record extract_refer_to writes (the message record stays at slot 0). */
export const REFER_RECORD_SLOT = G.REFER_RECORD_SLOT;

export const SCHEMES = ['', 'sip', 'sips', 'tel', 'other'] as const;
export const TRANSPORTS = ['', 'udp', 'tcp', 'tls', 'sctp', 'ws', 'wss', 'other'] as const;
export const HOST_KINDS = ['', 'hostname', 'ipv4', 'ipv6'] as const;
/** Twilio <Sip> regions; index = U.REGION value (0 = not given, us1 applies). */
export const REGIONS = ['', 'us1', 'us2', 'ie1', 'de1', 'sg1', 'jp1', 'br1', 'au1'] as const;

/** Method ids (index = id, 0 = extension), from assembly/parse/methods.ts. */
export const METHOD_NAMES = G.METHOD_NAMES;

/** Header ids (index = id, 0 = extension): assembly/parse/header-names.ts's table in canonical case (the contract test compares them). */
export const HEADER_NAMES = [
  '', 'Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Content-Length',
  'Content-Type', 'Max-Forwards', 'Route', 'Record-Route', 'Supported', 'Subject',
  'Refer-To', 'Referred-By', 'Content-Encoding', 'Allow', 'Require', 'Proxy-Require',
  'Unsupported', 'Expires', 'Authorization', 'Proxy-Authorization', 'WWW-Authenticate',
  'Proxy-Authenticate', 'Event', 'Allow-Events', 'Subscription-State', 'User-Agent',
  'Server', 'Accept', 'Accept-Encoding', 'Accept-Language', 'Content-Disposition',
  'Date', 'Timestamp', 'Warning', 'Retry-After', 'Min-Expires', 'Organization',
  'Priority', 'Reply-To', 'In-Reply-To', 'Alert-Info', 'Call-Info', 'Error-Info',
  'MIME-Version', 'Replaces', 'Refer-Sub', 'P-Asserted-Identity', 'P-Preferred-Identity',
  'Remote-Party-ID', 'User-to-User', 'Session-Expires', 'Min-SE', 'RSeq', 'RAck', 'Path',
  'Privacy', 'Diversion', 'Authentication-Info', 'Content-Language', 'Identity', 'Reason',
  'P-Called-Party-ID', 'Accept-Contact', 'Reject-Contact', 'Request-Disposition',
  'Service-Route',
] as const;

/** Header ids used by the runtime. */
export const HID = {
  VIA: 1, FROM: 2, TO: 3, CALL_ID: 4, CSEQ: 5, CONTACT: 6, CONTENT_LENGTH: 7,
  CONTENT_TYPE: 8, MAX_FORWARDS: 9, ROUTE: 10, RECORD_ROUTE: 11, REFER_TO: 14,
  REFERRED_BY: 15, EVENT: 26, REFER_SUB: 49,
} as const;

/** One ABI error: stable name, message, SIP status to answer with, Twilio code where one fits. */
export interface AbiErrorInfo {
  readonly code: number;
  readonly name: string;
  readonly message: string;
  readonly sipStatus: number;
  readonly twilioCode?: number;
}

const e = (code: number, name: string, message: string, sipStatus: number, twilioCode?: number): AbiErrorInfo =>
  ({ code, name, message, sipStatus, twilioCode });

/** Every error code of assembly/errors.ts (index = -code): its readable side (the contract test checks codes and names against abi.generated.ts). */
export const ERRORS: readonly AbiErrorInfo[] = [
  e(0, 'OK', 'no error', 200),
  e(-1, 'E_TRUNCATED', 'message ends before the end of its headers or body', 400),
  e(-2, 'E_START_LINE', 'malformed request line or status line', 400),
  e(-3, 'E_VERSION', 'SIP version other than SIP/2.0', 505),
  e(-4, 'E_STATUS_CODE', 'status code is not three digits between 100 and 699', 400),
  e(-5, 'E_METHOD', 'method is not a token', 400),
  e(-6, 'E_REQUEST_URI', 'malformed Request-URI', 400, 32110),
  e(-7, 'E_HEADER_SYNTAX', 'header line without a valid name followed by a colon', 400),
  e(-8, 'E_TOO_MANY_HEADERS', 'more header fields than the configured limit', 400),
  e(-9, 'E_LINE_TOO_LONG', 'a line is longer than the configured limit', 400),
  e(-10, 'E_MESSAGE_TOO_LARGE', 'message larger than the configured limit', 513),
  e(-11, 'E_CONTENT_LENGTH', 'Content-Length is not a single non-negative integer', 400),
  e(-12, 'E_CONTENT_LENGTH_MISMATCH', 'Content-Length is larger than the bytes received', 400),
  e(-13, 'E_DUPLICATE_HEADER', 'a header that may appear once appears more than once', 400),
  e(-14, 'E_MISSING_HEADER', 'a mandatory header (Via, From, To, Call-ID, CSeq) is missing or empty', 400),
  e(-15, 'E_CSEQ', 'CSeq malformed or its number exceeds 2^32-1', 400),
  e(-16, 'E_CSEQ_METHOD', 'CSeq method differs from the request method', 400),
  e(-17, 'E_MAX_FORWARDS', 'Max-Forwards is not an integer from 0 to 255', 400),
  e(-18, 'E_VIA', 'malformed Via', 400),
  e(-19, 'E_NAME_ADDR', 'malformed From, To or Contact (display name, quotes or brackets)', 400),
  e(-20, 'E_URI', 'malformed URI', 400, 13243),
  e(-21, 'E_URI_TOO_LONG', 'SIP URI must be fewer than 255 characters', 400, 13243),
  e(-22, 'E_URI_HEADERS_TOO_LONG', 'SIP URI headers part must be fewer than 1024 characters', 400, 13253),
  e(-23, 'E_HEADER_NOT_ALLOWED', 'only x- headers, User-to-User, Remote-Party-ID, P-Preferred-Identity and P-Called-Party-ID may be set in a SIP URI', 400, 13252),
  e(-24, 'E_TWILIO_HEADER', 'header names starting with X-Twilio are reserved', 400, 32113),
  e(-25, 'E_BAD_ESCAPE', "'%' not followed by two hex digits", 400, 32110),
  e(-26, 'E_CTL_CHAR', 'CR, LF, NUL or another control character would reach a header', 400, 32112),
  e(-27, 'E_TRANSPORT', 'transport must be udp, tcp or tls', 400, 32114),
  e(-28, 'E_REGION', 'region must be one of us1 us2 ie1 de1 sg1 jp1 br1 au1', 400, 32114),
  e(-29, 'E_REFER_TO_MISSING', 'REFER without Refer-To', 400),
  e(-30, 'E_REFER_TO_MULTIPLE', 'REFER with more than one Refer-To', 400),
  e(-31, 'E_REFER_TO_TOO_LONG', 'Refer-To longer than 256 characters', 400),
  e(-32, 'E_PORT', 'port is not a number from 1 to 65535', 400, 13243),
  e(-33, 'E_TOO_MANY_URI_HEADERS', 'too many headers in the SIP URI', 400, 13251),
  e(-34, 'E_HEADER_NAME', 'URI header name is empty or not a token', 400, 13252),
  e(-35, 'E_HOST', 'host missing or malformed (IPv6 needs [brackets])', 400, 13243),
  e(-36, 'E_SCHEME', 'URI scheme not acceptable here', 416, 13243),
  e(-37, 'E_BODY', 'stream message without Content-Length', 400),
  e(-38, 'E_NOT_REFER', 'not a REFER request', 400),
  e(-39, 'E_ARGUMENT', 'bad argument to an ABI function', 500),
  e(-40, 'E_RAW_CTL', 'control character (NUL, BEL, ESC, DEL, bare CR...) in the start line or a header field: RFC 3261 §25.1 allows none there but HTAB and line folding', 400),
];

/** @return the description of an ABI error code. */
export function errorInfo(code: number): AbiErrorInfo {
  return ERRORS[-code] ?? e(code, 'E_UNKNOWN', `unknown parser error ${code}`, 500);
}
