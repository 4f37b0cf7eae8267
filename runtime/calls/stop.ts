/**
 * A one-shot stop signal for a call session's current verb: what an
 * AbortController did here, without building an Event and dispatching it
 * through an EventTarget for every call that ends.
 */

/** The side a verb watches. */
export interface StopSignal {
  /** True once stopped. */
  readonly stopped: boolean;
  /**
   * Run `listener` once when stopped (at once, synchronously, when already stopped).
   * @return a function that forgets the listener
   */
  onStop(listener: () => void): () => void;
}

/** The side a session holds: a signal it can stop. */
export class Stopper implements StopSignal {
  #stopped = false;
  #listeners: Array<() => void> = [];

  get stopped(): boolean { return this.#stopped; }

  onStop(listener: () => void): () => void {
    if (this.#stopped) {
      listener();
      return () => undefined;
    }
    this.#listeners.push(listener);
    return () => {
      const i = this.#listeners.indexOf(listener);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  }

  /**
   * Stop: every listener runs once, in the order added; later calls do
   * nothing. One that throws does not keep the others from running (each
   * stops a part of the call); the first exception is rethrown after all ran.
   */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    const listeners = this.#listeners;
    this.#listeners = [];
    let failure: { error: unknown } | undefined;
    for (const listener of listeners) {
      try {
        listener();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  }
}
