/**
 * The webhook client (issue 4, SPEC-DETAIL §4.2): fetches TwiML and delivers
 * callbacks the way Twilio does. Every request is signed with
 * `X-Twilio-Signature`; POST parameters travel as a form body, GET
 * parameters in the query string; URL fragments are never sent; userinfo
 * turns into Basic auth after a 401; redirects are followed like a browser,
 * at most `maxRedirects` times; connection failures and 5xx are retried a
 * bounded number of times, 4xx never. Uses node:http/https with keep-alive
 * agents (one pool per client, reused connections, at most `maxSockets` per
 * origin), which costs a fraction of global `fetch` per request.
 */
import { request as httpRequest, Agent as HttpAgent, type IncomingHttpHeaders, type OutgoingHttpHeaders, type RequestOptions } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
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
import { appendQuery, formEncode, type WebhookParams } from './params.js';
import { signableUrl, twilioSignature, type WebhookMethod } from './sign.js';

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
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly url: string;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const BAD_HOST_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'ERR_INVALID_URL']);

/** Follow `cause` links down to the first Node system error code, if any. */
function systemErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
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
  readonly #authToken: string;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #userAgent: string;
  readonly #maxBodyBytes: number;
  readonly #maxRedirects: number;
  readonly #onComplete: ((outcome: WebhookOutcome) => void) | undefined;
  readonly #agents: { readonly http: HttpAgent; readonly https: HttpsAgent };

  constructor(options: WebhookClientOptions) {
    this.#accountSid = options.accountSid;
    this.#authToken = options.authToken;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#retries = Math.max(0, options.retries ?? 1);
    this.#userAgent = options.userAgent ?? 'TwilioProxy/1.1 Patchbay/0.1';
    this.#maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
    this.#maxRedirects = options.maxRedirects ?? 10;
    this.#onComplete = options.onComplete;
    const pool = { keepAlive: true, maxSockets: options.maxSockets ?? 256, maxFreeSockets: 64, scheduling: 'lifo' as const };
    this.#agents = { http: new HttpAgent(pool), https: new HttpsAgent(pool) };
  }

  async request(request: WebhookRequest): Promise<Result<WebhookResponse, WebhookError>> {
    if (this.#onComplete === undefined) return this.#request(request);
    const started = performance.now();
    const result = await this.#request(request);
    const base = { url: result.ok ? signableUrl(request.url) : result.error.url, method: request.method ?? 'POST', ms: performance.now() - started };
    const outcome: WebhookOutcome = result.ok
      ? { ...base, ok: true, status: result.value.status }
      : { ...base, ok: false, status: result.error instanceof WebhookHttpStatusError ? result.error.status : undefined, twilioCode: result.error.twilioCode };
    try {
      this.#onComplete(outcome);
    } catch {
      // an observer must not break webhook delivery
    }
    return result;
  }

  async #request(request: WebhookRequest): Promise<Result<WebhookResponse, WebhookError>> {
    const start = parseUrl(request.url);
    if (!start.ok) return start;
    const params: WebhookParams = { AccountSid: this.#accountSid, ...request.params };
    let hop: Hop = { url: start.value, method: request.method ?? 'POST', params };
    for (let redirects = 0; ; redirects++) {
      const response = await this.#withRetries(hop);
      if (!response.ok) return response;
      const { status, headers, body, url } = response.value;
      const location = headers.location;
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
      return ok({ status, contentType: headers['content-type'] ?? '', body, url });
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
    const target = signableUrl(hop.method === 'GET' ? appendQuery(hop.url.href, hop.params) : hop.url.href);
    const headers: OutgoingHttpHeaders = {
      'X-Twilio-Signature': twilioSignature(this.#authToken, target, hop.params, hop.method),
      'User-Agent': this.#userAgent,
      Accept: '*/*',
    };
    if (authorization !== undefined) headers['Authorization'] = authorization;
    let body: Buffer | undefined;
    if (hop.method === 'POST') {
      body = Buffer.from(formEncode(hop.params), 'utf8');
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers['Content-Length'] = body.length;
    }
    return new Promise((resolve) => {
      let settled = false;
      const finish = (result: Result<RawResponse, WebhookError>): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const secure = hop.url.protocol === 'https:';
      const options: RequestOptions = { method: hop.method, headers, agent: secure ? this.#agents.https : this.#agents.http };
      const req = (secure ? httpsRequest : httpRequest)(target, options, (res) => {
        const status = res.statusCode ?? 0;
        const declared = Number(res.headers['content-length'] ?? Number.NaN);
        if (declared > this.#maxBodyBytes) {
          req.destroy();
          finish(err(new WebhookBodyTooLargeError(this.#maxBodyBytes, target)));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.#maxBodyBytes) {
            req.destroy();
            finish(err(new WebhookBodyTooLargeError(this.#maxBodyBytes, target)));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => finish(ok({ status, headers: res.headers, body: Buffer.concat(chunks, size).toString('utf8'), url: target })));
        res.on('error', (cause) => finish(this.#failure(target, cause)));
        res.on('aborted', () => finish(this.#failure(target, Object.assign(new Error('response aborted'), { code: 'ECONNRESET' }))));
      });
      const timer = setTimeout(() => {
        req.destroy();
        finish(err(new WebhookTimeoutError(`webhook ${target} did not answer within ${this.#timeoutMs} ms`, target)));
      }, this.#timeoutMs);
      req.on('error', (cause) => finish(this.#failure(target, cause)));
      req.end(body);
    });
  }

  /** Map a transport failure to the Twilio error it means (11210 bad host, 11205 connection, 11200 other). */
  #failure(target: string, cause: unknown): Result<never, WebhookError> {
    const code = systemErrorCode(cause);
    if (code !== undefined && BAD_HOST_CODES.has(code)) {
      return err(new WebhookBadHostError(`webhook host of ${target} cannot be resolved (${code})`, target, { cause }));
    }
    if (code !== undefined) {
      return err(new WebhookConnectionError(`webhook ${target}: connection failed (${code})`, target, { cause }));
    }
    return err(new WebhookFailedError(`webhook ${target} failed: ${String(cause)}`, target, { cause }));
  }
}

/**
 * Create a webhook client.
 * @param options - account, signing secret and limits.
 * @return a client whose `request` never rejects.
 */
export function createWebhookClient(options: WebhookClientOptions): WebhookClient {
  return new HttpWebhookClient(options);
}
