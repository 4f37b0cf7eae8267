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

/**
 * Address of the first control byte findLF let through as the escaped byte
 * of a quoted-pair inside a quoted-string, or NO_CTL. RFC 3261 §25.1:
 * `quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)` within `quoted-string`,
 * so `"a\<BEL>"` is valid (RFC 4475 §3.1.1.2) though `"a<BEL>"` is not.
 */
export let scannedEscapedCtlAt: usize = NO_CTL;

/**
 * Where the header value being scanned starts (just after its colon), or
 * NO_CTL while findLF scans anything else (the start line, a framing scan):
 * only a header value has quoted-strings. Set by the parser once per header
 * field; read only on the cold path, where a control byte was found.
 */
export let valueFrom: usize = NO_CTL;

// The quoted-string state of the value at `valueFrom`, scanned lazily up to
// `quoteAt` (the first byte not read yet): inside quotes, right after the
// backslash of a quoted-pair. `quoteOf` names the value the state belongs to.
let quoteOf: usize = NO_CTL;
let quoteAt: usize = 0;
let inQuotes = false;
let afterBackslash = false;

/** Start a new message: forget the high bits and control bytes seen so far. */
export function resetScan(): void {
  scannedHighBits = 0;
  scannedCtlAt = NO_CTL;
  scannedEscapedCtlAt = NO_CTL;
  valueFrom = NO_CTL;
  quoteOf = NO_CTL;
}

/** The next findLF scans a header value (or its folded continuation lines) starting at `p`. */
// @ts-ignore: decorator
@inline
export function beginValue(p: usize): void {
  valueFrom = p;
}

/**
 * @return true when the control byte at `at` is the escaped byte of a
 * quoted-pair inside a quoted-string of the header value at `valueFrom`.
 * Reads the value from where the last call stopped (or from its start), so
 * a value with many control bytes is still read once; allocates nothing.
 * Cold: called only for a control byte that would otherwise be refused.
 */
function isQuotedPair(at: usize): bool {
  if (valueFrom == NO_CTL || at < valueFrom) return false;
  if (quoteOf != valueFrom) {
    quoteOf = valueFrom;
    quoteAt = valueFrom;
    inQuotes = false;
    afterBackslash = false;
  }
  if (at < quoteAt) return false;
  let p = quoteAt;
  let quoted = inQuotes;
  let escaped = afterBackslash;
  while (p < at) {
    const c = load<u8>(p++);
    if (escaped) escaped = false;
    else if (quoted) {
      if (c == 0x5c) escaped = true;
      else if (c == 0x22) quoted = false;
    } else if (c == 0x22) quoted = true;
  }
  // the control byte itself: escaped, or an ordinary (refused) byte
  quoteAt = at + 1;
  inQuotes = quoted;
  afterBackslash = false;
  return escaped;
}

/**
 * Look at the rare bytes (CTL, DEL, >= 0x80) of the 16-byte block at `p`
 * marked in `bits` (the LF that ends the scan is never among them): note
 * high bytes, and remember the first control byte that is neither HTAB nor
 * a CR followed by LF, nor (CR excepted: §25.1's quoted-pair leaves out CR
 * and LF) the escaped byte of a quoted-pair in a header value's
 * quoted-string. Cold: most lines have only their CR, which the caller skips.
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
    if (c != 0x0d && isQuotedPair(at)) {
      if (scannedEscapedCtlAt == NO_CTL) scannedEscapedCtlAt = at;
      continue;
    }
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
