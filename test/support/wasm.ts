/** Test helpers: parsers per build flavour, corpus access. */
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createParser, type Flavour } from '../../runtime/wasm/load.js';
import type { WasmParser } from '../../runtime/wasm/parser.js';

/** Both builds: every assembly test runs against each (STYLE.md rule 11). */
export const FLAVOURS: Flavour[] = ['debug', 'release'];

const parsers = new Map<Flavour, WasmParser>();

/** A shared parser of the given flavour (one instance per test file). */
export function parserFor(flavour: Flavour): WasmParser {
  let p = parsers.get(flavour);
  if (!p) {
    p = createParser({ flavour });
    parsers.set(flavour, p);
  }
  return p;
}

/** Repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The public corpus (copied from shared/corpus). */
export const CORPUS = join(ROOT, 'test', 'fixtures', 'corpus');

/** Read a corpus file as bytes. */
export function corpusBytes(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(join(CORPUS, rel)));
}

/**
 * RFC 4475 §3.1.1.2 (`intmeth`) with the raw BEL, NUL and DEL octets of its
 * To display name's quoted-pairs replaced by the letters b, n and d (same
 * length, the quoted-pairs read `\b`, `\n`, `\d`): Patchbay refuses raw control octets in header fields (see
 * EXPECTED.tsv), and this keeps the rest of the message's unusual
 * characters under test.
 */
export function intmethWithoutControls(): Uint8Array {
  const bytes = corpusBytes('rfc4475/intmeth.dat');
  const swap: Record<number, number> = { 0x07: 0x62, 0x00: 0x6e, 0x7f: 0x64 };
  const end = bytes.indexOf(0x0a, bytes.indexOf(0x0a, bytes.indexOf(0x0a) + 1) + 1); // end of the To line
  return bytes.map((b, i) => (i < end && swap[b] !== undefined ? swap[b]! : b));
}

/** Rows of a TSV with a header line. */
export function readTsv(rel: string): Array<Record<string, string>> {
  const [head, ...rows] = readFileSync(join(CORPUS, rel), 'utf8').trim().split('\n');
  const cols = head!.split('\t');
  return rows.map((r) => Object.fromEntries(r.split('\t').map((v, i) => [cols[i], v])));
}

/** Names of the files in a corpus folder with the given extension. */
export function corpusFiles(dir: string, ext: string): string[] {
  return readdirSync(join(CORPUS, dir)).filter((f) => f.endsWith(ext)).sort();
}

/** ASCII/latin1 string to bytes, for hand-written messages. */
export function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
