/** OR of the high bits of every block findLF scanned since the last reset (non-zero = some byte >= 0x80). */
export let scannedHighBits: i32 = 0;

/** Start a new message: forget the high bits seen so far. */
export function resetScannedHighBits(): void {
  scannedHighBits = 0;
}

/**
 * Find the next LF at or after `p`, 16 bytes at a time with v128 compares,
 * noting on the way whether any byte had its high bit set.
 * @return the address of the LF, or `end` when there is none
 */
export function findLF(p: usize, end: usize): usize {
  const lf = i8x16.splat(10);
  while (p + 16 <= end) {
    const v = v128.load(p);
    scannedHighBits |= i8x16.bitmask(v);
    const m = i8x16.bitmask(i8x16.eq(v, lf));
    if (m != 0) return p + <usize>ctz(m);
    p += 16;
  }
  while (p < end) {
    const c = load<u8>(p);
    if (c == 0x0a) return p;
    scannedHighBits |= c & 0x80;
    p++;
  }
  return end;
}
