/**
 * Reads the CDR files back at start-up so completed calls survive a restart:
 * the rotated `calls-<stamp>.jsonl` files oldest first, then `calls.jsonl`.
 * Lines that do not parse (a line torn by a crash) or do not look like a
 * completed CallRecord are skipped and counted.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FINAL_STATUSES, type CallRecord, type CallStatus } from '../calls/record.js';
import { CDR_FILE, listRotated } from './writer.js';

/** What was read. */
export interface CdrReadResult {
  /** Completed calls, oldest first. */
  records: CallRecord[];
  /** Lines skipped (torn or malformed). */
  skipped: number;
  /** Files read, oldest first. */
  files: string[];
}

const DIRECTIONS = new Set(['inbound', 'outbound-api', 'outbound-dial']);

/** @return the record if `value` looks like a completed CallRecord. */
export function asCompletedRecord(value: unknown): CallRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const strings = ['sid', 'accountSid', 'from', 'to', 'direction', 'status'] as const;
  if (!strings.every((k) => typeof r[k] === 'string')) return undefined;
  if (!FINAL_STATUSES.has(r.status as CallStatus) || !DIRECTIONS.has(r.direction as string)) return undefined;
  if (typeof r.dateCreated !== 'number' || typeof r.dateUpdated !== 'number') return undefined;
  return value as CallRecord;
}

function parseLines(text: string, into: CallRecord[]): number {
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      skipped++;
      continue;
    }
    const record = asCompletedRecord(parsed);
    if (record) into.push(record);
    else skipped++;
  }
  return skipped;
}

/**
 * Read completed calls from `dir`.
 * @param limit - keep only the newest `limit` records (default: all); older
 *   files are not read once enough records are found
 * @return the records oldest first; a missing directory reads as empty
 */
export async function readCdr(dir: string, limit = Infinity): Promise<CdrReadResult> {
  let rotated: string[];
  try {
    rotated = await listRotated(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], skipped: 0, files: [] };
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
    const records: CallRecord[] = [];
    skipped += parseLines(text, records);
    chunks.unshift(records);
    read.unshift(files[i]!);
    total += records.length;
  }
  const records = chunks.flat();
  return { records: records.length > limit ? records.slice(records.length - limit) : records, skipped, files: read };
}
