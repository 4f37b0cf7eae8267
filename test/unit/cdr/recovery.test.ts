/**
 * Recovery of the calls a crash lost: the reader finds the calls that
 * started and never ended, the restart closes them (failed, or completed at
 * the last sign of life) with lines on disk before any callback, their
 * completed callbacks go out signed and once, and a second restart finds
 * nothing to close. Real files in a temporary directory, a real loopback
 * HTTP app for the callbacks.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CallStore } from '../../../runtime/calls/store.js';
import { newCallRecord, type CallRecord } from '../../../runtime/calls/record.js';
import { newSid } from '../../../runtime/calls/sid.js';
import { CdrWriter, HEARTBEAT_FILE, attachCdr } from '../../../runtime/cdr/writer.js';
import { readCdr } from '../../../runtime/cdr/reader.js';
import { LOST_CALL_MESSAGE, closeLostCalls, closeLostCallsDurably, lostCallCallback, sendLostCallbacks } from '../../../runtime/cdr/recovery.js';
import { createWebhookClient } from '../../../runtime/webhooks/client.js';
import { expectValidSignature, formParams, startRecordingApp, type RecordingApp } from '../webhooks/recording-app.js';

const ACCOUNT = `AC${'b'.repeat(32)}`;
const TOKEN = 'recovery-token';
const CALLBACK = { url: 'http://127.0.0.1:1/status', method: 'POST' as const, events: ['completed' as const] };

/** A new call in the store, as the call layer creates one. */
function startCall(store: CallStore, overrides: Partial<CallRecord> = {}): CallRecord {
  return store.create(newCallRecord({
    sid: newSid('CA'), accountSid: ACCOUNT, direction: 'inbound', from: 'sip:alice@example.com', to: 'sip:ivr@example.com',
    status: 'ringing', dateCreated: Date.now(), sipCallId: `${newSid('CA')}@example.com`, ...overrides,
  }));
}

describe('recovery of calls lost in a crash', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'patchbay-recovery-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds the calls that started and never ended, closes them at the last heartbeat (failed unanswered, completed answered), and a second restart finds none', async () => {
    const beat = Date.now() + 5000;
    const store = new CallStore();
    const writer = await CdrWriter.open({ dir, now: () => beat });
    attachCdr(store, writer);
    writer.startHeartbeat();
    const ringing = startCall(store);
    const answered = startCall(store, { statusCallback: CALLBACK });
    store.update(answered.sid, 'in-progress');
    const ended = startCall(store);
    store.update(ended.sid, 'in-progress');
    store.update(ended.sid, 'completed');
    // the process dies here: what was written and the heartbeat are all that is left (close ends no call)
    expect(writer.stats.open).toBe(2);
    await writer.close();

    const read = await readCdr(dir);
    expect(read.open.map((c) => c.sid)).toEqual([ringing.sid, answered.sid]);
    expect(read.records.map((c) => c.sid)).toEqual([ended.sid]);
    expect(read.lastAlive).toBe(beat);
    expect(read.open[1]!.statusCallback).toEqual(CALLBACK);

    const restarted = await CdrWriter.open({ dir });
    const now = beat + 60_000;
    const { closed, durable } = await closeLostCallsDurably(restarted, read.open, read.lastAlive, { now });
    expect(durable).toBe(true);
    expect(closed[0]).toMatchObject({ sid: ringing.sid, status: 'failed', endTime: beat, duration: 0, dateUpdated: now, errorMessage: LOST_CALL_MESSAGE });
    expect(closed[1]).toMatchObject({ sid: answered.sid, status: 'completed', endTime: beat, startTime: answered.startTime, dateUpdated: now });
    expect(closed[1]!.duration).toBe(Math.round((beat - answered.startTime!) / 1000));
    await restarted.close();

    const again = await readCdr(dir);
    expect(again.open).toEqual([]);
    expect(new Map(again.records.map((c) => [c.sid, c.status]))).toEqual(new Map([[ended.sid, 'completed'], [ringing.sid, 'failed'], [answered.sid, 'completed']]));
  });

  it('ends a lost call no earlier than its own last line when the heartbeat is missing or older', () => {
    const t = Date.UTC(2025, 0, 1);
    const call = newCallRecord({ sid: newSid('CA'), accountSid: ACCOUNT, direction: 'outbound-api', from: 'a', to: 'sip:b@example.com', status: 'in-progress', dateCreated: t, dateUpdated: t + 3000, startTime: t + 3000 });
    const [closed] = closeLostCalls([call], 0, t + 10_000);
    expect(closed).toMatchObject({ status: 'completed', endTime: t + 3000, duration: 0, dateUpdated: t + 10_000 });
    expect(call.status).toBe('in-progress');
    const noStart = { ...call, startTime: undefined, dateUpdated: t + 4000 };
    expect(closeLostCalls([noStart], t + 8000, t + 10_000)[0]).toMatchObject({ status: 'completed', startTime: t + 4000, endTime: t + 8000, duration: 4 });
  });

  it('takes the newest line as the last sign of life when there is no heartbeat', async () => {
    const t = Date.UTC(2025, 0, 1);
    const line = (r: Partial<CallRecord>): string => JSON.stringify({ sid: newSid('CA'), accountSid: ACCOUNT, direction: 'inbound', from: 'a', to: 'b', status: 'ringing', dateCreated: t, dateUpdated: t, ...r });
    await writeFile(join(dir, 'calls.jsonl'), `${line({})}\n${line({ status: 'completed', dateUpdated: t + 9000, endTime: t + 9000 })}\n`);
    expect((await readCdr(dir)).lastAlive).toBe(t + 9000);
    await writeFile(join(dir, HEARTBEAT_FILE), 'not a time\n');
    expect((await readCdr(dir)).lastAlive).toBe(t + 9000);
    await writeFile(join(dir, HEARTBEAT_FILE), `${t + 12_000}\n`);
    expect((await readCdr(dir)).lastAlive).toBe(t + 12_000);
  });

  it('keeps the previous heartbeat until the new writer starts beating', async () => {
    await writeFile(join(dir, HEARTBEAT_FILE), '1700000000000\n');
    const writer = await CdrWriter.open({ dir, now: () => 1_800_000_000_000 });
    expect((await readCdr(dir)).lastAlive).toBe(1_700_000_000_000);
    writer.startHeartbeat();
    await writer.close();
    expect(await readFile(join(dir, HEARTBEAT_FILE), 'latin1')).toBe('001800000000000\n');
    expect((await readCdr(dir)).lastAlive).toBe(1_800_000_000_000);
  });

  it('carries the live calls into the new file at rotation, so a read of calls.jsonl alone still finds them', async () => {
    const store = new CallStore();
    const writer = await CdrWriter.open({ dir, batchRecords: 1, maxBytes: 2048, keep: 1 });
    attachCdr(store, writer);
    const live = startCall(store);
    store.update(live.sid, 'in-progress');
    for (let i = 0; i < 20; i++) {
      const c = startCall(store);
      store.update(c.sid, 'busy');
      await writer.flush();
    }
    await writer.close();
    expect(writer.stats.rotations).toBeGreaterThan(2);
    // the rotated file holding the live call's own lines is gone (keep 1), and a limited read stops early
    const read = await readCdr(dir, 1);
    expect(read.files).toEqual(['calls.jsonl']);
    expect(read.open.map((c) => [c.sid, c.status])).toEqual([[live.sid, 'in-progress']]);
    expect(read.open[0]!.startTime).toBe(live.startTime);
  });

  it('does not call closing lines durable while they cannot be written (the caller then sends no callback), and writes them once it can', async () => {
    const errors: Error[] = [];
    // any batch after the first rotates, and rotating needs the directory
    const writer = await CdrWriter.open({ dir, maxBytes: 10, onError: (e) => errors.push(e) });
    const lost = newCallRecord({ sid: newSid('CA'), accountSid: ACCOUNT, direction: 'inbound', from: 'a', to: 'b', status: 'ringing', dateCreated: Date.now(), statusCallback: CALLBACK });
    await writer.writeDurably([lost]);
    await rm(dir, { recursive: true, force: true });
    const failed = await closeLostCallsDurably(writer, [lost], Date.now(), { attempts: 2, retryMs: 10 });
    expect(failed.durable).toBe(false);
    expect(errors.length).toBeGreaterThan(0);
    expect(writer.synced(writer.mark() - 1, writer.mark())).toBe(false);
    await mkdir(dir);
    await writer.flush();
    expect(writer.synced(writer.mark() - 1, writer.mark())).toBe(true);
    await writer.close();
    expect((await readCdr(dir)).records).toMatchObject([{ sid: lost.sid, status: 'failed' }]);
  });

  it('sends each closed call its completed callback, signed, with the end parameters; none for calls that asked for none', async () => {
    const app: RecordingApp = await startRecordingApp();
    try {
      const webhooks = createWebhookClient({ accountSid: ACCOUNT, authToken: TOKEN });
      const t = Date.UTC(2025, 0, 1, 12, 0, 0);
      const base = { accountSid: ACCOUNT, from: 'sip:alice@example.com', to: 'sip:bob@example.com', dateCreated: t, dateUpdated: t };
      const parent = newCallRecord({ ...base, sid: newSid('CA'), direction: 'inbound', status: 'in-progress', startTime: t + 1000, statusCallback: { ...CALLBACK, url: `${app.base}/status` } });
      const child = newCallRecord({
        ...base, sid: newSid('CA'), parentCallSid: parent.sid, direction: 'outbound-dial', status: 'ringing', sipCallId: 'child@patchbay',
        statusCallback: { url: `${app.base}/child?x=1`, method: 'GET', events: ['initiated', 'ringing', 'completed'] },
      });
      const quiet = newCallRecord({ ...base, sid: newSid('CA'), direction: 'outbound-api', status: 'queued' });
      const answeredOnly = newCallRecord({ ...base, sid: newSid('CA'), direction: 'outbound-api', status: 'queued', statusCallback: { ...CALLBACK, events: ['answered'] } });
      const closed = closeLostCalls([parent, child, quiet, answeredOnly], t + 61_000, t + 120_000);
      expect(lostCallCallback(closed[2]!, t)).toBeUndefined();
      expect(lostCallCallback(closed[3]!, t)).toBeUndefined();

      const failures: string[] = [];
      const result = await sendLostCallbacks(webhooks, closed, (call, code) => failures.push(`${call.sid} ${code}`), () => t + 120_000);
      expect(result).toEqual({ sent: 2, failed: 0 });
      expect(failures).toEqual([]);
      expect(app.requests).toHaveLength(2);
      const post = app.requests.find((r) => r.method === 'POST')!;
      expect(post.url).toBe('/status');
      expectValidSignature(post, app.base, TOKEN);
      expect(formParams(post.body)).toMatchObject({
        CallSid: parent.sid, AccountSid: ACCOUNT, CallStatus: 'completed', CallDuration: '60', Direction: 'inbound',
        Timestamp: 'Wed, 01 Jan 2025 12:02:00 +0000', CallbackSource: 'call-progress-events', SequenceNumber: '0',
      });
      const get = app.requests.find((r) => r.method === 'GET')!;
      expectValidSignature(get, app.base, TOKEN);
      const query = Object.fromEntries(new URL(get.url, app.base).searchParams);
      // initiated was sent when the child started; it never answered, so ringing is not counted
      expect(query).toMatchObject({ x: '1', CallSid: child.sid, ParentCallSid: parent.sid, CallStatus: 'failed', CallDuration: '0', SipCallId: 'child@patchbay', SequenceNumber: '1' });
      await webhooks.close();
    } finally {
      await app.close();
    }
  });
});
