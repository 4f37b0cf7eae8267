/**
 * ReceiveBatcher: received datagrams go to a pooled ParseEngine in batches,
 * inline otherwise.
 *
 * A pool round trip costs tens of microseconds, so the pool only pays for
 * batches of about 64 messages under sustained load (BENCHMARKS.md, "Pool:
 * batch size"). The policy is therefore adaptive:
 * - at a low arrival rate every datagram is parsed on arrival, inline, and
 *   delivered at once (no added latency);
 * - once `minPoolBatch` datagrams arrive within `maxWaitUs`, datagrams are
 *   collected: a batch that reaches `maxBatch` goes to the pool; a batch
 *   the timer flushes with fewer than `minPoolBatch` is parsed inline and
 *   the batcher returns to parsing on arrival.
 * Delivery keeps arrival order (so per-source order too): a batch is
 * delivered only after every batch before it. A batch the pool refuses
 * (PoolBusyError) or fails is parsed inline, never dropped. When
 * `maxWaiting` datagrams wait, everything waiting is parsed inline on the
 * spot and results still owed by the pool are ignored; no batch goes to the
 * pool again until those have settled (so a saturated pool is not kept busy
 * with abandoned work). Stream messages never come here: the pool's batches
 * carry datagrams only.
 */
import type { BatchResult, ParseEngine } from '../wasm/engine.js';
import { EngineClosedError } from '../wasm/engine.js';
import type { MessageView } from '../wasm/message-view.js';
import { PoolBusyError, PoolClosedError } from '../pool/errors.js';
import type { Clock, TimerHandle } from './clock.js';
import type { Source } from './transport.js';
import { resolveBatchOptions, type ReceiveBatchOptions, type ReceiveBatchStats } from './batch-options.js';

/** What a {@link ReceiveBatcher} is built from. */
export interface ReceiveBatcherInit extends ReceiveBatchOptions {
  /** The pooled engine. */
  engine: ParseEngine;
  /** Inline parsing of one datagram (small batches and every fallback; the view may be reused). */
  parse: (bytes: Uint8Array) => MessageView;
  /** Handles one parsed datagram exactly as the synchronous path does; called in arrival order. */
  deliver: (view: MessageView, bytes: Uint8Array, source: Source) => void;
  /** The batch timer's clock. */
  clock: Clock;
}

/** A sealed batch: with the pool (no result yet), parsed by it (result), or to parse inline. */
interface Batch {
  readonly messages: Uint8Array[];
  readonly sources: Source[];
  inline: boolean;
  result: BatchResult | undefined;
}

/** Collects datagrams into batches for a pooled engine and delivers them in order. */
export class ReceiveBatcher {
  #engine: ParseEngine;
  #parse: ReceiveBatcherInit['parse'];
  #deliver: ReceiveBatcherInit['deliver'];
  #clock: Clock;
  #maxBatch: number;
  #waitMs: number;
  #minPoolBatch: number;
  #maxWaiting: number;
  #messages: Uint8Array[] = [];
  #sources: Source[] = [];
  #timer: TimerHandle | undefined;
  #queue: Batch[] = [];
  #waiting = 0;
  #batching = false;
  #windowStart = Number.NEGATIVE_INFINITY;
  #windowCount = 0;
  #draining = false;
  #poolOff = false;
  #abandoned = 0;
  #closed = false;
  #stats = { direct: 0, pooledBatches: 0, pooled: 0, inlineBatches: 0, inline: 0, busyFallbacks: 0, poolFailures: 0, overflows: 0, peakWaiting: 0 };

  /** @param init  engine, inline parse, delivery, clock and settings (throws ReceiveBatchOptionsError on bad settings) */
  constructor(init: ReceiveBatcherInit) {
    this.#engine = init.engine;
    this.#parse = init.parse;
    this.#deliver = init.deliver;
    this.#clock = init.clock;
    const o = resolveBatchOptions(init);
    this.#maxBatch = o.maxBatch;
    this.#waitMs = o.maxWaitUs / 1000;
    this.#minPoolBatch = o.minPoolBatch;
    this.#maxWaiting = o.maxWaiting;
  }

  /** Take one received datagram (its bytes must stay unchanged; they are not copied). */
  push(bytes: Uint8Array, source: Source): void {
    if (this.#waiting >= this.#maxWaiting) {
      this.#stats.overflows++;
      this.#catchUp();
    }
    if (!this.#batching) {
      if (!this.#closed) this.#countArrival();
      if (!this.#batching && this.#waiting === 0 && !this.#draining) {
        this.#stats.direct++;
        this.#deliver(this.#parse(bytes), bytes, source);
        return;
      }
    }
    this.#messages.push(bytes);
    this.#sources.push(source);
    if (++this.#waiting > this.#stats.peakWaiting) this.#stats.peakWaiting = this.#waiting;
    if (this.#closed) this.#catchUp();
    else if (this.#messages.length >= this.#maxBatch) this.#seal(false);
    else this.#timer ??= this.#clock.setTimeout(() => this.#onTimer(), this.#waitMs);
  }

  /** Parse everything waiting inline now and deliver it, in order (results the pool still owes are ignored). */
  flush(): void {
    this.#catchUp();
  }

  /** Flush, then parse every later datagram inline on arrival. The engine stays open: its owner closes it. */
  close(): void {
    this.#closed = true;
    this.#batching = false;
    this.#catchUp();
  }

  /** @return a copy of the counters. */
  stats(): ReceiveBatchStats {
    return { batching: this.#batching, ...this.#stats, waiting: this.#waiting };
  }

  /** Tumbling window of length T: `minPoolBatch` arrivals inside one turn batching on. */
  #countArrival(): void {
    const now = this.#clock.now();
    if (now - this.#windowStart >= this.#waitMs) {
      this.#windowStart = now;
      this.#windowCount = 0;
    }
    if (++this.#windowCount >= this.#minPoolBatch && !this.#poolOff) this.#batching = true;
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#seal(true);
  }

  /** Queue the datagrams being collected as one batch (inline until sent to the pool). */
  #take(): Batch | undefined {
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#messages.length === 0) return undefined;
    const batch: Batch = { messages: this.#messages, sources: this.#sources, inline: true, result: undefined };
    this.#messages = [];
    this.#sources = [];
    this.#queue.push(batch);
    return batch;
  }

  /** Close the batch being collected: to the pool when big enough, else inline. */
  #seal(byTimer: boolean): void {
    const batch = this.#take();
    if (batch === undefined) return;
    if (!this.#closed && !this.#poolOff && this.#abandoned === 0 && batch.messages.length >= this.#minPoolBatch) {
      batch.inline = false;
      this.#send(batch);
    } else if (byTimer) {
      this.#batching = false;
      this.#windowCount = 0;
      this.#windowStart = this.#clock.now();
    }
    this.#drain();
  }

  #send(batch: Batch): void {
    let pending: Promise<BatchResult>;
    try {
      pending = this.#engine.parseBatch(batch.messages);
    } catch (error) {
      this.#failed(batch, error);
      return;
    }
    pending.then((result) => this.#parsed(batch, result), (error: unknown) => this.#failed(batch, error));
  }

  #parsed(batch: Batch, result: BatchResult): void {
    if (batch.inline) {
      this.#abandoned--;
      result.release();
      return;
    }
    batch.result = result;
    this.#drain();
  }

  #failed(batch: Batch, error: unknown): void {
    if (batch.inline) {
      this.#abandoned--;
      return;
    }
    if (error instanceof PoolBusyError) this.#stats.busyFallbacks++;
    else this.#stats.poolFailures++;
    if (error instanceof PoolClosedError || error instanceof EngineClosedError) {
      this.#poolOff = true;
      this.#batching = false;
    }
    batch.inline = true;
    this.#drain();
  }

  /** Seal what is being collected and make every batch without a result inline, then deliver all. */
  #catchUp(): void {
    this.#take();
    for (const batch of this.#queue) {
      if (batch.result !== undefined || batch.inline) continue;
      batch.inline = true;
      this.#abandoned++;
    }
    this.#drain();
  }

  /** Deliver batches from the head of the queue while they are ready (re-entrant calls return at once). */
  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let head = this.#queue[0]; head !== undefined; head = this.#queue[0]) {
        if (!head.inline && head.result === undefined) break;
        this.#queue.shift();
        this.#dispatch(head);
      }
    } finally {
      this.#draining = false;
    }
  }

  #dispatch(batch: Batch): void {
    const { messages, sources, result } = batch;
    const n = messages.length;
    try {
      if (result !== undefined) {
        this.#stats.pooledBatches++;
        this.#stats.pooled += n;
        for (let i = 0; i < n; i++) this.#deliver(result.view(i), messages[i]!, sources[i]!);
      } else {
        this.#stats.inlineBatches++;
        this.#stats.inline += n;
        for (let i = 0; i < n; i++) this.#deliver(this.#parse(messages[i]!), messages[i]!, sources[i]!);
      }
    } finally {
      result?.release();
      this.#waiting -= n;
    }
  }
}
