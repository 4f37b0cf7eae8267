/**
 * CallStore: live calls by SID plus a bounded window of recently completed
 * ones, and the event feed every observer subscribes to (event stream,
 * metrics, CDR writer). Listeners run synchronously and must not throw;
 * one that does is logged by the caller-supplied handler and skipped. An
 * event's `call` is the live record itself, as it is when the event is
 * published: a listener that keeps it past its own return copies it (every
 * listener in the daemon serializes or counts it at once, so the store
 * spares each event a copy).
 */
import { FINAL_STATUSES, type CallEvent, type CallRecord, type CallStatus } from './record.js';

/** Receives every event. */
export type CallListener = (event: CallEvent) => void;

/** Options of a store. */
export interface CallStoreOptions {
  /** Completed calls kept in memory for GET (default 10 000). */
  keepCompleted?: number;
  /** Called when a listener throws. */
  onListenerError?: (error: unknown) => void;
}

/** Live and recent calls. */
export class CallStore {
  #live = new Map<string, CallRecord>();
  #done = new Map<string, CallRecord>();
  /**
   * SIDs of #done oldest first, as a ring: evicting through a ring costs the
   * same every time, where `keys().next()` on a Map that keeps losing its
   * oldest entries walks over every deleted slot (microseconds at 10 000).
   */
  #ring: (string | undefined)[] = [];
  #ringHead = 0;
  #listeners = new Set<CallListener>();
  #keep: number;
  #onListenerError: (error: unknown) => void;

  constructor(options: CallStoreOptions = {}) {
    this.#keep = options.keepCompleted ?? 10_000;
    this.#onListenerError = options.onListenerError ?? (() => undefined);
  }

  /** Subscribe; returns the unsubscribe function. */
  on(listener: CallListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Publish an event that is not a record change (dial attempts, transfers, warnings, errors). */
  emit(event: CallEvent): void {
    for (const l of this.#listeners) {
      try { l(event); } catch (e) { this.#onListenerError(e); }
    }
  }

  /** Add a new call. */
  create(record: CallRecord): CallRecord {
    this.#live.set(record.sid, record);
    this.emit({ type: 'call.created', at: record.dateCreated, call: record });
    return record;
  }

  /**
   * Change a live call's status (and any other fields). Final statuses set
   * endTime and duration and move the call to the completed window.
   */
  update(sid: string, status: CallStatus, patch?: Partial<CallRecord>): CallRecord | undefined {
    const record = this.#live.get(sid);
    if (!record) return undefined;
    const previous = record.status;
    const now = Date.now();
    if (patch !== undefined) Object.assign(record, patch);
    record.status = status;
    record.dateUpdated = now;
    if (status === 'in-progress' && record.startTime === undefined) record.startTime = now;
    if (FINAL_STATUSES.has(status)) {
      record.endTime ??= now;
      record.duration ??= record.startTime !== undefined ? Math.max(0, Math.round((record.endTime - record.startTime) / 1000)) : 0;
      this.#live.delete(sid);
      this.#remember(record, false);
    }
    if (previous !== status) this.emit({ type: 'call.status', at: now, call: record, previous });
    return record;
  }

  /** Add completed calls read back from durable storage (CDR) at start-up. */
  restore(records: Iterable<CallRecord>): void {
    for (const r of records) {
      if (this.#live.has(r.sid)) continue;
      this.#remember(r, true);
    }
  }

  /**
   * Into the completed window; the oldest leaves once it holds `keepCompleted`.
   * @param mayBeKnown - whether the SID may be in the window already (a restore); a call leaving #live cannot be.
   */
  #remember(record: CallRecord, mayBeKnown: boolean): void {
    if (mayBeKnown && this.#done.has(record.sid)) {
      this.#done.set(record.sid, record);
      return;
    }
    if (this.#keep <= 0) return;
    const oldest = this.#ring[this.#ringHead];
    if (oldest !== undefined) this.#done.delete(oldest);
    this.#ring[this.#ringHead] = record.sid;
    this.#ringHead = (this.#ringHead + 1) % this.#keep;
    this.#done.set(record.sid, record);
  }

  /** A call by SID, live or recently completed. */
  get(sid: string): CallRecord | undefined {
    return this.#live.get(sid) ?? this.#done.get(sid);
  }

  /** Every known call, newest first. */
  list(): CallRecord[] {
    return [...this.#live.values(), ...this.#done.values()].sort((a, b) => b.dateCreated - a.dateCreated);
  }

  /** Live call count. */
  get liveCount(): number {
    return this.#live.size;
  }
}
