/**
 * LiveCalls: the calls that are up right now, by SID. The REST API finds a
 * call here to redirect or end it, and the drain ends what is left: TwiML
 * sessions (inbound calls, REST-created calls once answered, a transferred
 * or redirected child running a document of its own), dial legs, and
 * REST-created calls that still ring. Built once by whoever wires the call
 * layer and given to the parts that add or remove calls.
 *
 * It knows calls by what it needs of them (LiveSession, LiveChild), so it
 * imports none of the files that implement them.
 */
import type { CallRecord, CallStatus } from './record.js';

/** New TwiML for a live call (REST API redirect). */
export type RedirectSource = { url: string; method: 'GET' | 'POST' } | { twiml: string };

/** A call running TwiML (a CallSession). */
export interface LiveSession {
  readonly record: CallRecord;
  readonly parent: { readonly answered: boolean };
  /** Replace the running document. */
  redirect(source: RedirectSource): void;
  /** Hang up what is up and end the call. */
  hangup(status?: CallStatus, refusal?: readonly [number, string]): void;
}

/** A dial leg (a ChildLeg). */
export interface LiveChild {
  readonly sid: string;
  readonly record: CallRecord;
  readonly status: CallStatus;
  /** Run one of the leg's handlers (an exception ends its call). */
  guard(where: string, fn: () => void): void;
  /** New TwiML for the connected leg; false when it is not connected. */
  redirect(source: RedirectSource): boolean;
  /** Cancel the leg while it rings, hang it up once answered. */
  end(): Promise<void>;
}

/** The live calls of one call layer. */
export class LiveCalls {
  #sessions = new Map<string, LiveSession>();
  /** Dial legs by SID (REST API hang-up). */
  #children = new Map<string, LiveChild>();
  /** REST-created calls still ringing: how to cancel each. */
  #ringing = new Map<string, () => void>();

  /** Live TwiML calls (REST-created ones that still ring included). */
  get size(): number {
    return this.#sessions.size + this.#ringing.size;
  }

  /** A session starts (inbound call, answered REST-created call, a child that leaves its Dial). */
  adopt(session: LiveSession): void {
    this.#sessions.set(session.record.sid, session);
  }

  /** A session ended. */
  forget(session: LiveSession): void {
    this.#sessions.delete(session.record.sid);
  }

  session(sid: string): LiveSession | undefined {
    return this.#sessions.get(sid);
  }

  /** Every live session (drain). */
  sessions(): LiveSession[] {
    return [...this.#sessions.values()];
  }

  trackChild(child: LiveChild): void {
    this.#children.set(child.sid, child);
  }

  untrackChild(child: LiveChild): void {
    this.#children.delete(child.sid);
  }

  child(sid: string): LiveChild | undefined {
    return this.#children.get(sid);
  }

  /** A REST-created call rings: `cancel` stops it (drain, Status=canceled). */
  ringing(sid: string, cancel: () => void): void {
    this.#ringing.set(sid, cancel);
  }

  /** A REST-created call stopped ringing (answered or failed). */
  settled(sid: string): void {
    this.#ringing.delete(sid);
  }

  /** How to cancel REST-created call `sid` while it rings. */
  cancelOf(sid: string): (() => void) | undefined {
    return this.#ringing.get(sid);
  }

  /** Cancel every REST-created call that still rings (drain). */
  cancelRinging(): void {
    for (const cancel of [...this.#ringing.values()]) cancel();
  }
}
