/**
 * Settings and counters of the receive batcher (batcher.ts): how datagrams
 * are grouped for the pooled parse engine.
 */

/** Batch settings (all counts are datagrams). */
export interface ReceiveBatchOptions {
  /** N: a batch goes to the pool as soon as it holds this many (default 64). */
  maxBatch?: number;
  /**
   * T: a partial batch is flushed this long after its first datagram, in
   * microseconds (default 1000; Node timers round up to whole milliseconds).
   * Also the window of the arrival-rate test.
   */
  maxWaitUs?: number;
  /**
   * Smallest batch worth a pool round trip, and the arrivals within T that
   * turn batching on (default 64; at most `maxBatch`).
   */
  minPoolBatch?: number;
  /** Most datagrams waiting (collected or with the pool); at the cap, all are parsed inline (default 4096). */
  maxWaiting?: number;
}

/** The defaults, from BENCHMARKS.md (the pool pays at batch ≥ 64). */
export const DEFAULT_BATCH_OPTIONS: Readonly<Required<ReceiveBatchOptions>> = Object.freeze({
  maxBatch: 64,
  maxWaitUs: 1000,
  minPoolBatch: 64,
  maxWaiting: 4096,
});

/** Counters of the receive batcher (batcher.ts). */
export interface ReceiveBatchStats {
  /** True while datagrams are being collected into batches. */
  batching: boolean;
  /** Datagrams parsed inline on arrival. */
  direct: number;
  /** Batches, and their datagrams, delivered from pool results. */
  pooledBatches: number; pooled: number;
  /** Batches, and their datagrams, parsed inline (small batches, fallbacks, overflow, close). */
  inlineBatches: number; inline: number;
  /** Batches the pool refused with PoolBusyError (parsed inline). */
  busyFallbacks: number;
  /** Batches the pool failed otherwise (parsed inline). */
  poolFailures: number;
  /** Times `maxWaiting` was reached. */
  overflows: number;
  /** Datagrams waiting now, and the most ever. */
  waiting: number; peakWaiting: number;
}

/** Invalid batch settings. */
export class ReceiveBatchOptionsError extends Error {
  readonly code = 'PB_ERR_TRANSPORT_BATCH_OPTIONS';
  constructor(message: string) {
    super(message);
    this.name = 'ReceiveBatchOptionsError';
  }
}

/**
 * @return every setting, defaults filled in, `minPoolBatch` capped at `maxBatch`
 * @throws ReceiveBatchOptionsError when a setting is not a positive integer
 */
export function resolveBatchOptions(options: ReceiveBatchOptions): Required<ReceiveBatchOptions> {
  const o = { ...DEFAULT_BATCH_OPTIONS };
  for (const key of ['maxBatch', 'maxWaitUs', 'minPoolBatch', 'maxWaiting'] as const) {
    const value = options[key] ?? DEFAULT_BATCH_OPTIONS[key];
    if (!Number.isInteger(value) || value < 1) throw new ReceiveBatchOptionsError(`${key} must be a positive integer, got ${value}`);
    o[key] = value;
  }
  o.minPoolBatch = Math.min(o.minPoolBatch, o.maxBatch);
  return o;
}
