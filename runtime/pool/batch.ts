/**
 * What crosses the thread boundary, and the shared buffers it lives in: a
 * task carries a batch, never one message (a round trip costs more than a
 * parse).
 *
 * The main thread packs a batch into an input SharedArrayBuffer in the
 * `parse_batch` entry layout (runtime/wasm/batch-layout.ts). The worker
 * copies entries into its IN region, parses, and writes into a result
 * SharedArrayBuffer: `count` directory slots (record offsets in i32 slots
 * from the start of the buffer), then the records. The task message carries
 * only the two buffers (shared, not copied) and four numbers; the reply is
 * one number. Both buffers come from a {@link BufferPool}.
 */
import type { ParserLimits, WasmParser } from '../wasm/parser.js';
import { copyRecords, entryBytes, recordSlots } from '../wasm/batch-layout.js';
import { E_ARGUMENT } from '../wasm/abi.generated.js';

/** Name of the worker export that parses a batch (piscina named task). */
export const PARSE_BATCH_TASK = 'parseBatch';

/** What every worker receives in workerData. */
export interface WorkerInit {
  /** The compiled module, shared by every thread (compiled once per process). */
  module: WebAssembly.Module;
  /** Limits, already clamped by `effectiveLimits`. */
  limits: Required<ParserLimits>;
}

/** One batch (or the rest of one) for a worker. */
export interface ParseTask {
  /** Packed entries. */
  input: SharedArrayBuffer;
  /** Byte offset of the first entry to parse (non-zero when resuming a split batch). */
  offset: number;
  /** Bytes of entries from `offset`. */
  bytes: number;
  /** Entries from `offset`. */
  count: number;
  /** Directory and records go here, from slot 0. */
  result: SharedArrayBuffer;
}


/** @return the little-endian u32 at `p`. */
function readLength(bytes: Uint8Array, p: number): number {
  return (bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24)) >>> 0;
}

/** @return the byte offset just past `n` entries starting at `p`. */
function skipEntries(bytes: Uint8Array, p: number, n: number): number {
  for (let i = 0; i < n; i++) p += entryBytes(readLength(bytes, p));
  return p;
}

/**
 * The worker's side of a task: parse entries chunk by chunk (a chunk is what
 * fits in IN, and `parse_batch` may stop early when OUT is full) and copy
 * the records into `result` until it is full.
 * @return how many entries now have records in `result` (the caller sends
 *         the rest again), or a negative ABI error code
 */
export function parseInto(parser: WasmParser, input: Uint8Array, task: ParseTask, result: Int32Array): number {
  const { count } = task;
  const stop = task.offset + task.bytes;
  let src = task.offset;
  let done = 0;
  let pos = count;
  while (done < count) {
    let p = src;
    let n = 0;
    while (done + n < count) {
      const size = entryBytes(readLength(input, p));
      if (p + size - src > parser.inCap || p + size > stop) break;
      p += size;
      n++;
    }
    if (n === 0) return E_ARGUMENT;
    parser.memory.set(input.subarray(src, p), parser.inPtr);
    const parsed = parser.exports.parse_batch(n, p - src);
    if (parsed <= 0) return parsed < 0 ? parsed : E_ARGUMENT;
    const fit = copyRecords(parser.out, parsed, result, done, pos);
    if (fit > 0) {
      const last = result[done + fit - 1]!;
      pos = last + recordSlots(result, last);
      src = skipEntries(input, src, fit);
      done += fit;
    }
    if (fit < parsed) break;
  }
  return done;
}

/** A SharedArrayBuffer with its two views, made once. */
export interface SharedBuffer {
  readonly buffer: SharedArrayBuffer;
  readonly bytes: Uint8Array;
  readonly slots: Int32Array;
}

/** Smallest buffer handed out, in bytes. */
const MIN_BUFFER_BYTES = 64 * 1024;

/**
 * A free list of SharedArrayBuffers in power-of-two size classes, so that
 * steady-state batches allocate no big buffer. Each class keeps at most
 * `keepPerClass` idle buffers; extra ones are left to the GC.
 */
export class BufferPool {
  #free = new Map<number, SharedBuffer[]>();
  #keepPerClass: number;
  #allocated = 0;

  /** @param keepPerClass  idle buffers kept per size class (in-flight batches need two each) */
  constructor(keepPerClass: number) {
    this.#keepPerClass = keepPerClass;
  }

  /** Buffers created so far (a steady state leaves this constant). */
  get allocated(): number {
    return this.#allocated;
  }

  /** @return a buffer of at least `minBytes` bytes (contents unspecified). */
  acquire(minBytes: number): SharedBuffer {
    let size = MIN_BUFFER_BYTES;
    while (size < minBytes) size *= 2;
    const reused = this.#free.get(size)?.pop();
    if (reused !== undefined) return reused;
    this.#allocated++;
    const buffer = new SharedArrayBuffer(size);
    return { buffer, bytes: new Uint8Array(buffer), slots: new Int32Array(buffer) };
  }

  /** Put a buffer back for reuse. */
  release(shared: SharedBuffer): void {
    const size = shared.buffer.byteLength;
    let list = this.#free.get(size);
    if (list === undefined) {
      list = [];
      this.#free.set(size, list);
    }
    if (list.length < this.#keepPerClass && !list.includes(shared)) list.push(shared);
  }

  /** Drop every idle buffer. */
  clear(): void {
    this.#free.clear();
  }
}
