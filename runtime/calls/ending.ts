/**
 * Ending a call that runs TwiML: every way a CallSession ends (the document
 * is over or said `<Hangup>`, `<Reject>`, a document that cannot be had,
 * the caller's CANCEL, a leg that is gone, a handler that threw) comes
 * here, and the end runs once: stop what runs, forget the caller's dialog,
 * write the final status, send the completed callback.
 */
import { attempt, describeFault, type FaultSink } from '../dialog/fault.js';
import type { CallContext } from './context.js';
import type { Link } from './link.js';
import type { ParentLeg } from './parent.js';
import type { CallRecord, CallStatus } from './record.js';
import type { StatusReporter } from './status-callbacks.js';

/** The code the call's record gets when a handler of the call threw (as for an internal error in a document's run). */
const INTERNAL_ERROR = 11200;

/** What ending needs of the call. */
export interface EndingCall {
  readonly ctx: CallContext;
  readonly record: CallRecord;
  readonly parent: ParentLeg;
  /** The connected link, if any: its child is hung up with the call. */
  readonly link: Link | undefined;
  /** Stop the running verb (a Dial hangs up its children). */
  stopRunning(): void;
  /** Stop retransmitting a 2xx that waits for the caller's ACK. */
  stopAckWait(): void;
}

/** The end of one call. */
export class CallEnding {
  #call: EndingCall;
  #status: StatusReporter;
  #onEnded: () => void;
  #ended = false;
  /** Logs an exception caught while the call ends (the call is ending already). */
  #logFault: FaultSink = (e, where) => this.#call.ctx.log.error('call failed', { callSid: this.#call.record.sid, where, error: describeFault(e) });

  /**
   * @param status   the call's status callbacks (its completed one is sent here)
   * @param onEnded  told once, when the call is over
   */
  constructor(call: EndingCall, status: StatusReporter, onEnded: () => void) {
    this.#call = call;
    this.#status = status;
    this.#onEnded = onEnded;
  }

  get ended(): boolean { return this.#ended; }

  /**
   * A handler of this call threw: log it, then end the call with what can
   * still be sent, each send tried on its own (500 to a caller not yet
   * answered, BYE to an answered one, the connected party hung up), the
   * record failed (completed once answered), its completed callback sent.
   */
  crash(error: unknown, where: string): void {
    const { ctx, record, parent } = this.#call;
    const sid = record.sid;
    ctx.log.error('call failed', { callSid: sid, where, error: describeFault(error) });
    if (this.#ended) return;
    ctx.alert(sid, 'error', INTERNAL_ERROR, `internal error (${where}): ${(error as Error | undefined)?.message ?? String(error)}`);
    const quiet = this.#logFault;
    const link = this.#call.link;
    if (!parent.answered && !parent.finished) attempt(() => parent.reject(500, 'Server Internal Error'), quiet, 'sending 500');
    else if (parent.answered) void parent.request('BYE');
    this.end('failed');
    if (link) attempt(() => link.parentHungUp(), quiet, 'hanging up the connected party');
  }

  /** The caller's dialog is gone or unusable (an in-dialog request got no answer, 408 or 481): hang up everything. */
  endCall(reason: string): void {
    if (this.#ended) return;
    this.#call.ctx.log.warn('hanging up: a leg of the call is gone', { callSid: this.#call.record.sid, reason });
    this.hangup('completed');
  }

  /** `<Reject>`: 486 (busy) or 603 to a caller not yet answered. */
  reject(reason: 'busy' | 'rejected'): void {
    const parent = this.#call.parent;
    if (parent.answered) return;
    const status = reason === 'busy' ? 486 : 603;
    parent.reject(status, reason === 'busy' ? 'Busy Here' : 'Decline');
    this.end(reason === 'busy' ? 'busy' : 'failed');
  }

  /** End the call with an error: unanswered → 500 with the code in a Reason header; answered → BYE. */
  fail(code: number, message: string): void {
    const { ctx, record, parent } = this.#call;
    ctx.alert(record.sid, 'error', code, message);
    if (!parent.answered && !parent.finished) {
      parent.reject(500, 'Server Internal Error', [['Reason', `SIP;cause=500;text="Twilio error ${code}"`], ['Warning', `399 patchbay "${code} ${message.replace(/["\\\r\n]/g, '')}"`]]);
      this.end('failed', { errorCode: code, errorMessage: message });
    }
  }

  /** Hang up whatever is up and end the call (`status` and `refusal` are used when it was never answered nor rejected). */
  hangup(status: CallStatus = 'completed', refusal: readonly [number, string] = [603, 'Decline']): void {
    this.#guard('hangup', () => {
      if (this.#ended) return;
      const parent = this.#call.parent;
      if (!parent.answered && !parent.finished) {
        // the document ended or said <Hangup> before anything answered the caller (603), or the daemon stops (503)
        parent.reject(refusal[0], refusal[1]);
        this.end(status);
        return;
      }
      if (parent.answered) void parent.request('BYE');
      this.end(status);
    });
  }

  /** The caller cancelled the INVITE. */
  cancelled(): void {
    this.#guard('CANCEL', () => {
      if (this.#ended) return;
      this.#call.parent.reject(487, 'Request Terminated');
      this.end('canceled');
    });
  }

  /**
   * The call is over: stop what runs, forget its dialog, write its final
   * status, send its completed callback. Each step runs even when one
   * before it throws (the call must not stay half-ended), then the first
   * failure is logged.
   */
  end(status: CallStatus, patch: Partial<CallRecord> = {}): void {
    if (this.#ended) return;
    this.#ended = true;
    const { ctx, record, parent } = this.#call;
    const log = this.#logFault;
    attempt(() => this.#call.stopRunning(), log, 'stopping the running verb');
    attempt(() => { this.#call.stopAckWait(); parent.dispose(); }, log, 'ending');
    if (parent.dialog) ctx.registry.remove(parent.dialog);
    const final: CallStatus = parent.answered ? 'completed' : status;
    const updated = attempt(() => ctx.store.update(record.sid, final, patch), log, 'recording the end') ?? record;
    attempt(() => this.#status.completed(updated), log, 'completed callback');
    this.#onEnded();
  }

  #guard(where: string, fn: () => void): void {
    attempt(fn, (e, w) => this.crash(e, w), where);
  }
}
