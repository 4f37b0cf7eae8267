/**
 * The pool worker: one WASM instance per thread, instantiated once from the
 * compiled module in workerData (never recompiled). Loaded by piscina from
 * its compiled form, `worker.js` next to `pool.js`.
 */
import { workerData } from 'node:worker_threads';
import { instantiate } from '../wasm/load.js';
import { WasmParser } from '../wasm/parser.js';
import { parseInto, type ParseTask, type WorkerInit } from './batch.js';

const init = workerData as WorkerInit;
const parser = new WasmParser(instantiate(init.module), init.limits);

/**
 * Named task `parseBatch`: parse the task's entries into its result buffer.
 * @return entries parsed (fewer than `task.count` when the result buffer
 *         filled up), or a negative ABI error code
 */
export function parseBatch(task: ParseTask): number {
  return parseInto(parser, new Uint8Array(task.input), task, new Int32Array(task.result));
}
