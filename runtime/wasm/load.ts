/**
 * Compile the WASM module once per process and instantiate it per thread.
 * Node-only: reads build/<flavour>.wasm from disk.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { ABI_VERSION } from './abi.js';
import { wasmImports, type ParserExports } from './exports.js';
import { WasmParser, type ParserLimits } from './parser.js';

/** Which build to load: release (optimised, SIMD) or debug (asserts). */
export type Flavour = 'release' | 'debug';

const modules = new Map<Flavour, WebAssembly.Module>();

/** @return the path of build/<flavour>.wasm, found from this file (works from runtime/ and dist/runtime/). */
export function wasmPath(flavour: Flavour): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'build', `${flavour}.wasm`);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`build/${flavour}.wasm not found: run "npm run asbuild" first`);
}

/** @return the compiled module (compiled once per process and flavour). */
export function compileModule(flavour: Flavour = 'release'): WebAssembly.Module {
  let mod = modules.get(flavour);
  if (!mod) {
    mod = new WebAssembly.Module(readFileSync(wasmPath(flavour)));
    modules.set(flavour, mod);
  }
  return mod;
}

/** Instantiate a module and check its ABI version. */
export function instantiate(mod: WebAssembly.Module): ParserExports {
  const instance = new WebAssembly.Instance(mod, wasmImports());
  const exports = instance.exports as unknown as ParserExports;
  const version = exports.abi_version();
  if (version !== ABI_VERSION) {
    throw new Error(`WASM ABI version ${version} does not match the runtime's ${ABI_VERSION}`);
  }
  return exports;
}

/** Options for createParser. */
export interface CreateParserOptions extends ParserLimits {
  flavour?: Flavour;
}

/** A ready inline parser on this thread (Node). */
export function createParser(options: CreateParserOptions = {}): WasmParser {
  const { flavour = 'release', ...limits } = options;
  return new WasmParser(instantiate(compileModule(flavour)), limits);
}
