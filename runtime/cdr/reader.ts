/**
 * Reads the CDR files back at start-up so calls survive a restart: the
 * rotated `calls-<stamp>.jsonl` files oldest first, then `calls.jsonl`. The
 * last line of a SID is the call's latest state (writer.ts): a final status
 * makes it a completed call, any other an open one, a call the previous
 * process lost. Lines that do not parse (a line torn by a crash) or do not
 * look like a CallRecord are skipped and counted.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FINAL_STATUSES, type CallRecord, type CallStatus } from '../calls/record.js';
import { CDR_FILE, HEARTBEAT_FILE, listRotated } from './writer.js';

/** What was read. */
export interface CdrReadResult {
  /** Completed calls, oldest end first. */
  records: CallRecord[];
  /**
   * Calls whose last line is not final (started, maybe answered, never
   * ended): live when the previous process stopped without ending them.
   */
  open: CallRecord[];
  /** Lines skipped (torn or malformed). */
  skipped: number;
  /** Files read, oldest first. */
  files: string[];
  /**
   * The last moment the writer is known to have run, in epoch ms: the later
   * of its heartbeat and the newest time in the lines read (0 when nothing
   * was read).
   */
  lastAlive: number;
}

const DIRECTIONS = new Set(['inbound', 'outbound-api', 'outbound-dial']);
const STATUSES: ReadonlySet<string> = new Set<CallStatus>(['queued', 'initiated', 'ringing', 'in-progress', ...FINAL_STATUSES]);

/** @return the record if `value` looks like a CallRecord (any status). */
export function asCallRecord(value: unknown): CallRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const strings = ['sid', 'accountSid', 'from', 'to', 'direction', 'status'] as const;
  if (!strings.every((k) => typeof r[k] === 'string')) return undefined;
  if (!STATUSES.has(r.status as string) || !DIRECTIONS.has(r.direction as string)) return undefined;
  if (typeof r.dateCreated !== 'number' || typeof r.dateUpdated !== 'number') return undefined;
  return value as CallRecord;
}

/** The records of one file's lines, in file order. */
function parseLines(text: string): { records: CallRecord[]; skipped: number; completed: number } {
  const records: CallRecord[] = [];
  let skipped = 0;
  let completed = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      skipped++;
      continue;
    }
    const record = asCallRecord(parsed);
    if (!record) {
      skipped++;
      continue;
    }
    records.push(record);
    if (FINAL_STATUSES.has(record.status)) completed++;
  }
  return { records, skipped, completed };
}

/** @return the heartbeat's epoch ms, 0 when missing or unreadable. */
async function readHeartbeat(dir: string): Promise<number> {
  try {
    const value = Number((await readFile(join(dir, HEARTBEAT_FILE), 'latin1')).split('\n')[0]!.trim());
    return Number.isSafeInteger(value) && value > 0 ? value : 0;
  } catch {
    return 0;
  }
}

/**
 * Read the calls of `dir`.
 * @param limit - keep only the newest `limit` completed calls (default: all);
 *   older files are not read once enough are found (every open call has a
 *   line in calls.jsonl: the writer carries them over when it rotates)
 * @return completed and open calls; a missing directory reads as empty
 */
export async function readCdr(dir: string, limit = Infinity): Promise<CdrReadResult> {
  let rotated: string[];
  try {
    rotated = await listRotated(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], open: [], skipped: 0, files: [], lastAlive: 0 };
    throw e;
  }
  const files = [...rotated, CDR_FILE];
  const chunks: CallRecord[][] = [];
  const read: string[] = [];
  let total = 0;
  let skipped = 0;
  for (let i = files.length - 1; i >= 0 && total < limit; i--) {
    let text: string;
    try {
      text = await readFile(join(dir, files[i]!), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    const parsed = parseLines(text);
    skipped += parsed.skipped;
    chunks.unshift(parsed.records);
    read.unshift(files[i]!);
    total += parsed.completed;
  }
  // oldest line first, so the last line of a SID wins (and a SID moves to where its last line is)
  const latest = new Map<string, CallRecord>();
  let lastAlive = await readHeartbeat(dir);
  for (const chunk of chunks) {
    for (const record of chunk) {
      latest.delete(record.sid);
      latest.set(record.sid, record);
      lastAlive = Math.max(lastAlive, record.dateUpdated, record.endTime ?? 0);
    }
  }
  const records: CallRecord[] = [];
  const open: CallRecord[] = [];
  for (const record of latest.values()) (FINAL_STATUSES.has(record.status) ? records : open).push(record);
  return { records: records.length > limit ? records.slice(records.length - limit) : records, open, skipped, files: read, lastAlive };
}
