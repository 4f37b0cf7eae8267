/**
 * `X-Twilio-Signature`, computed exactly as Twilio does
 * (https://www.twilio.com/docs/usage/security, "Validating requests") so
 * that stock `twilio.validateRequest` / `twilio.webhook()` accept our requests.
 *
 * Signing runs once per webhook request, so it avoids per-call setup: the
 * HMAC key's padded blocks are prepared once per auth token, and the HMAC is
 * two one-shot `crypto.hash` calls over reused buffers (RFC 2104), about half
 * the CPU of a `createHmac` per request. Without `crypto.hash` (Node < 20.12)
 * it falls back to `createHmac`; both give the same bytes.
 */
import * as nodeCrypto from 'node:crypto';
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

/** Above this many names, `Array.prototype.sort`; below, an insertion sort (cheaper for a webhook's dozen). */
const INSERTION_SORT_MAX = 32;

/**
 * Sort distinct strings in place by UTF-16 code units (the order of
 * `Array.prototype.sort` without a comparator and of twilio-node; it equals
 * UTF-8 byte order except for code points U+E000–U+FFFF against
 * supplementary-plane ones). Costs one pass when already sorted.
 * @param list - the strings, all distinct.
 * @return `list`.
 */
function sortByCodeUnits(list: string[]): string[] {
  const n = list.length;
  if (n > INSERTION_SORT_MAX) return list.sort();
  for (let i = 1; i < n; i++) {
    const item = list[i] as string;
    let j = i - 1;
    while (j >= 0 && (list[j] as string) > item) {
      list[j + 1] = list[j] as string;
      j--;
    }
    list[j + 1] = item;
  }
  return list;
}

/**
 * The string Twilio feeds to HMAC: the URL, then for POST every parameter
 * name followed by its value, names sorted by UTF-16 code units; a repeated
 * name contributes each distinct value, values sorted; an `undefined` value
 * is skipped.
 * @param url - the URL as requested (see `signableUrl`).
 * @param params - the POST parameters; ignored for GET.
 * @param method - `GET` signs the URL alone (its parameters are in the query).
 * @return the string to sign.
 */
export function signatureBase(url: string, params: WebhookParams | undefined, method: WebhookMethod): string {
  let data = signableUrl(url);
  if (method === 'GET' || params === undefined) return data;
  const names = sortByCodeUnits(Object.keys(params));
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const value = params[name];
    if (value === undefined) continue;
    if (typeof value === 'string') {
      data += name + value;
    } else {
      const values = value.length < 2 ? value : sortByCodeUnits([...new Set(value)]);
      for (let j = 0; j < values.length; j++) data += name + (values[j] as string);
    }
  }
  return data;
}

/** SHA-1's block size: the HMAC key is padded (or first hashed) to this. */
const BLOCK = 64;
/** SHA-1's digest size. */
const DIGEST = 20;
/** A message up to this many bytes is hashed in the shared buffer; a longer one in a buffer of its own. */
const SHARED_MAX = 64 * 1024;

/** One auth token's HMAC key, prepared. */
interface HmacKey {
  /** K0 ⊕ ipad: the first block of the inner hash. */
  readonly inner: Buffer;
  /** K0 ⊕ opad followed by room for the inner digest: the whole outer message. */
  readonly outer: Buffer;
}

/** The one-shot hash of Node ≥ 20.12 (and 21.7), or `undefined` on older ones. */
const oneShotHash = (nodeCrypto as { hash?: typeof nodeCrypto.hash }).hash;

/** Each auth token's padded key blocks (a daemon has one token; bounded all the same). */
const hmacKey = memoizeBounded((authToken): HmacKey => {
  let key = Buffer.from(authToken, 'utf8');
  if (key.length > BLOCK) key = nodeCrypto.createHash('sha1').update(key).digest();
  const inner = Buffer.alloc(BLOCK, 0x36);
  const outer = Buffer.alloc(BLOCK + DIGEST, 0x5c);
  for (let i = 0; i < key.length; i++) {
    inner[i] = (inner[i] as number) ^ (key[i] as number);
    outer[i] = (outer[i] as number) ^ (key[i] as number);
  }
  return { inner, outer };
}, 16);

/** The inner message (K0 ⊕ ipad, then the data) is assembled here. */
let shared = Buffer.allocUnsafe(4 * 1024);
/** Whose K0 ⊕ ipad block `shared` starts with. */
let sharedKey: HmacKey | undefined;

/**
 * base64(HMAC-SHA1(authToken, data as UTF-8)), byte for byte what
 * `createHmac('sha1', authToken).update(data, 'utf8').digest('base64')`
 * gives (a lone surrogate is encoded as U+FFFD either way).
 * @param authToken - the key, as UTF-8.
 * @param data - the message.
 * @return the MAC in base64.
 */
export function hmacSha1Base64(authToken: string, data: string): string {
  if (oneShotHash === undefined) {
    return nodeCrypto.createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
  }
  const key = hmacKey(authToken);
  const room = BLOCK + data.length * 3; // UTF-8 takes at most 3 bytes per UTF-16 code unit
  let message = shared;
  if (room > SHARED_MAX) {
    message = Buffer.allocUnsafe(room);
    key.inner.copy(message, 0);
  } else {
    if (room > shared.length) {
      message = shared = Buffer.allocUnsafe(Math.min(SHARED_MAX, Math.max(room, 2 * shared.length)));
      sharedKey = undefined;
    }
    if (sharedKey !== key) {
      key.inner.copy(message, 0);
      sharedKey = key;
    }
  }
  const length = BLOCK + message.write(data, BLOCK, 'utf8');
  // 'binary' (latin1) output, one char per byte: cheaper than a Buffer result
  key.outer.write(oneShotHash('sha1', message.subarray(0, length), 'binary'), BLOCK, 'latin1');
  return oneShotHash('sha1', key.outer, 'base64');
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
  return hmacSha1Base64(authToken, signatureBase(url, params, method));
}
