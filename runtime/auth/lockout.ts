/**
 * Temporary lockout after failed digest attempts, so that passwords cannot
 * be guessed at line rate (OWASP Authentication Cheat Sheet, "Protect
 * against automated attacks"; NIST SP 800-63B §5.2.2 rate limiting). Each
 * scope (source address, user name) counts its failures in a window; the
 * failure that reaches the threshold locks the key for a while, during
 * which even the right password is refused. Tables are bounded: at the cap
 * the oldest entry goes, expired ones are swept as failures arrive.
 */

/** Settings of the lockout (both scopes use them). */
export interface LockoutOptions {
  /** Failures within the window that lock a source or user; 0 turns lockout off. */
  failures: number;
  /** The window failures are counted in, ms. */
  windowMs: number;
  /** How long a lock lasts, ms. */
  lockMs: number;
  /** Most sources tracked at once. */
  maxSources: number;
  /** Clock in ms (inject for tests). */
  now?: () => number;
}

/** The embedded defaults: 10 failures per minute lock for a minute; 16,384 sources tracked. */
export const DEFAULT_LOCKOUT: Readonly<Omit<LockoutOptions, 'now'>> = {
  failures: 10,
  windowMs: 60_000,
  lockMs: 60_000,
  maxSources: 16_384,
};

interface FailureEntry {
  key: string;
  firstAt: number;
  failures: number;
  lockedUntil: number;
}

/** Failures per key of one scope (sources, or users), at most `capacity` keys. */
export class FailureCounter {
  readonly #options: LockoutOptions;
  readonly #capacity: number;
  readonly #entries = new Map<string, FailureEntry>();

  constructor(options: LockoutOptions, capacity: number) {
    this.#options = options;
    this.#capacity = Math.max(1, capacity);
  }

  /** Keys currently tracked. */
  get size(): number {
    return this.#entries.size;
  }

  /** Ms left of the lock on `key` at `now`; 0 when it is not locked. */
  lockedFor(key: string, now: number): number {
    const entry = this.#entries.get(key);
    return entry !== undefined && now < entry.lockedUntil ? entry.lockedUntil - now : 0;
  }

  /**
   * Count a failure of `key` at `now`.
   * @return the failures counted when this one started a lock, else 0
   */
  fail(key: string, now: number): number {
    const { failures, windowMs, lockMs } = this.#options;
    if (failures <= 0) return 0;
    this.#sweep(now);
    let entry = this.#entries.get(key);
    if (entry !== undefined && now - entry.firstAt >= windowMs && now >= entry.lockedUntil) {
      this.#entries.delete(key);
      entry = undefined;
    }
    if (entry === undefined) {
      if (this.#entries.size >= this.#capacity) this.#entries.delete(this.#entries.keys().next().value as string);
      entry = { key, firstAt: now, failures: 0, lockedUntil: -Infinity };
      this.#entries.set(key, entry);
    }
    entry.failures++;
    if (entry.failures < failures || now < entry.lockedUntil) return 0;
    entry.lockedUntil = now + lockMs;
    const counted = entry.failures;
    // the next window starts when the lock ends
    entry.firstAt = entry.lockedUntil;
    entry.failures = 0;
    return counted;
  }

  /** Forget the failures of `key` (it authenticated). */
  clear(key: string): void {
    this.#entries.delete(key);
  }

  /** Drop the oldest entries whose window and lock are over (a few per call). */
  #sweep(now: number): void {
    let looked = 0;
    for (const entry of this.#entries.values()) {
      if (looked++ >= 2) return;
      if (now - entry.firstAt < this.#options.windowMs || now < entry.lockedUntil) return;
      this.#entries.delete(entry.key);
    }
  }
}
