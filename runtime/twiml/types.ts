/**
 * Typed TwiML tree produced by parseTwiml, with the Twilio-style error and
 * warning records (Twilio's error codes: https://www.twilio.com/docs/api/errors).
 */

/** Success or failure of a parse step. */
export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

/** A problem found in a document: Twilio debugger code, message, element path. */
export interface TwimlIssue {
  /** Twilio error or warning code, e.g. 12100, 13212. */
  code: number;
  /** Human-readable description naming the element and value. */
  message: string;
  /** Element path such as `Response/Dial[0]/Sip[1]` (index among same-named siblings). */
  path: string;
}

/** A fatal problem: the document cannot run. */
export type TwimlError = TwimlIssue;
/** A non-fatal problem: a default was used or something was skipped. */
export type TwimlWarning = TwimlIssue;

/** HTTP method for a callback. */
export type HttpMethod = 'GET' | 'POST';

/** Child-leg progress events for status callbacks. */
export type StatusCallbackEvent = 'initiated' | 'ringing' | 'answered' | 'completed';

/** Attributes shared by `<Number>`, `<Client>` and `<Sip>` (§1.4). */
export interface NounCommon {
  /** Screening TwiML URL run on the child after answer. */
  url?: string;
  /** Method for `url`, default POST. */
  method: HttpMethod;
  statusCallback?: string;
  /** Events to report; `['completed']` when only statusCallback is set, else empty. */
  statusCallbackEvent: StatusCallbackEvent[];
  statusCallbackMethod: HttpMethod;
}

/** `<Sip>` noun (§2.2). */
export interface SipNoun extends NounCommon {
  kind: 'sip';
  /** The URI as written (validated by the injected validator). */
  uri: string;
  username?: string;
  password?: string;
}

/** `<Number>` noun, or plain text inside `<Dial>`. */
export interface NumberNoun extends NounCommon {
  kind: 'number';
  number: string;
  sendDigits?: string;
  byoc?: string;
}

/** `<Client>` noun; `<Parameter>` children become `parameters`. */
export interface ClientNoun extends NounCommon {
  kind: 'client';
  identity: string;
  parameters: { name: string; value: string }[];
}

/** A Dial target. */
export type DialNoun = SipNoun | NumberNoun | ClientNoun;

/** `record` values after resolving the legacy true/false aliases. */
export type DialRecord =
  | 'do-not-record' | 'record-from-answer' | 'record-from-ringing'
  | 'record-from-answer-dual' | 'record-from-ringing-dual';

/** `<Dial>` options with defaults applied (§1.2). */
export interface DialOpts {
  action?: string;
  method: HttpMethod;
  /** Seconds, 5..600, default 30. */
  timeout: number;
  /** Seconds, default 14400. */
  timeLimit: number;
  hangupOnStar: boolean;
  callerId?: string;
  answerOnBridge: boolean;
  ringTone?: string;
  record: DialRecord;
  trim: 'trim-silence' | 'do-not-trim';
  recordingStatusCallback?: string;
  recordingStatusCallbackMethod: HttpMethod;
  recordingStatusCallbackEvent: ('in-progress' | 'completed' | 'absent')[];
  recordingTrack: 'inbound' | 'outbound' | 'both';
  referUrl?: string;
  referMethod: HttpMethod;
  sequential: boolean;
  /** 1..10 targets in document order. */
  nouns: DialNoun[];
}

/** `<Reject>` options. */
export interface RejectOpts {
  reason: 'busy' | 'rejected';
}

/** `<Redirect>` options. */
export interface RedirectOpts {
  method: HttpMethod;
  url: string;
}

/** `<Pause>` options. */
export interface PauseOpts {
  /** Seconds, default 1. */
  length: number;
}

/** A verb of the document, in order. */
export type Verb =
  | ({ kind: 'dial' } & DialOpts)
  | { kind: 'hangup' }
  | ({ kind: 'reject' } & RejectOpts)
  | ({ kind: 'redirect' } & RedirectOpts)
  | ({ kind: 'pause' } & PauseOpts)
  | { kind: 'unsupported'; name: string };

/** A parsed `<Response>`. */
export interface TwimlDocument {
  verbs: Verb[];
  warnings: TwimlWarning[];
}

/** Outcome of an injected SIP URI check. */
export type SipUriCheck = { ok: true } | { ok: false; message: string; twilioCode?: number };

/** Options for parseTwiml. */
export interface ParseTwimlOptions {
  /**
   * Checks a `<Sip>` target (e.g. runtime/sip/sip-target.ts validateSipTarget
   * wrapped); without it every URI is accepted as written.
   */
  validateSipUri?: (uri: string) => SipUriCheck;
}
