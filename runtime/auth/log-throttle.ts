/**
 * A budget for log lines about events an attacker can cause at line rate
 * (refused requests, locks, blocks): at most `lines` per interval, then
 * silence, and the first line of the next interval says how many were left
 * out, so that a flood cannot fill the disk with logs.
 */
export class LogThrottle {
  readonly #lines: number;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #start = -Infinity;
  #used = 0;
  #suppressed = 0;

  constructor(lines: number, intervalMs: number, now: () => number = Date.now) {
    this.#lines = lines;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /**
   * Ask to log one line.
   * @return undefined when it must be left out, else how many lines were left out before it
   */
  take(): number | undefined {
    const now = this.#now();
    if (now - this.#start >= this.#intervalMs) {
      this.#start = now;
      this.#used = 0;
    }
    if (this.#used >= this.#lines) {
      this.#suppressed++;
      return undefined;
    }
    this.#used++;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    return suppressed;
  }
}
