/** Decoding byte spans to strings, fast for the short ASCII spans SIP is made of. Browser-safe. */

const utf8 = new TextDecoder('utf-8', { fatal: false });

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
