/**
 * The clock every timer-driven part of the stack is given: transaction
 * timers, loop-transport delays. Tests pass a fake one
 * (test/support/fake-clock.ts); nothing reads global time directly.
 */

/** An opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/** Time and one-shot timers. */
export interface Clock {
  /** Milliseconds since an arbitrary origin (monotonic). */
  now(): number;
  /** Run `callback` once after `ms` milliseconds. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  /** Cancel a timer (a no-op for one that has fired or was cancelled). */
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock: `performance.now()` and global timers, unref'd so that a
 * pending retransmission never keeps a process alive on its own.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, ms) as unknown as { unref?: () => void };
    handle.unref?.();
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as Parameters<typeof clearTimeout>[0]);
  },
};
