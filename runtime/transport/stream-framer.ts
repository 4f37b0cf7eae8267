/**
 * StreamFramer: cuts a TCP/TLS byte stream into SIP messages by
 * Content-Length (RFC 3261 §18.3) using the WASM find_message_end. Bounded:
 * a message that cannot fit the parser's limit is an error, never an
 * ever-growing buffer.
 */
import type { WasmParser } from '../wasm/parser.js';
import { errorInfo, type AbiErrorInfo } from '../wasm/abi.js';

/** What `next()` yields. */
export type FrameResult =
  | { kind: 'message'; bytes: Uint8Array }
  | { kind: 'keepalive'; bytes: Uint8Array }
  | { kind: 'need-more' }
  | { kind: 'error'; error: AbiErrorInfo };

/** Accumulates chunks and yields whole messages. */
export class StreamFramer {
  #parser: WasmParser;
  #buf: Uint8Array;
  #len = 0;
  #failed: AbiErrorInfo | undefined;

  constructor(parser: WasmParser) {
    this.#parser = parser;
    this.#buf = new Uint8Array(4096);
  }

  /** Bytes buffered and not yet framed. */
  get buffered(): number {
    return this.#len;
  }

  /** Append a chunk read from the socket. */
  push(chunk: Uint8Array): void {
    if (this.#len + chunk.length > this.#buf.length) {
      let size = this.#buf.length;
      while (size < this.#len + chunk.length) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.#buf.subarray(0, this.#len));
      this.#buf = next;
    }
    this.#buf.set(chunk, this.#len);
    this.#len += chunk.length;
  }

  /**
   * Take the next complete message. After an error the stream is unusable
   * (the connection must be closed) and every later call returns the error.
   */
  next(): FrameResult {
    if (this.#failed) return { kind: 'error', error: this.#failed };
    if (this.#len === 0) return { kind: 'need-more' };
    const limit = this.#parser.limits.maxMessageBytes;
    const view = this.#buf.subarray(0, Math.min(this.#len, limit + 1));
    const n = this.#parser.findMessageEnd(view);
    if (n < 0) {
      this.#failed = errorInfo(n);
      return { kind: 'error', error: this.#failed };
    }
    if (n === 0) {
      if (this.#len > limit) {
        this.#failed = errorInfo(-10);
        return { kind: 'error', error: this.#failed };
      }
      return { kind: 'need-more' };
    }
    const bytes = this.#buf.slice(0, n);
    this.#buf.copyWithin(0, n, this.#len);
    this.#len -= n;
    const keepalive = bytes.every((b) => b === 13 || b === 10);
    return { kind: keepalive ? 'keepalive' : 'message', bytes };
  }
}
