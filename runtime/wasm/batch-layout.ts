/**
 * The byte layout of `parse_batch` (assembly/index.ts), shared by the inline
 * engine and the pool worker. Browser-safe.
 *
 * Input: `count` entries of `[u32 length LE][bytes]`, each padded to a
 * multiple of 4 bytes. Output: `count` directory slots (record offsets in i32
 * slots) followed by the records; a record's offsets are relative to the
 * first byte of its own message.
 */
import { M, H_SIZE } from './abi.js';
import { HARD_MAX_HEADERS as MODULE_MAX_HEADERS } from './abi.generated.js';

/** Largest header count the module accepts (assembly/abi.ts HARD_MAX_HEADERS). */
export const HARD_MAX_HEADERS = MODULE_MAX_HEADERS;

/** @return the bytes one entry of `len` message bytes takes in IN (length word + padding). */
export function entryBytes(len: number): number {
  return 4 + ((len + 3) & ~3);
}

/**
 * The number of bytes of a message that are packed. A message longer than
 * `maxMessageBytes` fails with E_MESSAGE_TOO_LARGE before any byte is read,
 * so one byte past the limit is enough to produce the same record.
 */
export function packedLength(len: number, maxMessageBytes: number): number {
  return len > maxMessageBytes ? maxMessageBytes + 1 : len;
}

/**
 * Slots `parse_batch` reserves per record before it parses a message: it
 * stops early when a record of this size would not fit in OUT.
 */
export function maxRecordSlots(maxHeaders: number): number {
  return M.HEADERS + maxHeaders * H_SIZE;
}

/** @return the slots record `base` of `records` takes (header entries included). */
export function recordSlots(records: Int32Array, base: number): number {
  const headers = records[base + M.HEADER_COUNT]!;
  return M.HEADERS + (headers > 0 ? headers : 0) * H_SIZE;
}

/**
 * How many of `messages[from, ...)` fit in `capBytes` of packed entries.
 * @return the exclusive end index
 */
export function fitEntries(
  messages: readonly Uint8Array[], from: number, capBytes: number, maxMessageBytes: number,
): number {
  let bytes = 0;
  let i = from;
  for (const n = messages.length; i < n; i++) {
    const size = entryBytes(packedLength(messages[i]!.length, maxMessageBytes));
    if (bytes + size > capBytes) break;
    bytes += size;
  }
  return i;
}

/**
 * Pack `messages[from, to)` into `dst` starting at byte `start` (which must
 * be a multiple of 4). The caller checked the room with {@link fitEntries}.
 * @return the byte offset just past the last entry
 */
export function packEntries(
  messages: readonly Uint8Array[], from: number, to: number, dst: Uint8Array, start: number,
  maxMessageBytes: number,
): number {
  let p = start;
  for (let i = from; i < to; i++) {
    const msg = messages[i]!;
    const len = packedLength(msg.length, maxMessageBytes);
    dst[p] = len & 0xff;
    dst[p + 1] = (len >>> 8) & 0xff;
    dst[p + 2] = (len >>> 16) & 0xff;
    dst[p + 3] = len >>> 24;
    dst.set(len === msg.length ? msg : msg.subarray(0, len), p + 4);
    p += entryBytes(len);
  }
  return p;
}

/**
 * Copy the first records of a `parse_batch` output into `dest`, as many as
 * fit, rebasing their directory slots.
 * @param out      the OUT region (directory of `parsed` slots, then records)
 * @param parsed   messages `parse_batch` parsed
 * @param dest     destination slots
 * @param destDir  index in `dest` of the first directory slot to write
 * @param destPos  index in `dest` where the first record goes
 * @return how many records were copied (0 when not even the first fits)
 */
export function copyRecords(
  out: Int32Array, parsed: number, dest: Int32Array, destDir: number, destPos: number,
): number {
  if (parsed <= 0) return 0;
  const first = out[0]!;
  const room = dest.length - destPos;
  let fit = 0;
  let end = first;
  while (fit < parsed) {
    const base = out[fit]!;
    const next = base + recordSlots(out, base);
    if (next - first > room) break;
    end = next;
    fit++;
  }
  if (fit === 0) return 0;
  dest.set(out.subarray(first, end), destPos);
  const shift = destPos - first;
  for (let i = 0; i < fit; i++) dest[destDir + i] = out[i]! + shift;
  return fit;
}

/**
 * Result slots to reserve per message before its size is known: a
 * directory slot plus a record of 32 header entries. Typical INVITEs use
 * 15 to 25 entries; bigger batches are split, never truncated.
 */
export const ESTIMATED_SLOTS_PER_MESSAGE = 1 + M.HEADERS + 32 * H_SIZE;
