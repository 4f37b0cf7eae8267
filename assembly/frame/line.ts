/** Non-zero once findLF scanned a byte >= 0x80 (before the LF it stopped at) since the last reset. */
export let scannedHighBits: i32 = 0;

/** `scannedCtlAt` when findLF saw no forbidden control byte. */
export const NO_CTL: usize = <usize>-1;

/**
 * Address of the first forbidden control byte findLF scanned since the last
 * reset, or NO_CTL. RFC 3261 §25.1 allows no CTL in the start line or a
 * header field except as line ending or LWS: HTAB, and CR only right before
 * the LF that ends a line (or folds it). NUL, BEL, ESC, DEL, a bare CR and
 * every other byte in 0x00-0x1f are forbidden.
 */
export let scannedCtlAt: usize = NO_CTL;

/** Start a new message: forget the high bits and control bytes seen so far. */
export function resetScan(): void {
  scannedHighBits = 0;
  scannedCtlAt = NO_CTL;
}

/**
 * Look at the rare bytes (CTL, DEL, >= 0x80) of the 16-byte block at `p`
 * marked in `bits` (the LF that ends the scan is never among them): note
 * high bytes, and remember the first control byte that is neither HTAB nor
 * a CR followed by LF. Cold: most lines have only their CR, which the
 * caller skips.
 */
function noteRare(p: usize, bits: i32, end: usize): void {
  while (bits != 0) {
    const at = p + <usize>ctz(bits);
    bits &= bits - 1;
    const c = load<u8>(at);
    if (c >= 0x80) {
      scannedHighBits = 1;
      continue;
    }
    if (c == 0x09 || (c == 0x0d && at + 1 < end && load<u8>(at + 1) == 0x0a)) continue;
    if (scannedCtlAt == NO_CTL) scannedCtlAt = at;
  }
}

/**
 * Find the next LF at or after `p`, 16 bytes at a time with v128 compares,
 * noting on the way whether any byte had its high bit set and where the
 * first forbidden control byte is (see `scannedCtlAt`): the one pass that
 * frames a line also checks it, so the check costs no second scan.
 * One compare finds the rare bytes, CTL (LF and CR included), DEL and
 * >= 0x80, as `v + 1 <s 0x21`: the add wraps DEL and every high byte to a
 * negative i8. A block of plain ASCII text, the usual case, costs that
 * compare alone; the block with the LF one more to find it.
 * @return the address of the LF, or `end` when there is none
 */
export function findLF(p: usize, end: usize): usize {
  const lf = i8x16.splat(10);
  const one = i8x16.splat(1);
  const limit = i8x16.splat(0x21);
  while (p + 16 <= end) {
    const v = v128.load(p);
    const rare = i8x16.bitmask(i8x16.lt_s(i8x16.add(v, one), limit));
    if (rare != 0) {
      const m = i8x16.bitmask(i8x16.eq(v, lf));
      if (m != 0) {
        const k = ctz(m);
        // rare bytes before the LF; the usual one is the CR right before it
        const before = rare & ((1 << k) - 1);
        if (before != 0 && !(before == 1 << (k - 1) && load<u8>(p + <usize>k - 1) == 0x0d)) noteRare(p, before, end);
        return p + <usize>k;
      }
      noteRare(p, rare, end);
    }
    p += 16;
  }
  while (p < end) {
    const c = load<u8>(p);
    if (c == 0x0a) return p;
    scannedHighBits |= c & 0x80;
    if (c < 0x20 || c == 0x7f) noteRare(p, 1, end);
    p++;
  }
  return end;
}
