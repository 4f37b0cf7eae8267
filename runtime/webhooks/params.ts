/**
 * Webhook parameters and their two transports (Twilio's TwiML request
 * conventions, https://www.twilio.com/docs/voice/twiml): the
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

/** 1 for the ASCII characters the form serializer leaves bare: alphanumerics and `*-._`. */
const BARE = Uint8Array.from({ length: 128 }, (_, code) => (/^[A-Za-z0-9*\-._]$/.test(String.fromCharCode(code)) ? 1 : 0));

/** ASCII codes of the uppercase hex digits. */
const HEX = Uint8Array.from('0123456789ABCDEF', (digit) => digit.charCodeAt(0));

/** Most bytes one UTF-16 code unit can encode to: three `%XX` (a pair encodes to four, 12 bytes for two units). */
const MAX_BYTES_PER_UNIT = 9;

/** Size of the shared encoding buffer; a larger one made for a large request is dropped afterwards. */
const SCRATCH_SIZE = 16 * 1024;

/** Where parameters are encoded, before being copied out as a `Buffer` or a string. */
let scratch = Buffer.allocUnsafe(SCRATCH_SIZE);

/**
 * Make room in `scratch` for `more` bytes after the first `used`.
 * @param used - bytes already written, kept.
 * @param more - bytes about to be written.
 */
function reserve(used: number, more: number): void {
  if (used + more <= scratch.length) return;
  const larger = Buffer.allocUnsafe(Math.max(2 * scratch.length, used + more));
  scratch.copy(larger, 0, 0, used);
  scratch = larger;
}

/**
 * Write `%XX` for one byte at `at`.
 * @param at - where in `scratch`.
 * @param byte - the byte value.
 * @return the position after it.
 */
function percent(at: number, byte: number): number {
  scratch[at] = 0x25;
  scratch[at + 1] = HEX[byte >> 4] as number;
  scratch[at + 2] = HEX[byte & 0xf] as number;
  return at + 3;
}

/**
 * Write one name or value as the `application/x-www-form-urlencoded` byte
 * serializer does (WHATWG URL §5.2): UTF-8, space as `+`, everything but
 * alphanumerics and `*-._` percent-encoded in uppercase hex, a lone
 * surrogate as U+FFFD (as `URLSearchParams` converts it).
 * @param at - where in `scratch`.
 * @param text - the name or value.
 * @return the position after it.
 */
function encodeComponent(at: number, text: string): number {
  const n = text.length;
  reserve(at, n * MAX_BYTES_PER_UNIT + 1); // + 1: the `&` or `=` that follows
  const out = scratch;
  for (let i = 0; i < n; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) {
      if (BARE[code] === 1) out[at++] = code;
      else if (code === 0x20) out[at++] = 0x2b;
      else at = percent(at, code);
    } else if (code < 0x800) {
      at = percent(percent(at, 0xc0 | (code >> 6)), 0x80 | (code & 0x3f));
    } else if (code < 0xd800 || code > 0xdfff) {
      at = percent(percent(percent(at, 0xe0 | (code >> 12)), 0x80 | ((code >> 6) & 0x3f)), 0x80 | (code & 0x3f));
    } else {
      const low = code <= 0xdbff && i + 1 < n ? text.charCodeAt(i + 1) : 0;
      if (low >= 0xdc00 && low <= 0xdfff) {
        const point = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        at = percent(percent(at, 0xf0 | (point >> 18)), 0x80 | ((point >> 12) & 0x3f));
        at = percent(percent(at, 0x80 | ((point >> 6) & 0x3f)), 0x80 | (point & 0x3f));
        i++;
      } else {
        at = percent(percent(percent(at, 0xef), 0xbf), 0xbd); // U+FFFD
      }
    }
  }
  return at;
}

/**
 * Encode parameters into `scratch` in `paramPairs` order.
 * @param params - the parameters.
 * @return the number of bytes written.
 */
function encodeParams(params: WebhookParams): number {
  let at = 0;
  const names = Object.keys(params);
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const value = params[name] as string | readonly string[];
    if (typeof value === 'string') {
      if (at !== 0) scratch[at++] = 0x26;
      at = encodeComponent(at, name);
      scratch[at++] = 0x3d;
      at = encodeComponent(at, value);
    } else {
      for (let j = 0; j < value.length; j++) {
        if (at !== 0) scratch[at++] = 0x26;
        at = encodeComponent(at, name);
        scratch[at++] = 0x3d;
        at = encodeComponent(at, value[j] as string);
      }
    }
  }
  return at;
}

/**
 * Encode `params` and hand the bytes to `take`, then drop an oversized buffer.
 * @param params - the parameters.
 * @param take - copies the bytes out of `bytes[0, length)`.
 * @return what `take` returned.
 */
function encodeWith<T>(params: WebhookParams, take: (bytes: Buffer, length: number) => T): T {
  const length = encodeParams(params); // may replace `scratch` with a larger one
  const result = take(scratch, length);
  if (scratch.length > SCRATCH_SIZE) scratch = Buffer.allocUnsafe(SCRATCH_SIZE);
  return result;
}

/** Copy encoded bytes into a `Buffer` of their own. */
function copyBytes(bytes: Buffer, length: number): Buffer {
  const body = Buffer.allocUnsafe(length);
  bytes.copy(body, 0, 0, length);
  return body;
}

/** Encoded bytes as a string (they are ASCII). */
function asString(bytes: Buffer, length: number): string {
  return bytes.toString('latin1', 0, length);
}

/**
 * Encode parameters as `application/x-www-form-urlencoded` (WHATWG URL
 * §5.2: UTF-8, space as `+`, only `*-._` and alphanumerics left bare), in
 * `paramPairs` order: the same string as
 * `new URLSearchParams(paramPairs(params)).toString()`, without the pairs.
 * @param params - the parameters.
 * @return the encoded string (ASCII), empty when there are none.
 */
export function formEncode(params: WebhookParams | undefined): string {
  return params === undefined ? '' : encodeWith(params, asString);
}

/**
 * `formEncode` as the bytes of a POST body, written once rather than
 * encoded to a string and then to UTF-8: equal to
 * `Buffer.from(formEncode(params))`.
 * @param params - the parameters.
 * @return a new `Buffer`, empty when there are none.
 */
export function formBody(params: WebhookParams | undefined): Buffer {
  return params === undefined ? Buffer.alloc(0) : encodeWith(params, copyBytes);
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
