/**
 * The fenced code blocks of README.md, for the tests that run them as
 * written (test/unit/readme, test/browser, test/e2e/readme.e2e.test.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './wasm.js';

/** One fenced block. */
export interface ReadmeBlock {
  /** The info string after the fence (sh, js, ts, html, json). */
  lang: string;
  /** The nearest heading above it. */
  heading: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The block's text, with a final newline. */
  text: string;
}

/** Every fenced block of README.md, in order. */
export function readmeBlocks(): ReadmeBlock[] {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n');
  const blocks: ReadmeBlock[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^#{1,6} /.test(line)) heading = line.replace(/^#+ /, '');
    const open = /^```(\S*)\s*$/.exec(line);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    blocks.push({ lang: open[1]!, heading, line: start + 1, text: `${body.join('\n')}\n` });
  }
  return blocks;
}

/** The one block under `heading` (exact) whose text contains `marker`. */
export function readmeBlock(heading: string, marker: string): ReadmeBlock {
  const found = readmeBlocks().filter((b) => b.heading === heading && b.text.includes(marker));
  if (found.length !== 1) throw new Error(`README.md: ${found.length} blocks under "${heading}" contain ${JSON.stringify(marker)}`);
  return found[0]!;
}
