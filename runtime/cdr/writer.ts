/**
 * The call detail record (CDR) writer: a call's record appended as one JSON
 * line (the CallRecord as the store holds it: camelCase keys, epoch
 * milliseconds) to `<dir>/calls.jsonl` when the call starts, when it is
 * answered and when it ends. The last line of a SID is the call's latest
 * state: a call whose last line has no final status was live when the
 * process stopped, and the next start closes it (recovery.ts). The line at
 * the end is the completed call record, as before.
 *
 * Durability: lines are written and fsync'd in batches, after `batchRecords`
 * lines or `batchMs` after the first unsynced one, whichever comes first,
 * and on `flush()`/`close()`; never one fsync per call. A crash loses at most
 * the current batch (`batchMs`, 200 ms by default); a torn last line is
 * skipped by the reader and sealed with a line feed when the writer reopens
 * the file.
 *
 * Liveness: once `startHeartbeat()` is called (by a daemon that runs, not
 * by one that fails to start), every `heartbeatMs` the writer puts the time
 * in `<dir>/calls.heartbeat` (no fsync: it survives a killed process, which
 * is the case it is for). A restart takes the later of it and the newest
 * line as the last moment the previous process was known to run, the end
 * time of the calls it lost.
 *
 * Rotation: before a batch would take calls.jsonl past `maxBytes`, the file
 * is renamed `calls-<UTC timestamp>.jsonl` (e.g. `calls-20250131T235959123Z.jsonl`,
 * so names sort by age) and a new one started with the latest line of every
 * call still live, so a restart finds every live call in calls.jsonl alone;
 * only the newest `keep` rotated files are kept.
 */
import { constants } from 'node:fs';
import { mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { FINAL_STATUSES, type CallRecord } from '../calls/record.js';
import type { CallStore } from '../calls/store.js';

/** The live file's name. */
export const CDR_FILE = 'calls.jsonl';
/** The heartbeat file: the epoch milliseconds of the writer's last sign of life. */
export const HEARTBEAT_FILE = 'calls.heartbeat';
/** Rotated files: `calls-<stamp>.jsonl`. */
export const ROTATED_PATTERN = /^calls-(\d{8}T\d{9}Z)(?:-(\d+))?\.jsonl$/;

/** Settings of a writer. */
export interface CdrWriterOptions {
  /** Directory of the files (created if missing). */
  dir: string;
  /** fsync once this many lines are waiting (default 64). */
  batchRecords?: number;
  /** fsync at most this long after the first waiting record, in ms (default 200). */
  batchMs?: number;
  /** Rotate before calls.jsonl would exceed this size (default 64 MiB). */
  maxBytes?: number;
  /** Rotated files kept (default 10). */
  keep?: number;
  /** Records kept in memory while writes fail (default 100 000); beyond it the oldest are dropped. */
  maxPending?: number;
  /** Told about I/O failures (the records stay queued and are retried). */
  onError?: (error: Error) => void;
  /** Clock for rotated file names and the heartbeat (default Date.now). */
  now?: () => number;
  /** How often the heartbeat file is rewritten, in ms (default 1000; 0: never). */
  heartbeatMs?: number;
}

/** Counters of a writer. */
export interface CdrStats {
  /** Lines written and fsync'd (a call has up to three: start, answer, end). */
  records: number;
  /** fsync calls. */
  syncs: number;
  rotations: number;
  /** Failed batches. */
  errors: number;
  /** Records dropped because writes kept failing. */
  dropped: number;
  /** Lines waiting for the next batch. */
  pending: number;
  /** Calls started and not ended, as written. */
  open: number;
  /** Size of calls.jsonl. */
  bytes: number;
}

/** @return the sortable UTC stamp of a rotated file name. */
export function rotationStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, '');
}

/** Appends call records to the CDR files. Create with `CdrWriter.open`. */
export class CdrWriter {
  readonly #dir: string;
  readonly #batchRecords: number;
  readonly #batchMs: number;
  readonly #maxBytes: number;
  readonly #keep: number;
  readonly #maxPending: number;
  readonly #onError: (error: Error) => void;
  readonly #now: () => number;
  #file: FileHandle;
  #size: number;
  #pending: string[] = [];
  /** The latest line of each call started and not ended (carried into a new file at rotation). */
  #open = new Map<string, string>();
  /** Sequence number of the next line queued; the pending lines are the last `#pending.length` of them. */
  #nextSeq = 0;
  /** Lines before this sequence number are on disk or were dropped. */
  #syncedSeq = 0;
  /** Lines before this sequence number may have been dropped (kept failing). */
  #droppedSeq = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #heartbeatMs: number;
  readonly #heartbeatFile: FileHandle | undefined;
  #heartbeat: { timer: NodeJS.Timeout; writing: Promise<void> | undefined } | undefined;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  /** A write failed: reopen the file (and seal a torn line) before the next batch. */
  #unsealed = false;
  #stats = { records: 0, syncs: 0, rotations: 0, errors: 0, dropped: 0 };

  private constructor(options: CdrWriterOptions, file: FileHandle, size: number, heartbeat: FileHandle | undefined) {
    this.#dir = options.dir;
    this.#batchRecords = options.batchRecords ?? 64;
    this.#batchMs = options.batchMs ?? 200;
    this.#maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.#keep = options.keep ?? 10;
    this.#maxPending = options.maxPending ?? 100_000;
    this.#onError = options.onError ?? (() => undefined);
    this.#now = options.now ?? Date.now;
    this.#file = file;
    this.#size = size;
    this.#heartbeatMs = options.heartbeatMs ?? 1000;
    this.#heartbeatFile = heartbeat;
  }

  /**
   * Open (or create) `<dir>/calls.jsonl` for appending. A last line without
   * its line feed (torn by a crash) is sealed so the next record starts on a
   * line of its own.
   */
  static async open(options: CdrWriterOptions): Promise<CdrWriter> {
    await mkdir(options.dir, { recursive: true });
    const { file, size } = await openLive(options.dir);
    // not truncated: the previous process's last heartbeat stays until this one starts beating
    const heartbeat = (options.heartbeatMs ?? 1000) > 0 ? await open(join(options.dir, HEARTBEAT_FILE), constants.O_RDWR | constants.O_CREAT) : undefined;
    return new CdrWriter(options, file, size, heartbeat);
  }

  /** Counters. */
  get stats(): CdrStats {
    return { ...this.#stats, pending: this.#pending.length, bytes: this.#size, open: this.#open.size };
  }

  /** Queue a call's record as it is now; it is on disk after the next batch. */
  write(record: CallRecord): void {
    if (this.#closed) return;
    const line = `${JSON.stringify(record)}\n`;
    if (FINAL_STATUSES.has(record.status)) this.#open.delete(record.sid);
    else this.#open.set(record.sid, line);
    this.#pending.push(line);
    this.#nextSeq++;
    if (this.#pending.length > this.#maxPending) {
      this.#pending.shift();
      this.#stats.dropped++;
      this.#droppedSeq = this.#nextSeq - this.#pending.length;
    }
    if (this.#pending.length >= this.#batchRecords) void this.flush();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => void this.flush(), this.#batchMs);
      this.#timer.unref();
    }
  }

  /** A mark after the lines queued so far (see `synced`). */
  mark(): number {
    return this.#nextSeq;
  }

  /** @return whether every line queued between marks `from` and `to` is on disk (fsync'd). */
  synced(from: number, to: number): boolean {
    return this.#syncedSeq >= to && this.#droppedSeq <= from;
  }

  /**
   * Queue `records` and flush.
   * @return whether every one of them is on disk (fsync'd) now, and their marks for `synced`
   */
  async writeDurably(records: readonly CallRecord[]): Promise<{ durable: boolean; from: number; to: number }> {
    const from = this.#nextSeq;
    if (this.#closed) return { durable: records.length === 0, from, to: from };
    for (const r of records) this.write(r);
    const to = this.#nextSeq;
    await this.flush();
    return { durable: this.synced(from, to), from, to };
  }

  /** Write and fsync everything queued so far. Never rejects (failures go to `onError`). */
  flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#chain = this.#chain.then(() => this.#drain());
    return this.#chain;
  }

  /** Flush, fsync and close the file. Later writes are ignored. */
  async close(): Promise<void> {
    if (this.#closed) return this.#chain;
    await this.flush();
    this.#closed = true;
    const heartbeat = this.#heartbeat;
    this.#heartbeat = undefined;
    if (heartbeat) clearInterval(heartbeat.timer);
    this.#chain = this.#chain.then(async () => {
      await this.#file.close();
      await heartbeat?.writing;
      await this.#heartbeatFile?.close();
    }).catch((e: unknown) => this.#onError(asError(e)));
    return this.#chain;
  }

  /** Write the time to the heartbeat file now and every `heartbeatMs` until `close()`. */
  startHeartbeat(): void {
    if (this.#closed || this.#heartbeat || this.#heartbeatFile === undefined) return;
    const timer = setInterval(() => this.#beat(), this.#heartbeatMs);
    timer.unref();
    this.#heartbeat = { timer, writing: undefined };
    this.#beat();
  }

  /** Rewrite the heartbeat file with the time (one write at a time; a failure goes to `onError`). */
  #beat(): void {
    const heartbeat = this.#heartbeat;
    const file = this.#heartbeatFile;
    if (!heartbeat || !file || heartbeat.writing) return;
    const data = Buffer.from(`${String(this.#now()).padStart(HEARTBEAT_DIGITS, '0')}\n`, 'latin1');
    heartbeat.writing = file.write(data, 0, data.length, 0)
      .then(() => undefined, (e: unknown) => this.#onError(asError(e)))
      .finally(() => { heartbeat.writing = undefined; });
  }

  async #drain(): Promise<void> {
    if (this.#pending.length === 0) return;
    const lines = this.#pending;
    this.#pending = [];
    const end = this.#nextSeq;
    const data = Buffer.from(lines.join(''), 'utf8');
    try {
      if (this.#unsealed) {
        // after a failure: reopen (the handle may be closed or the file gone) and seal a torn tail
        await this.#file.close().catch(() => undefined);
        const live = await openLive(this.#dir);
        this.#file = live.file;
        this.#size = live.size;
        this.#unsealed = false;
      }
      if (this.#size > 0 && this.#size + data.length > this.#maxBytes) await this.#rotate();
      let offset = 0;
      while (offset < data.length) offset += (await this.#file.write(data, offset)).bytesWritten;
      this.#size += data.length;
      await this.#file.sync();
      this.#stats.syncs++;
      this.#stats.records += lines.length;
      this.#syncedSeq = end;
    } catch (e) {
      this.#stats.errors++;
      this.#pending = [...lines, ...this.#pending];
      if (this.#pending.length > this.#maxPending) {
        this.#stats.dropped += this.#pending.length - this.#maxPending;
        this.#pending = this.#pending.slice(this.#pending.length - this.#maxPending);
        this.#droppedSeq = this.#nextSeq - this.#pending.length;
      }
      this.#unsealed = true;
      this.#onError(asError(e));
    }
  }

  async #rotate(): Promise<void> {
    const stamp = rotationStamp(this.#now());
    const names = new Set(await readdir(this.#dir));
    let name = `calls-${stamp}.jsonl`;
    for (let n = 1; names.has(name); n++) name = `calls-${stamp}-${n}.jsonl`;
    await this.#file.sync();
    await this.#file.close();
    try {
      await rename(join(this.#dir, CDR_FILE), join(this.#dir, name));
      this.#stats.rotations++;
    } finally {
      // whether or not the rename worked, keep a live file open
      const live = await openLive(this.#dir);
      this.#file = live.file;
      this.#size = live.size;
    }
    // the calls still live start the new file, so a restart finds them without reading rotated files
    if (this.#open.size > 0) {
      const carried = Buffer.from([...this.#open.values()].join(''), 'utf8');
      let offset = 0;
      while (offset < carried.length) offset += (await this.#file.write(carried, offset)).bytesWritten;
      this.#size += carried.length;
    }
    await syncDir(this.#dir);
    const rotated = await listRotated(this.#dir);
    for (const old of rotated.slice(0, Math.max(0, rotated.length - this.#keep))) await rm(join(this.#dir, old), { force: true });
  }
}

/** Digits of a heartbeat (epoch milliseconds, zero-padded: every write covers the previous one). */
const HEARTBEAT_DIGITS = 15;

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** End the file with a line feed if its last line is torn. @return its size */
async function sealTail(file: FileHandle): Promise<number> {
  const { size } = await file.stat();
  if (size === 0) return 0;
  const last = Buffer.alloc(1);
  await file.read(last, 0, 1, size - 1);
  if (last[0] === 0x0a) return size;
  await file.write('\n');
  await file.sync();
  return size + 1;
}

async function openLive(dir: string): Promise<{ file: FileHandle; size: number }> {
  const file = await open(join(dir, CDR_FILE), 'a+');
  return { file, size: await sealTail(file) };
}

/** fsync a directory so a rename survives a crash (best effort: not every platform allows it). */
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // directories cannot be fsync'd everywhere
  }
}

/** @return the rotated file names in `dir`, oldest first. */
export async function listRotated(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => ROTATED_PATTERN.test(n));
  const key = (n: string): [string, number] => {
    const m = ROTATED_PATTERN.exec(n)!;
    return [m[1]!, Number(m[2] ?? 0)];
  };
  return names.sort((a, b) => {
    const [sa, na] = key(a);
    const [sb, nb] = key(b);
    return sa < sb ? -1 : sa > sb ? 1 : na - nb;
  });
}

/**
 * Write each call to `writer` when it starts, when it is answered and when
 * it reaches a final status (the other status changes a restart does not
 * need, and they are not written).
 * @return the unsubscribe function
 */
export function attachCdr(store: CallStore, writer: CdrWriter): () => void {
  return store.on((event) => {
    if (event.type === 'call.created') writer.write(event.call);
    else if (event.type === 'call.status' && (event.call.status === 'in-progress' || FINAL_STATUSES.has(event.call.status))) writer.write(event.call);
  });
}
