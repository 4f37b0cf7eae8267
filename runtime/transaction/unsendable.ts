/**
 * The report of responses the serializer refused (a header value with a
 * control character, RFC 3261 §25.1): the first one at once, then at most
 * one line per window with how many more there were, so a flood of such
 * requests costs a few log lines instead of one per message.
 */
import type { Clock, TimerHandle } from '../transport/clock.js';

/** How long after a report further ones are only counted (ms). */
export const UNSENDABLE_REPORT_MS = 10_000;

/** What a server transaction did when its response could not be serialized. */
export type UnsendableOutcome =
  /** A 500 built from the request alone went out instead (RFC 3261 §21.5.1). */
  | 'sent-500'
  /** Nothing could be sent: the transaction ended at once. */
  | 'ended'
  /** A final response had been sent already: the transaction ends by its timers. */
  | 'dropped';

/** One response that could not be serialized. */
export interface UnsendableResponse {
  /** Method of the request. */
  method: string;
  /** Status of the response that was refused. */
  status: number;
  /** SipBuildError code (PB_ERR_SIP_HEADER_INJECTION...). */
  code: string;
  /** The header name or start-line part at fault. */
  field: string;
  /** The serializer's message. */
  message: string;
  outcome: UnsendableOutcome;
}

/** A report: the last refused response, how many there were since the previous report, and in all. */
export interface UnsendableReport extends UnsendableResponse {
  /** Refused responses since the previous report, this one included. */
  count: number;
  /** Refused responses since the layer started. */
  total: number;
}

/** Counts refused responses and reports them, rate-limited. */
export class UnsendableLog {
  #clock: Clock;
  #report: (report: UnsendableReport) => void;
  #timer: TimerHandle | undefined;
  #pending = 0;
  #last: UnsendableResponse | undefined;
  #total = 0;

  /** @param report  told of the first refused response at once, then at most once per UNSENDABLE_REPORT_MS */
  constructor(clock: Clock, report: (report: UnsendableReport) => void) {
    this.#clock = clock;
    this.#report = report;
  }

  /** Refused responses since the start. */
  get total(): number {
    return this.#total;
  }

  /** Count one refused response; report it now unless a report went out within the window. */
  note(response: UnsendableResponse): void {
    this.#total++;
    if (this.#timer !== undefined) {
      this.#pending++;
      this.#last = response;
      return;
    }
    this.#report({ ...response, count: 1, total: this.#total });
    this.#startWindow();
  }

  /** Stop the window timer (responses counted in it since the last report are reported now). */
  close(): void {
    if (this.#timer === undefined) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#flush();
  }

  #startWindow(): void {
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#flush()) this.#startWindow();
    }, UNSENDABLE_REPORT_MS);
  }

  /** Report what the window counted. @return true when there was something */
  #flush(): boolean {
    const last = this.#last;
    if (this.#pending === 0 || !last) return false;
    this.#report({ ...last, count: this.#pending, total: this.#total });
    this.#pending = 0;
    this.#last = undefined;
    return true;
  }
}
