/**
 * Find the next LF at or after `p`, 16 bytes at a time with v128 compares.
 * @return the address of the LF, or `end` when there is none
 */
export function findLF(p: usize, end: usize): usize {
  const lf = i8x16.splat(10);
  while (p + 16 <= end) {
    const m = i8x16.bitmask(i8x16.eq(v128.load(p), lf));
    if (m != 0) return p + <usize>ctz(m);
    p += 16;
  }
  while (p < end) {
    if (load<u8>(p) == 0x0a) return p;
    p++;
  }
  return end;
}
