/**
 * Admission of inbound TCP/TLS connections: a total cap, a cap per source
 * address, and a share of the total kept for sources holding few
 * connections, so that no single host (or few hosts) can take every slot
 * and lock out new clients.
 *
 * Why a reserved share and not eviction: evicting a heavy source's oldest
 * connection would also cut a legitimate peer (a proxy or SBC carrying many
 * flows) in the middle of its transactions, and whom to evict is a guess.
 * Refusing a heavy source the last slots never closes an established
 * connection, is O(1) per accept, and leaves every new source room: once
 * inbound connections reach `maxConnections - reserve`, a source is
 * admitted only while it holds fewer than {@link RESERVED_SLOT_SOURCE_LIMIT}
 * connections. Idle and message timeouts (stream-connection.ts) bound how
 * long any slot can be held without sending whole messages.
 */
import type { StreamCloseReason } from './stream-connection.js';

/** Share of `maxConnections` kept for sources with few connections (1/8, at least one slot). */
export const RESERVED_SHARE = 1 / 8;
/**
 * A source may take a reserved slot only while it holds fewer than this
 * many connections: a UA keeps one flow, or two (RFC 5626 §4.2 keeps a
 * second flow as a backup).
 */
export const RESERVED_SLOT_SOURCE_LIMIT = 4;

/** Why an inbound connection was refused. */
export type RefusedReason = 'total' | 'per-source' | 'reserved';

/** Counters of inbound connections. */
export interface ConnectionStats {
  /** Inbound connections open now. */
  open: number;
  /** Inbound connections refused at accept, by reason. */
  refused: Record<RefusedReason, number>;
  /** Connections the transport closed itself, by reason (idle, message-timeout, frame-error). */
  closed: Record<StreamCloseReason, number>;
}

/** @return `a` + `b`, counter by counter (`b` alone when `a` is undefined). */
export function addConnectionStats(a: ConnectionStats | undefined, b: ConnectionStats): ConnectionStats {
  if (!a) return b;
  const sum = <K extends string>(x: Record<K, number>, y: Record<K, number>): Record<K, number> => {
    const out = { ...x };
    for (const k of Object.keys(y) as K[]) out[k] = (out[k] ?? 0) + y[k];
    return out;
  };
  return { open: a.open + b.open, refused: sum(a.refused, b.refused), closed: sum(a.closed, b.closed) };
}

/**
 * The source a connection is counted against: an IPv4 address itself, an
 * IPv6 address by its /64 prefix, since one host is routinely given a whole
 * /64 (RFC 7421 §1) and could otherwise bind a fresh address per connection.
 */
export function sourceKey(address: string): string {
  if (!address.includes(':') || address.includes('.')) return address;
  const bare = address.split('%')[0]!.toLowerCase();
  const [left = '', right, extra] = bare.split('::');
  if (extra !== undefined) return address;
  const head = left ? left.split(':') : [];
  const tail = right ? right.split(':') : [];
  const zeros = right === undefined ? 0 : 8 - head.length - tail.length;
  const groups = [...head, ...Array<string>(Math.max(0, zeros)).fill('0'), ...tail];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return address;
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}

/** Options of {@link ConnectionAdmission}. */
export interface AdmissionLimits {
  /** Most simultaneous inbound connections. */
  maxConnections: number;
  /** Most simultaneous inbound connections from one source address. */
  maxPerSource: number;
}

/** Counts inbound connections per source and decides on each new one. */
export class ConnectionAdmission {
  #limits: AdmissionLimits;
  #reserveFrom: number;
  #bySource = new Map<string, number>();
  #open = 0;
  #refused: Record<RefusedReason, number> = { total: 0, 'per-source': 0, reserved: 0 };
  #closed: Record<StreamCloseReason, number> = { idle: 0, 'message-timeout': 0, 'frame-error': 0 };

  /** @param limits  total and per-source caps (each at least 1) */
  constructor(limits: AdmissionLimits) {
    this.#limits = limits;
    this.#reserveFrom = limits.maxConnections - Math.max(1, Math.floor(limits.maxConnections * RESERVED_SHARE));
  }

  /** Inbound connections now held by `source`. */
  heldBy(source: string): number {
    return this.#bySource.get(source) ?? 0;
  }

  /** @return true (and counted) when a new connection from `source` may be accepted; false (counted as refused) otherwise */
  admit(source: string): boolean {
    const held = this.heldBy(source);
    let refused: RefusedReason | undefined;
    if (this.#open >= this.#limits.maxConnections) refused = 'total';
    else if (held >= this.#limits.maxPerSource) refused = 'per-source';
    else if (this.#open >= this.#reserveFrom && held >= RESERVED_SLOT_SOURCE_LIMIT) refused = 'reserved';
    if (refused) {
      this.#refused[refused]++;
      return false;
    }
    this.#bySource.set(source, held + 1);
    this.#open++;
    return true;
  }

  /** A connection admitted for `source` has closed. */
  release(source: string): void {
    const held = this.heldBy(source);
    if (held <= 0) return;
    if (held === 1) this.#bySource.delete(source);
    else this.#bySource.set(source, held - 1);
    this.#open--;
  }

  /** Count a connection the transport closed itself. */
  countClosed(reason: StreamCloseReason): void {
    this.#closed[reason]++;
  }

  /** @return a copy of the counters. */
  stats(): ConnectionStats {
    return { open: this.#open, refused: { ...this.#refused }, closed: { ...this.#closed } };
  }
}
