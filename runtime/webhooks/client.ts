/**
 * The webhook client: fetches TwiML and delivers
 * callbacks the way Twilio does. Every request is signed with
 * `X-Twilio-Signature`; POST parameters travel as a form body, GET
 * parameters in the query string; URL fragments are never sent; userinfo
 * turns into Basic auth after a 401; redirects are followed like a browser,
 * at most `maxRedirects` times; connection failures and 5xx are retried a
 * bounded number of times, 4xx never. Requests go through the HTTP/1.1
 * client of `http1.ts` (one keep-alive pool per client, at most `maxSockets`
 * connections per origin, the rest queued), which spends much less CPU per
 * request than node:http. Its failures map to Twilio codes: DNS errors
 * 11210; other connection failures (refused, reset, TLS, a socket closed
 * early) 11205, retried; no complete response in time 11203; a body over the
 * limit 11750; a malformed response 11200 (`WebhookFailedError`, not
 * retried: the same server would answer the same way).
 *
 * With `thread: true` the signing, the body and the HTTP exchange run in a
 * worker thread (`worker-transport.ts`) and the calling thread only posts
 * each attempt and receives its response; failures of the worker itself
 * count as connection failures (11205, retried).
 */
import { memoizeBounded } from './memo.js';
import type { Http1Error } from './http1.js';
import {
  WebhookBadHostError,
  WebhookBodyTooLargeError,
  WebhookConnectionError,
  WebhookFailedError,
  WebhookHttpStatusError,
  WebhookTimeoutError,
  WebhookTooManyRedirectsError,
  err,
  ok,
  type Result,
  type WebhookError,
} from './errors.js';
import { appendQuery, type WebhookParams } from './params.js';
import { signableUrl, type WebhookMethod } from './sign.js';
import { InProcessTransport, type WebhookJob, type WebhookTransport } from './transport.js';
import { WorkerTransport } from './worker-transport.js';

/** Settings of a webhook client. */
export interface WebhookClientOptions {
  /** Added to every request as the `AccountSid` parameter unless the caller sets one. */
  readonly accountSid: string;
  /** The signing secret (the AuthToken role). */
  readonly authToken: string;
  /** Time allowed for one attempt, connect to last body byte (default 15 000 ms). */
  readonly timeoutMs?: number;
  /** Extra attempts after a connection failure or 5xx (default 1). Timeouts are not retried. */
  readonly retries?: number;
  /** The `User-Agent` header (default `TwilioProxy/1.1 Patchbay/0.1`). */
  readonly userAgent?: string;
  /** Largest response body accepted, in bytes (default 64 KiB). */
  readonly maxBodyBytes?: number;
  /** Most redirects followed for one request (default 10). */
  readonly maxRedirects?: number;
  /**
   * Told once per `request()` when it settles (after retries and redirects),
   * e.g. for a latency histogram. Must not throw; an exception is ignored.
   */
  readonly onComplete?: (outcome: WebhookOutcome) => void;
  /** Most connections open to one origin at once (default 256); further requests queue. */
  readonly maxSockets?: number;
  /** TLS for `https:` webhooks: `ca` replaces the trusted CAs (e.g. a test server's self-signed certificate). */
  readonly tls?: { readonly ca?: string | Buffer };
  /**
   * Sign and send from a worker thread (default false): the calling thread
   * only posts each attempt and receives the response.
   */
  readonly thread?: boolean;
  /** The compiled worker module for `thread` (default `worker-main.js` next to this module; tests running the TypeScript sources pass one). */
  readonly workerUrl?: URL | string;
}

/** What `onComplete` is told about one settled request. */
export interface WebhookOutcome {
  /** The requested URL, without userinfo or fragment. */
  readonly url: string;
  readonly method: WebhookMethod;
  /** Wall time of the whole request, retries and redirects included, in milliseconds. */
  readonly ms: number;
  /** True for a 2xx response. */
  readonly ok: boolean;
  /** The final HTTP status, when a response was received. */
  readonly status?: number;
  /** The Twilio error code of a failure (11200, 11205, …). */
  readonly twilioCode?: number;
}

/** One webhook request. */
export interface WebhookRequest {
  /** Absolute http(s) URL; `user:pass@` userinfo means Basic auth, a fragment is stripped. */
  readonly url: string;
  /** Default `POST`. */
  readonly method?: WebhookMethod;
  /** Form body for POST, appended to the query string for GET. */
  readonly params?: WebhookParams;
}

/** A successful (2xx) webhook response. */
export interface WebhookResponse {
  /** The HTTP status. */
  readonly status: number;
  /** The `Content-Type` header, empty when absent. */
  readonly contentType: string;
  /** The body decoded as UTF-8. */
  readonly body: string;
  /** The URL that finally answered (after redirects, without userinfo). */
  readonly url: string;
}

/** Sends signed webhook requests. */
export interface WebhookClient {
  /**
   * Fetch a webhook.
   * @param request - URL, method and parameters.
   * @return the 2xx response, or a `WebhookError` (never rejects).
   */
  request(request: WebhookRequest): Promise<Result<WebhookResponse, WebhookError>>;
  /**
   * Release connections and the worker thread. With `thread`, requests still
   * in flight fail with 11205 and later ones fail at once; in-process, requests
   * in flight complete and idle connections close.
   */
  close(): Promise<void>;
}

/** One hop of a request: where, how, with what, with which credentials. */
interface Hop {
  readonly url: URL;
  readonly method: WebhookMethod;
  readonly params: WebhookParams | undefined;
}

/** A fully read response of one attempt. */
interface RawResponse {
  readonly status: number;
  /** Lower-case names (`location`, `content-type`, …). */
  readonly headers: Map<string, string>;
  readonly body: string;
  readonly url: string;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const BAD_HOST_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'ERR_INVALID_URL']);

/**
 * `params` with `AccountSid` first unless it has one already (then `params`
 * itself: the call layer always sets it, and a copy would cost a loop).
 */
function withAccountSid(accountSid: string, params: WebhookParams | undefined): WebhookParams {
  if (params !== undefined && Object.hasOwn(params, 'AccountSid')) return params;
  const out: Record<string, string | readonly string[]> = { AccountSid: accountSid };
  if (params !== undefined) for (const name in params) out[name] = params[name]!;
  return out;
}

/** Parse an absolute http(s) URL, or explain why it is unusable (11210). */
function parseUrl(url: string): Result<URL, WebhookError> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    return err(new WebhookBadHostError(`webhook URL ${JSON.stringify(url)} is not an absolute URL`, url, { cause }));
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return err(new WebhookBadHostError(`webhook URL scheme ${parsed.protocol} is not http or https`, signableUrl(url)));
  }
  return ok(parsed);
}

/** `parseUrl` for the URL a request starts at, remembered (its URL is never mutated: redirects parse their own). */
const parseStartUrl = memoizeBounded(parseUrl, 512);

/** The next hop after a 3xx, browser-style: 303 (and 301/302 after POST) become a bare GET. */
function redirectHop(hop: Hop, status: number, location: string): Result<Hop, WebhookError> {
  const next = parseUrl(new URL(location, hop.url).href);
  if (!next.ok) return next;
  const url = next.value;
  if (url.username === '' && url.password === '' && url.origin === hop.url.origin) {
    url.username = hop.url.username;
    url.password = hop.url.password;
  }
  const toGet = status === 303 || ((status === 301 || status === 302) && hop.method === 'POST');
  return ok(toGet ? { url, method: 'GET', params: undefined } : { url, method: hop.method, params: hop.params });
}

/** Implementation of `WebhookClient`. */
class HttpWebhookClient implements WebhookClient {
  readonly #accountSid: string;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #userAgent: string;
  readonly #maxBodyBytes: number;
  readonly #maxRedirects: number;
  readonly #onComplete: ((outcome: WebhookOutcome) => void) | undefined;
  readonly #transport: WebhookTransport;

  constructor(options: WebhookClientOptions, transport: WebhookTransport | undefined) {
    this.#accountSid = options.accountSid;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#retries = Math.max(0, options.retries ?? 1);
    this.#userAgent = options.userAgent ?? 'TwilioProxy/1.1 Patchbay/0.1';
    this.#maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
    this.#maxRedirects = options.maxRedirects ?? 10;
    this.#onComplete = options.onComplete;
    if (transport !== undefined) {
      this.#transport = transport;
    } else {
      const settings = { authToken: options.authToken, maxSockets: options.maxSockets, tls: options.tls };
      this.#transport = options.thread === true ? new WorkerTransport({ ...settings, workerUrl: options.workerUrl }) : new InProcessTransport(settings);
    }
  }

  close(): Promise<void> {
    return this.#transport.close();
  }

  async request(request: WebhookRequest): Promise<Result<WebhookResponse, WebhookError>> {
    if (this.#onComplete === undefined) return this.#request(request);
    const started = performance.now();
    const result = await this.#request(request);
    const method = request.method ?? 'POST';
    const ms = performance.now() - started;
    // built field by field: a spread of a shared base costs microseconds here
    const outcome: WebhookOutcome = result.ok
      ? { url: signableUrl(request.url), method, ms, ok: true, status: result.value.status }
      : { url: result.error.url, method, ms, ok: false, status: result.error instanceof WebhookHttpStatusError ? result.error.status : undefined, twilioCode: result.error.twilioCode };
    try {
      this.#onComplete(outcome);
    } catch {
      // an observer must not break webhook delivery
    }
    return result;
  }

  async #request(request: WebhookRequest): Promise<Result<WebhookResponse, WebhookError>> {
    const start = parseStartUrl(request.url);
    if (!start.ok) return start;
    const params = withAccountSid(this.#accountSid, request.params);
    let hop: Hop = { url: start.value, method: request.method ?? 'POST', params };
    for (let redirects = 0; ; redirects++) {
      const response = await this.#withRetries(hop);
      if (!response.ok) return response;
      const { status, headers, body, url } = response.value;
      const location = headers.get('location');
      if (REDIRECT_STATUSES.has(status) && location !== undefined) {
        if (redirects >= this.#maxRedirects) {
          const message = `webhook ${signableUrl(request.url)} redirected more than ${this.#maxRedirects} times`;
          return err(new WebhookTooManyRedirectsError(message, url));
        }
        const next = redirectHop(hop, status, location);
        if (!next.ok) return next;
        hop = next.value;
        continue;
      }
      if (status >= 300) return err(new WebhookHttpStatusError(status, url));
      return ok({ status, contentType: headers.get('content-type') ?? '', body, url });
    }
  }

  /** One hop with bounded retries on connection failures and 5xx. */
  async #withRetries(hop: Hop): Promise<Result<RawResponse, WebhookError>> {
    for (let attempt = 0; ; attempt++) {
      const result = await this.#withAuth(hop);
      const retryable = result.ok ? result.value.status >= 500 : result.error instanceof WebhookConnectionError;
      if (!retryable || attempt >= this.#retries) return result;
    }
  }

  /** One attempt: first without credentials, again with Basic auth after a 401 if the URL has userinfo. */
  async #withAuth(hop: Hop): Promise<Result<RawResponse, WebhookError>> {
    const first = await this.#send(hop, undefined);
    if (!first.ok || first.value.status !== 401 || (hop.url.username === '' && hop.url.password === '')) {
      return first;
    }
    const user = decodeURIComponent(hop.url.username);
    const password = decodeURIComponent(hop.url.password);
    return this.#send(hop, `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`);
  }

  /** Send one signed HTTP request and read the whole (bounded) body. */
  #send(hop: Hop, authorization: string | undefined): Promise<Result<RawResponse, WebhookError>> {
    const url = hop.url;
    // `${protocol}//${host}${pathname}${search}`: no userinfo, no fragment; a GET's parameters in the query
    const target = signableUrl(hop.method === 'GET' ? appendQuery(url.href, hop.params) : url.href);
    const job: WebhookJob = {
      target,
      origin: url.origin,
      method: hop.method,
      params: hop.method === 'POST' ? hop.params : undefined,
      authorization,
      timeoutMs: this.#timeoutMs,
      maxBodyBytes: this.#maxBodyBytes,
      userAgent: this.#userAgent,
    };
    return new Promise((resolve) => {
      this.#transport.send(job, (result) => {
        resolve(result.ok ? ok({ status: result.status, headers: result.headers, body: result.body, url: target }) : this.#failure(target, result.error));
      });
    });
  }

  /** Map a transport failure to the Twilio error it means (see the file comment). */
  #failure(target: string, cause: Http1Error): Result<never, WebhookError> {
    switch (cause.kind) {
      case 'timeout':
        return err(new WebhookTimeoutError(`webhook ${target} did not answer within ${this.#timeoutMs} ms`, target, { cause }));
      case 'too-large':
        return err(new WebhookBodyTooLargeError(this.#maxBodyBytes, target));
      case 'protocol':
        return err(new WebhookFailedError(`webhook ${target} failed: ${cause.message}`, target, { cause }));
      default: {
        const code = cause.code ?? 'ECONNRESET';
        if (BAD_HOST_CODES.has(code)) {
          return err(new WebhookBadHostError(`webhook host of ${target} cannot be resolved (${code})`, target, { cause }));
        }
        return err(new WebhookConnectionError(`webhook ${target}: connection failed (${code})`, target, { cause }));
      }
    }
  }
}

/**
 * Create a webhook client.
 * @param options - account, signing secret and limits.
 * @param transport - how attempts travel (tests); by default in-process, or a worker thread with `options.thread`.
 * @return a client whose `request` never rejects.
 * @throws Error with `thread` when the worker module is missing.
 */
export function createWebhookClient(options: WebhookClientOptions, transport?: WebhookTransport): WebhookClient {
  return new HttpWebhookClient(options, transport);
}
