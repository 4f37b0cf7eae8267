/**
 * A minimal typed event emitter for transactions: listeners run in the
 * order added, synchronously; a throwing listener propagates to the caller
 * (a bug in the TU surfaces, it is not swallowed). Browser-safe.
 */

/** Event name → listener signature. */
export type EventMap = { [event: string]: (...args: never[]) => void };

/** Typed `on`/`off`/`emit`. */
export class Emitter<E extends EventMap> {
  #listeners = new Map<keyof E, Array<E[keyof E]>>();

  /** Add a listener. @return this, for chaining */
  on<K extends keyof E>(event: K, listener: E[K]): this {
    const list = this.#listeners.get(event) ?? [];
    list.push(listener);
    this.#listeners.set(event, list);
    return this;
  }

  /** Remove a listener added with `on`. */
  off<K extends keyof E>(event: K, listener: E[K]): this {
    const list = this.#listeners.get(event);
    if (list) this.#listeners.set(event, list.filter((l) => l !== listener));
    return this;
  }

  /** Call every listener of `event`. */
  protected emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): void {
    const list = this.#listeners.get(event);
    if (!list) return;
    for (const listener of [...list]) (listener as (...a: Parameters<E[K]>) => void)(...args);
  }

  /** Drop every listener. */
  /** Forget the listeners of `events` (events that can no longer happen). */
  protected dropListeners(...events: (keyof E)[]): void {
    for (const event of events) this.#listeners.delete(event);
  }

  protected removeAllListeners(): void {
    this.#listeners.clear();
  }
}
