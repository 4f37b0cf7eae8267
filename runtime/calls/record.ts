/**
 * The call record: what Patchbay knows about one call leg, in the shape the
 * REST API, the event stream, the metrics and the CDR share. The call layer
 * (runtime/calls/session.ts, dial.ts) is the only writer, through CallStore.
 */

/** Twilio's CallStatus values. */
export type CallStatus =
  | 'queued' | 'initiated' | 'ringing' | 'in-progress'
  | 'completed' | 'busy' | 'failed' | 'no-answer' | 'canceled';

/** Statuses after which a call never changes again. */
export const FINAL_STATUSES: ReadonlySet<CallStatus> = new Set(['completed', 'busy', 'failed', 'no-answer', 'canceled']);

/** Twilio's Direction values. */
export type CallDirection = 'inbound' | 'outbound-api' | 'outbound-dial';

/** One call leg. Times are epoch milliseconds. */
export interface CallRecord {
  sid: string;
  accountSid: string;
  parentCallSid?: string;
  direction: CallDirection;
  /** Caller as Twilio shows it (SIP URI, number or client:name). */
  from: string;
  to: string;
  status: CallStatus;
  dateCreated: number;
  dateUpdated: number;
  /** When the call was answered (in-progress). */
  startTime?: number;
  endTime?: number;
  /** Seconds from answer to end (0 when never answered); set when final. */
  duration?: number;
  /** SIP Call-ID of this leg's INVITE. */
  sipCallId?: string;
  /** Final SIP status of this leg's INVITE. */
  sipResponseCode?: number;
  /** Last error on the call (Twilio code and message), if any. */
  errorCode?: number;
  errorMessage?: string;
  /**
   * Where the call's status callbacks go, when it has them. Not part of the
   * API's JSON; the CDR keeps it so that a restart can send the completed
   * callback of a call the previous process lost (runtime/cdr/recovery.ts).
   */
  statusCallback?: { url: string; method: 'GET' | 'POST'; events: readonly ('initiated' | 'ringing' | 'answered' | 'completed')[] };
}

/** The fields a new record is made from. */
export type NewCallRecord = Pick<CallRecord, 'sid' | 'accountSid' | 'direction' | 'from' | 'to' | 'status' | 'dateCreated'> & Partial<CallRecord>;

/**
 * A record with every field present (absent ones undefined), in one order:
 * records keep one shape while the store fills them in, which keeps its
 * updates on V8's fast path.
 */
export function newCallRecord(init: NewCallRecord): CallRecord {
  return {
    sid: init.sid,
    accountSid: init.accountSid,
    parentCallSid: init.parentCallSid,
    direction: init.direction,
    from: init.from,
    to: init.to,
    status: init.status,
    dateCreated: init.dateCreated,
    dateUpdated: init.dateUpdated ?? init.dateCreated,
    startTime: init.startTime,
    endTime: init.endTime,
    duration: init.duration,
    sipCallId: init.sipCallId,
    sipResponseCode: init.sipResponseCode,
    errorCode: init.errorCode,
    errorMessage: init.errorMessage,
    statusCallback: init.statusCallback,
  };
}

/** What the event stream, metrics and CDR observe. */
export type CallEvent =
  | { type: 'call.created'; at: number; call: CallRecord }
  | { type: 'call.status'; at: number; call: CallRecord; previous: CallStatus }
  /** A `<Dial>` started a child attempt (the child's record follows as call.created). */
  | { type: 'dial.attempt'; at: number; callSid: string; childSid: string; target: string }
  | { type: 'transfer'; at: number; callSid: string; stage: 'refer' | 'webhook' | 'completed' | 'failed'; target?: string; detail?: string }
  | { type: 'warning' | 'error'; at: number; callSid: string; code: number; message: string };

/** The SID an event is about (for WebSocket filters). */
export function eventCallSid(event: CallEvent): string {
  return 'call' in event ? event.call.sid : event.callSid;
}
