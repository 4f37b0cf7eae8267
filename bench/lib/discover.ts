/**
 * Finds and loads the compiled bench suites: every `*.bench.js` file under `dist/bench/`.
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchModule, BenchSuite } from './types.js';

/** Suite files end with this, once compiled. */
const SUITE_SUFFIX = '.bench.js';

/**
 * Lists the suite files under a folder, recursively, in a stable order.
 * @param folder - absolute path to search
 * @returns absolute paths of the `*.bench.js` files
 */
export function findSuiteFiles(folder: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      files.push(...findSuiteFiles(path));
    } else if (entry.name.endsWith(SUITE_SUFFIX)) {
      files.push(path);
    }
  }
  return files.sort();
}

function isBenchModule(value: unknown): value is BenchModule {
  return typeof (value as Partial<BenchModule> | null)?.register === 'function';
}

/**
 * Imports every suite file and collects the suites they register.
 * @param folder - absolute path of the compiled `bench/` folder
 * @returns the suites, in file order
 */
export async function loadSuites(folder: string): Promise<BenchSuite[]> {
  const suites: BenchSuite[] = [];
  for (const file of findSuiteFiles(folder)) {
    const module: unknown = await import(pathToFileURL(file).href);
    if (!isBenchModule(module)) {
      throw new Error(`${relative(folder, file)} does not export register()`);
    }
    suites.push(...(await module.register()));
  }
  return suites;
}

/**
 * Keeps the suites whose name contains one of the filters (case-insensitive); all of them without filters.
 * @param suites - every registered suite
 * @param filters - substrings from the command line
 * @returns the selected suites
 */
export function selectSuites(suites: BenchSuite[], filters: string[]): BenchSuite[] {
  if (filters.length === 0) {
    return suites;
  }
  const wanted = filters.map((filter) => filter.toLowerCase());
  return suites.filter((suite) => wanted.some((filter) => suite.name.toLowerCase().includes(filter)));
}
