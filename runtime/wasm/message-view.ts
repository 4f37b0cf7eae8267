/**
 * MessageView: typed access to one parsed SIP message through the index the
 * WASM parser wrote. Nothing is decoded until it is read, and reading one
 * header decodes only that header: the hot path makes no strings.
 */
import { M, F, H_SIZE, HF_FOLDED, HEADER_NAMES, METHOD_NAMES, HID, errorInfo, type AbiErrorInfo } from './abi.js';
import { decodeSpan, decodeFolded, decodeAscii } from './text.js';

/** A parse failure: code, byte offset and readable message. */
export interface ParseFailure extends AbiErrorInfo {
  readonly offset: number;
}

/**
 * View over (message bytes, i32 record). `record[base ...]` is the message
 * record; offsets in it are relative to `bytes[0]`.
 */
export class MessageView {
  #bytes: Uint8Array;
  #rec: Int32Array;
  #base: number;

  /**
   * @param bytes   the message bytes (not copied)
   * @param record  the i32 array holding the record
   * @param base    index of the record's first slot in `record`
   */
  constructor(bytes: Uint8Array, record: Int32Array, base = 0) {
    this.#bytes = bytes;
    this.#rec = record;
    this.#base = base;
  }

  /** Re-point this view at another message (lets a reader reuse one view: no allocation). */
  reset(bytes: Uint8Array, record: Int32Array, base = 0): this {
    this.#bytes = bytes;
    this.#rec = record;
    this.#base = base;
    return this;
  }

  /** @return slot `i` of the record. */
  slot(i: number): number {
    return this.#rec[this.#base + i]!;
  }

  #span(start: number, len: number): string | undefined {
    if (len < 0) return undefined;
    return (this.slot(M.FLAGS) & F.NON_ASCII) === 0 ? decodeAscii(this.#bytes, start, len) : decodeSpan(this.#bytes, start, len);
  }

  /** The raw bytes. */
  get bytes(): Uint8Array { return this.#bytes; }
  /** 0 ok, 1 keep-alive, negative = error code. */
  get status(): number { return this.slot(M.STATUS); }
  /** True when the message parsed (keep-alives included). */
  get ok(): boolean { return this.slot(M.STATUS) >= 0; }
  /** True for an RFC 5626 CRLF keep-alive. */
  get isKeepAlive(): boolean { return this.slot(M.KIND) === 3; }
  get isRequest(): boolean { return this.slot(M.KIND) === 1; }
  get isResponse(): boolean { return this.slot(M.KIND) === 2; }
  /** The failure, or undefined when the message parsed. */
  get error(): ParseFailure | undefined {
    const code = this.slot(M.STATUS);
    if (code >= 0) return undefined;
    return { ...errorInfo(code), offset: this.slot(M.ERROR_OFFSET) };
  }
  /** M.FLAGS bits (F.*). */
  get flags(): number { return this.slot(M.FLAGS); }
  /**
   * The first control byte (NUL, BEL, DEL...) a quoted-string holds as a
   * quoted-pair (F.ESCAPED_CTL, RFC 3261 §25.1): its byte offset and the
   * header holding it; undefined when there is none.
   */
  get escapedControl(): { offset: number; header: string | undefined } | undefined {
    if (!this.ok || (this.slot(M.FLAGS) & F.ESCAPED_CTL) === 0) return undefined;
    const entry = this.slot(M.ESCAPED_CTL_ENTRY);
    return { offset: this.slot(M.ESCAPED_CTL_OFFSET), header: entry >= 0 ? this.headerName(entry) : undefined };
  }
  /** Method id (requests; responses: the CSeq method), 0 = extension. */
  get methodId(): number { return this.slot(M.METHOD_ID); }
  /** Request method (case kept), or the CSeq method of a response. */
  get method(): string | undefined {
    if (this.isRequest) {
      const id = this.slot(M.METHOD_ID);
      return id > 0 ? METHOD_NAMES[id] : this.#span(this.slot(M.METHOD_START), this.slot(M.METHOD_LEN));
    }
    return this.cseqMethod;
  }
  get requestUri(): string | undefined { return this.#span(this.slot(M.RURI_START), this.slot(M.RURI_LEN)); }
  get statusCode(): number { return this.slot(M.STATUS_CODE); }
  get reason(): string | undefined { return this.#span(this.slot(M.REASON_START), this.slot(M.REASON_LEN)); }
  get headerCount(): number { return this.slot(M.HEADER_COUNT); }
  /** Length of the message (start line to end of body) within the input. */
  get messageLength(): number { return this.slot(M.MESSAGE_LEN); }
  get bodyLength(): number { return this.ok ? this.slot(M.BODY_LEN) : 0; }
  /** The body bytes (a view, not a copy). */
  get body(): Uint8Array {
    const start = this.slot(M.BODY_START);
    return this.#bytes.subarray(start, start + this.bodyLength);
  }
  get callId(): string | undefined { return this.valueAt(this.slot(M.IDX_CALL_ID)); }
  get cseqNumber(): number { return this.slot(M.CSEQ_NUMBER) >>> 0; }
  get cseqMethod(): string | undefined {
    const id = this.slot(M.CSEQ_METHOD_ID);
    return id > 0 ? METHOD_NAMES[id] : this.#span(this.slot(M.CSEQ_METHOD_START), this.slot(M.CSEQ_METHOD_LEN));
  }
  /** Top Via branch parameter. */
  get branch(): string | undefined { return this.#span(this.slot(M.BRANCH_START), this.slot(M.BRANCH_LEN)); }
  get fromTag(): string | undefined { return this.#span(this.slot(M.FROM_TAG_START), this.slot(M.FROM_TAG_LEN)); }
  get toTag(): string | undefined { return this.#span(this.slot(M.TO_TAG_START), this.slot(M.TO_TAG_LEN)); }
  /** Max-Forwards value, or undefined when absent. */
  get maxForwards(): number | undefined {
    const v = this.slot(M.MAX_FORWARDS);
    return v < 0 ? undefined : v;
  }

  #entry(i: number): number {
    return this.#base + M.HEADERS + i * H_SIZE;
  }

  /** Header id of entry `i` (0 = extension header). */
  headerId(i: number): number { return this.#rec[this.#entry(i)]!; }
  /** Full canonical name of entry `i` (compact forms expanded); extension names as received. */
  headerName(i: number): string {
    const e = this.#entry(i);
    const id = this.#rec[e]!;
    return id > 0 ? HEADER_NAMES[id]! : decodeSpan(this.#bytes, this.#rec[e + 1]!, this.#rec[e + 2]!);
  }
  /** Header name of entry `i` exactly as received. */
  rawHeaderName(i: number): string {
    const e = this.#entry(i);
    return decodeSpan(this.#bytes, this.#rec[e + 1]!, this.#rec[e + 2]!);
  }
  /** Value of entry `i` (folding read as one SP); undefined when i < 0. */
  valueAt(i: number): string | undefined {
    if (i < 0 || i >= this.headerCount) return undefined;
    const e = this.#entry(i);
    const start = this.#rec[e + 3]!;
    const len = this.#rec[e + 4]!;
    if ((this.#rec[e + 5]! & HF_FOLDED) !== 0) return decodeFolded(this.#bytes, start, len);
    return this.#span(start, len)!;
  }
  /** [start, length] of entry `i`'s value within `bytes`. */
  valueSpan(i: number): [number, number] {
    const e = this.#entry(i);
    return [this.#rec[e + 3]!, this.#rec[e + 4]!];
  }

  /** Index of the first entry with header id `id`, or -1. */
  indexOfId(id: number, from = 0): number {
    for (let i = from, n = this.headerCount; i < n; i++) if (this.headerId(i) === id) return i;
    return -1;
  }

  #indexOfName(name: string, from: number): number {
    const id = headerIdOf(name);
    if (id > 0) return this.indexOfId(id, from);
    const lower = name.toLowerCase();
    for (let i = from, n = this.headerCount; i < n; i++) {
      if (this.headerId(i) === 0 && this.rawHeaderName(i).toLowerCase() === lower) return i;
    }
    return -1;
  }

  /** First value of header `name` (any case, compact forms too), or undefined. */
  header(name: string): string | undefined {
    return this.valueAt(this.#indexOfName(name, 0));
  }
  /** Every value of header `name`, in order (comma lists already split). */
  headers(name: string): string[] {
    const out: string[] = [];
    for (let i = this.#indexOfName(name, 0); i >= 0; i = this.#indexOfName(name, i + 1)) out.push(this.valueAt(i)!);
    return out;
  }
  /** Is there a Refer-To count etc. Convenience: number of entries with id. */
  countId(id: number): number {
    let n = 0;
    for (let i = 0, c = this.headerCount; i < c; i++) if (this.headerId(i) === id) n++;
    return n;
  }

  /** A self-contained copy (the record is copied; the bytes are shared). */
  detach(): MessageView {
    const len = M.HEADERS + Math.max(0, this.headerCount) * H_SIZE;
    return new MessageView(this.#bytes, this.#rec.slice(this.#base, this.#base + len), 0);
  }
}

const idByLowerName = new Map<string, number>();
HEADER_NAMES.forEach((n, id) => { if (id > 0) idByLowerName.set(n.toLowerCase(), id); });
const COMPACT: Record<string, number> = {
  v: HID.VIA, f: HID.FROM, t: HID.TO, i: HID.CALL_ID, m: HID.CONTACT, l: HID.CONTENT_LENGTH,
  c: HID.CONTENT_TYPE, k: 12, s: 13, r: HID.REFER_TO, b: HID.REFERRED_BY, o: HID.EVENT, u: 27, e: 16,
  x: 54, y: 63, a: 66, j: 67, d: 68,
};

/** @return the header id for a name (full or compact, any case), 0 when not well known. */
export function headerIdOf(name: string): number {
  const lower = name.toLowerCase();
  if (lower.length === 1) return COMPACT[lower] ?? 0;
  return idByLowerName.get(lower) ?? 0;
}
