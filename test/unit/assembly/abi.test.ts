/**
 * The ABI contract (STYLE.md rule 11): each build exports what
 * runtime/wasm/exports.ts expects, reports ABI_VERSION, and the TypeScript
 * mirror (runtime/wasm/abi.ts) agrees with the AssemblyScript sources.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FLAVOURS, ROOT } from '../../support/wasm.js';
import { compileModule } from '../../../runtime/wasm/load.js';
import { ABI_VERSION, ERRORS, M, U, F, HEADER_NAMES, METHOD_NAMES, H_SIZE, UH_SIZE, MAX_URI_HEADERS } from '../../../runtime/wasm/abi.js';

const src = (rel: string): string => readFileSync(join(ROOT, 'assembly', rel), 'utf8');

/** `export const NAME: type = value` or `export const NAME = value` pairs of an AS file. */
function constants(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/export const (\w+)(?::\s*\w+)?\s*=\s*(-?\d+|1 << \d+)\s*;/g)) {
    const v = m[2]!.includes('<<') ? 1 << Number(m[2]!.split('<<')[1]) : Number(m[2]);
    out.set(m[1]!, v);
  }
  return out;
}

/** String literals of `export const NAME: string[] = [ ... ];`. */
function stringArray(text: string, name: string): string[] {
  const body = new RegExp(`export const ${name}: string\\[\\] = \\[([\\s\\S]*?)\\];`).exec(text)![1]!;
  return [...body.matchAll(/'([^']*)'/g)].map((m) => m[1]!);
}

const EXPORTS = [
  'memory', 'abi_version', 'in_ptr', 'in_cap', 'out_ptr', 'out_cap', 'set_limits', 'parse_message',
  'find_message_end', 'parse_batch', 'parse_uri', 'validate_sip_target', 'validate_header_value',
  'extract_refer_to',
];

describe.each(FLAVOURS)('WASM exports (%s build)', (flavour) => {
  const mod = compileModule(flavour);

  it('exports exactly the ABI functions', () => {
    const names = WebAssembly.Module.exports(mod).map((e) => e.name).sort();
    expect(names).toEqual([...EXPORTS].sort());
  });

  it('imports only env.abort', () => {
    expect(WebAssembly.Module.imports(mod).map((i) => `${i.module}.${i.name}`)).toEqual(['env.abort']);
  });
});

describe('TypeScript mirror of the ABI', () => {
  const abi = constants(src('abi.ts'));
  const errors = constants(src('errors.ts'));

  it('has the same ABI version', () => expect(abi.get('ABI_VERSION')).toBe(ABI_VERSION));

  it('has the same message record slots and flags', () => {
    for (const [key, slot] of Object.entries(M)) expect(abi.get(`M_${key}`), key).toBe(slot);
    for (const [key, bit] of Object.entries(F)) expect(abi.get(`F_${key}`), key).toBe(bit);
    expect(abi.get('H_SIZE')).toBe(H_SIZE);
  });

  it('has the same URI record slots', () => {
    for (const [key, slot] of Object.entries(U)) expect(abi.get(`U_${key}`), key).toBe(slot);
    expect(abi.get('UH_SIZE')).toBe(UH_SIZE);
    expect(abi.get('MAX_URI_HEADERS')).toBe(MAX_URI_HEADERS);
  });

  it('describes every error code, in order', () => {
    const codes = [...errors.entries()].filter(([n]) => n.startsWith('E_') && n !== 'E_LAST');
    expect(ERRORS.length - 1).toBe(codes.length);
    for (const [name, code] of codes) {
      expect(ERRORS[-code]?.name, name).toBe(name);
      expect(ERRORS[-code]?.code).toBe(code);
    }
    expect(errors.get('E_LAST')).toBe(-(ERRORS.length - 1));
  });

  it('has the same header and method tables', () => {
    expect(stringArray(src('parse/header-names.ts'), 'HEADER_NAMES')).toEqual(HEADER_NAMES.map((n) => n.toLowerCase()));
    expect(stringArray(src('parse/methods.ts'), 'METHOD_NAMES')).toEqual([...METHOD_NAMES]);
  });
});
