/**
 * Webhook jobs run in a worker thread (`worker-main.ts`): signing, form
 * encoding, the HTTP/1.1 exchange and response parsing leave the main
 * thread, which only posts a small request and receives the response (a
 * round trip costs it a few µs, the exchange itself ~100 µs of CPU).
 *
 * - One worker per transport, started with the first job. The signing
 *   secret and the TLS CA go to it once, in `workerData`.
 * - Requests carry an integer id; the only per-request state on this side
 *   is the callback (and its deadline) in a map keyed by that id.
 * - Both directions batch: jobs wait up to `batchMs` (default 1 ms) and
 *   travel in one message; the replies of one turn of the worker's loop
 *   travel in one message. Every message wakes the other thread, and on a
 *   busy VM a wake-up (an IPI, a context switch) costs about as much as the
 *   HTTP write the worker saves this thread; at 1,400 calls/s a 1 ms window
 *   holds one to three jobs.
 * - The worker does not keep the process alive while idle: it is `ref()`ed
 *   when the first job is pending and `unref()`ed when the last one settles.
 * - A worker that errors or exits fails every pending job as a connection
 *   failure (`ERR_WEBHOOK_WORKER`, which the client retries like any other);
 *   the next job starts a fresh worker.
 * - Deadlines are enforced in the worker (`Http1Pool`). In case the worker
 *   itself is stuck, one unref'd sweep per second fails jobs older than
 *   their `timeoutMs` plus a grace period as timeouts and replaces the worker.
 * - `close()` terminates the worker and fails pending and later jobs.
 *
 * Worker file: `worker-main.js` next to this module (dist/runtime/webhooks/
 * after the build). Code running from the TypeScript sources (vitest) passes
 * a compiled one as `workerUrl`.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Http1Error, type Http1ErrorKind } from './http1.js';
import type { WebhookJob, WebhookTransport, WebhookTransportCallback, WebhookTransportOptions } from './transport.js';

/** What the worker gets once, in `workerData`. */
export interface WorkerInit {
  readonly authToken: string;
  readonly maxSockets: number;
  /** Arrives as a Uint8Array when given as a Buffer. */
  readonly ca: string | Uint8Array | undefined;
}

/** A job posted to the worker. */
export interface WorkerRequest {
  readonly id: number;
  readonly job: WebhookJob;
}

/** What the worker posts back: the response, or why there is none. */
export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly status: number; readonly headers: Map<string, string>; readonly body: string }
  | { readonly id: number; readonly ok: false; readonly kind: Http1ErrorKind; readonly message: string; readonly code: string | undefined };

/** Settings of a worker transport. */
export interface WorkerTransportOptions extends WebhookTransportOptions {
  /** The compiled worker module (default: `worker-main.js` next to this module). */
  readonly workerUrl?: URL | string;
  /** How long past its `timeoutMs` a job may stay unanswered before the worker counts as stuck (default 1000 ms). */
  readonly graceMs?: number;
  /** Period of the check for stuck jobs (default 1000 ms). */
  readonly sweepMs?: number;
  /** How long a job may wait for others to travel with it (default 1 ms; 0: until the end of this turn of the event loop). */
  readonly batchMs?: number;
}

/** The Node-style code of failures caused by the worker itself (mapped to a connection failure, 11205). */
export const WORKER_LOST_CODE = 'ERR_WEBHOOK_WORKER';

/** A job waiting for its reply. */
class Pending {
  constructor(
    readonly done: WebhookTransportCallback,
    /** `performance.now()` after which the main thread gives up on it. */
    readonly expires: number,
    readonly timeoutMs: number,
  ) {}
}

/** Jobs run in one worker thread, restarted when it dies. */
export class WorkerTransport implements WebhookTransport {
  readonly #path: string;
  readonly #init: WorkerInit;
  readonly #graceMs: number;
  readonly #sweepMs: number;
  readonly #batchMs: number;
  readonly #pending = new Map<number, Pending>();
  #worker: Worker | undefined = undefined;
  #nextId = 1;
  /** Jobs waiting for this turn's `#flush`. */
  #outbox: WorkerRequest[] = [];
  #sweepTimer: NodeJS.Timeout | undefined = undefined;
  #closed = false;

  /**
   * @param options - signing secret, connection limits, the worker module.
   * @throws Error when the worker module does not exist (a build without it).
   */
  constructor(options: WorkerTransportOptions) {
    const url = options.workerUrl ?? new URL('./worker-main.js', import.meta.url);
    this.#path = url instanceof URL || url.startsWith('file:') ? fileURLToPath(url) : url;
    if (!existsSync(this.#path)) throw new Error(`webhook worker module ${this.#path} not found (run the build, or pass workerUrl)`);
    this.#init = { authToken: options.authToken, maxSockets: options.maxSockets ?? 256, ca: options.tls?.ca };
    this.#graceMs = options.graceMs ?? 1000;
    this.#sweepMs = options.sweepMs ?? 1000;
    this.#batchMs = options.batchMs ?? 1;
  }

  send(job: WebhookJob, done: WebhookTransportCallback): void {
    if (this.#closed) {
      process.nextTick(done, { ok: false, error: new Http1Error('connection', 'the webhook client is closed', WORKER_LOST_CODE) });
      return;
    }
    const worker = this.#worker ?? this.#start();
    if (worker === undefined) {
      process.nextTick(done, { ok: false, error: new Http1Error('connection', 'cannot start the webhook worker', WORKER_LOST_CODE) });
      return;
    }
    const id = this.#nextId++;
    if (this.#pending.size === 0) worker.ref();
    this.#pending.set(id, new Pending(done, performance.now() + job.timeoutMs + this.#graceMs, job.timeoutMs));
    if (this.#outbox.length === 0) {
      if (this.#batchMs > 0) setTimeout(this.#flush, this.#batchMs);
      else setImmediate(this.#flush);
    }
    this.#outbox.push({ id, job });
  }

  /**
   * Post the jobs queued during the batch window as one message: each
   * message costs a wake-up of the worker (tens of µs on a busy VM), a batch
   * costs one.
   */
  readonly #flush = (): void => {
    const batch = this.#outbox;
    this.#outbox = [];
    const worker = this.#worker;
    if (batch.length === 0 || worker === undefined) return;
    try {
      worker.postMessage(batch);
    } catch {
      // a job that cannot be cloned (the client never builds one): post them one by one, failing only those
      for (const request of batch) {
        try {
          worker.postMessage([request]);
        } catch (cause) {
          this.#settle(request.id, { ok: false, error: new Http1Error('protocol', `cannot post the request: ${String(cause)}`, undefined, cause) });
        }
      }
    }
  };

  /** Settle job `id` (if still pending) with `result`. */
  #settle(id: number, result: Parameters<WebhookTransportCallback>[0]): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#worker?.unref();
    pending.done(result);
  }

  /** Terminate the worker; pending jobs fail, and so do later ones. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
    const worker = this.#worker;
    this.#worker = undefined;
    this.#failAll('the webhook client was closed');
    if (worker !== undefined) await worker.terminate();
  }

  /** Jobs waiting for a reply. */
  get pending(): number {
    return this.#pending.size;
  }

  /** The worker's thread id, if one is running (tests). */
  get threadId(): number | undefined {
    return this.#worker?.threadId;
  }

  /** Stop the worker as if it had crashed (tests): pending jobs fail, the next job starts a new worker. */
  async terminateWorker(): Promise<void> {
    await this.#worker?.terminate();
  }

  /** Start a worker (unref'd: nothing is pending yet), or undefined when the thread cannot be created. */
  #start(): Worker | undefined {
    let worker: Worker;
    try {
      worker = new Worker(this.#path, { workerData: this.#init });
    } catch {
      return undefined;
    }
    worker.on('message', this.#onReply);
    worker.on('error', (error: Error) => this.#lost(worker, `the webhook worker failed: ${error.message}`));
    worker.on('exit', (code: number) => this.#lost(worker, `the webhook worker exited (code ${code})`));
    worker.unref();
    this.#worker = worker;
    if (this.#sweepTimer === undefined) {
      this.#sweepTimer = setInterval(this.#sweep, this.#sweepMs);
      this.#sweepTimer.unref();
    }
    return worker;
  }

  /** A reply from the worker: settle its job (unless it was already given up). */
  readonly #onReply = (batch: readonly WorkerReply[]): void => {
    for (const reply of batch) {
      this.#settle(reply.id, reply.ok ? reply : { ok: false, error: new Http1Error(reply.kind, reply.message, reply.code) });
    }
  };

  /** `worker` errored or exited: if it is the current one, forget it and fail what it had. */
  #lost(worker: Worker, message: string): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    void worker.terminate();
    this.#failAll(message);
  }

  /** Fail every pending job (posted or still queued) as a connection failure. */
  #failAll(message: string): void {
    this.#outbox = [];
    if (this.#pending.size === 0) return;
    const error = new Http1Error('connection', message, WORKER_LOST_CODE);
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const job of pending) job.done({ ok: false, error });
  }

  /** Fail jobs the worker left unanswered past their deadline; a worker that does that is replaced. */
  readonly #sweep = (): void => {
    if (this.#pending.size === 0) return;
    const now = performance.now();
    let overdue = 0;
    for (const [id, job] of this.#pending) {
      if (job.expires > now) continue;
      overdue++;
      this.#pending.delete(id);
      job.done({ ok: false, error: new Http1Error('timeout', `the webhook worker did not answer within ${job.timeoutMs + this.#graceMs} ms`) });
    }
    const worker = this.#worker;
    if (overdue === 0 || worker === undefined) return;
    this.#lost(worker, `the webhook worker is stuck (${overdue} requests unanswered past their deadline)`);
  };
}
