/**
 * The ABI contract: each build exports what
 * runtime/wasm/abi.generated.ts declares and reports ABI_VERSION; the
 * generated file and the README's export table are current with assembly/
 * (scripts/gen-abi.mjs --check), and the runtime's readable side of the ABI
 * (error messages, header names) covers what assembly/ defines.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import ts from 'typescript';
import { dirname, join } from 'node:path';
import { FLAVOURS, ROOT } from '../../support/wasm.js';
import { compileModule, instantiate } from '../../../runtime/wasm/load.js';
import { ERRORS, HEADER_NAMES, HID } from '../../../runtime/wasm/abi.js';
import * as G from '../../../runtime/wasm/abi.generated.js';

const GEN = join(ROOT, 'scripts', 'gen-abi.mjs');
const GENERATED = 'runtime/wasm/abi.generated.ts';

/** Run the generator on a root; @return exit status and stderr. */
function gen(root: string, ...args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [GEN, ...args, '--root', root], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

/** A copy of what the generator reads and writes, in a temp dir. */
function copyRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-gen-abi-'));
  for (const rel of ['assembly', 'asconfig.json', 'README.md', GENERATED]) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    cpSync(join(ROOT, rel), join(dir, rel), { recursive: true });
  }
  return dir;
}

describe.each(FLAVOURS)('WASM exports (%s build)', (flavour) => {
  const mod = compileModule(flavour);

  it('exports exactly the functions abi.generated.ts declares', () => {
    const names = WebAssembly.Module.exports(mod).map((e) => e.name).sort();
    expect(names).toEqual([...G.WASM_EXPORTS].sort());
  });

  it('imports only env.abort', () => {
    expect(WebAssembly.Module.imports(mod).map((i) => `${i.module}.${i.name}`)).toEqual(['env.abort']);
  });

  it('reports the ABI version of assembly/abi.ts', () => {
    expect(instantiate(mod).abi_version()).toBe(G.ABI_VERSION);
  });
});

describe('the generated ABI files', () => {
  it('are current with assembly/ (npm run build rewrites them: commit them with the assembly/ change)', { timeout: 120_000 }, () => {
    const r = gen(ROOT, '--check');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('are reported stale when assembly/ changes without a rebuild, and current once the generator ran', { timeout: 240_000 }, () => {
    const dir = copyRoot();
    try {
      const abi = join(dir, 'assembly', 'abi.ts');
      writeFileSync(abi, readFileSync(abi, 'utf8').replace('export const M_HEADERS = 50;', '/** A new slot. */\nexport const M_NEW_SLOT = 50;\nexport const M_HEADERS = 51;'));
      const index = join(dir, 'assembly', 'index.ts');
      writeFileSync(index, `${readFileSync(index, 'utf8')}\n/**\n * Add two numbers.\n * @return the sum\n */\nexport function add_two(a: i32, b: u32): i32 {\n  return a + <i32>b;\n}\n`);
      const stale = gen(dir, '--check');
      expect(stale.status).toBe(1);
      expect(stale.stderr).toContain(`not current with assembly/: ${GENERATED}, README.md`);
      expect(gen(dir).status).toBe(0);
      const generated = readFileSync(join(dir, GENERATED), 'utf8');
      expect(generated).toContain('/** A new slot. */\nexport const M_NEW_SLOT = 50;');
      expect(generated).toMatch(/export const M = \{[^}]*\n {2}NEW_SLOT: 50,\n/);
      expect(generated).toContain('  /** Add two numbers. */\n  add_two(a: number, b: number): number;');
      expect(generated).toContain("'extract_refer_to', 'add_two'] as const;");
      expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain('| `add_two` | `a: i32`, `b: u32` | `i32`: the sum | Add two numbers. |');
      expect(gen(dir, '--check')).toEqual({ status: 0, stderr: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses what it cannot read with the file and line, and writes nothing', { timeout: 120_000 }, () => {
    const dir = copyRoot();
    try {
      const errors = join(dir, 'assembly', 'errors.ts');
      const text = readFileSync(errors, 'utf8');
      const line = text.split('\n').findIndex((l) => l.startsWith('export const E_VIA')) + 1;
      writeFileSync(errors, text.replace(/export const E_VIA: i32 = -18;/, 'export const E_VIA: i32 = lookup(18);'));
      const before = readFileSync(join(dir, GENERATED), 'utf8');
      expect(gen(dir)).toEqual({ status: 1, stderr: `gen-abi: assembly/errors.ts:${line}: cannot evaluate \`lookup(18)\` as a number\n` });
      expect(readFileSync(join(dir, GENERATED), 'utf8')).toBe(before);
      const index = join(dir, 'assembly', 'index.ts');
      writeFileSync(index, `${readFileSync(index, 'utf8')}\nexport function bad(s: string): i32 { return s.length; }\n`);
      writeFileSync(errors, text);
      expect(gen(dir).stderr).toMatch(/^gen-abi: assembly\/index\.ts:\d+: bad: parameter s type `string` is not a WASM number type\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Top-level numeric consts of a TypeScript file, `const X = 1` and `const [A, B] = [1, 2]` alike. */
function numericConsts(path: string): Map<string, number> {
  const file = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const num = (e: ts.Expression | undefined): number | undefined => {
    if (e && ts.isNumericLiteral(e)) return Number(e.text);
    if (e && ts.isPrefixUnaryExpression(e) && e.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(e.operand)) return -Number(e.operand.text);
    return undefined;
  };
  const found = new Map<string, number>();
  for (const st of file.statements) {
    if (!ts.isVariableStatement(st)) continue;
    for (const d of st.declarationList.declarations) {
      const init = d.initializer;
      if (ts.isIdentifier(d.name) && num(init) !== undefined) found.set(d.name.text, num(init)!);
      if (ts.isArrayBindingPattern(d.name) && init && ts.isArrayLiteralExpression(init)) {
        d.name.elements.forEach((el, i) => {
          const v = num(init.elements[i]);
          if (ts.isBindingElement(el) && ts.isIdentifier(el.name) && v !== undefined) found.set(el.name.text, v);
        });
      }
    }
  }
  return found;
}

describe('runtime/wasm/embed.ts (self-contained: it imports nothing, so it restates the numbers it reads)', () => {
  it('restates them as assembly/ has them', () => {
    const found = numericConsts(join(ROOT, 'runtime', 'wasm', 'embed.ts'));
    expect(found.size).toBeGreaterThan(20);
    const generated = G as unknown as Record<string, unknown>;
    for (const [name, value] of found) expect(generated[name], name).toBe(value);
  });
});

describe('the readable side of the ABI (runtime/wasm/abi.ts)', () => {
  it('describes every error code of assembly/errors.ts, in order', () => {
    expect(ERRORS.slice(1).map((e) => [e.name, e.code])).toEqual(G.ERROR_CODES.map((e) => [e.name, e.code]));
    expect(G.E_LAST).toBe(-(ERRORS.length - 1));
    for (const e of ERRORS) expect(e.message, e.name).not.toBe('');
  });

  it('has the header table of assembly/ in canonical case, and header ids that index it', () => {
    expect(HEADER_NAMES.map((n) => n.toLowerCase())).toEqual([...G.HEADER_NAMES]);
    for (const [key, id] of Object.entries(HID)) expect(HEADER_NAMES[id]?.toUpperCase().replace(/-/g, '_'), key).toBe(key);
  });
});
