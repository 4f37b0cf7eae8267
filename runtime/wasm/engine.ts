/**
 * ParseEngine: parse a batch of messages, inline on this thread or in a
 * worker pool (runtime/pool/), behind one interface. This
 * file holds the interface and the inline engine; the pooled engine is
 * `createPooledEngine` in runtime/pool/pool.ts. Node-side (it loads the
 * module from build/ unless one is passed).
 */
import { compileModule, instantiate, type Flavour } from './load.js';
import { WasmParser, DEFAULT_LIMITS, type ParserLimits } from './parser.js';
import { RecordBatch, type BatchResult } from './record-batch.js';
import {
  ESTIMATED_SLOTS_PER_MESSAGE, HARD_MAX_HEADERS, copyRecords, fitEntries, packEntries, recordSlots,
} from './batch-layout.js';

export type { BatchResult } from './record-batch.js';

/** Parses batches of SIP messages (datagram rules: Content-Length optional). */
export interface ParseEngine {
  /** Which implementation this is. */
  readonly kind: 'inline' | 'pool';
  /**
   * Parse `messages` (not copied: keep them unchanged until the result is
   * released; record offsets point into them). Resolves once every message
   * has a record.
   */
  parseBatch(messages: readonly Uint8Array[]): Promise<BatchResult>;
  /** Release the engine's resources; later `parseBatch` calls reject. */
  close(): Promise<void>;
}

/** A batch the module refused (a bug in the packing, never bad SIP input). */
export class EngineBatchError extends Error {
  readonly code = 'PB_ERR_WASM_BATCH';
  constructor(message: string) {
    super(message);
    this.name = 'EngineBatchError';
  }
}

/** parseBatch on an engine after close(). */
export class EngineClosedError extends Error {
  readonly code = 'PB_ERR_WASM_CLOSED';
  constructor() {
    super('the parse engine is closed');
    this.name = 'EngineClosedError';
  }
}

/**
 * The limits as the module applies them (its clamping mirrored here), with
 * the message size also kept below `inCap - 8` so that any single message
 * fits in IN as one batch entry.
 */
export function effectiveLimits(limits: ParserLimits, inCap: number): Required<ParserLimits> {
  const l = { ...DEFAULT_LIMITS, ...limits };
  return {
    maxMessageBytes: Math.min(Math.max(l.maxMessageBytes, 64), inCap - 8),
    maxHeaders: Math.min(Math.max(l.maxHeaders, 8), HARD_MAX_HEADERS),
    maxLineBytes: Math.max(l.maxLineBytes, 64),
  };
}

/** Options of {@link createInlineEngine}. */
export interface InlineEngineOptions {
  /** Build to load when `module` is not given (default release). */
  flavour?: Flavour;
  /** A compiled module to instantiate instead of loading build/<flavour>.wasm. */
  module?: WebAssembly.Module;
  /** Parser limits. */
  limits?: ParserLimits;
}

/** The inline engine also parses synchronously. */
export interface InlineParseEngine extends ParseEngine {
  readonly kind: 'inline';
  /** Parse on the spot; same result as `parseBatch`, without the promise. */
  parseBatchSync(messages: readonly Uint8Array[]): BatchResult;
}

/**
 * One WASM instance on the calling thread. A batch is packed straight into
 * IN and parsed by one `parse_batch` call; the result reads the records in
 * OUT without copying them. When a previous result is still held (not
 * released) at the next `parseBatch`, its records are copied out first, so
 * results stay valid until released whatever the call order.
 */
class InlineEngine implements InlineParseEngine {
  readonly kind = 'inline' as const;
  #parser: WasmParser | undefined;
  #maxMessageBytes: number;
  #live: RecordBatch | undefined;

  constructor(parser: WasmParser) {
    this.#parser = parser;
    const limits = effectiveLimits(parser.limits, parser.inCap);
    parser.setLimits(limits);
    this.#maxMessageBytes = limits.maxMessageBytes;
  }

  parseBatch(messages: readonly Uint8Array[]): Promise<BatchResult> {
    try {
      return Promise.resolve(this.parseBatchSync(messages));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  parseBatchSync(messages: readonly Uint8Array[]): BatchResult {
    const parser = this.#parser;
    if (parser === undefined) throw new EngineClosedError();
    const out = parser.out;
    const live = this.#live;
    if (live !== undefined && !live.released) live.ownCopy(out);
    const n = messages.length;
    const end = fitEntries(messages, 0, parser.inCap, this.#maxMessageBytes);
    const parsed = this.#run(parser, messages, 0, end);
    if (parsed === n) {
      const batch = new RecordBatch(messages, this.#unlive);
      batch.addSegment(0, n, out, 0);
      this.#live = batch;
      return batch;
    }
    return this.#copying(parser, messages, parsed);
  }

  #unlive = (batch: RecordBatch): void => {
    if (this.#live === batch) this.#live = undefined;
  };

  /** Pack messages[from, end) into IN and parse them: @return how many were parsed. */
  #run(parser: WasmParser, messages: readonly Uint8Array[], from: number, end: number): number {
    const mem = parser.memory;
    const bytes = packEntries(messages, from, end, mem, parser.inPtr, this.#maxMessageBytes) - parser.inPtr;
    const parsed = parser.exports.parse_batch(end - from, bytes);
    if (parsed <= 0 && end > from) throw new EngineBatchError(`parse_batch returned ${parsed} for ${end - from} messages`);
    return parsed;
  }

  /** The slow path: the batch needs several `parse_batch` calls, so records are copied out. */
  #copying(parser: WasmParser, messages: readonly Uint8Array[], firstParsed: number): BatchResult {
    const n = messages.length;
    let dest = new Int32Array(n * ESTIMATED_SLOTS_PER_MESSAGE);
    let done = 0;
    let pos = n;
    let parsed = firstParsed;
    for (;;) {
      const out = parser.out;
      while (copyRecords(out, parsed, dest, done, pos) < parsed) {
        const grown = new Int32Array(dest.length * 2);
        grown.set(dest);
        dest = grown;
      }
      const last = dest[done + parsed - 1]!;
      pos = last + recordSlots(dest, last);
      done += parsed;
      if (done === n) break;
      const end = fitEntries(messages, done, parser.inCap, this.#maxMessageBytes);
      parsed = this.#run(parser, messages, done, end);
    }
    const batch = new RecordBatch(messages);
    batch.addSegment(0, n, dest, 0);
    return batch;
  }

  close(): Promise<void> {
    this.#parser = undefined;
    this.#live = undefined;
    return Promise.resolve();
  }
}

/**
 * Create the inline engine: parsing happens on the calling thread, in the
 * `parseBatch` call itself (the promise is already settled).
 */
export function createInlineEngine(opts: InlineEngineOptions = {}): InlineParseEngine {
  const mod = opts.module ?? compileModule(opts.flavour ?? 'release');
  return new InlineEngine(new WasmParser(instantiate(mod), opts.limits ?? {}));
}
