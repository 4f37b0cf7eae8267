/**
 * The Refer-To of an inbound REFER (RFC 3515 §2.1; Twilio's "Inbound SIP
 * REFER to Twilio" limits), read through the WASM module's extract_refer_to
 * on the header's own value span. Browser-safe.
 */
import { M, U, H_SIZE, HID, METHOD_NAMES, REFER_RECORD_SLOT } from '../wasm/abi.js';
import { E_NOT_REFER, E_REFER_TO_MISSING, E_REFER_TO_MULTIPLE, H_NAME_START } from '../wasm/abi.generated.js';
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

const METHOD_REFER = METHOD_NAMES.indexOf('REFER');

/**
 * Check and take apart the Refer-To of a parsed REFER: exactly one value,
 * at most 256 bytes, name-addr or addr-spec, URI headers free of control
 * characters once decoded. `view` may be detached and from any earlier
 * parse: only the bytes of its Refer-To value span are copied into the
 * parser's IN region, and the URI record goes to the OUT slots past any
 * message record (a view still reading the parser's OUT stays valid).
 * A message that failed to parse reports its own parse error; error
 * offsets are byte offsets in the message.
 */
export function extractReferTo(parser: WasmParser, view: MessageView): ReferToResult {
  const parseError = view.error;
  if (parseError) return uriFailure(parseError.code, parseError.offset);
  if (!view.isRequest || view.methodId !== METHOD_REFER) return uriFailure(E_NOT_REFER, view.slot(M.METHOD_START));
  const count = view.slot(M.REFER_TO_COUNT);
  if (count === 0) return uriFailure(E_REFER_TO_MISSING, view.slot(M.BODY_START));
  const idx = view.slot(M.IDX_REFER_TO);
  if (count > 1) {
    const second = view.indexOfId(HID.REFER_TO, idx + 1);
    return uriFailure(E_REFER_TO_MULTIPLE, second >= 0 ? view.slot(M.HEADERS + second * H_SIZE + H_NAME_START) : -1);
  }
  const [start, len] = view.valueSpan(idx);
  const value = view.bytes.subarray(start, start + len);
  parser.writeInput(value);
  const code = parser.exports.extract_refer_to(0, value.length);
  const record = new UriRecord(parser.out, REFER_RECORD_SLOT, value);
  if (code < 0) {
    const at = record.slot(U.ERROR_OFFSET);
    return uriFailure(code, at < 0 ? at : start + at);
  }
  const uri = record.uriWithoutHeaders();
  const scheme = uri.slice(0, uri.indexOf(':')).toLowerCase();
  const headers = record.headers();
  const replaces = record.slot(U.REPLACES_INDEX);
  return {
    ok: true,
    raw: view.valueAt(idx) ?? '',
    uri,
    scheme,
    user: record.span(U.USER_START),
    host: record.span(U.HOST_START),
    headers,
    replaces: replaces >= 0 ? headers[replaces]?.value ?? null : null,
  };
}
