/**
 * The pool worker for tests that run from the TypeScript sources.
 *
 * piscina starts workers from a JavaScript file, and vitest's TypeScript
 * transform does not reach worker threads. So, once per test process, this
 * compiles runtime/pool/worker.ts and its imports (runtime/wasm/*, no
 * packages) with tsc into a temporary folder marked `"type": "module"`, and
 * hands that file to the pool as `workerUrl`. Unlike importing from dist/,
 * it always matches the sources, needs no prior build, and does not touch
 * what other processes are building.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './wasm.js';

let built: URL | undefined;

/** @return the URL of a freshly compiled `worker.js` (compiled once per process). */
export function poolWorkerUrl(): URL {
  if (built !== undefined) return built;
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-pool-worker-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [
    tsc, join(ROOT, 'runtime', 'pool', 'worker.ts'),
    '--outDir', dir, '--rootDir', join(ROOT, 'runtime'),
    '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022',
    '--lib', 'ES2022,DOM', '--types', 'node', '--skipLibCheck', '--noCheck',
  ], { cwd: ROOT, stdio: 'pipe' });
  built = pathToFileURL(join(dir, 'pool', 'worker.js'));
  return built;
}
