/**
 * `<Dial><Sip>` targets and header values from TwiML, checked by the WASM
 * module (assembly/validate/) before they reach the wire. The success shape
 * of validateSipTarget is what `patchbay check-uri` prints. Browser-safe.
 */
import { U, UF, REGIONS, TRANSPORTS } from '../wasm/abi.js';
import type { WasmParser } from '../wasm/parser.js';
import { UriRecord, uriFailure, type UriFailure, type UriHeader } from './uri-record.js';

export type { UriFailure, UriError, UriHeader } from './uri-record.js';

/** Transports a `<Sip>` target may use. */
export type SipTransport = 'udp' | 'tcp' | 'tls';
/** Twilio egress regions (the `region` parameter of https://www.twilio.com/docs/voice/twiml/sip). */
export type SipRegion = Exclude<(typeof REGIONS)[number], ''>;

/** A valid `<Sip>` target, taken apart. */
export interface SipTarget {
  ok: true;
  /** The URI without its `?headers`; `sip:` is prefixed when the target had no scheme. */
  uri: string;
  scheme: 'sip' | 'sips';
  /** User part as written (percent escapes kept), null when absent. */
  user: string | null;
  /** Host as written (IPv6 references keep their brackets). */
  host: string;
  /** Explicit port, null when absent. */
  port: number | null;
  /** Effective transport: the `transport` param, tls for sips:, else udp. */
  transport: SipTransport;
  /** Explicit port, else 5061 for tls, else 5060. */
  effectivePort: number;
  /** The `region` param, us1 when absent. */
  region: SipRegion;
  /** URI headers in order, percent-decoded. */
  headers: UriHeader[];
  /** URI params: lower-cased names, values as written (null for a bare name). */
  params: Record<string, string | null>;
}

/** Result of validateSipTarget. */
export type SipTargetResult = SipTarget | UriFailure;

/** Result of validateHeaderValue. */
export type HeaderValueResult = { ok: true } | UriFailure;

const E_ARGUMENT = -39;
const utf8 = new TextEncoder();

/** Copy UTF-8 bytes into IN, or fail when they do not fit. */
function load(parser: WasmParser, bytes: Uint8Array): UriFailure | undefined {
  if (bytes.length > parser.inCap) return uriFailure(E_ARGUMENT, parser.inCap);
  parser.writeInput(bytes);
  return undefined;
}

/**
 * Validate a `<Sip>` target by Twilio's rules: sip:/sips: or a bare
 * `user@host` (read as sip:), URI under 255 bytes, header part under 1024,
 * only x-* / User-to-User / Remote-Party-ID / P-Preferred-Identity /
 * P-Called-Party-ID headers (never X-Twilio*), no control characters even
 * percent-encoded, transport udp/tcp/tls, a known region.
 * @param target  the text of the `<Sip>` noun (encoded to UTF-8; error offsets are byte offsets)
 */
export function validateSipTarget(parser: WasmParser, target: string): SipTargetResult {
  const bytes = utf8.encode(target);
  const tooBig = load(parser, bytes);
  if (tooBig) return tooBig;
  const code = parser.exports.validate_sip_target(bytes.length);
  const record = new UriRecord(parser.out, 0, bytes);
  if (code < 0) return uriFailure(code, record.slot(U.ERROR_OFFSET));
  const implied = (record.slot(U.FLAGS) & UF.IMPLIED_SCHEME) !== 0;
  const port = record.slot(U.PORT);
  return {
    ok: true,
    uri: (implied ? 'sip:' : '') + record.uriWithoutHeaders(),
    scheme: record.slot(U.SCHEME) === 2 ? 'sips' : 'sip',
    user: record.span(U.USER_START),
    host: record.span(U.HOST_START) ?? '',
    port: port < 0 ? null : port,
    transport: TRANSPORTS[record.slot(U.TRANSPORT)] as SipTransport,
    effectivePort: record.slot(U.EFFECTIVE_PORT),
    region: (REGIONS[record.slot(U.REGION)] || 'us1') as SipRegion,
    headers: record.headers(),
    params: record.params(),
  };
}

/**
 * Check a value before it is written into a SIP header: CR, LF, NUL and
 * every other control character except HTAB are refused (CRLF injection).
 * @param value  the header value (encoded to UTF-8; the error offset is a byte offset)
 */
export function validateHeaderValue(parser: WasmParser, value: string): HeaderValueResult {
  const bytes = utf8.encode(value);
  const tooBig = load(parser, bytes);
  if (tooBig) return tooBig;
  const code = parser.exports.validate_header_value(bytes.length);
  if (code < 0) return uriFailure(code, parser.out[U.ERROR_OFFSET]!);
  return { ok: true };
}

/**
 * The `validateSipUri` option of parseTwiml as the daemon wires it: the WASM
 * validator, its failure reduced to a message and the Twilio code.
 */
export function sipUriChecker(parser: WasmParser): (uri: string) => { ok: true } | { ok: false; message: string; twilioCode?: number } {
  return (uri) => {
    const r = validateSipTarget(parser, uri);
    return r.ok ? { ok: true } : { ok: false, message: r.error.message, twilioCode: r.error.twilioCode };
  };
}
