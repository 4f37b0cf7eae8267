import { lower } from '../util/ascii';

/**
 * Well-known header names and their ids. Index = header id; id 0 is any
 * other (extension) header. Compact forms (RFC 3261 §7.3.3 and later RFCs)
 * map to the same id. scripts/gen-abi.mjs copies it to
 * runtime/wasm/abi.generated.ts; the contract test compares HEADER_NAMES
 * of runtime/wasm/abi.ts (canonical case) with it.
 */
export const HEADER_NAMES: string[] = [
  '', 'via', 'from', 'to', 'call-id', 'cseq', 'contact', 'content-length',
  'content-type', 'max-forwards', 'route', 'record-route', 'supported', 'subject',
  'refer-to', 'referred-by', 'content-encoding', 'allow', 'require', 'proxy-require',
  'unsupported', 'expires', 'authorization', 'proxy-authorization', 'www-authenticate',
  'proxy-authenticate', 'event', 'allow-events', 'subscription-state', 'user-agent',
  'server', 'accept', 'accept-encoding', 'accept-language', 'content-disposition',
  'date', 'timestamp', 'warning', 'retry-after', 'min-expires', 'organization',
  'priority', 'reply-to', 'in-reply-to', 'alert-info', 'call-info', 'error-info',
  'mime-version', 'replaces', 'refer-sub', 'p-asserted-identity', 'p-preferred-identity',
  'remote-party-id', 'user-to-user', 'session-expires', 'min-se', 'rseq', 'rack', 'path',
  'privacy', 'diversion', 'authentication-info', 'content-language', 'identity', 'reason',
  'p-called-party-id', 'accept-contact', 'reject-contact', 'request-disposition',
  'service-route',
];

export const H_VIA: i32 = 1;
export const H_FROM: i32 = 2;
export const H_TO: i32 = 3;
export const H_CALL_ID: i32 = 4;
export const H_CSEQ: i32 = 5;
export const H_CONTACT: i32 = 6;
export const H_CONTENT_LENGTH: i32 = 7;
export const H_MAX_FORWARDS: i32 = 9;
export const H_ROUTE: i32 = 10;
export const H_RECORD_ROUTE: i32 = 11;
export const H_REFER_TO: i32 = 14;
export const H_DATE: i32 = 35;

/** Name length per id (index = id). */
const HEADER_NAME_LENGTHS: StaticArray<i32> = new StaticArray<i32>(128);

/** Compact form letter -> id (RFC 3261 §7.3.3, RFC 3515, RFC 3892, RFC 3265, RFC 4028, RFC 3841, RFC 8224). */
const COMPACT: usize = memory.data(26);

function setCompact(letter: string, id: i32): void {
  store<u8>(COMPACT + <usize>(letter.charCodeAt(0) - 0x61), <u8>id);
}

/** Lower-case name bytes, NAME_SLOT bytes per id, zero padded (for 8-byte compares). */
const NAME_SLOT: i32 = 32;
const NAME_BYTES: usize = memory.data(128 * NAME_SLOT, 8);
/** Ids whose values the message parser checks (Via, From, To, Call-ID, CSeq, Contact, Content-Length, Max-Forwards, Date). */
const CHECKED_IDS: usize = memory.data(128);

/** Which ids may carry a comma-separated list that we split (RFC 3261 §7.3.1). */
const LIST_IDS: usize = memory.data(128);
/** Which ids must appear at most once. */
const SINGLE_IDS: usize = memory.data(128);

const TABLE_BITS: u32 = 10;
const TABLE_SIZE: u32 = 1 << TABLE_BITS;
/** Open-addressing hash table: slot -> id + 1 (0 = empty). */
const TABLE: usize = memory.data(<i32>TABLE_SIZE);

/**
 * Hash of a header name from its length and first, second and last bytes
 * (case-folded with `| 0x20`, exact for token characters). Cheap enough to
 * compute after the name scan, with no per-byte multiply chain; lookups
 * verify the whole name, so collisions cost a probe, never a wrong id.
 */
// @ts-ignore: decorator
@inline
export function nameHash(p: usize, len: i32): u32 {
  const first = <u32>load<u8>(p) | 0x20;
  const second = <u32>load<u8>(p + 1) | 0x20;
  const last = <u32>load<u8>(p + <usize>(len - 1)) | 0x20;
  return (<u32>len * 0x9e3779b1) ^ (first * 0x85ebca77) ^ (second * 0xc2b2ae3d) ^ (last * 0x27d4eb2f);
}

function hashString(s: string): u32 {
  const len = s.length;
  const first = <u32>s.charCodeAt(0) | 0x20;
  const second = <u32>s.charCodeAt(1) | 0x20;
  const last = <u32>s.charCodeAt(len - 1) | 0x20;
  return (<u32>len * 0x9e3779b1) ^ (first * 0x85ebca77) ^ (second * 0xc2b2ae3d) ^ (last * 0x27d4eb2f);
}

function init(): void {
  for (let id = 1; id < HEADER_NAMES.length; id++) {
    const name = HEADER_NAMES[id];
    HEADER_NAME_LENGTHS[id] = name.length;
    for (let i = 0; i < name.length; i++) {
      store<u8>(NAME_BYTES + <usize>(id * NAME_SLOT + i), <u8>name.charCodeAt(i));
    }
  }
  const checked: i32[] = [H_VIA, H_FROM, H_TO, H_CALL_ID, H_CSEQ, H_CONTACT, H_CONTENT_LENGTH, H_MAX_FORWARDS, H_DATE];
  for (let i = 0; i < checked.length; i++) store<u8>(CHECKED_IDS + <usize>checked[i], 1);
  for (let id = 1; id < HEADER_NAMES.length; id++) {
    let slot = (hashString(HEADER_NAMES[id]) >> 16) & (TABLE_SIZE - 1);
    while (load<u8>(TABLE + <usize>slot) != 0) slot = (slot + 1) & (TABLE_SIZE - 1);
    store<u8>(TABLE + <usize>slot, <u8>(id + 1));
  }
  setCompact('v', H_VIA); setCompact('f', H_FROM); setCompact('t', H_TO);
  setCompact('i', H_CALL_ID); setCompact('m', H_CONTACT); setCompact('l', H_CONTENT_LENGTH);
  setCompact('c', 8); setCompact('k', 12); setCompact('s', 13); setCompact('r', H_REFER_TO);
  setCompact('b', 15); setCompact('o', 26); setCompact('u', 27); setCompact('e', 16);
  setCompact('x', 54); setCompact('y', 63); setCompact('a', 66); setCompact('j', 67);
  setCompact('d', 68);
  const lists: i32[] = [H_VIA, H_CONTACT, H_ROUTE, H_RECORD_ROUTE, 12, 16, 17, 18, 19, 20,
    27, 31, 32, 33, 43, 44, 45, 46, 58, 62, 66, 67, 69];
  for (let i = 0; i < lists.length; i++) store<u8>(LIST_IDS + <usize>lists[i], 1);
  const singles: i32[] = [H_FROM, H_TO, H_CALL_ID, H_CSEQ, H_CONTENT_LENGTH, H_MAX_FORWARDS];
  for (let i = 0; i < singles.length; i++) store<u8>(SINGLE_IDS + <usize>singles[i], 1);
}
init();

/**
 * Look a header name up.
 * @param p     name start
 * @param len   name length (> 0)
 * @return the header id, 0 when unknown
 */
export function lookupHeader(p: usize, len: i32): i32 {
  if (len == 1) {
    const c = lower(load<u8>(p));
    if (c - 0x61 < 26) return <i32>load<u8>(COMPACT + <usize>(c - 0x61));
    return 0;
  }
  let slot = (nameHash(p, len) >> 16) & (TABLE_SIZE - 1);
  while (true) {
    const v = <i32>load<u8>(TABLE + <usize>slot);
    if (v == 0) return 0;
    const id = v - 1;
    if (HEADER_NAME_LENGTHS[id] == len && sameFolded(p, len, NAME_BYTES + <usize>(id * NAME_SLOT))) return id;
    slot = (slot + 1) & (TABLE_SIZE - 1);
  }
}

/**
 * Compare `len` bytes at `p`, case-folded with `| 0x20` (exact for token
 * characters), with the zero-padded lower-case name at `name`, 8 bytes at
 * a time. May read up to 7 bytes past `p + len` (inside linear memory).
 */
// @ts-ignore: decorator
@inline
function sameFolded(p: usize, len: i32, name: usize): bool {
  let i = 0;
  while (len - i >= 8) {
    if ((load<u64>(p + <usize>i) | 0x2020202020202020) != load<u64>(name + <usize>i)) return false;
    i += 8;
  }
  const rest = len - i;
  if (rest == 0) return true;
  const mask: u64 = (<u64>1 << <u64>(rest << 3)) - 1;
  return ((load<u64>(p + <usize>i) | 0x2020202020202020) & mask) == load<u64>(name + <usize>i);
}

/** @return true when the message parser checks values of header `id`. */
// @ts-ignore: decorator
@inline
export function isCheckedHeader(id: i32): bool {
  return load<u8>(CHECKED_IDS + <usize>id) != 0;
}

/** @return true when values of header `id` are split on commas. */
// @ts-ignore: decorator
@inline
export function isListHeader(id: i32): bool {
  return load<u8>(LIST_IDS + <usize>id) != 0;
}

/** @return true when header `id` may appear only once. */
// @ts-ignore: decorator
@inline
export function isSingleHeader(id: i32): bool {
  return load<u8>(SINGLE_IDS + <usize>id) != 0;
}
