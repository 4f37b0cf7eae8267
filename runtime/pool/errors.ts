/**
 * Errors the pooled parse engine rejects with. Each has a stable `code`.
 */

/**
 * The pool's queue is full (it is bounded): the caller should shed load,
 * e.g. answer a new INVITE with 503 + Retry-After and keep in-dialog
 * traffic flowing.
 */
export class PoolBusyError extends Error {
  readonly code = 'PB_ERR_POOL_BUSY';
  /** Batches waiting for a thread when the batch was refused. */
  readonly queueSize: number;
  constructor(queueSize: number, maxQueue: number) {
    super(`parse pool is busy: ${queueSize} of ${maxQueue} queued batches`);
    this.name = 'PoolBusyError';
    this.queueSize = queueSize;
  }
}

/** parseBatch after close(). */
export class PoolClosedError extends Error {
  readonly code = 'PB_ERR_POOL_CLOSED';
  constructor() {
    super('the parse pool is closed');
    this.name = 'PoolClosedError';
  }
}

/** The compiled worker module is not where the pool looks for it. */
export class PoolWorkerMissingError extends Error {
  readonly code = 'PB_ERR_POOL_WORKER_MISSING';
  constructor(path: string) {
    super(
      `parse pool worker not found at ${path}: run "npx tsc -p tsconfig.build.json" and use dist/, ` +
        'or pass workerUrl (test/support/pool-worker.ts builds one for tests)',
    );
    this.name = 'PoolWorkerMissingError';
  }
}

/** A worker could not parse a batch (a packing bug, never bad SIP input). */
export class PoolBatchError extends Error {
  readonly code = 'PB_ERR_POOL_BATCH';
  constructor(message: string) {
    super(message);
    this.name = 'PoolBatchError';
  }
}
