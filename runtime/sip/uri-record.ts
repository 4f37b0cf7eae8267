/**
 * Reading a URI record (runtime/wasm/abi.ts `U`) back into strings: the cold
 * path shared by the `<Sip>` target and Refer-To wrappers. Percent-decoding
 * happens here, on bytes, and never throws. Browser-safe.
 */
import { U, UH_SIZE, MAX_URI_HEADERS, errorInfo } from '../wasm/abi.js';
import { decodeSpan } from '../wasm/text.js';

/** One URI header (RFC 3261 §19.1.1 `headers`), name and value percent-decoded. */
export interface UriHeader {
  name: string;
  value: string;
}

/** An ABI error as the CLI and the wrappers report it. */
export interface UriError {
  code: number;
  name: string;
  message: string;
  /** Byte offset in the UTF-8 input (-1 when the error has no position). */
  offset: number;
  /** SIP status to answer with when the input came from a SIP request. */
  sipStatus: number;
  /** Twilio error code, when one fits (undefined otherwise). */
  twilioCode?: number;
}

/** Failure shape of every wrapper in runtime/sip. */
export interface UriFailure {
  ok: false;
  error: UriError;
}

/** @return the failure for ABI error `code` found at byte `offset`. */
export function uriFailure(code: number, offset: number): UriFailure {
  const info = errorInfo(code);
  return {
    ok: false,
    error: {
      code: info.code, name: info.name, message: info.message, offset,
      sipStatus: info.sipStatus, twilioCode: info.twilioCode,
    },
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/**
 * Percent-decode `bytes[start, start+len)` (RFC 3986 §2.1) and read the
 * result as UTF-8; invalid UTF-8 becomes U+FFFD and a '%' that does not
 * start a valid escape stays as it is. '+' is not a space in SIP URIs.
 */
export function percentDecode(bytes: Uint8Array, start: number, len: number): string {
  if (len <= 0) return '';
  const out = new Uint8Array(len);
  let n = 0;
  for (let i = start, end = start + len; i < end; i++) {
    const c = bytes[i]!;
    if (c === 0x25 && i + 2 < end) {
      const hi = hexValue(bytes[i + 1]!);
      const lo = hexValue(bytes[i + 2]!);
      if (hi >= 0 && lo >= 0) {
        out[n++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
    }
    out[n++] = c;
  }
  return utf8.decode(out.subarray(0, n));
}

/** View of one URI record inside the OUT slots, over the bytes its offsets point into. */
export class UriRecord {
  readonly #rec: Int32Array;
  readonly #base: number;
  readonly #bytes: Uint8Array;

  /**
   * @param rec    the OUT region as i32 slots
   * @param base   slot of the record's U.STATUS
   * @param bytes  the input the record's offsets are relative to
   */
  constructor(rec: Int32Array, base: number, bytes: Uint8Array) {
    this.#rec = rec;
    this.#base = base;
    this.#bytes = bytes;
  }

  /** @return slot `i` (U.*) of the record. */
  slot(i: number): number {
    return this.#rec[this.#base + i]!;
  }

  /** @return the text of span (U.X_START, U.X_LEN), null when absent. */
  span(startSlot: number): string | null {
    const len = this.slot(startSlot + 1);
    return len < 0 ? null : decodeSpan(this.#bytes, this.slot(startSlot), len);
  }

  /** The URI without its `?headers` part, as written. */
  uriWithoutHeaders(): string {
    const start = this.slot(U.URI_START);
    const headersLen = this.slot(U.HEADERS_LEN);
    const end = headersLen >= 0 ? this.slot(U.HEADERS_START) - 1 : start + this.slot(U.URI_LEN);
    return decodeSpan(this.#bytes, start, end - start);
  }

  /** The URI headers in order, names and values percent-decoded. */
  headers(): UriHeader[] {
    const count = Math.min(this.slot(U.URI_HEADER_COUNT), MAX_URI_HEADERS);
    const out: UriHeader[] = [];
    for (let i = 0; i < count; i++) {
      const e = U.URI_HEADERS + i * UH_SIZE;
      out.push({
        name: percentDecode(this.#bytes, this.slot(e), this.slot(e + 1)),
        value: percentDecode(this.#bytes, this.slot(e + 2), this.slot(e + 3)),
      });
    }
    return out;
  }

  /**
   * The URI params as `{ name: value | null }`: names lower-cased (they
   * compare case-insensitively, RFC 3261 §19.1.4), values as written, the
   * first of repeated names kept. The object has no prototype.
   */
  params(): Record<string, string | null> {
    const out = Object.create(null) as Record<string, string | null>;
    const text = this.span(U.PARAMS_START);
    if (text === null) return out;
    for (const param of text.split(';')) {
      const eq = param.indexOf('=');
      const name = (eq < 0 ? param : param.slice(0, eq)).toLowerCase();
      if (!(name in out)) out[name] = eq < 0 ? null : param.slice(eq + 1);
    }
    return out;
  }
}
