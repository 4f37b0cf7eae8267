/** Decoding byte spans to strings, fast for the short ASCII spans SIP is made of. Browser-safe. */

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Node's native latin1 slicer (one C++ call, no intermediate objects) when
 * running on Node; undefined in browsers, where the loop below is used.
 */
const nativeLatin1: ((this: Uint8Array, start: number, end: number) => string) | undefined =
  (globalThis as { Buffer?: { prototype: { latin1Slice?: (this: Uint8Array, s: number, e: number) => string } } })
    .Buffer?.prototype.latin1Slice;

/**
 * Decode a span known to be ASCII (the parser's NON_ASCII flag is clear):
 * natively on Node, by hand elsewhere.
 */
export function decodeAscii(bytes: Uint8Array, start: number, len: number): string {
  if (len <= 0) return '';
  if (nativeLatin1 !== undefined) return nativeLatin1.call(bytes, start, start + len);
  return decodeSpan(bytes, start, len);
}

/**
 * Decode `bytes[start, start+len)`: ASCII by hand (no allocation besides
 * the string), anything else as UTF-8 with replacement characters.
 */
export function decodeSpan(bytes: Uint8Array, start: number, len: number): string {
  if (len <= 0) return '';
  if (len <= 64) {
    let s = '';
    for (let i = start, end = start + len; i < end; i++) {
      const c = bytes[i]!;
      if (c >= 0x80) return utf8.decode(bytes.subarray(start, start + len));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8.decode(bytes.subarray(start, start + len));
}

/** Decode a header value whose span contains line folds: each fold reads as one SP (RFC 3261 §7.3.1). */
export function decodeFolded(bytes: Uint8Array, start: number, len: number): string {
  return decodeSpan(bytes, start, len).replace(/\r?\n[ \t]+/g, ' ');
}
