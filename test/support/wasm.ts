/** Test helpers: parsers per build flavour, corpus access. */
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createParser, type Flavour } from '../../runtime/wasm/load.js';
import type { WasmParser } from '../../runtime/wasm/parser.js';

/** Both builds: every assembly test runs against each. */
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
