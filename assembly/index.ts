/**
 * The Patchbay WASM ABI. Every export takes and returns numbers; the host
 * copies input bytes into IN and reads i32 records from OUT (layouts in
 * abi.ts, error codes in errors.ts).
 */
import * as A from './abi';
import { E_ARGUMENT } from './errors';
import { parseMessage, setLimits, maxMessageBytes, maxHeaders } from './parse/message';
import { findMessageEnd } from './frame/message-end';

const IN: usize = memory.data(A.IN_CAP, 16);
const OUT: usize = memory.data(A.OUT_CAP << 2, 16);

/** @return the ABI version; the runtime refuses a mismatch. */
export function abi_version(): i32 {
  return A.ABI_VERSION;
}

/** @return address of the IN region (bytes). */
export function in_ptr(): usize {
  return IN;
}

/** @return size of the IN region in bytes. */
export function in_cap(): i32 {
  return A.IN_CAP;
}

/** @return address of the OUT region (i32 slots). */
export function out_ptr(): usize {
  return OUT;
}

/** @return size of the OUT region in i32 slots. */
export function out_cap(): i32 {
  return A.OUT_CAP;
}

/**
 * Set parser limits.
 * @param messageBytes  largest message (default 65535)
 * @param headers       most header entries (default 256, at most 1024)
 * @param lineBytes     longest line (default 8192)
 */
export function set_limits(messageBytes: i32, headers: i32, lineBytes: i32): void {
  setLimits(messageBytes, headers, lineBytes);
}

/**
 * Parse the message in IN[0, len) into the record at OUT (M_* slots).
 * @param len       message length in bytes
 * @param isStream  1 when framed from a stream (Content-Length mandatory)
 * @return 0 ok, 1 keep-alive, <0 error code (OUT[M_ERROR_OFFSET] tells where)
 */
export function parse_message(len: i32, isStream: i32): i32 {
  if (len < 0 || len > A.IN_CAP) return E_ARGUMENT;
  return parseMessage(IN, len, OUT, isStream != 0);
}

/**
 * Frame the next message of a stream buffer held in IN[0, len).
 * @return >0 message length, 0 need more bytes, <0 error code
 */
export function find_message_end(len: i32): i32 {
  if (len < 0 || len > A.IN_CAP) return E_ARGUMENT;
  return findMessageEnd(IN, len, maxMessageBytes);
}

/**
 * Parse a batch. IN holds `count` entries of [u32 length LE][bytes], each
 * entry padded to a multiple of 4 bytes. OUT receives `count` record offsets
 * (in i32 slots from OUT) followed by the records; each record's offsets are
 * relative to the first byte of its message.
 * @return the number of messages parsed, or <0 when the batch is malformed
 */
export function parse_batch(count: i32, totalBytes: i32): i32 {
  if (count < 0 || totalBytes < 0 || totalBytes > A.IN_CAP || count > A.OUT_CAP) return E_ARGUMENT;
  let p: usize = IN;
  const end: usize = IN + <usize>totalBytes;
  let slot: i32 = count;
  for (let i = 0; i < count; i++) {
    if (p + 4 > end) return E_ARGUMENT;
    const len = load<i32>(p);
    const msg = p + 4;
    if (len < 0 || msg + <usize>len > end) return E_ARGUMENT;
    // each record needs M_HEADERS + headers * H_SIZE slots; stop when OUT is full
    const recordSlots = A.M_HEADERS + maxHeaders * A.H_SIZE;
    if (slot + recordSlots > A.OUT_CAP) return i;
    store<i32>(OUT + (<usize>i << 2), slot);
    const rec = OUT + (<usize>slot << 2);
    parseMessage(msg, len, rec, false);
    slot += A.M_HEADERS + load<i32>(rec + (<usize>A.M_HEADER_COUNT << 2)) * A.H_SIZE;
    p = msg + ((<usize>len + 3) & ~<usize>3);
  }
  return count;
}
