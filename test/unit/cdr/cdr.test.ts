/**
 * The CDR: a call's record appended as a JSON line when it starts, is
 * answered and ends, fsync'd in batches, rotated and pruned, and read back
 * into a new store after a restart — including a last line torn by a crash.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CallStore } from '../../../runtime/calls/store.js';
import type { CallRecord } from '../../../runtime/calls/record.js';
import { newSid } from '../../../runtime/calls/sid.js';
import { CdrWriter, attachCdr, listRotated, rotationStamp } from '../../../runtime/cdr/writer.js';
import { readCdr } from '../../../runtime/cdr/reader.js';
import { waitUntil } from '../../support/wait.js';

/** A completed record; every one serializes to the same length (i < 100). */
function record(i: number, overrides: Partial<CallRecord> = {}): CallRecord {
  const created = Date.UTC(2024, 5, 1, 12, 0, 0) + i * 1000;
  const n = String(i).padStart(2, '0');
  return {
    sid: newSid('CA'), accountSid: `AC${'a'.repeat(32)}`, direction: 'inbound', from: `sip:caller${n}@example.com`, to: 'sip:ivr@example.com',
    status: 'completed', dateCreated: created, dateUpdated: created + 30_000, startTime: created + 2000, endTime: created + 30_000, duration: 28,
    sipCallId: `call-${n}@example.com`, sipResponseCode: 200, ...overrides,
  };
}

/** Run a call through the store the way the call layer does. */
function runCall(store: CallStore, i: number, final: 'completed' | 'busy' = 'completed'): string {
  const now = Date.now();
  const sid = newSid('CA');
  store.create({ sid, accountSid: `AC${'a'.repeat(32)}`, direction: 'outbound-api', from: `alice${i}`, to: 'sip:bob@example.com', status: 'queued', dateCreated: now + i, dateUpdated: now + i });
  store.update(sid, 'ringing');
  if (final === 'completed') store.update(sid, 'in-progress');
  store.update(sid, final);
  return sid;
}

describe('CDR', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'patchbay-cdr-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps calls across a restart: a line at start, answer and end; completed ones read back, a live one open', async () => {
    const store = new CallStore();
    const writer = await CdrWriter.open({ dir });
    const detach = attachCdr(store, writer);
    const sids = [runCall(store, 1), runCall(store, 2, 'busy'), runCall(store, 3)];
    const live = newSid('CA');
    store.create({ sid: live, accountSid: 'AC', direction: 'inbound', from: 'x', to: 'y', status: 'ringing', dateCreated: Date.now(), dateUpdated: Date.now() });
    detach();
    await writer.close();
    // completed: start, in-progress, completed; busy: start, busy; live: start
    expect(writer.stats).toMatchObject({ records: 9, pending: 0, errors: 0, open: 1 });

    const lines = (await readFile(join(dir, 'calls.jsonl'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as CallRecord);
    expect(lines.map((l) => l.status)).toEqual(['queued', 'in-progress', 'completed', 'queued', 'busy', 'queued', 'in-progress', 'completed', 'ringing']);
    expect(lines[4]).toMatchObject({ sid: sids[1], status: 'busy', duration: 0 });
    expect(lines[1]!.startTime).toBeTypeOf('number');

    const restarted = new CallStore();
    const { records, open, skipped } = await readCdr(dir);
    expect(skipped).toBe(0);
    expect(open.map((c) => c.sid)).toEqual([live]);
    restarted.restore(records);
    expect(restarted.list().map((c) => c.sid).sort()).toEqual([...sids].sort());
    const first = restarted.get(sids[0]!)!;
    expect(first).toEqual(store.get(sids[0]!));
    expect(restarted.get(live)).toBeUndefined();
    expect(restarted.liveCount).toBe(0);
  });

  it('batches fsyncs: N records or T ms, whichever first', async () => {
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    const byCount = await CdrWriter.open({ dir, batchRecords: 5, batchMs: 10_000 });
    for (let i = 0; i < 4; i++) byCount.write(record(i));
    await sleep(30);
    expect(byCount.stats).toMatchObject({ records: 0, syncs: 0, pending: 4 });
    byCount.write(record(4));
    await waitUntil('the fifth record is synced', () => byCount.stats.syncs > 0);
    expect(byCount.stats).toMatchObject({ records: 5, syncs: 1, pending: 0 });
    await byCount.close();

    const byTime = await CdrWriter.open({ dir, batchRecords: 1000, batchMs: 60 });
    byTime.write(record(5));
    byTime.write(record(6));
    await sleep(20);
    expect(byTime.stats).toMatchObject({ records: 0, pending: 2 });
    await waitUntil('the batch window syncs', () => byTime.stats.syncs > 0);
    expect(byTime.stats).toMatchObject({ records: 2, syncs: 1, pending: 0 });
    byTime.write(record(7));
    await byTime.close();
    expect(byTime.stats).toMatchObject({ records: 3, syncs: 2 });
    byTime.write(record(99));
    expect(byTime.stats.pending).toBe(0);
    expect((await readCdr(dir)).records).toHaveLength(8);
  });

  it('tolerates a torn last line and seals it before appending', async () => {
    const a = record(1);
    const b = record(2);
    await writeFile(join(dir, 'calls.jsonl'), `${JSON.stringify(a)}\n${JSON.stringify(b).slice(0, 40)}`);
    const read = await readCdr(dir);
    expect(read.records.map((r) => r.sid)).toEqual([a.sid]);
    expect(read.skipped).toBe(1);
    const writer = await CdrWriter.open({ dir });
    const c = record(3);
    writer.write(c);
    await writer.close();
    const again = await readCdr(dir);
    expect(again.records.map((r) => r.sid)).toEqual([a.sid, c.sid]);
    expect(again.skipped).toBe(1);
  });

  it('skips lines that are not call records; one whose last line is not final is an open call', async () => {
    const good = record(1);
    await writeFile(join(dir, 'calls.jsonl'), [
      JSON.stringify(good), '{}', 'null', '[1,2]', JSON.stringify({ ...record(2), status: 'in-progress' }),
      JSON.stringify({ ...record(3), dateCreated: 'yesterday' }), JSON.stringify({ ...record(4), direction: 'sideways' }), '', '   ',
    ].join('\n'));
    const read = await readCdr(dir);
    expect(read.records.map((r) => r.sid)).toEqual([good.sid]);
    expect(read.open.map((r) => r.status)).toEqual(['in-progress']);
    expect(read.skipped).toBe(5);
  });

  it('reads a missing directory as empty', async () => {
    expect(await readCdr(join(dir, 'nope'))).toEqual({ records: [], open: [], skipped: 0, files: [], lastAlive: 0 });
  });

  it('rotates past maxBytes, keeps K rotated files and reads them all back oldest first', async () => {
    let clock = Date.UTC(2025, 0, 31, 23, 59, 59, 123);
    const size = Buffer.byteLength(`${JSON.stringify(record(0))}\n`);
    const writer = await CdrWriter.open({ dir, batchRecords: 1, maxBytes: size * 3, keep: 2, now: () => clock });
    const written: CallRecord[] = [];
    for (let i = 0; i < 14; i++) {
      const r = record(i);
      written.push(r);
      writer.write(r);
      await writer.flush();
      clock += 1000;
    }
    await writer.close();
    const rotated = await listRotated(dir);
    expect(writer.stats.rotations).toBe(4);
    expect(rotated).toHaveLength(2);
    expect(rotated.every((n) => /^calls-\d{8}T\d{9}Z\.jsonl$/.test(n))).toBe(true);
    expect(rotated[0]! < rotated[1]!).toBe(true);
    expect((await readdir(dir)).sort()).toEqual([...rotated, 'calls.heartbeat', 'calls.jsonl'].sort());
    const read = await readCdr(dir);
    expect(read.files).toEqual([...rotated, 'calls.jsonl']);
    // 4 rotations of 3 records, 2 kept: the newest 6 rotated plus the 2 live ones
    expect(read.records.map((r) => r.sid)).toEqual(written.slice(6).map((r) => r.sid));
    const limited = await readCdr(dir, 3);
    expect(limited.records.map((r) => r.sid)).toEqual(written.slice(11).map((r) => r.sid));
    expect(limited.files).toEqual([rotated[1], 'calls.jsonl']);
    expect(rotationStamp(Date.UTC(2025, 0, 31, 23, 59, 59, 123))).toBe('20250131T235959123Z');
  });

  it('gives same-stamp rotations distinct names', async () => {
    const size = Buffer.byteLength(`${JSON.stringify(record(0))}\n`);
    const writer = await CdrWriter.open({ dir, batchRecords: 1, maxBytes: size, keep: 10, now: () => 0 });
    for (let i = 0; i < 4; i++) {
      writer.write(record(i));
      await writer.flush();
    }
    await writer.close();
    expect(await listRotated(dir)).toEqual(['calls-19700101T000000000Z.jsonl', 'calls-19700101T000000000Z-1.jsonl', 'calls-19700101T000000000Z-2.jsonl']);
    expect((await readCdr(dir)).records).toHaveLength(4);
  });

  it('keeps records queued through I/O errors, reports them, and recovers once the directory is back', async () => {
    const errors: Error[] = [];
    const size = Buffer.byteLength(`${JSON.stringify(record(0))}\n`);
    const writer = await CdrWriter.open({ dir, batchRecords: 1000, maxBytes: size, onError: (e) => errors.push(e) });
    const a = record(1);
    writer.write(a);
    await writer.flush();
    await rm(dir, { recursive: true, force: true });
    const b = record(2);
    writer.write(b);
    await writer.flush();
    expect(errors.length).toBeGreaterThan(0);
    expect(writer.stats).toMatchObject({ pending: 1, errors: 1 });
    await mkdir(dir);
    await writer.close();
    expect(writer.stats).toMatchObject({ pending: 0, records: 2 });
    expect((await readCdr(dir)).records.map((r) => r.sid)).toEqual([b.sid]);
  });
});
