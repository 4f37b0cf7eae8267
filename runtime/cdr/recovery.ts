/**
 * Closing the calls a stopped process lost. A call whose last CDR line is
 * not final (reader.ts) was live when the previous process died (kill -9,
 * OOM, power loss): its caller and callee are gone with that process, so at
 * start-up the call is ended the way Twilio reports a call that ended:
 *
 * - never answered: `failed`; answered: `completed`, duration from the
 *   answer to the end time;
 * - the end time is the last moment the previous process is known to have
 *   run (its heartbeat or its newest CDR line, whichever is later): the
 *   moment of the crash itself is not known, and it lies about one
 *   heartbeat (1 s) after that at most, unless the process was stalled;
 * - its closing line is fsync'd before anything is sent, and then the
 *   call's completed status callback (statusCallback with
 *   CallStatus completed or failed, as Twilio sends at a call's end,
 *   https://www.twilio.com/docs/voice/api/call-resource#statuscallback) goes
 *   out, signed like every webhook. A later restart finds the closing line
 *   and sends nothing: each callback is sent at most once, even across
 *   further crashes.
 */
import { callParams, rfc2822 } from '../calls/params.js';
import type { CallRecord } from '../calls/record.js';
import type { WebhookClient, WebhookRequest } from '../webhooks/client.js';
import type { CdrWriter } from './writer.js';

/** Set on a closed call that had no error of its own (the CDR shows it; the Call resource JSON has no error field). */
export const LOST_CALL_MESSAGE = 'Patchbay stopped during the call; it was closed at the next start, ending when Patchbay was last known to run';

/**
 * The closing records of `open` calls.
 * @param lastAlive - the end time: the last moment the previous process was known to run (epoch ms)
 * @param now - the time of the recovery (their dateUpdated)
 * @return new records (the `open` ones are not changed), in the same order
 */
export function closeLostCalls(open: readonly CallRecord[], lastAlive: number, now: number): CallRecord[] {
  return open.map((call): CallRecord => {
    // answered: the store sets startTime with in-progress (a line without it counts from its own time)
    const startTime = call.startTime ?? (call.status === 'in-progress' ? call.dateUpdated : undefined);
    // never before what the call's own lines show
    const endTime = Math.max(lastAlive, call.dateUpdated, startTime ?? call.dateCreated);
    return {
      ...call,
      status: startTime !== undefined ? 'completed' : 'failed',
      startTime,
      dateUpdated: Math.max(now, endTime),
      endTime,
      duration: startTime !== undefined ? Math.max(0, Math.round((endTime - startTime) / 1000)) : 0,
      errorMessage: call.errorMessage ?? LOST_CALL_MESSAGE,
    };
  });
}

/**
 * Close `open` calls (see `closeLostCalls`) and write their closing lines,
 * fsync'd; while the writes fail they are retried, `attempts` times
 * `retryMs` apart, before giving up (the lines stay queued in the writer).
 * @return the closed records, and whether their lines are on disk: only
 *   then may their callbacks be sent
 */
export async function closeLostCallsDurably(
  writer: CdrWriter, open: readonly CallRecord[], lastAlive: number,
  options: { now?: number; attempts?: number; retryMs?: number } = {},
): Promise<{ closed: CallRecord[]; durable: boolean }> {
  const closed = closeLostCalls(open, lastAlive, options.now ?? Date.now());
  if (closed.length === 0) return { closed, durable: true };
  const written = await writer.writeDurably(closed);
  let durable = written.durable;
  for (let i = 1; !durable && i < (options.attempts ?? 10); i++) {
    await new Promise((r) => setTimeout(r, options.retryMs ?? 1000));
    await writer.flush();
    durable = writer.synced(written.from, written.to);
  }
  return { closed, durable };
}

/**
 * The SequenceNumber of the completed event: the events asked for that the
 * call is known to have reached before (initiated for outbound legs, which
 * report it when they start; ringing and answered when it was answered).
 * The CDR does not keep ringing, so for a call that rang and was never
 * answered it may be one lower than the live process would have sent.
 */
function sequenceNumber(call: CallRecord, events: readonly string[]): number {
  let n = 0;
  if (events.includes('initiated') && call.direction !== 'inbound') n++;
  if (events.includes('ringing') && (call.startTime !== undefined || call.direction === 'inbound')) n++;
  if (events.includes('answered') && call.startTime !== undefined) n++;
  return n;
}

/**
 * The completed status callback of a closed call, with the parameters the
 * live call would have sent at its end.
 * @param sentAt - its Timestamp (epoch ms)
 * @return undefined when the call asked for none
 */
export function lostCallCallback(call: CallRecord, sentAt: number): WebhookRequest | undefined {
  const spec = call.statusCallback;
  if (spec === undefined || !spec.events.includes('completed')) return undefined;
  const params = callParams(call);
  if (call.direction === 'outbound-dial') params.SipCallId = call.sipCallId ?? '';
  params.CallDuration = String(call.duration ?? 0);
  if (call.sipResponseCode) params.SipResponseCode = String(call.sipResponseCode);
  params.Timestamp = rfc2822(sentAt);
  params.CallbackSource = 'call-progress-events';
  params.SequenceNumber = String(sequenceNumber(call, spec.events));
  return { url: spec.url, method: spec.method, params };
}

/** How the callbacks of closed calls went. */
export interface LostCallbacksResult {
  sent: number;
  failed: number;
}

/**
 * Send the completed callbacks of `closed` calls (whose closing lines are on
 * disk), all at once; the webhook client queues what its connection limit
 * holds back.
 * @param onFailure - told about each one that failed (after the client's retries)
 */
export async function sendLostCallbacks(
  webhooks: WebhookClient, closed: readonly CallRecord[], onFailure: (call: CallRecord, code: number, message: string) => void,
  now: () => number = Date.now,
): Promise<LostCallbacksResult> {
  const result: LostCallbacksResult = { sent: 0, failed: 0 };
  await Promise.all(closed.map(async (call) => {
    const request = lostCallCallback(call, now());
    if (request === undefined) return;
    const r = await webhooks.request(request);
    if (r.ok) result.sent++;
    else {
      result.failed++;
      onFailure(call, r.error.twilioCode, `status callback ${request.url}: ${r.error.message}`);
    }
  }));
  return result;
}
