/**
 * CallControl: what the REST API asks of the call layer. The call
 * layer implements it; runtime/http codes against this interface only.
 */
import type { CallRecord } from './record.js';

/** Parameters of POST Calls.json, already validated by the HTTP layer. */
export interface OriginateRequest {
  /** A SIP URI (`sip:…`), validated like a `<Sip>` target. */
  to: string;
  from: string;
  /** TwiML source once the callee answers: a URL (with method) or an inline document. */
  url?: string;
  method?: 'GET' | 'POST';
  twiml?: string;
  statusCallback?: string;
  statusCallbackMethod?: 'GET' | 'POST';
  statusCallbackEvent?: Array<'initiated' | 'ringing' | 'answered' | 'completed'>;
  /** Ring seconds before giving up (default 60). */
  timeout?: number;
  sipAuthUsername?: string;
  sipAuthPassword?: string;
}

/** A refusal the HTTP layer turns into Twilio-style JSON. */
export interface ControlError {
  /** Twilio error code, e.g. 21205 (invalid url), 21210 (invalid From), 13223/21219 (invalid To), 20404 (not found). */
  code: number;
  message: string;
  /** HTTP status to answer with. */
  status: number;
}

/** Result of a control operation. */
export type ControlResult<T> = { ok: true; value: T } | { ok: false; error: ControlError };

/** The operations the REST API exposes. */
export interface CallControl {
  /** Start an outbound-api call; resolves once the record exists (status queued/initiated). */
  originate(request: OriginateRequest): Promise<ControlResult<CallRecord>>;
  /** Replace the TwiML a live call is running (Url+Method or Twiml). */
  redirect(sid: string, source: { url: string; method: 'GET' | 'POST' } | { twiml: string }): ControlResult<CallRecord>;
  /** End a live call: `completed` hangs up an answered or ringing call, `canceled` only a call not yet answered. */
  end(sid: string, status: 'completed' | 'canceled'): ControlResult<CallRecord>;
}
