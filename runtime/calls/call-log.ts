/**
 * The per-call info log: one line when a call leg starts and one when it
 * ends, so that an operator running at the default level sees calls happen
 * (and which ones failed, with what SIP code) without turning on debug.
 * It listens to the call store's events, the seam the CDR writer uses.
 */
import type { Logger } from '../log.js';
import { FINAL_STATUSES, type CallRecord } from './record.js';
import type { CallStore } from './store.js';

/** Fields of a "call started" line. */
export function callStartFields(call: CallRecord): Record<string, unknown> {
  return {
    callSid: call.sid, direction: call.direction, from: call.from, to: call.to, status: call.status,
    ...(call.parentCallSid !== undefined ? { parentCallSid: call.parentCallSid } : {}),
    ...(call.sipCallId ? { sipCallId: call.sipCallId } : {}),
  };
}

/** Fields of a "call ended" line: duration in seconds from answer to end (0 if never answered). */
export function callEndFields(call: CallRecord, sipResponseCode: number | undefined): Record<string, unknown> {
  return {
    callSid: call.sid, direction: call.direction, from: call.from, to: call.to, status: call.status,
    duration: call.duration ?? 0, sipResponseCode: sipResponseCode ?? null,
    ...(call.parentCallSid !== undefined ? { parentCallSid: call.parentCallSid } : {}),
    ...(call.errorCode !== undefined ? { errorCode: call.errorCode } : {}),
  };
}

/**
 * Log "call started" and "call ended" at info for every leg in `store`.
 * @param sipStatusOf - the leg's final SIP status when the record has none (an inbound leg's answer to the caller)
 * @return the unsubscribe function
 */
export function attachCallLog(store: CallStore, log: Logger, sipStatusOf: (call: CallRecord) => number | undefined = () => undefined): () => void {
  return store.on((event) => {
    if (event.type === 'call.created') log.info('call started', callStartFields(event.call));
    else if (event.type === 'call.status' && FINAL_STATUSES.has(event.call.status)) {
      log.info('call ended', callEndFields(event.call, event.call.sipResponseCode ?? sipStatusOf(event.call)));
    }
  });
}
