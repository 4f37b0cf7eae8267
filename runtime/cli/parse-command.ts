/**
 * `patchbay parse [FILE|-]`: parse one datagram and describe it as JSON.
 * The JSON shape is documented in README.md ("patchbay parse") and is stable.
 */
import { F, errorInfo } from '../wasm/abi.js';
import type { WasmParser } from '../wasm/parser.js';
import type { MessageView } from '../wasm/message-view.js';
import { extractReferTo } from '../sip/refer-to.js';
import type { UriError } from '../sip/uri-record.js';

/** Readable warnings for tolerated oddities (M.FLAGS bits). */
export const FLAG_WARNINGS: ReadonlyArray<[number, string]> = [
  [F.NO_MAX_FORWARDS, 'request without Max-Forwards (RFC 2543 style)'],
  [F.NO_BRANCH, 'top Via has no branch parameter (RFC 2543 style)'],
  [F.RFC2543_BRANCH, 'top Via branch lacks the z9hG4bK magic cookie'],
  [F.NO_CONTENT_LENGTH, 'no Content-Length: the body is the rest of the datagram'],
  [F.TRAILING_BYTES, 'bytes after the end of the message were ignored'],
  [F.BARE_LF, 'lines end in LF without CR'],
  [F.NO_BLANK_LINE, 'no empty line after the headers'],
  [F.NO_FROM_TAG, 'From has no tag (RFC 2543 style)'],
  [F.BAD_DATE, 'Date is not an RFC 1123 GMT date and is ignored'],
  [F.ESCAPED_CTL, 'a quoted-string holds a control character as a quoted-pair (valid per RFC 3261, but never copied: the daemon answers 400 or drops the message)'],
];

/** JSON error object of the CLI: the same shape the runtime/sip wrappers report. */
export type CliError = UriError;

/** Result of one parse: JSON to print and exit code. */
export interface ParseOutcome {
  json: Record<string, unknown>;
  exitCode: 0 | 1;
}

function describeHeaders(view: MessageView): Array<{ name: string; raw: string; value: string }> {
  const out: Array<{ name: string; raw: string; value: string }> = [];
  for (let i = 0; i < view.headerCount; i++) {
    out.push({ name: view.headerName(i), raw: view.rawHeaderName(i), value: view.valueAt(i) ?? '' });
  }
  return out;
}

/** Parse `bytes` as one UDP datagram and build the CLI's JSON. */
export function parseCommand(parser: WasmParser, bytes: Uint8Array): ParseOutcome {
  const view = parser.parse(bytes, false);
  const json: Record<string, unknown> = { valid: view.ok, datagramLength: bytes.length };
  if (view.isKeepAlive) {
    return { json: { ...json, kind: 'keepalive', messageLength: view.messageLength }, exitCode: 0 };
  }
  const kind = view.isRequest ? 'request' : view.isResponse ? 'response' : undefined;
  if (kind) json.kind = kind;
  if (view.isRequest) {
    json.method = view.method;
    json.requestUri = view.requestUri;
  } else if (view.isResponse) {
    json.statusCode = view.statusCode;
    json.reason = view.reason;
  }
  const headers = describeHeaders(view);
  json.headers = headers;
  const err = view.error;
  if (err) {
    json.error = { code: err.code, name: err.name, message: err.message, offset: err.offset, sipStatus: err.sipStatus, twilioCode: err.twilioCode } satisfies CliError;
    return { json, exitCode: 1 };
  }
  json.callId = view.callId;
  json.cseq = { number: view.cseqNumber, method: view.cseqMethod };
  json.branch = view.branch ?? null;
  json.fromTag = view.fromTag ?? null;
  json.toTag = view.toTag ?? null;
  json.bodyLength = view.bodyLength;
  json.messageLength = view.messageLength;
  json.warnings = FLAG_WARNINGS.filter(([bit]) => (view.flags & bit) !== 0).map(([, text]) => text);
  if (view.isRequest && view.method === 'REFER') {
    const refer = extractReferTo(parser, view);
    if (!refer.ok) {
      json.valid = false;
      json.error = refer.error;
      return { json, exitCode: 1 };
    }
    json.referTo = refer;
  }
  return { json, exitCode: 0 };
}

/** One line for stderr naming the error and its byte offset. */
export function errorLine(command: string, error: CliError): string {
  return `patchbay ${command}: ${error.name} at byte ${error.offset}: ${error.message}`;
}

export { errorInfo };
