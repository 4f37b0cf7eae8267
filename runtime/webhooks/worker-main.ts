/**
 * The webhook worker thread (started by `WorkerTransport`): receives jobs,
 * signs them, runs them on its own `Http1Pool` and posts back each outcome
 * with the job's id, in batches: one message per turn of its event loop. A job never throws here: whatever goes wrong comes back
 * as an error reply.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Http1Pool, type Http1Result } from './http1.js';
import { runJob } from './transport.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker-transport.js';

if (parentPort === null) throw new Error('worker-main.js runs as a worker thread of WorkerTransport');
const port = parentPort;
const init = workerData as WorkerInit;
// a Buffer CA arrives as a Uint8Array; tls wants a string or a Buffer
const ca = init.ca === undefined || typeof init.ca === 'string' ? init.ca : Buffer.from(init.ca.buffer, init.ca.byteOffset, init.ca.byteLength);
const pool = new Http1Pool({ maxSockets: init.maxSockets, tls: ca === undefined ? undefined : { ca } });

/** Replies not yet posted: one message per turn of this thread's loop carries them all. */
let outbox: WorkerReply[] = [];

function flush(): void {
  const batch = outbox;
  outbox = [];
  port.postMessage(batch);
}

/** Queue the outcome of job `id`. */
function reply(id: number, result: Http1Result): void {
  let message: WorkerReply;
  if (result.ok) {
    const response = result.value;
    message = { id, ok: true, status: response.status, headers: response.headers, body: response.body.toString('utf8') };
  } else {
    const error = result.error;
    message = { id, ok: false, kind: error.kind, message: error.message, code: error.code };
  }
  if (outbox.length === 0) setImmediate(flush);
  outbox.push(message);
}

port.on('message', (batch: readonly WorkerRequest[]) => {
  for (const request of batch) {
    const id = request.id;
    runJob(pool, init.authToken, request.job, (result) => reply(id, result));
  }
});
