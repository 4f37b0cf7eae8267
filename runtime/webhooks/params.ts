/**
 * Webhook parameters and their two transports (SPEC-DETAIL §4.2): the
 * `application/x-www-form-urlencoded` body of a POST, or the query string of
 * a GET, appended to whatever query the URL already has.
 */

/**
 * Parameters of one webhook request. A name mapped to an array is sent once
 * per value, in array order (`Digits=1&Digits=2`).
 */
export type WebhookParams = Readonly<Record<string, string | readonly string[]>>;

/**
 * Flatten parameters into name/value pairs, preserving insertion order and
 * the order of repeated values.
 * @param params - the parameters; `undefined` is no parameters.
 * @return one pair per value.
 */
export function paramPairs(params: WebhookParams | undefined): [string, string][] {
  const pairs: [string, string][] = [];
  if (params === undefined) return pairs;
  for (const [name, value] of Object.entries(params)) {
    if (typeof value === 'string') pairs.push([name, value]);
    else for (const item of value) pairs.push([name, item]);
  }
  return pairs;
}

/**
 * Encode parameters as `application/x-www-form-urlencoded` (WHATWG URL
 * §5.2: UTF-8, space as `+`, only `*-._` and alphanumerics left bare).
 * @param params - the parameters.
 * @return the encoded string, empty when there are none.
 */
export function formEncode(params: WebhookParams | undefined): string {
  return new URLSearchParams(paramPairs(params)).toString();
}

/**
 * Append parameters to a URL's query string, after any query it already has;
 * a fragment stays at the end. The existing query is kept byte for byte.
 * @param url - an absolute URL.
 * @param params - the parameters to add.
 * @return the new URL string (unchanged when there are no parameters).
 */
export function appendQuery(url: string, params: WebhookParams | undefined): string {
  const encoded = formEncode(params);
  if (encoded === '') return url;
  const hashAt = url.indexOf('#');
  const base = hashAt === -1 ? url : url.slice(0, hashAt);
  const fragment = hashAt === -1 ? '' : url.slice(hashAt);
  const queryAt = base.indexOf('?');
  let separator = '&';
  if (queryAt === -1) separator = '?';
  else if (queryAt === base.length - 1 || base.endsWith('&')) separator = '';
  return base + separator + encoded + fragment;
}
