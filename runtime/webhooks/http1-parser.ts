/**
 * Strict, incremental parser of HTTP/1.x responses for the pool in
 * `http1.ts`: bytes go in as they arrive from the socket, in pieces of any
 * size; out comes the status, headers, the whole (bounded) body, and whether
 * the connection may carry another request.
 *
 * - Head: `HTTP/1.x NNN reason` status line, CRLF line endings only (a head
 *   using bare LF fails at once), token header names, no obsolete line
 *   folding, at most one `Content-Length` value; the head (status line and
 *   headers) is bounded by `maxHeaderBytes`. It is decoded as latin1 and cut
 *   with `indexOf`, names lower-cased, repeated headers joined with `, `.
 * - Interim 1xx responses (100 Continue, 103 Early Hints) are skipped; a 101
 *   is an error (no upgrade was asked for).
 * - Body framing: `Transfer-Encoding` ending in `chunked` (hex sizes,
 *   extensions and trailers skipped; trailers bounded like the head), else
 *   `Content-Length`, else the end of the connection. 204 and 304 have none.
 *   A body over `maxBodyBytes` fails as soon as that is known: a declared
 *   length at once, chunked and close-delimited bodies when the sum exceeds.
 * - Reuse: not after `Connection: close`, HTTP/1.0 without `keep-alive`, a
 *   close-delimited body, both `Transfer-Encoding` and `Content-Length`, or
 *   bytes following the response (nothing was pipelined).
 */

/** `feed` needs more bytes. */
export const PARSE_MORE = 0;
/** The response is complete. */
export const PARSE_DONE = 1;
/** The response is malformed or too large: see `errorKind` and `errorMessage`. */
export const PARSE_ERROR = 2;

// parser states
const HEAD = 0;
const LENGTH = 1;
const CHUNK_SIZE = 2;
const CHUNK_DATA = 3;
const CHUNK_END = 4;
const TRAILERS = 5;
const UNTIL_CLOSE = 6;
/** A step made progress: run the next one. */
const NEXT = 3;

const CRLF = Buffer.from('\r\n', 'latin1');
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const LFLF = Buffer.from('\n\n', 'latin1');
const EMPTY = Buffer.alloc(0);
/** Longest chunk-size line (size and extensions) accepted. */
const MAX_CHUNK_LINE = 4096;

/** RFC 9110 token characters, by char code. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;

/** @return true when `list` (a comma-separated header value) holds `token`, case-insensitively. */
function hasToken(list: string | undefined, token: string): boolean {
  if (list === undefined) return false;
  for (const item of list.toLowerCase().split(',')) if (item.trim() === token) return true;
  return false;
}

/** @return the value of a hex digit's char code, or -1. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

/** @return the value of a string of 1 to 15 decimal digits, or -1. */
function decimal(text: string): number {
  if (text.length === 0 || text.length > 15) return -1;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** Parses one response at a time; `reset` before each. */
export class ResponseParser {
  /** The final status (after `PARSE_DONE`). */
  status = 0;
  /** Lower-case names; a repeated header's values joined with `, `. */
  headers = new Map<string, string>();
  /** Whether the connection may carry another request after this response. */
  keepAlive = true;
  /** Why parsing failed (after `PARSE_ERROR`). */
  errorKind: 'protocol' | 'too-large' = 'protocol';
  errorMessage = '';
  readonly #maxHeaderBytes: number;
  #maxBodyBytes = 0;
  #state = HEAD;
  /** Unconsumed input from `#pos` on. */
  #buf: Buffer = EMPTY;
  #pos = 0;
  /** Head bytes already searched for the blank line, or trailer bytes already skipped. */
  #scanned = 0;
  #remaining = 0;
  #chunks: Buffer[] = [];
  #size = 0;

  /** @param maxHeaderBytes - largest head, and separately largest trailer section, in bytes. */
  constructor(maxHeaderBytes: number) {
    this.#maxHeaderBytes = maxHeaderBytes;
  }

  /** Get ready for the next response, whose body may hold at most `maxBodyBytes`. */
  reset(maxBodyBytes: number): void {
    this.#maxBodyBytes = maxBodyBytes;
    this.#state = HEAD;
    this.#buf = EMPTY;
    this.#pos = 0;
    this.#scanned = 0;
    this.#chunks = [];
    this.#size = 0;
    this.status = 0;
    this.keepAlive = true;
  }

  /** True when the body runs until the connection closes (the end of input completes it). */
  get untilClose(): boolean {
    return this.#state === UNTIL_CLOSE;
  }

  /** The body, once the response is complete. */
  body(): Buffer {
    const chunks = this.#chunks;
    this.#chunks = [];
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.#size);
  }

  /**
   * Take the next bytes received.
   * @param chunk - bytes from the socket (kept by reference, not copied).
   * @return `PARSE_MORE`, `PARSE_DONE` or `PARSE_ERROR`.
   */
  feed(chunk: Buffer): number {
    this.#buf = this.#pos < this.#buf.length ? Buffer.concat([this.#buf.subarray(this.#pos), chunk]) : chunk;
    this.#pos = 0;
    for (;;) {
      const step = this.#step();
      if (step === NEXT) continue;
      if (step === PARSE_DONE && this.#pos < this.#buf.length) this.keepAlive = false; // bytes nobody asked for
      if (step !== PARSE_MORE || this.#pos >= this.#buf.length) this.#buf = EMPTY;
      return step;
    }
  }

  #fail(kind: 'protocol' | 'too-large', message: string): number {
    this.errorKind = kind;
    this.errorMessage = message;
    return PARSE_ERROR;
  }

  #tooLarge(): number {
    return this.#fail('too-large', `response body over ${this.#maxBodyBytes} bytes`);
  }

  /** Parse what the current state needs from `#buf` at `#pos`. */
  #step(): number {
    const buf = this.#buf;
    const available = buf.length - this.#pos;
    switch (this.#state) {
      case HEAD:
        return this.#head();
      case LENGTH:
      case CHUNK_DATA: {
        if (available === 0) return PARSE_MORE;
        const n = Math.min(available, this.#remaining);
        this.#chunks.push(buf.subarray(this.#pos, this.#pos + n));
        this.#pos += n;
        this.#size += n;
        this.#remaining -= n;
        if (this.#remaining > 0) return PARSE_MORE;
        if (this.#state === LENGTH) return PARSE_DONE;
        this.#state = CHUNK_END;
        return NEXT;
      }
      case CHUNK_SIZE:
        return this.#chunkSize();
      case CHUNK_END:
        if (available < 2) return PARSE_MORE;
        if (buf[this.#pos] !== 13 || buf[this.#pos + 1] !== 10) return this.#fail('protocol', 'chunk data not followed by CRLF');
        this.#pos += 2;
        this.#state = CHUNK_SIZE;
        return NEXT;
      case TRAILERS: {
        const end = buf.indexOf(CRLF, this.#pos);
        if (end === this.#pos) {
          this.#pos += 2;
          return PARSE_DONE;
        }
        const line = end === -1 ? available : end + 2 - this.#pos;
        if (this.#scanned + line > this.#maxHeaderBytes) return this.#fail('protocol', 'response trailers too large');
        if (end === -1) return PARSE_MORE;
        this.#scanned += line;
        this.#pos = end + 2;
        return NEXT;
      }
      default: {
        // UNTIL_CLOSE
        if (available === 0) return PARSE_MORE;
        this.#size += available;
        if (this.#size > this.#maxBodyBytes) return this.#tooLarge();
        this.#chunks.push(this.#pos === 0 ? buf : buf.subarray(this.#pos));
        this.#pos = buf.length;
        return PARSE_MORE;
      }
    }
  }

  /** A chunk-size line: hex digits, optional whitespace and `;extensions`, CRLF. */
  #chunkSize(): number {
    const buf = this.#buf;
    const start = this.#pos;
    const end = buf.indexOf(CRLF, start);
    if ((end === -1 ? buf.length : end) - start > MAX_CHUNK_LINE) return this.#fail('protocol', 'chunk-size line too long');
    if (end === -1) return PARSE_MORE;
    let size = 0;
    let at = start;
    for (; at < end; at++) {
      const digit = hexValue(buf[at]!);
      if (digit === -1) break;
      size = size * 16 + digit;
      if (this.#size + size > this.#maxBodyBytes) return this.#tooLarge();
    }
    if (at === start) return this.#fail('protocol', 'chunk size is not hexadecimal');
    while (at < end && (buf[at] === 32 || buf[at] === 9)) at++;
    if (at < end && buf[at] !== 59) return this.#fail('protocol', 'malformed chunk-size line');
    this.#pos = end + 2;
    if (size === 0) {
      this.#state = TRAILERS;
      this.#scanned = 0;
    } else {
      this.#state = CHUNK_DATA;
      this.#remaining = size;
    }
    return NEXT;
  }

  /** Find and parse a response head; skip 1xx; choose the body framing. */
  #head(): number {
    const buf = this.#buf;
    const start = this.#pos;
    const limit = this.#maxHeaderBytes;
    const end = buf.indexOf(CRLFCRLF, start + Math.max(0, this.#scanned - 3));
    if (end === -1) {
      if (buf.length - start > limit) return this.#fail('protocol', `response head larger than ${limit} bytes`);
      if (buf.indexOf(LFLF, start + Math.max(0, this.#scanned - 1)) !== -1) return this.#fail('protocol', 'response head without CRLF line endings');
      this.#scanned = buf.length - start;
      return PARSE_MORE;
    }
    this.#scanned = 0;
    if (end + 4 - start > limit) return this.#fail('protocol', `response head larger than ${limit} bytes`);
    this.#pos = end + 4;
    const head = buf.toString('latin1', start, end);
    const lineEnd = head.indexOf('\r\n');
    const statusEnd = lineEnd === -1 ? head.length : lineEnd;
    const minor = head.charCodeAt(7) - 48;
    const d1 = head.charCodeAt(9) - 48;
    const d2 = head.charCodeAt(10) - 48;
    const d3 = head.charCodeAt(11) - 48;
    const cr = head.indexOf('\r');
    const lf = head.indexOf('\n');
    if (
      statusEnd < 12 || !head.startsWith('HTTP/1.') || head.charCodeAt(8) !== 32 ||
      !(minor >= 0 && minor <= 9) || !(d1 >= 1 && d1 <= 5) || !(d2 >= 0 && d2 <= 9) || !(d3 >= 0 && d3 <= 9) ||
      (statusEnd > 12 && head.charCodeAt(12) !== 32) || (cr !== -1 && cr < statusEnd) || (lf !== -1 && lf <= statusEnd)
    ) {
      return this.#fail('protocol', `malformed status line ${JSON.stringify(head.slice(0, Math.min(statusEnd, 64)))}`);
    }
    const status = d1 * 100 + d2 * 10 + d3;
    const headers = new Map<string, string>();
    let contentLength = -1;
    for (let at = statusEnd + 2; at < head.length;) {
      let next = head.indexOf('\r\n', at);
      if (next === -1) next = head.length;
      const colon = head.indexOf(':', at);
      if (colon <= at || colon > next) return this.#fail('protocol', 'malformed header line');
      for (let i = at; i < colon; i++) {
        const c = head.charCodeAt(i);
        if (c > 127 || TCHAR[c] !== 1) return this.#fail('protocol', 'malformed header name');
      }
      const lineCr = head.indexOf('\r', colon);
      const lineLf = head.indexOf('\n', colon);
      if ((lineCr !== -1 && lineCr < next) || (lineLf !== -1 && lineLf < next)) return this.#fail('protocol', 'bare CR or LF in a header');
      let valueStart = colon + 1;
      let valueEnd = next;
      while (valueStart < valueEnd && (head.charCodeAt(valueStart) === 32 || head.charCodeAt(valueStart) === 9)) valueStart++;
      while (valueEnd > valueStart && (head.charCodeAt(valueEnd - 1) === 32 || head.charCodeAt(valueEnd - 1) === 9)) valueEnd--;
      const name = head.slice(at, colon).toLowerCase();
      const value = head.slice(valueStart, valueEnd);
      if (name === 'content-length') {
        const length = decimal(value);
        if (length === -1 || (contentLength !== -1 && contentLength !== length)) return this.#fail('protocol', 'invalid Content-Length');
        contentLength = length;
      }
      const previous = headers.get(name);
      headers.set(name, previous === undefined ? value : `${previous}, ${value}`);
      at = next + 2;
    }
    if (status < 200) {
      if (status === 101) return this.#fail('protocol', 'unexpected 101 Switching Protocols');
      return NEXT; // an interim response: the final one follows
    }
    this.status = status;
    this.headers = headers;
    const connection = headers.get('connection');
    this.keepAlive = minor >= 1 ? !hasToken(connection, 'close') : hasToken(connection, 'keep-alive');
    if (status === 204 || status === 304) return PARSE_DONE;
    const transferEncoding = headers.get('transfer-encoding');
    if (transferEncoding !== undefined) {
      if (contentLength !== -1) this.keepAlive = false; // two framings: do not trust the connection afterwards
      const last = transferEncoding.slice(transferEncoding.lastIndexOf(',') + 1).trim().toLowerCase();
      if (last === 'chunked') {
        this.#state = CHUNK_SIZE;
        return NEXT;
      }
      this.keepAlive = false;
      this.#state = UNTIL_CLOSE;
      return NEXT;
    }
    if (contentLength > this.#maxBodyBytes) {
      return this.#fail('too-large', `response body of ${contentLength} bytes is over ${this.#maxBodyBytes}`);
    }
    if (contentLength === 0) return PARSE_DONE;
    if (contentLength > 0) {
      this.#state = LENGTH;
      this.#remaining = contentLength;
      return NEXT;
    }
    this.keepAlive = false;
    this.#state = UNTIL_CLOSE;
    return NEXT;
  }
}
