/**
 * The Refer-To of an inbound REFER (RFC 3515 §2.1, SPEC-DETAIL.md §5.1),
 * read through the WASM module's extract_refer_to. Browser-safe.
 */
import { M, U, REFER_RECORD_SLOT } from '../wasm/abi.js';
import type { WasmParser } from '../wasm/parser.js';
import type { MessageView } from '../wasm/message-view.js';
import { UriRecord, uriFailure, type UriFailure, type UriHeader } from './uri-record.js';

/** A valid Refer-To, taken apart. */
export interface ReferTarget {
  ok: true;
  /** The Refer-To value as received (folds read as one SP): Twilio's ReferTransferTarget. */
  raw: string;
  /** The URI without its `?headers`, as written. */
  uri: string;
  /** The URI scheme, lower case (sip, sips, tel, or any other absolute URI scheme). */
  scheme: string;
  /** sip/sips user part, or the tel: number (before any ';'), as written; null when absent. */
  user: string | null;
  /** sip/sips host as written; null for other schemes. */
  host: string | null;
  /** URI headers in order, percent-decoded (these become headers of the new INVITE). */
  headers: UriHeader[];
  /** The decoded value of the first `Replaces` URI header (RFC 3891 attended transfer), or null. */
  replaces: string | null;
}

/** Result of extractReferTo. */
export type ReferToResult = ReferTarget | UriFailure;

/**
 * Check and take apart the Refer-To of the REFER just parsed. Call right
 * after `parser.parse(bytes)` returned `view` (the bytes must still be in
 * the parser's IN region): exactly one value, at most 256 bytes, name-addr
 * or addr-spec, URI headers free of control characters once decoded.
 * A message that failed to parse reports its own parse error.
 */
export function extractReferTo(parser: WasmParser, view: MessageView): ReferToResult {
  const parseError = view.error;
  if (parseError) return uriFailure(parseError.code, parseError.offset);
  const bytes = view.bytes;
  const code = parser.exports.extract_refer_to(bytes.length);
  const record = new UriRecord(parser.out, REFER_RECORD_SLOT, bytes);
  if (code < 0) return uriFailure(code, record.slot(U.ERROR_OFFSET));
  const uri = record.uriWithoutHeaders();
  const scheme = uri.slice(0, uri.indexOf(':')).toLowerCase();
  const headers = record.headers();
  const replaces = record.slot(U.REPLACES_INDEX);
  return {
    ok: true,
    raw: view.valueAt(view.slot(M.IDX_REFER_TO)) ?? '',
    uri,
    scheme,
    user: record.span(U.USER_START),
    host: record.span(U.HOST_START),
    headers,
    replaces: replaces >= 0 ? headers[replaces]?.value ?? null : null,
  };
}
