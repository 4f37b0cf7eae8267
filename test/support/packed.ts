/**
 * The package as a user gets it: `npm pack` of this checkout (its build
 * outputs as they are, so `npm run build` first), installed into a scratch
 * project in a temp dir by `npm install <tarball>`. Tests then import
 * `patchbay` by its name from there, with node or a browser.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './wasm.js';

const run = promisify(execFile);

/** A scratch project with the packed tarball installed. */
export interface PackedProject {
  /** The scratch project's directory (holds package.json and node_modules/patchbay). */
  readonly dir: string;
  /** The tarball `npm pack` wrote. */
  readonly tarball: string;
  /** Paths inside the tarball, as `npm pack` listed them. */
  readonly files: readonly string[];
  /** Resolve a specifier (`patchbay`, `patchbay/embed`) from the scratch project, as node does. */
  resolve(specifier: string): string;
  /** Run `node <script>` (an ES module written into the scratch project); resolves with its stdout. */
  node(name: string, script: string): Promise<string>;
  /** Remove the temp dir. */
  cleanup(): void;
}

/** The environment of the npm commands: without the npm_* variables of an enclosing `npm test`. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return env;
}

/** Build outputs the tarball must carry; missing ones mean `npm run build` was not run. */
const BUILT = ['dist/runtime/index.js', 'dist/runtime/index.d.ts', 'dist/runtime/wasm/embed.js', 'build/release.wasm'];

/** Pack this checkout (scripts skipped: the build is the caller's) and install the tarball into a new scratch project. */
export async function installPacked(): Promise<PackedProject> {
  for (const f of BUILT) if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run \`npm run build\` first`);
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-packed-'));
  const env = cleanEnv();
  try {
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, env, maxBuffer: 64 << 20 });
    const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    if (!info) throw new Error(`npm pack printed no tarball: ${packed.stdout}`);
    const tarball = join(dir, info.filename);
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'scratch', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`);
    await run('npm', ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, env, maxBuffer: 64 << 20 });
    const req = createRequire(join(dir, 'package.json'));
    return {
      dir,
      tarball,
      files: info.files.map((f) => f.path),
      resolve: (specifier) => req.resolve(specifier),
      node: async (name, script) => {
        writeFileSync(join(dir, name), script);
        return (await run(process.execPath, [name], { cwd: dir, env, maxBuffer: 64 << 20 })).stdout;
      },
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
