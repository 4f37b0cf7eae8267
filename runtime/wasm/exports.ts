import type { WasmExports } from './abi.generated.js';

/** The raw exports of the Patchbay WASM module (bindings "raw"), generated from assembly/index.ts. Browser-safe. */
export type ParserExports = WasmExports;

/** Import object every instance needs: AssemblyScript's abort becomes a thrown Error. */
export function wasmImports(): WebAssembly.Imports {
  return {
    env: {
      abort(_msg: number, _file: number, line: number, column: number): never {
        throw new Error(`patchbay wasm abort at ${line}:${column}`);
      },
    },
  };
}
