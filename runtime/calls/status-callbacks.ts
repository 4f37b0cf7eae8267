/**
 * Call progress events of one call (SPEC-DETAIL.md §3): the events asked
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

/** Reports one call's progress. */
export class StatusReporter {
  #spec: StatusCallbackSpec | undefined;
  #webhooks: WebhookClient;
  #sequence = 0;
  #sent = new Set<StatusCallbackEvent>();
  #onFailure: (code: number, message: string) => void;

  constructor(webhooks: WebhookClient, spec: StatusCallbackSpec | undefined, onFailure: (code: number, message: string) => void) {
    this.#webhooks = webhooks;
    this.#spec = spec;
    this.#onFailure = onFailure;
  }

  /**
   * Fire `event` for `call` (once per event) when it was asked for.
   * @param extra  parameters added to the call's own (CallDuration, SipResponseCode…)
   * @return the request's completion (tests and shutdown may await it)
   */
  fire(event: StatusCallbackEvent, call: CallRecord, extra: Params = {}): Promise<void> {
    const spec = this.#spec;
    if (!spec || this.#sent.has(event) || !spec.events.includes(event)) return Promise.resolve();
    this.#sent.add(event);
    const params: Params = {
      ...callParams(call),
      ...extra,
      Timestamp: rfc2822(Date.now()),
      CallbackSource: 'call-progress-events',
      SequenceNumber: String(this.#sequence++),
    };
    return this.#webhooks.request({ url: spec.url, method: spec.method, params }).then((r) => {
      if (!r.ok) this.#onFailure(r.error.twilioCode, `status callback ${spec.url}: ${r.error.message}`);
    });
  }
}
