/**
 * A fake Clock for tests: time moves only when a test
 * calls `advance`, timers fire in order of due time, and microtasks (loop
 * transport deliveries, send results) are drained after each timer.
 */
import type { Clock, TimerHandle } from '../../runtime/transport/clock.js';

interface Pending {
  id: number;
  at: number;
  callback: () => void;
}

/** Most timers one `advance` may fire (a runaway schedule fails the test instead of hanging it). */
const MAX_FIRED = 100_000;

/** @return once every queued microtask (and those they queue) has run. */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Deterministic clock. */
export class FakeClock implements Clock {
  #now = 0;
  #nextId = 1;
  #pending: Pending[] = [];

  /** Current fake time (ms). */
  now(): number {
    return this.#now;
  }

  /** Schedule `callback` at now + ms. */
  setTimeout(callback: () => void, ms: number): TimerHandle {
    const id = this.#nextId++;
    this.#pending.push({ id, at: this.#now + Math.max(0, ms), callback });
    return id;
  }

  /** Cancel a timer. */
  clearTimeout(handle: TimerHandle): void {
    this.#pending = this.#pending.filter((p) => p.id !== handle);
  }

  /** Timers not yet fired. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /** Due time of the next timer, or undefined. */
  get nextDue(): number | undefined {
    return this.#pending.reduce<number | undefined>((min, p) => (min === undefined || p.at < min ? p.at : min), undefined);
  }

  /** Drain microtasks without moving time. */
  async flush(): Promise<void> {
    await flushMicrotasks();
  }

  /** Move time forward by `ms`, firing every timer that falls due, in order. */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    await flushMicrotasks();
    for (let fired = 0; fired < MAX_FIRED; fired++) {
      let next: Pending | undefined;
      for (const p of this.#pending) if (p.at <= until && (!next || p.at < next.at || (p.at === next.at && p.id < next.id))) next = p;
      if (!next) {
        this.#now = until;
        return;
      }
      this.#pending = this.#pending.filter((p) => p !== next);
      this.#now = next.at;
      next.callback();
      await flushMicrotasks();
    }
    throw new Error(`FakeClock.advance(${ms}): more than ${MAX_FIRED} timers fired`);
  }

  /** Advance to the next due timer (if any) and fire it. */
  async advanceToNext(): Promise<void> {
    const due = this.nextDue;
    if (due !== undefined) await this.advance(due - this.#now);
  }
}
