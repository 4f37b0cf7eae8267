/**
 * A benchmark's server in a worker thread, so the measured client and the
 * server do not share one event loop. The worker posts one message once it
 * is ready (its port, credentials…) and exits on any message it receives.
 */
import { Worker } from 'node:worker_threads';

/** A started worker: what it posted when ready, and how to stop it. */
export interface BenchWorker<T> {
  readonly info: T;
  /** Ask the worker to close and wait until it has exited. */
  stop(): Promise<void>;
}

/**
 * Start `url` (a compiled worker module) and wait for its ready message.
 * @param url - the worker's module, e.g. `new URL('./app-server.js', import.meta.url)`
 * @return the ready message and a stop function
 */
export async function startBenchWorker<T>(url: URL): Promise<BenchWorker<T>> {
  const worker = new Worker(url);
  const info = await new Promise<T>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    info,
    async stop() {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage('close');
      await exited;
    },
  };
}
