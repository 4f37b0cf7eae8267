/**
 * Per-source request rate limiting in the manner of Kamailio's pike module
 * (https://www.kamailio.org/docs/modules/stable/modules/pike.html): the
 * requests of each source are counted per sampling interval, a source that
 * sends more than the allowed density in one interval is blocked, and the
 * block is renewed for as long as the source keeps sending that fast. The
 * first few requests of a block are answered (503 with Retry-After, RFC
 * 3261 §21.5.4) so that a real client learns why; the rest are dropped, so
 * that a flood with a spoofed source address brings its victim nothing.
 *
 * The table is bounded: sources are kept in least-recently-active order,
 * idle ones are swept as requests arrive, and at the cap the least recently
 * active one is evicted. Sources are keyed by `sourceKey` (IPv6 by /64).
 */
import { createAcl, sourceKey, type Acl } from './acl.js';
import { AuthBadCidrError, err, ok, type Result } from './errors.js';
import { methodLabel } from '../sip/methods.js';

/** Settings of a `SourceRateLimiter`. */
export interface RateLimitOptions {
  /** Requests allowed per source per interval; 0 turns limiting off. */
  requests: number;
  /** The sampling interval, ms. */
  windowMs: number;
  /** How long a source over the limit stays blocked, ms (renewed while it keeps flooding). */
  blockMs: number;
  /** Most sources tracked at once. */
  maxSources: number;
  /** Sources never limited (CIDR blocks). */
  exempt?: readonly string[];
  /** Requests answered with 503 per block before the rest are dropped. */
  answeredPerBlock?: number;
  /** Told once when a source becomes blocked (log it). */
  onBlock?: (source: string, requests: number) => void;
  /** Clock in ms (inject for tests). */
  now?: () => number;
}

/** The embedded defaults: 1,000 requests per 2 s per source, blocked 60 s, 16,384 sources, loopback exempt. */
export const DEFAULT_RATE_LIMIT: Readonly<Required<Omit<RateLimitOptions, 'onBlock' | 'now'>>> = {
  requests: 1000,
  windowMs: 2000,
  blockMs: 60_000,
  maxSources: 16_384,
  exempt: ['127.0.0.0/8', '::1/128'],
  answeredPerBlock: 3,
};

/** What to do with one request. */
export type RateVerdict =
  | { kind: 'pass' }
  /** Answer 503 with `Retry-After: retryAfterSeconds`. */
  | { kind: 'reject'; retryAfterSeconds: number }
  | { kind: 'drop' };

const PASS: RateVerdict = Object.freeze({ kind: 'pass' });
const DROP: RateVerdict = Object.freeze({ kind: 'drop' });
/** Idle entries looked at per request (the sweep that keeps the table small). */
const SWEEP_PER_REQUEST = 2;

interface SourceEntry {
  key: string;
  exempt: boolean;
  windowStart: number;
  count: number;
  blockedUntil: number;
  answered: number;
  /** When the entry last moved to the recent end of the table. */
  touchedAt: number;
}

/** Counts of a `SourceRateLimiter`, for metrics. */
export interface RateLimitStats {
  /** Sources currently tracked. */
  sources: number;
  /** Times a source became blocked. */
  blocks: number;
  /** Entries evicted at the cap while still recent. */
  evictions: number;
  /** Requests refused, by method label and action. */
  limited: Array<{ method: string; action: 'rejected' | 'dropped'; value: number }>;
}

/** The per-source limiter; build one with `createRateLimiter`. */
export class SourceRateLimiter {
  readonly #options: Required<Omit<RateLimitOptions, 'onBlock' | 'exempt'>> & Pick<RateLimitOptions, 'onBlock'>;
  readonly #exempt: Acl;
  readonly #entries = new Map<string, SourceEntry>();
  readonly #limited = new Map<string, { method: string; action: 'rejected' | 'dropped'; value: number }>();
  #blocks = 0;
  #evictions = 0;

  /** Prefer `createRateLimiter`, which checks the exempt list first. */
  constructor(options: RateLimitOptions, exempt: Acl) {
    this.#options = {
      requests: options.requests, windowMs: Math.max(1, options.windowMs), blockMs: options.blockMs,
      maxSources: Math.max(1, options.maxSources), answeredPerBlock: options.answeredPerBlock ?? DEFAULT_RATE_LIMIT.answeredPerBlock,
      onBlock: options.onBlock, now: options.now ?? Date.now,
    };
    this.#exempt = exempt;
  }

  /** Sources currently tracked. */
  get size(): number {
    return this.#entries.size;
  }

  /** Count one request from `ip` and say whether it may go on. */
  check(ip: string, method: string): RateVerdict {
    const o = this.#options;
    if (o.requests <= 0) return PASS;
    const now = o.now();
    this.#sweep(now);
    const key = sourceKey(ip);
    if (key === undefined) return PASS;
    const entry = this.#touch(key, ip, now);
    if (entry.exempt) return PASS;
    if (now - entry.windowStart >= o.windowMs) {
      // still flooding while blocked: the block goes on (pike's "hot" source)
      if (entry.count > o.requests && now < entry.blockedUntil + o.windowMs) entry.blockedUntil = now + o.blockMs;
      entry.windowStart = now;
      entry.count = 0;
    }
    entry.count++;
    if (now >= entry.blockedUntil && entry.count > o.requests) {
      o.onBlock?.(key, entry.count);
      entry.blockedUntil = now + o.blockMs;
      entry.answered = 0;
      this.#blocks++;
      // the blocked source's rate is measured afresh: a whole interval over the limit renews the block
      entry.windowStart = now;
      entry.count = 0;
    }
    if (now >= entry.blockedUntil) return PASS;
    if (entry.answered < o.answeredPerBlock) {
      entry.answered++;
      this.#count(method, 'rejected');
      return { kind: 'reject', retryAfterSeconds: Math.max(1, Math.ceil((entry.blockedUntil - now) / 1000)) };
    }
    this.#count(method, 'dropped');
    return DROP;
  }

  /** @return the counters (a copy). */
  stats(): RateLimitStats {
    return { sources: this.#entries.size, blocks: this.#blocks, evictions: this.#evictions, limited: [...this.#limited.values()].map((c) => ({ ...c })) };
  }

  /**
   * The entry of `key`, created (evicting the least recently active at the
   * cap) or moved to the recent end: at most once per interval, but on each
   * request while blocked, so that a blocked flood is the last to be evicted.
   */
  #touch(key: string, ip: string, now: number): SourceEntry {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      if (this.#entries.size >= this.#options.maxSources) {
        const oldest = this.#entries.keys().next().value as string;
        this.#entries.delete(oldest);
        this.#evictions++;
      }
      entry = { key, exempt: this.#exempt.isAllowed(ip), windowStart: now, count: 0, blockedUntil: -Infinity, answered: 0, touchedAt: now };
      this.#entries.set(key, entry);
    } else if (now < entry.blockedUntil || now - entry.touchedAt >= this.#options.windowMs) {
      entry.touchedAt = now;
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    return entry;
  }

  /** Forget the least recently active sources once idle for an interval and not blocked. */
  #sweep(now: number): void {
    let looked = 0;
    for (const entry of this.#entries.values()) {
      if (looked++ >= SWEEP_PER_REQUEST) return;
      const idle = now - entry.touchedAt >= 2 * this.#options.windowMs && now >= entry.blockedUntil + this.#options.windowMs;
      if (!idle) return;
      this.#entries.delete(entry.key);
    }
  }

  #count(method: string, action: 'rejected' | 'dropped'): void {
    const label = methodLabel(method);
    const key = `${label}\0${action}`;
    const counter = this.#limited.get(key);
    if (counter) counter.value++;
    else this.#limited.set(key, { method: label, action, value: 1 });
  }
}

/**
 * Build a limiter.
 * @return the limiter, or PB_ERR_AUTH_BAD_CIDR naming a bad exempt entry
 */
export function createRateLimiter(options: RateLimitOptions): Result<SourceRateLimiter, AuthBadCidrError> {
  const exempt = createAcl((options.exempt ?? DEFAULT_RATE_LIMIT.exempt).map((cidr) => ({ action: 'allow' as const, cidr })));
  if (!exempt.ok) return err(exempt.error);
  return ok(new SourceRateLimiter(options, exempt.value));
}
