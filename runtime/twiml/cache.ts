/**
 * A bounded cache of parsed TwiML documents keyed by their text. Customer
 * applications mostly answer with the same few documents, so the daemon
 * parses each once; a cached tree is deep-frozen, so no caller can change
 * what the next call gets.
 */
import type { Result, TwimlDocument, TwimlError } from './types.js';

/** Parses a document, answering repeated texts from the cache. */
export type CachedParse = (xml: string) => Result<TwimlDocument, TwimlError>;

/** Limits of a document cache. */
export interface TwimlCacheOptions {
  /** Most documents kept (default 256); the least recently used goes first. */
  readonly capacity?: number;
  /** Longest document text cached, in UTF-16 units (default 16 384); longer ones are parsed every time. */
  readonly maxLength?: number;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Wrap a parse function with a least-recently-used cache.
 * @param parse - the uncached parse (parseTwiml with its options bound).
 * @param options - capacity and the longest text cached.
 * @return a parse function returning frozen, shared results.
 */
export function cachedTwimlParser(parse: CachedParse, options: TwimlCacheOptions = {}): CachedParse {
  const capacity = Math.max(1, options.capacity ?? 256);
  const maxLength = options.maxLength ?? 16_384;
  const entries = new Map<string, Result<TwimlDocument, TwimlError>>();
  return (xml) => {
    if (xml.length > maxLength) return parse(xml);
    const hit = entries.get(xml);
    if (hit !== undefined) {
      entries.delete(xml);
      entries.set(xml, hit);
      return hit;
    }
    const result = deepFreeze(parse(xml));
    if (entries.size >= capacity) entries.delete(entries.keys().next().value as string);
    entries.set(xml, result);
    return result;
  };
}
