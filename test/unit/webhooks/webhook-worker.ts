/**
 * The webhook worker for tests that run from the TypeScript sources.
 *
 * Worker threads start from JavaScript and vitest's TypeScript transform
 * does not reach them. So, once per test process, this compiles
 * runtime/webhooks/worker-main.ts and client.ts with their imports (local
 * files only, no packages) into a temporary folder marked
 * `"type": "module"`, the way test/support/pool-worker.ts does for the
 * parser pool. `webhookWorkerUrl()` is handed to the client as `workerUrl`;
 * `compiledClientUrl()` is the compiled client, for child processes that
 * check what keeps the process alive.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../../support/wasm.js';

let built: string | undefined;

/** Compile once per process; @return the folder holding `webhooks/*.js`. */
function build(): string {
  if (built !== undefined) return built;
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-webhook-worker-'));
  process.once('exit', removeWebhookWorker);
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const source = join(ROOT, 'runtime', 'webhooks');
  execFileSync(process.execPath, [
    tsc, join(source, 'worker-main.ts'), join(source, 'client.ts'),
    '--outDir', dir, '--rootDir', join(ROOT, 'runtime'),
    '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022',
    '--lib', 'ES2022,DOM', '--types', 'node', '--skipLibCheck', '--noCheck',
  ], { cwd: ROOT, stdio: 'pipe' });
  built = dir;
  return dir;
}

/** @return the URL of a freshly compiled `worker-main.js`. */
export function webhookWorkerUrl(): URL {
  return pathToFileURL(join(build(), 'webhooks', 'worker-main.js'));
}

/** @return the URL of the compiled `client.js` (its default worker is the compiled one next to it). */
export function compiledClientUrl(): URL {
  return pathToFileURL(join(build(), 'webhooks', 'client.js'));
}

/** Remove the compiled files (also done when the process exits). */
export function removeWebhookWorker(): void {
  if (built === undefined) return;
  rmSync(built, { recursive: true, force: true });
  built = undefined;
}
