/**
 * `X-Twilio-Signature`, computed exactly as Twilio does (SPEC-DETAIL §4.3) so
 * that stock `twilio.validateRequest` / `twilio.webhook()` accept our requests.
 */
import { createHmac } from 'node:crypto';
import { memoizeBounded } from './memo.js';
import { type WebhookParams } from './params.js';

/** HTTP methods a webhook can use. */
export type WebhookMethod = 'GET' | 'POST';

/**
 * The URL as it is signed and sent: userinfo (`user:pass@`) and fragment
 * removed, query string kept. Parsing with WHATWG URL yields the exact
 * string `fetch` puts on the wire, which is what the receiver reconstructs.
 * @param url - an absolute http(s) URL.
 * @return the URL to sign and request.
 * @throws TypeError when `url` is not an absolute URL.
 */
export const signableUrl: (url: string) => string = memoizeBounded((url) => {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  parsed.hash = '';
  return parsed.href;
}, 512); // a call's webhooks mostly go to a few URLs

/**
 * Compare two strings by UTF-16 code units, the order `Array.prototype.sort`
 * and twilio-node use. It equals UTF-8 byte order except for code points
 * U+E000–U+FFFF against supplementary-plane ones.
 */
function codeUnitOrder(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

/**
 * The string Twilio feeds to HMAC: the URL, then for POST every parameter
 * name followed by its value, names sorted; a repeated name contributes each
 * distinct value, values sorted.
 * @param url - the URL as requested (see `signableUrl`).
 * @param params - the POST parameters; ignored for GET.
 * @param method - `GET` signs the URL alone (its parameters are in the query).
 * @return the string to sign.
 */
export function signatureBase(url: string, params: WebhookParams | undefined, method: WebhookMethod): string {
  let data = signableUrl(url);
  if (method === 'GET' || params === undefined) return data;
  for (const name of Object.keys(params).sort(codeUnitOrder)) {
    const value = params[name];
    if (value === undefined) continue;
    const values = typeof value === 'string' ? [value] : [...new Set(value)].sort(codeUnitOrder);
    for (const item of values) data += name + item;
  }
  return data;
}

/**
 * The `X-Twilio-Signature` header value: base64(HMAC-SHA1(authToken, base)).
 * @param authToken - the account auth token (the HMAC key).
 * @param url - the full URL; userinfo and fragment are dropped, the query kept.
 * @param params - the POST form parameters, or `undefined`.
 * @param method - the HTTP method of the request.
 * @return the signature.
 * @throws TypeError when `url` is not an absolute URL.
 */
export function twilioSignature(
  authToken: string,
  url: string,
  params: WebhookParams | undefined,
  method: WebhookMethod,
): string {
  return createHmac('sha1', authToken).update(signatureBase(url, params, method), 'utf8').digest('base64');
}
