/**
 * Request bodies on uWS: read with `onData` into a bounded buffer, then
 * decode `application/x-www-form-urlencoded` strictly (bad percent-escapes
 * and invalid UTF-8 are refused, not replaced).
 */
import { ApiError } from './errors.js';
import type { Reply } from './uws.js';

/** Largest request body accepted by default (64 KiB). */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/**
 * Read a whole body. Chunks are copied (uWS neuters them after the callback).
 * @param contentLength - the request's Content-Length header ('' if absent), copied before any await
 * @return the body; an ApiError 413 once it exceeds `limit` (answer it with
 *   `close` so the rest of the upload is dropped); undefined if the client aborted
 */
export function readBody(reply: Reply, contentLength: string, limit: number): Promise<Buffer | ApiError | undefined> {
  const tooLarge = (): ApiError => new ApiError(413, 413, `Request body larger than ${limit} bytes`);
  if (contentLength !== '' && Number(contentLength) > limit) return Promise.resolve(tooLarge());
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    reply.onAbort(() => {
      settled = true;
      resolve(undefined);
    });
    reply.res.onData((chunk, isLast) => {
      if (settled) return;
      size += chunk.byteLength;
      if (size > limit) {
        settled = true;
        resolve(tooLarge());
        return;
      }
      if (chunk.byteLength > 0) chunks.push(Buffer.from(new Uint8Array(chunk)));
      if (isLast) {
        settled = true;
        resolve(Buffer.concat(chunks, size));
      }
    });
  });
}

/** Decoded form parameters; names may repeat. */
export class Form {
  readonly #values: Map<string, string[]>;

  constructor(values: Map<string, string[]>) {
    this.#values = values;
  }

  /** @return the first value of `name`, if any. */
  get(name: string): string | undefined {
    return this.#values.get(name)?.[0];
  }

  /** @return every value of `name`, in order. */
  getAll(name: string): string[] {
    return this.#values.get(name) ?? [];
  }

  /** @return true if `name` was given (even empty). */
  has(name: string): boolean {
    return this.#values.has(name);
  }
}

function decodeComponent(text: string, what: string): string | ApiError {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return new ApiError(400, 400, `Malformed form body: ${what} ${JSON.stringify(text.slice(0, 64))} has a bad percent-escape or is not UTF-8`);
  }
}

/**
 * Decode an `application/x-www-form-urlencoded` string (a body or a query).
 * @return the parameters, or ApiError 400 naming the bad part
 */
export function parseForm(text: string): Form | ApiError {
  const values = new Map<string, string[]>();
  if (text === '') return new Form(values);
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq), 'name');
    if (name instanceof ApiError) return name;
    const value = decodeComponent(eq < 0 ? '' : pair.slice(eq + 1), `value of ${name}`);
    if (value instanceof ApiError) return value;
    const list = values.get(name);
    if (list) list.push(value);
    else values.set(name, [value]);
  }
  return new Form(values);
}

/**
 * Decode a POST body after checking its type.
 * @param contentType - the Content-Type header ('' if absent)
 */
export function parseFormBody(body: Buffer, contentType: string): Form | ApiError {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (body.length > 0 && type !== 'application/x-www-form-urlencoded') {
    return new ApiError(400, 400, `Content-Type must be application/x-www-form-urlencoded, got ${JSON.stringify(contentType || '(none)')}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return new ApiError(400, 400, 'Malformed form body: not UTF-8');
  }
  return parseForm(text);
}
