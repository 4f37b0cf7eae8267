/**
 * Byte classes for SIP grammar (RFC 3261 §25.1), as one 256-entry lookup
 * table of bit flags. Indexing: CLASS_TABLE + byte value.
 */

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const C_TOKEN: u8 = 1;
/** unreserved = alphanum / mark */
export const C_UNRESERVED: u8 = 2;
/** user chars: unreserved / user-unreserved ("&" "=" "+" "$" "," ";" "?" "/") */
export const C_USER: u8 = 4;
/** paramchar: unreserved / param-unreserved ("[" "]" "/" ":" "&" "+" "$") */
export const C_PARAM: u8 = 8;
/** hnv chars: unreserved / hnv-unreserved ("[" "]" "/" "?" ":" "+" "$") */
export const C_HNV: u8 = 16;
/** HEXDIG */
export const C_HEX: u8 = 32;
/** password chars: unreserved / "&" "=" "+" "$" "," */
export const C_PASSWORD: u8 = 64;
/** hostname / IPv4 / IPv6 reference characters */
export const C_HOST: u8 = 128;

const CLASS_TABLE: usize = memory.data(256);

function mark(chars: string, flag: u8): void {
  for (let i = 0; i < chars.length; i++) {
    const c = <usize>chars.charCodeAt(i);
    store<u8>(CLASS_TABLE + c, load<u8>(CLASS_TABLE + c) | flag);
  }
}

function initClasses(): void {
  const alnum = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  mark(alnum, C_TOKEN | C_UNRESERVED | C_USER | C_PARAM | C_HNV | C_PASSWORD | C_HOST);
  mark("-.!%*_+`'~", C_TOKEN);
  mark("-_.!~*'()", C_UNRESERVED | C_USER | C_PARAM | C_HNV | C_PASSWORD);
  mark('&=+$,;?/', C_USER);
  mark('[]/:&+$', C_PARAM);
  mark('[]/?:+$', C_HNV);
  mark('&=+$,', C_PASSWORD);
  mark('0123456789abcdefABCDEF', C_HEX);
  mark('-._:[]', C_HOST);
}
initClasses();

/** @return the class bits of byte `c`. */
// @ts-ignore: decorator
@inline
export function cls(c: u32): u8 {
  return load<u8>(CLASS_TABLE + <usize>(c & 0xff));
}

/** @return true for SP or HTAB. */
// @ts-ignore: decorator
@inline
export function isWsp(c: u32): bool {
  return c == 0x20 || c == 0x09;
}

/** @return true for an ASCII digit. */
// @ts-ignore: decorator
@inline
export function isDigit(c: u32): bool {
  return c - 0x30 < 10;
}

/** @return the ASCII lower case of `c` (other bytes unchanged). */
// @ts-ignore: decorator
@inline
export function lower(c: u32): u32 {
  return c - 0x41 < 26 ? c | 0x20 : c;
}

/** @return the value of a hex digit, or -1. */
export function hexValue(c: u32): i32 {
  if (c - 0x30 < 10) return <i32>(c - 0x30);
  const l = c | 0x20;
  if (l - 0x61 < 6) return <i32>(l - 0x61 + 10);
  return -1;
}

/**
 * Case-insensitive compare of bytes at `p` with the ASCII string `s`
 * (which must be lower case). Reads the literal's UTF-16 code units directly.
 */
export function equalsLower(p: usize, len: i32, s: string): bool {
  if (len != s.length) return false;
  const sp = changetype<usize>(s);
  for (let i = 0; i < len; i++) {
    if (lower(load<u8>(p + <usize>i)) != <u32>load<u16>(sp + (<usize>i << 1))) return false;
  }
  return true;
}

/** Case-insensitive prefix test of bytes at `p` (length `len`) against lower-case `s`. */
export function startsWithLower(p: usize, len: i32, s: string): bool {
  const n = s.length;
  if (len < n) return false;
  const sp = changetype<usize>(s);
  for (let i = 0; i < n; i++) {
    if (lower(load<u8>(p + <usize>i)) != <u32>load<u16>(sp + (<usize>i << 1))) return false;
  }
  return true;
}

/** Exact byte compare of two spans. */
export function equalBytes(a: usize, alen: i32, b: usize, blen: i32): bool {
  if (alen != blen) return false;
  for (let i = 0; i < alen; i++) {
    if (load<u8>(a + <usize>i) != load<u8>(b + <usize>i)) return false;
  }
  return true;
}

/** Skip SP/HTAB from `p` to at most `end`. */
export function skipWsp(p: usize, end: usize): usize {
  while (p < end && isWsp(load<u8>(p))) p++;
  return p;
}

/**
 * Skip linear white space: SP/HTAB and line folds (CRLF or LF followed by
 * SP/HTAB) from `p` to at most `end`. The common case (no LWS) is inlined.
 */
// @ts-ignore: decorator
@inline
export function skipLws(p: usize, end: usize): usize {
  if (p >= end) return p;
  const c = load<u8>(p);
  if (c > 0x20) return p;
  if (c == 0x20 && p + 1 < end && load<u8>(p + 1) > 0x20) return p + 1;
  return skipLwsSlow(p, end);
}

function skipLwsSlow(p: usize, end: usize): usize {
  while (p < end) {
    const c = load<u8>(p);
    if (isWsp(c)) {
      p++;
    } else if (c == 0x0d && p + 2 < end && load<u8>(p + 1) == 0x0a && isWsp(load<u8>(p + 2))) {
      p += 3;
    } else if (c == 0x0a && p + 1 < end && isWsp(load<u8>(p + 1))) {
      p += 2;
    } else {
      break;
    }
  }
  return p;
}

/** Trim trailing LWS: returns the new end. */
export function trimEnd(start: usize, end: usize): usize {
  while (end > start) {
    const c = load<u8>(end - 1);
    if (isWsp(c) || c == 0x0d || c == 0x0a) end--;
    else break;
  }
  return end;
}
