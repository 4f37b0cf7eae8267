/**
 * Generators for the random identifiers SIP needs: Via branches (RFC 3261
 * §8.1.1.7, magic cookie `z9hG4bK`), From/To tags (§19.3) and Call-IDs
 * (§8.1.1.4). Random bytes come from Web Crypto, drawn from a refilled pool
 * so that one identifier does not cost one crypto call. Browser-safe.
 */

/** The RFC 3261 §8.1.1.7 magic cookie every branch starts with. */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

const POOL_SIZE = 1024;
const pool = new Uint8Array(POOL_SIZE);
let poolUsed = POOL_SIZE;
// 64 URL-safe symbols; each random byte picks one through its low 6 bits (index = byte & 63)
const SYMBOLS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
// Call-IDs use only alphanumerics so they are valid `word`s (index = byte % 62 over the first 62 symbols)
const ALNUM = 62;

/**
 * Text a generated identifier must not contain. SIPp (3.6) finds a response's
 * CSeq method with `strstr(msg, "CSeq")`: a To tag such as `R5yhtNyDkcCSeqZg`
 * comes first in the message, so SIPp reads the wrong line and aborts the call
 * "on unexpected message". About one identifier in a million would contain it.
 */
const TRAP = 'CSeq';

function randomToken(length: number, symbols: number): string {
  for (;;) {
    if (poolUsed + length > POOL_SIZE) {
      globalThis.crypto.getRandomValues(pool);
      poolUsed = 0;
    }
    let s = '';
    for (let i = 0; i < length; i++) s += SYMBOLS[pool[poolUsed++]! % symbols];
    if (!s.includes(TRAP)) return s;
  }
}

/** @return a new branch: the magic cookie and 22 random symbols (≈128 bits; `-` and `_` are token chars). */
export function newBranch(): string {
  return BRANCH_MAGIC_COOKIE + randomToken(22, 64);
}

/** @return a new From/To tag: 16 random symbols (96 bits, RFC 3261 §19.3 asks for at least 32). */
export function newTag(): string {
  return randomToken(16, 64);
}

/**
 * @param host  optional `@host` suffix (RFC 3261 §8.1.1.4 recommends it)
 * @return a new Call-ID: 24 random alphanumerics, then `@host` when given.
 */
export function newCallId(host?: string): string {
  const id = randomToken(24, ALNUM);
  return host ? `${id}@${host}` : id;
}
