/**
 * The SIP URI reader: a sip:, sips: or tel: URI taken apart by the WASM
 * module's `parse_uri` (RFC 3261 §19.1.1 grammar, RFC 5118 IPv6
 * references, RFC 3966 tel: scheme and characters only), read back into
 * strings. Every JavaScript caller that needs the host, port, user or a
 * parameter of a URI goes through here instead of a regular expression.
 * Cold path (one call per call set-up or in-dialog request). Browser-safe.
 */
import { U, HOST_KINDS } from '../wasm/abi.js';
import type { WasmParser } from '../wasm/parser.js';
import { UriRecord, uriFailure, type UriFailure, type UriHeader } from './uri-record.js';

/** A SIP, SIPS or tel URI, taken apart. */
export interface SipUri {
  ok: true;
  /** Scheme, lower case. */
  scheme: 'sip' | 'sips' | 'tel';
  /** The URI without its `?headers`, as written. */
  uri: string;
  /** User part as written (percent escapes kept); for tel: the number before any ';'. null when absent. */
  user: string | null;
  /** Password of the userinfo as written, null when absent. */
  password: string | null;
  /** Host as written (IPv6 references keep their brackets); null for tel:. */
  host: string | null;
  /** What the host is; null for tel:. */
  hostKind: 'hostname' | 'ipv4' | 'ipv6' | null;
  /** Explicit port, null when absent. */
  port: number | null;
  /** URI parameters: lower-cased names, values as written (null for a bare name such as `lr`). */
  params: Record<string, string | null>;
  /** URI headers in order, percent-decoded. */
  headers: UriHeader[];
}

/** Result of readSipUri. */
export type SipUriResult = SipUri | UriFailure;

/** Size limits of readSipUri, in bytes. */
export interface SipUriLimits {
  /** Longest URI without its `?headers` part (default 254: Twilio's "fewer than 255 characters"). */
  maxUriBytes?: number;
  /** Longest headers part after `?` (default 1023: Twilio's "under 1024 characters"). */
  maxHeadersBytes?: number;
}

/** Limits for URIs that come from the wire (Contact, Record-Route): only the parser's own input size bounds them. */
export const NO_URI_LIMITS: Required<SipUriLimits> = { maxUriBytes: Infinity, maxHeadersBytes: Infinity };

const E_URI_TOO_LONG = -21;
const E_URI_HEADERS_TOO_LONG = -22;
const E_SCHEME = -36;
const E_ARGUMENT = -39;
const SCHEMES = ['', 'sip', 'sips', 'tel'] as const;
const utf8 = new TextEncoder();
const text8 = new TextDecoder();

/**
 * Read a SIP, SIPS or tel URI (an addr-spec: no display name, no angle
 * brackets, no surrounding whitespace). Any other scheme fails with
 * E_SCHEME; a URI over the limits with E_URI_TOO_LONG or
 * E_URI_HEADERS_TOO_LONG (offset: the first byte past the limit).
 * @param text    the URI (encoded to UTF-8; error offsets are byte offsets)
 * @param limits  size limits (default: Twilio's `<Sip>` limits, 254 and 1023)
 */
export function readSipUri(parser: WasmParser, text: string, limits: SipUriLimits = {}): SipUriResult {
  const read = readRecord(parser, text, limits);
  if (!(read instanceof UriRecord)) return read;
  const record = read;
  const scheme = SCHEMES[record.slot(U.SCHEME)] as SipUri['scheme'];
  const port = record.slot(U.PORT);
  const tel = scheme === 'tel';
  return {
    ok: true,
    scheme,
    uri: record.uriWithoutHeaders(),
    user: record.span(U.USER_START),
    password: record.span(U.PASSWORD_START),
    host: tel ? null : record.span(U.HOST_START),
    hostKind: tel ? null : (HOST_KINDS[record.slot(U.HOST_KIND)] || null) as SipUri['hostKind'],
    port: port < 0 ? null : port,
    params: record.params(),
    headers: record.headers(),
  };
}

/** The parse of {@link readSipUri} with its limits checked, before any field is decoded: the record, or the failure. */
function readRecord(parser: WasmParser, text: string, limits: SipUriLimits): UriRecord | UriFailure {
  const bytes = utf8.encode(text);
  if (bytes.length > parser.inCap) return uriFailure(E_ARGUMENT, parser.inCap);
  parser.writeInput(bytes);
  const code = parser.exports.parse_uri(0, bytes.length);
  const record = new UriRecord(parser.out, 0, bytes);
  if (code < 0) return uriFailure(code, record.slot(U.ERROR_OFFSET));
  const scheme = SCHEMES[record.slot(U.SCHEME)];
  if (scheme === undefined || scheme === '') return uriFailure(E_SCHEME, 0);
  const maxUri = limits.maxUriBytes ?? 254;
  const maxHeaders = limits.maxHeadersBytes ?? 1023;
  const headersLen = record.slot(U.HEADERS_LEN);
  const uriLen = headersLen >= 0 ? record.slot(U.HEADERS_START) - 1 : bytes.length;
  if (uriLen > maxUri) return uriFailure(E_URI_TOO_LONG, maxUri);
  if (headersLen > maxHeaders) return uriFailure(E_URI_HEADERS_TOO_LONG, record.slot(U.HEADERS_START) + maxHeaders);
  return record;
}

/** The sip:/sips: record of `text` within `limits`, or undefined (tel:, no URI, over the limits). */
function sipRecord(parser: WasmParser, text: string, limits: SipUriLimits): UriRecord | undefined {
  const read = readRecord(parser, text, limits);
  return read instanceof UriRecord && SCHEMES[read.slot(U.SCHEME)] !== 'tel' ? read : undefined;
}

/**
 * The user part of a sip:/sips: URI as written (as {@link readSipUri} gives it),
 * null without one, undefined when `text` is not a sip:/sips: URI within `limits`. Decodes that
 * field alone: for the per-call paths that need one field.
 */
export function sipUriUser(parser: WasmParser, text: string, limits: SipUriLimits = {}): string | null | undefined {
  const record = sipRecord(parser, text, limits);
  return record === undefined ? undefined : record.span(U.USER_START);
}

/** @return `host` without the brackets of an IPv6 reference (`[2001:db8::1]` → `2001:db8::1`). */
export function unbracket(host: string): string {
  return host.length > 1 && host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * The host a sip:/sips: URI names, IPv6 brackets kept, or undefined when
 * `text` is not a sip:/sips: URI (or is over the `<Sip>` limits).
 */
export function sipUriHost(parser: WasmParser, text: string, limits: SipUriLimits = {}): string | undefined {
  return sipRecord(parser, text, limits)?.span(U.HOST_START) ?? undefined;
}

/**
 * `host[:port]` of a sip:/sips: URI as written (IPv6 brackets kept), as it
 * goes after the `@` of another URI, or undefined when `text` is not a
 * sip:/sips: URI (or is over the limits).
 */
export function sipUriHostPort(parser: WasmParser, text: string, limits: SipUriLimits = {}): string | undefined {
  const record = sipRecord(parser, text, limits);
  const host = record?.span(U.HOST_START);
  if (record === undefined || host == null) return undefined;
  const port = record.slot(U.PORT);
  return port < 0 ? host : `${host}:${port}`;
}

/**
 * `text` without the URI parameters named in `names` (lower case; names
 * compare case-insensitively, RFC 3261 §19.1.4), everything else as
 * written; `text` unchanged when it is not a sip:/sips: URI.
 * Used to keep parameters meant for us (Twilio's `region`, `edge`) out of
 * the Request-URI we send.
 */
export function withoutUriParams(parser: WasmParser, text: string, names: readonly string[]): string {
  if (sipRecord(parser, text, NO_URI_LIMITS) === undefined) return text;
  const out = parser.out;
  const paramsLen = out[U.PARAMS_LEN]!;
  if (paramsLen < 0) return text;
  // spans are byte offsets: slice the UTF-8 bytes, not the string
  const bytes = utf8.encode(text);
  const start = out[U.PARAMS_START]!;
  const kept: string[] = [];
  for (const param of text8.decode(bytes.subarray(start, start + paramsLen)).split(';')) {
    const eq = param.indexOf('=');
    if (!names.includes((eq < 0 ? param : param.slice(0, eq)).toLowerCase())) kept.push(param);
  }
  const head = text8.decode(bytes.subarray(0, start - 1));
  const tail = text8.decode(bytes.subarray(start + paramsLen));
  return head + kept.map((p) => `;${p}`).join('') + tail;
}

/** What routing reads of a URI from the wire: no params object and no headers, so nothing but the result is built. */
export interface SipUriRouting {
  scheme: 'sip' | 'sips';
  host: string;
  port: number | null;
  /** The `transport` param as written, null when absent or valueless. */
  transport: string | null;
  /** The `lr` param is present (RFC 3261 §16.12.1.1). */
  lr: boolean;
}

/**
 * The routing fields of a sip:/sips: URI from the wire (Contact, Route, Record-Route: no `<Sip>`
 * limits), or undefined when `text` is not one. The same WASM parse as {@link readSipUri}, for the
 * per-request path of dialogs (RFC 3261 §12.2.1.1), where building every param and header is waste.
 */
export function readSipUriRouting(parser: WasmParser, text: string): SipUriRouting | undefined {
  const bytes = utf8.encode(text);
  if (bytes.length > parser.inCap) return undefined;
  parser.writeInput(bytes);
  if (parser.exports.parse_uri(0, bytes.length) < 0) return undefined;
  const record = new UriRecord(parser.out, 0, bytes);
  const scheme = SCHEMES[record.slot(U.SCHEME)];
  if (scheme !== 'sip' && scheme !== 'sips') return undefined;
  const host = record.span(U.HOST_START);
  if (host === null) return undefined;
  const port = record.slot(U.PORT);
  const params = record.span(U.PARAMS_START);
  const transport = params === null ? undefined : paramValue(params, 'transport');
  return { scheme, host, port: port < 0 ? null : port, transport: transport ?? null, lr: params !== null && paramValue(params, 'lr') !== undefined };
}

/** The first `name` param of a params text (`a=1;lr`; names compare case-insensitively, RFC 3261 §19.1.4): its value, null without one, undefined when absent. */
function paramValue(params: string, name: string): string | null | undefined {
  let at = 0;
  while (at <= params.length) {
    let end = params.indexOf(';', at);
    if (end < 0) end = params.length;
    const eq = params.indexOf('=', at);
    const nameEnd = eq >= 0 && eq < end ? eq : end;
    if (nameEnd - at === name.length && params.slice(at, nameEnd).toLowerCase() === name) return nameEnd === end ? null : params.slice(nameEnd + 1, end);
    at = end + 1;
  }
  return undefined;
}
