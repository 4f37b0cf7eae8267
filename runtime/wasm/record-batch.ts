/**
 * RecordBatch: the {@link BatchResult} both engines return. It reads records
 * where they lie (the inline parser's OUT region, or a pool result buffer)
 * through one reused {@link MessageView}. Browser-safe.
 */
import { MessageView } from './message-view.js';
import { M } from './abi.js';
import { recordSlots } from './batch-layout.js';

/** The parse results of one batch, read in place. */
export interface BatchResult {
  /** Number of messages in the batch (the input length; 0 once released). */
  readonly count: number;
  /**
   * Status of message `i`: 0 parsed, 1 keep-alive, negative = ABI error code
   * (see runtime/wasm/abi.ts `errorInfo`).
   */
  status(i: number): number;
  /**
   * A view of message `i`. The same view object is re-pointed on every call
   * (no allocation per message): read what you need before the next `view()`
   * call and before the engine's next `parseBatch`, or call `detach()` on it
   * to keep a copy. Calling `view(i)` again is always safe until `release()`.
   */
  view(i: number): MessageView;
  /**
   * Hand the buffers back to the engine for reuse. Views obtained before are
   * invalid afterwards, and `status`/`view` throw a RangeError. Idempotent.
   * Not calling it is safe but costs a buffer allocation on a later batch.
   */
  release(): void;
}

/** Records for the messages [from, end) of a batch: their directory starts at `records[dir]`. */
interface Segment {
  from: number;
  end: number;
  records: Int32Array;
  dir: number;
}

/**
 * A batch result over one or more segments of records. Engines build it;
 * consumers only see {@link BatchResult}.
 */
export class RecordBatch implements BatchResult {
  #messages: readonly Uint8Array[];
  #segments: Segment[] = [];
  #count: number;
  #view: MessageView | undefined;
  #onRelease: ((batch: RecordBatch) => void) | undefined;
  #released = false;

  /**
   * @param messages   the input messages (record offsets are relative to each one)
   * @param onRelease  called once by `release()`
   */
  constructor(messages: readonly Uint8Array[], onRelease?: (batch: RecordBatch) => void) {
    this.#messages = messages;
    this.#count = messages.length;
    this.#onRelease = onRelease;
  }

  /**
   * Add the records of messages [from, from + n): directory slot `i - from`
   * is `records[dir + i - from]`. Segments are added in order.
   */
  addSegment(from: number, n: number, records: Int32Array, dir: number): void {
    this.#segments.push({ from, end: from + n, records, dir });
  }

  /** True once `release()` ran. */
  get released(): boolean {
    return this.#released;
  }

  get count(): number {
    return this.#count;
  }

  #segment(i: number): Segment {
    if (!(i >= 0 && i < this.#count)) throw new RangeError(`message ${i} is not in this batch of ${this.#count}`);
    const segments = this.#segments;
    for (let s = 0; s < segments.length; s++) {
      const seg = segments[s]!;
      if (i < seg.end) return seg;
    }
    throw new RangeError(`message ${i} has no record`);
  }

  status(i: number): number {
    const seg = this.#segment(i);
    return seg.records[seg.records[seg.dir + i - seg.from]! + M.STATUS]!;
  }

  view(i: number): MessageView {
    const seg = this.#segment(i);
    const base = seg.records[seg.dir + i - seg.from]!;
    if (this.#view === undefined) {
      this.#view = new MessageView(this.#messages[i]!, seg.records, base);
      return this.#view;
    }
    return this.#view.reset(this.#messages[i]!, seg.records, base);
  }

  /**
   * Copy every segment that lives in `shared` into memory of its own, so
   * that `shared` can be overwritten (the inline engine calls this when a
   * batch is still held while the next one is parsed).
   */
  ownCopy(shared: Int32Array): void {
    for (const seg of this.#segments) {
      if (seg.records !== shared) continue;
      let end = seg.dir + (seg.end - seg.from);
      for (let k = seg.dir; k < seg.dir + (seg.end - seg.from); k++) {
        const base = shared[k]!;
        end = Math.max(end, base + recordSlots(shared, base));
      }
      seg.records = shared.slice(0, end);
    }
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    const done = this.#onRelease;
    this.#onRelease = undefined;
    this.#count = 0;
    done?.(this);
    this.#segments = [];
  }
}
