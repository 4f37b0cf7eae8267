/**
 * The call detail record (CDR) writer: every completed call, appended as one
 * JSON line (the CallRecord as the store holds it: camelCase keys, epoch
 * milliseconds) to `<dir>/calls.jsonl`.
 *
 * Durability: lines are written and fsync'd in batches, after `batchRecords`
 * records or `batchMs` after the first unsynced one, whichever comes first,
 * and on `flush()`/`close()`. A crash loses at most the current batch; a
 * torn last line is skipped by the reader and sealed with a line feed when
 * the writer reopens the file.
 *
 * Rotation: before a batch would take calls.jsonl past `maxBytes`, the file
 * is renamed `calls-<UTC timestamp>.jsonl` (e.g. `calls-20250131T235959123Z.jsonl`,
 * so names sort by age) and a new one started; only the newest `keep`
 * rotated files are kept.
 */
import { mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { FINAL_STATUSES, type CallRecord } from '../calls/record.js';
import type { CallStore } from '../calls/store.js';

/** The live file's name. */
export const CDR_FILE = 'calls.jsonl';
/** Rotated files: `calls-<stamp>.jsonl`. */
export const ROTATED_PATTERN = /^calls-(\d{8}T\d{9}Z)(?:-(\d+))?\.jsonl$/;

/** Settings of a writer. */
export interface CdrWriterOptions {
  /** Directory of the files (created if missing). */
  dir: string;
  /** fsync once this many records are waiting (default 64). */
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
  /** Clock for rotated file names (default Date.now). */
  now?: () => number;
}

/** Counters of a writer. */
export interface CdrStats {
  /** Records written and fsync'd. */
  records: number;
  /** fsync calls. */
  syncs: number;
  rotations: number;
  /** Failed batches. */
  errors: number;
  /** Records dropped because writes kept failing. */
  dropped: number;
  /** Records waiting for the next batch. */
  pending: number;
  /** Size of calls.jsonl. */
  bytes: number;
}

/** @return the sortable UTC stamp of a rotated file name. */
export function rotationStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, '');
}

/** Appends completed calls to the CDR files. Create with `CdrWriter.open`. */
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
  #timer: NodeJS.Timeout | undefined;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  /** A write failed: reopen the file (and seal a torn line) before the next batch. */
  #unsealed = false;
  #stats = { records: 0, syncs: 0, rotations: 0, errors: 0, dropped: 0 };

  private constructor(options: CdrWriterOptions, file: FileHandle, size: number) {
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
  }

  /**
   * Open (or create) `<dir>/calls.jsonl` for appending. A last line without
   * its line feed (torn by a crash) is sealed so the next record starts on a
   * line of its own.
   */
  static async open(options: CdrWriterOptions): Promise<CdrWriter> {
    await mkdir(options.dir, { recursive: true });
    const { file, size } = await openLive(options.dir);
    return new CdrWriter(options, file, size);
  }

  /** Counters. */
  get stats(): CdrStats {
    return { ...this.#stats, pending: this.#pending.length, bytes: this.#size };
  }

  /** Queue a completed call; it is on disk after the next batch. */
  write(record: CallRecord): void {
    if (this.#closed) return;
    this.#pending.push(`${JSON.stringify(record)}\n`);
    if (this.#pending.length > this.#maxPending) {
      this.#pending.shift();
      this.#stats.dropped++;
    }
    if (this.#pending.length >= this.#batchRecords) void this.flush();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => void this.flush(), this.#batchMs);
      this.#timer.unref();
    }
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
    this.#chain = this.#chain.then(() => this.#file.close()).catch((e: unknown) => this.#onError(asError(e)));
    return this.#chain;
  }

  async #drain(): Promise<void> {
    if (this.#pending.length === 0) return;
    const lines = this.#pending;
    this.#pending = [];
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
    } catch (e) {
      this.#stats.errors++;
      this.#pending = [...lines, ...this.#pending];
      if (this.#pending.length > this.#maxPending) {
        this.#stats.dropped += this.#pending.length - this.#maxPending;
        this.#pending = this.#pending.slice(this.#pending.length - this.#maxPending);
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
    await syncDir(this.#dir);
    const rotated = await listRotated(this.#dir);
    for (const old of rotated.slice(0, Math.max(0, rotated.length - this.#keep))) await rm(join(this.#dir, old), { force: true });
  }
}

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
 * Write every call that reaches a final status to `writer`.
 * @return the unsubscribe function
 */
export function attachCdr(store: CallStore, writer: CdrWriter): () => void {
  return store.on((event) => {
    if (event.type === 'call.status' && FINAL_STATUSES.has(event.call.status)) writer.write(event.call);
  });
}
