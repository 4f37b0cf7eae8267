/**
 * Bench runner: `npm run bench [-- <filter>...]` (after `tsc -p tsconfig.build.json`).
 *
 * Imports every compiled `*.bench.js` beside this file, keeps the suites whose name contains one of
 * the filters, measures them one after the other, prints one table per suite and writes
 * `bench/results/latest.json`.
 *
 * - `BENCH_TIME_MS`: measured time per task (default 500); warmup is min(200, BENCH_TIME_MS) ms.
 * - `--list`: print the suite names and exit.
 */
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSuites, selectSuites } from './lib/discover.js';
import { findProjectRoot } from './lib/fixtures.js';
import { measureSuite, type MeasureOptions } from './lib/measure.js';
import { describeRun, formatSuite, writeResults } from './lib/report.js';
import type { SuiteResult } from './lib/types.js';

/** Default measured time per task, in milliseconds. */
const DEFAULT_TIME_MS = 500;

/** Samples shorter than this are batched; 10 µs keeps the ~50 ns timer cost near 0.5 %. */
const MIN_SAMPLE_NS = 10_000;

function readTimeMs(): number {
  const raw = process.env.BENCH_TIME_MS;
  if (raw === undefined || raw === '') {
    return DEFAULT_TIME_MS;
  }
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`BENCH_TIME_MS must be a positive number of milliseconds, got "${raw}"`);
  }
  return value;
}

async function main(args: string[]): Promise<void> {
  const list = args.includes('--list');
  const filters = args.filter((arg) => arg !== '--list');
  const suites = selectSuites(await loadSuites(dirname(fileURLToPath(import.meta.url))), filters);
  if (list || suites.length === 0) {
    const names = suites.map((suite) => suite.name).join('\n');
    console.log(suites.length === 0 ? `no suite matches: ${filters.join(' ')}` : names);
    process.exitCode = suites.length === 0 ? 1 : 0;
    return;
  }
  const timeMs = readTimeMs();
  const options: MeasureOptions = { timeMs, warmupMs: Math.min(200, timeMs), minSampleNs: MIN_SAMPLE_NS };
  const run = describeRun(timeMs, filters);
  console.log(`node ${run.node} · ${run.cpu} · ${run.os} · ${timeMs} ms per task\n`);
  const results: SuiteResult[] = [];
  for (const suite of suites) {
    const result = await measureSuite(suite, options);
    results.push(result);
    console.log(`${formatSuite(result)}\n`);
  }
  const root = findProjectRoot();
  const file = join(root, 'bench', 'results', 'latest.json');
  writeResults(file, run, results);
  console.log(`results written to ${relative(root, file)}`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
