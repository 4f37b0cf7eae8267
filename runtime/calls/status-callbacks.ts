/**
 * Call progress events of one call (statusCallbackEvent, https://www.twilio.com/docs/voice/twiml/sip): the events asked
 * for by statusCallbackEvent, each its own signed request carrying the
 * call's parameters, Timestamp (RFC 2822, UTC), CallbackSource and a
 * SequenceNumber counted from 0 in firing order. Delivery is asynchronous:
 * a slow or failing callback never holds up the call.
 */
import type { WebhookClient } from '../webhooks/client.js';
import type { StatusCallbackEvent } from '../twiml/types.js';
import { callParams, rfc2822, type Params } from './params.js';
import type { CallRecord } from './record.js';

/** Where and what to report. */
export interface StatusCallbackSpec {
  url: string;
  method: 'GET' | 'POST';
  events: readonly StatusCallbackEvent[];
}

/** What `fire` returns when nothing is sent (shared: no allocation per event). */
const NOTHING_SENT: Promise<void> = Promise.resolve();

/** Reports one call's progress. */
export class StatusReporter {
  #spec: StatusCallbackSpec | undefined;
  #webhooks: WebhookClient;
  #sequence = 0;
  /** Events fired so far (created with the first). */
  #sent: Set<StatusCallbackEvent> | undefined = undefined;
  #onFailure: (code: number, message: string) => void;

  constructor(webhooks: WebhookClient, spec: StatusCallbackSpec | undefined, onFailure: (code: number, message: string) => void) {
    this.#webhooks = webhooks;
    this.#spec = spec;
    this.#onFailure = onFailure;
  }

  /**
   * The one shared reporter of calls that report nothing: it never sends, so
   * it holds no state, and a call without a statusCallback spares an object
   * and a closure.
   */
  static get none(): StatusReporter {
    return INERT;
  }

  /**
   * Whether `fire(event)` would send a request: the event was asked for and
   * not sent yet. Callers check it before building the event's parameters.
   */
  wants(event: StatusCallbackEvent): boolean {
    const spec = this.#spec;
    return spec !== undefined && spec.events.includes(event) && this.#sent?.has(event) !== true;
  }

  /** `fire('completed')` with CallDuration, and SipResponseCode when known: a call's end (its parameters built only when wanted). */
  completed(call: CallRecord): void {
    if (!this.wants('completed')) return;
    const extra: Params = { CallDuration: String(call.duration ?? 0) };
    if (call.sipResponseCode) extra.SipResponseCode = String(call.sipResponseCode);
    void this.fire('completed', call, extra);
  }

  /**
   * Fire `event` for `call` (once per event) when it was asked for.
   * @param extra  parameters added to the call's own (CallDuration, SipResponseCode…)
   * @return the request's completion (tests and shutdown may await it)
   */
  fire(event: StatusCallbackEvent, call: CallRecord, extra?: Params): Promise<void> {
    const spec = this.#spec;
    if (spec === undefined || !this.wants(event)) return NOTHING_SENT;
    (this.#sent ??= new Set()).add(event);
    const params = callParams(call, extra);
    params.Timestamp = rfc2822(Date.now());
    params.CallbackSource = 'call-progress-events';
    params.SequenceNumber = String(this.#sequence++);
    return this.#webhooks.request({ url: spec.url, method: spec.method, params }).then((r) => {
      if (!r.ok) this.#onFailure(r.error.twilioCode, `status callback ${spec.url}: ${r.error.message}`);
    });
  }
}

/** `StatusReporter.none`. */
const INERT = new StatusReporter({ request: () => { throw new Error('the inert status reporter sends nothing'); }, close: () => Promise.resolve() }, undefined, () => undefined);
