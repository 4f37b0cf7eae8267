/**
 * Error codes returned by every ABI function (negative i32). The runtime
 * mirror in `runtime/wasm/abi.ts` holds the readable message, the SIP status
 * to answer with and, where one fits, the Twilio error code.
 */
export const E_TRUNCATED: i32 = -1; // no end of headers in the input
export const E_START_LINE: i32 = -2; // malformed request or status line
export const E_VERSION: i32 = -3; // SIP version other than SIP/2.0 (505)
export const E_STATUS_CODE: i32 = -4; // status code not 3 digits in 100..699
export const E_METHOD: i32 = -5; // method is not a token
export const E_REQUEST_URI: i32 = -6; // Request-URI malformed
export const E_HEADER_SYNTAX: i32 = -7; // header line without a valid name and ':'
export const E_TOO_MANY_HEADERS: i32 = -8; // more header entries than the limit
export const E_LINE_TOO_LONG: i32 = -9; // a line longer than the limit
export const E_MESSAGE_TOO_LARGE: i32 = -10; // message bigger than the limit (513)
export const E_CONTENT_LENGTH: i32 = -11; // Content-Length not a non-negative integer
export const E_CONTENT_LENGTH_MISMATCH: i32 = -12; // Content-Length larger than the bytes received
export const E_DUPLICATE_HEADER: i32 = -13; // single-valued header repeated
export const E_MISSING_HEADER: i32 = -14; // mandatory header absent
export const E_CSEQ: i32 = -15; // CSeq malformed or number > 2^32-1
export const E_CSEQ_METHOD: i32 = -16; // CSeq method differs from the request method
export const E_MAX_FORWARDS: i32 = -17; // Max-Forwards not 0..255
export const E_VIA: i32 = -18; // Via malformed
export const E_NAME_ADDR: i32 = -19; // From/To/Contact malformed
export const E_URI: i32 = -20; // URI malformed
export const E_URI_TOO_LONG: i32 = -21; // <Sip> URI of 255 characters or more
export const E_URI_HEADERS_TOO_LONG: i32 = -22; // <Sip> URI header part of 1024 characters or more
export const E_HEADER_NOT_ALLOWED: i32 = -23; // <Sip> URI header name not x-*/UUI/RPID/PPI/PCPI
export const E_TWILIO_HEADER: i32 = -24; // <Sip> URI header name starts with X-Twilio
export const E_BAD_ESCAPE: i32 = -25; // '%' not followed by two hex digits
export const E_CTL_CHAR: i32 = -26; // CR, LF, NUL or another control character where a header value goes
export const E_TRANSPORT: i32 = -27; // transport other than udp/tcp/tls
export const E_REGION: i32 = -28; // region not one of us1 us2 ie1 de1 sg1 jp1 br1 au1
export const E_REFER_TO_MISSING: i32 = -29; // REFER without Refer-To
export const E_REFER_TO_MULTIPLE: i32 = -30; // more than one Refer-To value
export const E_REFER_TO_TOO_LONG: i32 = -31; // Refer-To longer than 256 characters
export const E_PORT: i32 = -32; // port not 1..65535
export const E_TOO_MANY_URI_HEADERS: i32 = -33; // more URI headers than MAX_URI_HEADERS
export const E_HEADER_NAME: i32 = -34; // URI header name empty or not a token
export const E_HOST: i32 = -35; // host missing or malformed (incl. bare IPv6)
export const E_SCHEME: i32 = -36; // URI scheme not acceptable here
export const E_BODY: i32 = -37; // negative or inconsistent body framing on a stream
export const E_NOT_REFER: i32 = -38; // extract_refer_to on a message that is not a REFER
export const E_ARGUMENT: i32 = -39; // bad argument to an ABI function (span out of range)
export const E_RAW_CTL: i32 = -40; // raw NUL, BEL, ESC, DEL, bare CR or another CTL but HTAB in the start line or a header field (RFC 3261 §25.1)

/** Lowest (most negative) error code; the contract test checks the table covers it. */
export const E_LAST: i32 = -40;
