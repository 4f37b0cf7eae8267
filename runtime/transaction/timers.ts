/**
 * Transaction timers (RFC 3261 §17 and Table 4; L and M from RFC 6026 §8.4),
 * derived from T1, T2 and T4 for one stack instance and overridable one by
 * one (no module-level globals). The values given here are
 * the unreliable-transport ones: over TCP/TLS, A, E and G never run and D,
 * I, J and K are zero (the state machines skip them).
 */

/** RFC 3261 §17.1.1.1 default T1: round-trip time estimate (ms). */
export const T1 = 500;
/** RFC 3261 §17.1.2.2 default T2: longest retransmit interval for non-INVITE requests and INVITE responses (ms). */
export const T2 = 4000;
/** RFC 3261 §17.1.2.2 default T4: longest time a message stays in the network (ms). */
export const T4 = 5000;
/** RFC 3261 §17.1.1.2: Timer D is at least 32 s over unreliable transports (ms). */
export const TIMER_D_MIN = 32_000;

/** Every timer, in milliseconds. */
export interface Timers {
  /** Round-trip estimate. */
  T1: number;
  /** Retransmit interval cap. */
  T2: number;
  /** Network lifetime of a message. */
  T4: number;
  /** INVITE request retransmit, initial interval (§17.1.1.2): T1, doubling. */
  A: number;
  /** INVITE transaction timeout (§17.1.1.2): 64·T1. */
  B: number;
  /** Wait for response retransmits in Completed, INVITE client (§17.1.1.2): ≥ 32 s. */
  D: number;
  /** Non-INVITE request retransmit, initial interval (§17.1.2.2): T1, doubling to T2. */
  E: number;
  /** Non-INVITE transaction timeout (§17.1.2.2): 64·T1. */
  F: number;
  /** INVITE response retransmit, initial interval (§17.2.1): T1, doubling to T2. */
  G: number;
  /** Wait for ACK receipt (§17.2.1): 64·T1. */
  H: number;
  /** Wait for ACK retransmits in Confirmed (§17.2.1): T4. */
  I: number;
  /** Wait for non-INVITE request retransmits (§17.2.2): 64·T1. */
  J: number;
  /** Wait for non-INVITE response retransmits (§17.1.2.2): T4. */
  K: number;
  /** INVITE server Accepted state: wait for INVITE retransmits (RFC 6026 §8.7): 64·T1. */
  L: number;
  /** INVITE client Accepted state: wait for 2xx retransmits and forks (RFC 6026 §8.4): 64·T1. */
  M: number;
}

/** Base values and per-timer overrides; anything not given is derived. */
export type TimerSettings = Partial<Timers>;

/**
 * Derive every timer from T1, T2 and T4 (RFC 3261 Table 4), then apply
 * explicit overrides.
 * @param settings  base values and overrides (ms)
 * @throws RangeError when a value is not a positive finite number
 */
export function deriveTimers(settings: TimerSettings = {}): Timers {
  const t1 = settings.T1 ?? T1;
  const t2 = settings.T2 ?? T2;
  const t4 = settings.T4 ?? T4;
  const timers: Timers = {
    T1: t1, T2: t2, T4: t4,
    A: t1, B: 64 * t1, D: Math.max(TIMER_D_MIN, 64 * t1), E: t1, F: 64 * t1, G: t1, H: 64 * t1,
    I: t4, J: 64 * t1, K: t4, L: 64 * t1, M: 64 * t1,
    ...settings,
  };
  for (const [name, value] of Object.entries(timers)) {
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`timer ${name} must be a positive number of ms, got ${value}`);
  }
  return timers;
}

/** How a retransmit timer is (re)started. */
export type RetransmitInterval = 'initial' | 'backoff' | 'cap';

/**
 * The next interval of a retransmit timer (A, E or G).
 * @param initial  the timer's initial value
 * @param current  the interval it last ran with
 * @param cap      the cap (T2 for E and G; Infinity for A)
 */
export function nextInterval(kind: RetransmitInterval, initial: number, current: number, cap: number): number {
  if (kind === 'initial') return Math.min(initial, cap);
  if (kind === 'cap') return cap;
  return Math.min(current * 2, cap);
}
