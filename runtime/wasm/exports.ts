/** The raw exports of the Patchbay WASM module (bindings "raw"). Browser-safe. */
export interface ParserExports {
  readonly memory: WebAssembly.Memory;
  abi_version(): number;
  in_ptr(): number;
  in_cap(): number;
  out_ptr(): number;
  out_cap(): number;
  set_limits(messageBytes: number, headers: number, lineBytes: number): void;
  parse_message(len: number, isStream: number): number;
  find_message_end(len: number): number;
  parse_batch(count: number, totalBytes: number): number;
  parse_uri(start: number, len: number): number;
  validate_sip_target(len: number): number;
  validate_header_value(len: number): number;
  extract_refer_to(len: number): number;
}

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
