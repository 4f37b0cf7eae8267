/**
 * Results and errors of the webhook client: a webhook that
 * cannot be fetched is an expected failure, so it comes back as a `Result`
 * carrying a `WebhookError`. Each error names the Twilio error code Twilio
 * would report for the same failure (https://www.twilio.com/docs/api/errors/11200
 * and its siblings); all of them fall
 * under the umbrella code 11200 ("HTTP retrieval failure").
 */

/** A value or the reason there is none. */
export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

/** Wrap a success. */
export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

/** Wrap a failure. */
export function err<E>(error: E): { ok: false; error: E } {
  return { ok: false, error };
}

/** Twilio's umbrella code for every webhook retrieval failure. */
export const TWILIO_HTTP_RETRIEVAL_FAILURE = 11200;

/** Every stable code a `WebhookError` can carry. */
export type WebhookErrorCode =
  | 'PB_ERR_WEBHOOK_FAILED'
  | 'PB_ERR_WEBHOOK_CONNECTION'
  | 'PB_ERR_WEBHOOK_TIMEOUT'
  | 'PB_ERR_WEBHOOK_BAD_HOST'
  | 'PB_ERR_WEBHOOK_TOO_MANY_REDIRECTS'
  | 'PB_ERR_WEBHOOK_HTTP_STATUS'
  | 'PB_ERR_WEBHOOK_BODY_TOO_LARGE';

/** Base class of every webhook failure; switch on `code`, report `twilioCode`. */
export abstract class WebhookError extends Error {
  abstract readonly code: WebhookErrorCode;
  /** The specific Twilio error code (11205, 11217, …). */
  abstract readonly twilioCode: number;
  /** The umbrella code the call ends with when no fallback URL works. */
  readonly twilioUmbrellaCode = TWILIO_HTTP_RETRIEVAL_FAILURE;
  /** The URL (without userinfo or fragment) whose fetch failed. */
  readonly url: string;

  /**
   * @param message - a readable explanation.
   * @param url - the URL being fetched, credentials and fragment removed.
   * @param options - the underlying cause, if any.
   */
  constructor(message: string, url: string, options?: { cause?: unknown }) {
    super(message, options);
    this.url = url;
  }
}

/** A failure none of the specific codes describes (11200). */
export class WebhookFailedError extends WebhookError {
  readonly code = 'PB_ERR_WEBHOOK_FAILED';
  readonly twilioCode = 11200;
  override readonly name = 'WebhookFailedError';
}

/** The TCP/TLS connection failed or was reset, e.g. connection refused (11205). */
export class WebhookConnectionError extends WebhookError {
  readonly code = 'PB_ERR_WEBHOOK_CONNECTION';
  readonly twilioCode = 11205;
  override readonly name = 'WebhookConnectionError';
}

/** No complete response within `timeoutMs` (11203, total timeout). */
export class WebhookTimeoutError extends WebhookError {
  readonly code = 'PB_ERR_WEBHOOK_TIMEOUT';
  readonly twilioCode = 11203;
  override readonly name = 'WebhookTimeoutError';
}

/** The URL is unusable or its host does not resolve (11210). */
export class WebhookBadHostError extends WebhookError {
  readonly code = 'PB_ERR_WEBHOOK_BAD_HOST';
  readonly twilioCode = 11210;
  override readonly name = 'WebhookBadHostError';
}

/** More than the allowed number of redirects (11215). */
export class WebhookTooManyRedirectsError extends WebhookError {
  readonly code = 'PB_ERR_WEBHOOK_TOO_MANY_REDIRECTS';
  readonly twilioCode = 11215;
  override readonly name = 'WebhookTooManyRedirectsError';
}

/** The server answered with a 4xx/5xx status (11217). */
export class WebhookHttpStatusError extends WebhookError {
  readonly code = 'PB_ERR_WEBHOOK_HTTP_STATUS';
  readonly twilioCode = 11217;
  override readonly name = 'WebhookHttpStatusError';
  /** The HTTP status of the final response. */
  readonly status: number;

  /**
   * @param status - the HTTP status received.
   * @param url - the URL that answered it.
   */
  constructor(status: number, url: string) {
    super(`webhook ${url} answered HTTP ${status}`, url);
    this.status = status;
  }
}

/** The response body exceeded the size limit (11750). */
export class WebhookBodyTooLargeError extends WebhookError {
  readonly code = 'PB_ERR_WEBHOOK_BODY_TOO_LARGE';
  readonly twilioCode = 11750;
  override readonly name = 'WebhookBodyTooLargeError';
  /** The limit that was exceeded, in bytes. */
  readonly limitBytes: number;

  /**
   * @param limitBytes - the maximum body size.
   * @param url - the URL whose response was too large.
   */
  constructor(limitBytes: number, url: string) {
    super(`webhook ${url} returned a body larger than ${limitBytes} bytes`, url);
    this.limitBytes = limitBytes;
  }
}
