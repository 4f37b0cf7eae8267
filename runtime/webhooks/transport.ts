/**
 * How a webhook attempt travels once the client has decided what to send:
 * the client hands a `WebhookJob` (a plain, structured-clone-friendly
 * object) to a `WebhookTransport`, which signs it (`X-Twilio-Signature`),
 * builds the headers and the form body and runs the HTTP/1.1 exchange
 * (`Http1Pool`). `InProcessTransport` does that on the calling thread;
 * `WorkerTransport` (`worker-transport.ts`) in a worker thread, so that the
 * main thread only posts the job and receives the response.
 */
import { Http1Error, Http1Pool, type Http1Result } from './http1.js';
import { memoizeBounded } from './memo.js';
import { formBody, type WebhookParams } from './params.js';
import { twilioSignature, type WebhookMethod } from './sign.js';

/** One attempt of a webhook request, as the transport needs it. */
export interface WebhookJob {
  /** The URL signed and requested, `${origin}${path}`: no userinfo, no fragment; a GET's parameters already in its query. */
  readonly target: string;
  /** Where to connect: the origin of `target` (`http://host:port`); the request target is what follows it. */
  readonly origin: string;
  readonly method: WebhookMethod;
  /** Signed for a POST, and sent as its form body (AccountSid included). */
  readonly params: WebhookParams | undefined;
  /** An `Authorization` header value (Basic auth after a 401), if any. */
  readonly authorization: string | undefined;
  /** Deadline of the exchange, from sending to the last body byte. */
  readonly timeoutMs: number;
  /** Largest response body accepted, in bytes. */
  readonly maxBodyBytes: number;
  /** The `User-Agent` header. */
  readonly userAgent: string;
}

/** A complete response; `body` decoded as UTF-8, header names lower-case. */
export interface WebhookTransportResponse {
  readonly ok: true;
  readonly status: number;
  readonly headers: Map<string, string>;
  readonly body: string;
}

/** The outcome of one job: the response, or the `Http1Error` it failed with. */
export type WebhookTransportResult = WebhookTransportResponse | { readonly ok: false; readonly error: Http1Error };

/** Told once when a job settles, never synchronously. Must not throw. */
export type WebhookTransportCallback = (result: WebhookTransportResult) => void;

/** Carries webhook jobs: signs them, sends them, reads the responses. */
export interface WebhookTransport {
  /**
   * Run one job; `done` is told the outcome exactly once, never synchronously.
   * @param job - what to send, where, with which limits.
   * @param done - receives the response or an `Http1Error`.
   */
  send(job: WebhookJob, done: WebhookTransportCallback): void;
  /** Stop: release sockets (and threads); resolves once they are gone. */
  close(): Promise<void>;
}

/** Settings a transport needs besides the jobs themselves. */
export interface WebhookTransportOptions {
  /** The signing secret. */
  readonly authToken: string;
  /** Most connections open to one origin at once (default 256). */
  readonly maxSockets?: number;
  /** TLS for `https:` webhooks: `ca` replaces the trusted CAs. */
  readonly tls?: { readonly ca?: string | Buffer };
}

/** An origin string as the `URL` `Http1Pool` connects to (origins are few: remembered). */
const originUrl = memoizeBounded((origin) => new URL(origin), 512);

/** Headers every request carries after `X-Twilio-Signature` and `User-Agent` (shared, never mutated). */
const ACCEPT_ANY: readonly [string, string] = ['Accept', '*/*'];
/** The `Content-Type` of every POST (shared, never mutated). */
const FORM_TYPE: readonly [string, string] = ['Content-Type', 'application/x-www-form-urlencoded'];

/**
 * Sign `job`, build its headers and body, and run it on `pool`.
 * @param pool - the connections to use.
 * @param authToken - the signing secret.
 * @param job - the attempt.
 * @param done - told the raw outcome once, never synchronously.
 */
export function runJob(pool: Http1Pool, authToken: string, job: WebhookJob, done: (result: Http1Result) => void): void {
  let url: URL;
  let headers: (readonly [string, string])[];
  let body: Buffer | undefined;
  try {
    url = originUrl(job.origin);
    const signature: readonly [string, string] = ['X-Twilio-Signature', twilioSignature(authToken, job.target, job.params, job.method)];
    const userAgent: readonly [string, string] = ['User-Agent', job.userAgent];
    headers = job.authorization === undefined ? [signature, userAgent, ACCEPT_ANY] : [signature, userAgent, ACCEPT_ANY, ['Authorization', job.authorization]];
    if (job.method === 'POST') {
      body = formBody(job.params);
      headers.push(FORM_TYPE);
    }
  } catch (cause) {
    // the client only builds valid jobs; a bad one fails like an unsendable request
    process.nextTick(done, { ok: false, error: new Http1Error('protocol', `cannot build the request: ${String(cause)}`, undefined, cause) });
    return;
  }
  const path = job.target.slice(job.origin.length);
  pool.send({ url, method: job.method, path, headers, body, timeoutMs: job.timeoutMs, maxBodyBytes: job.maxBodyBytes }, done);
}

/** Jobs run on the calling thread, over one `Http1Pool`. */
export class InProcessTransport implements WebhookTransport {
  readonly #pool: Http1Pool;
  readonly #authToken: string;

  constructor(options: WebhookTransportOptions) {
    this.#authToken = options.authToken;
    this.#pool = new Http1Pool({ maxSockets: options.maxSockets ?? 256, tls: options.tls });
  }

  send(job: WebhookJob, done: WebhookTransportCallback): void {
    runJob(this.#pool, this.#authToken, job, (result) => {
      if (!result.ok) done(result);
      else done({ ok: true, status: result.value.status, headers: result.value.headers, body: result.value.body.toString('utf8') });
    });
  }

  /** Close idle sockets; requests in flight still complete (`Http1Pool.close`). */
  close(): Promise<void> {
    this.#pool.close();
    return Promise.resolve();
  }
}
