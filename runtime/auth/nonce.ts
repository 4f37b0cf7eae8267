/**
 * Server nonces that need no per-nonce state to verify (RFC 7616 §3.3
 * suggests time-stamp + private data hashed with a secret), and the bounded
 * per-nonce `nc` memory that stops replays (RFC 7616 §5.5).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const TIMESTAMP_BYTES = 8;
const RANDOM_BYTES = 12;
const MAC_BYTES = 16;
const PAYLOAD_BYTES = TIMESTAMP_BYTES + RANDOM_BYTES;
/** base64url of 36 bytes is 48 characters without padding. */
const NONCE_PATTERN = /^[A-Za-z0-9_-]{48}$/;

/**
 * Mints and opens nonces of the form
 * `base64url(issuedAtMs[8] ‖ random[12] ‖ HMAC-SHA256(secret, payload ‖ realm ‖ algorithm)[16])`.
 * The MAC binds the nonce to the realm and algorithm it was issued for, so
 * a client cannot answer a SHA-256 challenge with MD5.
 */
export class NonceSigner {
  readonly #secret: Buffer;

  constructor(secret: Uint8Array | string) {
    this.#secret = Buffer.from(secret);
  }

  /** A new nonce issued at `nowMs`. */
  mint(realm: string, algorithm: string, nowMs: number): string {
    const payload = Buffer.alloc(PAYLOAD_BYTES);
    payload.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(nowMs))), 0);
    randomBytes(RANDOM_BYTES).copy(payload, TIMESTAMP_BYTES);
    return Buffer.concat([payload, this.#mac(payload, realm, algorithm)]).toString('base64url');
  }

  /** The issue time of a nonce this signer minted for `realm`/`algorithm`, else undefined. */
  open(nonce: string, realm: string, algorithm: string): number | undefined {
    if (!NONCE_PATTERN.test(nonce)) return undefined;
    const bytes = Buffer.from(nonce, 'base64url');
    const payload = bytes.subarray(0, PAYLOAD_BYTES);
    const mac = bytes.subarray(PAYLOAD_BYTES);
    if (mac.length !== MAC_BYTES || !timingSafeEqual(mac, this.#mac(payload, realm, algorithm))) return undefined;
    return Number(payload.readBigUInt64BE(0));
  }

  #mac(payload: Buffer, realm: string, algorithm: string): Buffer {
    return createHmac('sha256', this.#secret)
      .update(payload)
      .update(`\0${realm}\0${algorithm}`)
      .digest()
      .subarray(0, MAC_BYTES);
  }
}

/** How a nonce count compares with what was already accepted for its nonce. */
export type NonceCountVerdict = 'fresh' | 'replay' | 'forgotten';

interface SeenCounts {
  issuedAt: number;
  highest: number;
  /** Bit i set: count `highest - 1 - i` was accepted (a 32-wide anti-replay window). */
  window: number;
}

/** Width of the out-of-order window below the highest count seen. */
export const NONCE_COUNT_WINDOW = 32;

/**
 * Accepted nonce counts per nonce, at most `capacity` nonces. Counts may
 * arrive out of order within a 32-wide window (parallel requests over UDP);
 * each is accepted once. Evicting a nonce raises a high-water mark of issue
 * times: untracked nonces issued at or before it are `forgotten` (answer
 * with a stale challenge) rather than open to replay.
 */
export class NonceCountTracker {
  readonly #capacity: number;
  readonly #entries = new Map<string, SeenCounts>();
  #forgottenUpTo = -Infinity;

  constructor(capacity: number) {
    this.#capacity = Math.max(1, Math.floor(capacity));
  }

  /** Nonces currently tracked. */
  get size(): number {
    return this.#entries.size;
  }

  /** Whether `nc` may be accepted for `nonce` (nothing is recorded). */
  check(nonce: string, issuedAt: number, nc: number): NonceCountVerdict {
    const seen = this.#entries.get(nonce);
    if (seen === undefined) return issuedAt <= this.#forgottenUpTo ? 'forgotten' : 'fresh';
    if (nc > seen.highest) return 'fresh';
    const distance = seen.highest - nc;
    if (distance === 0 || distance > NONCE_COUNT_WINDOW) return 'replay';
    return (seen.window & (1 << (distance - 1))) !== 0 ? 'replay' : 'fresh';
  }

  /** Record an accepted count; call only after `check` said fresh and the response verified. */
  record(nonce: string, issuedAt: number, nc: number, expiredBefore: number): void {
    const seen = this.#entries.get(nonce) ?? { issuedAt, highest: nc, window: 0 };
    if (nc > seen.highest) {
      const shift = nc - seen.highest;
      const moved = shift >= NONCE_COUNT_WINDOW ? 0 : seen.window << shift;
      const mark = shift <= NONCE_COUNT_WINDOW ? 1 << (shift - 1) : 0;
      seen.window = (moved | mark) >>> 0;
      seen.highest = nc;
    } else if (nc < seen.highest) {
      seen.window = (seen.window | (1 << (seen.highest - nc - 1))) >>> 0;
    }
    this.#entries.delete(nonce);
    this.#entries.set(nonce, seen);
    for (const [key, entry] of this.#entries) {
      const expired = entry.issuedAt < expiredBefore;
      if (!expired && this.#entries.size <= this.#capacity) break;
      this.#entries.delete(key);
      if (!expired) this.#forgottenUpTo = Math.max(this.#forgottenUpTo, entry.issuedAt);
    }
  }
}
