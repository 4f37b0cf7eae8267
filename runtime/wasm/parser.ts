/**
 * The inline parse engine: one WASM instance on the calling thread. Input
 * bytes are copied into linear memory, the record is read in place. Browser-
 * safe (the instance may come from load.ts in Node or from embed.ts).
 */
import { MessageView } from './message-view.js';
import type { ParserExports } from './exports.js';

/** Parser limits (RFC 3261 leaves them to implementations). */
export interface ParserLimits {
  /** Largest message in bytes (default 65535). */
  maxMessageBytes?: number;
  /** Most header entries after splitting comma lists (default 256, at most 1024). */
  maxHeaders?: number;
  /** Longest line in bytes (default 8192). */
  maxLineBytes?: number;
}

/** Defaults applied by the WASM module itself. */
export const DEFAULT_LIMITS: Required<ParserLimits> = {
  maxMessageBytes: 65535,
  maxHeaders: 256,
  maxLineBytes: 8192,
};

/** Wraps one instance: copy in, call, read the record. */
export class WasmParser {
  readonly exports: ParserExports;
  readonly inPtr: number;
  readonly inCap: number;
  readonly outPtr: number;
  readonly outCap: number;
  #buffer: ArrayBuffer;
  #mem: Uint8Array;
  #out: Int32Array;
  #view: MessageView;
  #limits: Required<ParserLimits>;

  constructor(exports: ParserExports, limits: ParserLimits = {}) {
    this.exports = exports;
    this.inPtr = exports.in_ptr();
    this.inCap = exports.in_cap();
    this.outPtr = exports.out_ptr();
    this.outCap = exports.out_cap();
    this.#buffer = exports.memory.buffer;
    this.#mem = new Uint8Array(this.#buffer);
    this.#out = new Int32Array(this.#buffer, this.outPtr, this.outCap);
    this.#view = new MessageView(new Uint8Array(0), this.#out, 0);
    this.#limits = { ...DEFAULT_LIMITS, ...limits };
    this.setLimits(this.#limits);
  }

  /** Current limits. */
  get limits(): Required<ParserLimits> {
    return this.#limits;
  }

  /** Change the limits of this instance. */
  setLimits(limits: ParserLimits): void {
    this.#limits = { ...this.#limits, ...limits };
    const l = this.#limits;
    this.exports.set_limits(l.maxMessageBytes, l.maxHeaders, l.maxLineBytes);
  }

  #refresh(): void {
    // memory.grow detaches the old buffer (byteLength 0): a cheap test,
    // unlike reading memory.buffer, which crosses into the engine
    if (this.#mem.byteLength === 0) {
      this.#buffer = this.exports.memory.buffer;
      this.#mem = new Uint8Array(this.#buffer);
      this.#out = new Int32Array(this.#buffer, this.outPtr, this.outCap);
    }
  }

  /** Linear memory as bytes (re-created if memory grew). */
  get memory(): Uint8Array {
    this.#refresh();
    return this.#mem;
  }

  /** The OUT region as i32 slots. */
  get out(): Int32Array {
    this.#refresh();
    return this.#out;
  }

  /**
   * Copy `bytes` into IN at `offset`.
   * @return the number of bytes copied (input longer than IN is truncated: callers check limits first)
   */
  writeInput(bytes: Uint8Array, offset = 0): number {
    this.#refresh();
    const n = Math.min(bytes.length, this.inCap - offset);
    this.#mem.set(n === bytes.length ? bytes : bytes.subarray(0, n), this.inPtr + offset);
    return n;
  }

  /**
   * Parse one message. The returned view is reused by the next call on this
   * parser: call `detach()` to keep it.
   * @param isStream  the bytes were framed from TCP/TLS (Content-Length mandatory)
   */
  parse(bytes: Uint8Array, isStream = false): MessageView {
    const n = this.writeInput(bytes);
    this.exports.parse_message(n, isStream ? 1 : 0);
    return this.#view.reset(n === bytes.length ? bytes : bytes.subarray(0, n), this.#out, 0);
  }

  /** Parse and return a view of its own. */
  parseDetached(bytes: Uint8Array, isStream = false): MessageView {
    return this.parse(bytes, isStream).detach();
  }

  /**
   * Frame the next message at the start of a stream buffer.
   * @return >0 its length, 0 need more bytes, <0 error code
   */
  findMessageEnd(bytes: Uint8Array): number {
    const n = this.writeInput(bytes);
    return this.exports.find_message_end(n);
  }
}
