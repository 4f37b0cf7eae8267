/**
 * The lint's import zones (scripts/import-zones.mjs, wired in eslint.config.js):
 * a lower layer of runtime/ importing a higher one fails `npm run lint`, with
 * the rule named in the output. Runs ESLint's API with the project's own
 * config on fixtures, each linted as if it were a file at a path in runtime/.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../support/wasm.js';

const FIXTURES = join(ROOT, 'test', 'unit', 'lint', 'fixtures');
const RULE = 'patchbay/import-zones';

let eslint: ESLint;

/** Lint a fixture's text as the file `asPath` (relative to the repository root). */
async function lint(fixture: string, asPath: string): Promise<ESLint.LintResult> {
  const [result] = await eslint.lintText(readFileSync(join(FIXTURES, fixture), 'utf8'), { filePath: join(ROOT, asPath) });
  return result!;
}

/** [line, message] of each problem the rule reported. */
const zoneErrors = (r: ESLint.LintResult): Array<[number, string]> =>
  r.messages.filter((m) => m.ruleId === RULE).map((m) => [m.line, m.message]);

beforeAll(() => {
  eslint = new ESLint({ cwd: ROOT });
});

describe('import zones of runtime/', () => {
  it('fail the lint when the transport layer imports the call layer, naming the rule', async () => {
    const r = await lint('transport-imports-calls.ts.txt', 'runtime/transport/upward.ts');
    expect(r.errorCount).toBe(1);
    const [problem] = r.messages;
    expect(problem).toMatchObject({ ruleId: RULE, severity: 2, line: 2 });
    expect(problem!.message).toMatch(/^runtime\/transport \(layer 2\) may not import runtime\/calls \(layer 7\): imports point down only, wasm, log, config < pool, sip < transport < /);
    // what `npm run lint` prints: the file, the line, the message and the rule
    const printed = (await eslint.loadFormatter('stylish')).format([r]) as string;
    expect(printed).toContain('runtime/transport/upward.ts');
    expect(printed).toMatch(/2:1 +error +runtime\/transport \(layer 2\) may not import runtime\/calls .* patchbay\/import-zones/);
  });

  it('catch every form of module reference: import, export from, export *, import() types, dynamic import() and import = require()', async () => {
    const r = await lint('every-form.ts.txt', 'runtime/dialog/forms.ts');
    expect(zoneErrors(r).map(([line, m]) => [line, m.split(':')[0]])).toEqual([
      [2, 'runtime/dialog (layer 5) may not import runtime/calls (layer 7)'],
      [3, 'runtime/dialog (layer 5) may not import runtime/daemon (layer 8)'],
      [4, 'runtime/dialog (layer 5) may not import runtime/http (layer 10)'],
      [5, 'runtime/dialog (layer 5) may not import runtime/webhooks (layer 6)'],
      [6, 'runtime/dialog (layer 5) may not import runtime/cli (layer 11)'],
      [8, 'runtime/dialog (layer 5) may not import runtime/metrics (layer 9)'],
    ]);
  });

  it('let a layer import the layers below it and its own zone', async () => {
    const r = await lint('allowed.ts.txt', 'runtime/calls/allowed.ts');
    expect(r.messages).toEqual([]);
  });

  it('keep the zones of one layer independent: media may not import twiml', async () => {
    const [r] = await eslint.lintText("import { parseTwiml } from '../twiml/parse.js';\nexport const p = parseTwiml;\n", { filePath: join(ROOT, 'runtime/media/player.ts') });
    expect(zoneErrors(r!)).toEqual([[1, expect.stringMatching(/^runtime\/media may not import runtime\/twiml: they are independent zones of layer 6/)]]);
  });

  it('refuse a folder that is in no layer, imports of assembly/ sources, and of test/ or bench/', async () => {
    const [unplaced] = await eslint.lintText('export const x = 1;\n', { filePath: join(ROOT, 'runtime/relay/x.ts') });
    expect(zoneErrors(unplaced!)).toEqual([[1, 'runtime/relay is in no layer: give it its place in LAYERS of scripts/import-zones.mjs']]);
    const [into] = await eslint.lintText("import { y } from '../relay/y.js';\nexport const x = y;\n", { filePath: join(ROOT, 'runtime/calls/x.ts') });
    expect(zoneErrors(into!)).toEqual([[1, 'runtime/relay is in no layer: give it its place in LAYERS of scripts/import-zones.mjs']]);
    const [as] = await eslint.lintText("import { M_STATUS } from '../../assembly/abi';\nimport { waitUntil } from '../../test/support/wait.js';\nexport const x = [M_STATUS, waitUntil];\n", { filePath: join(ROOT, 'runtime/wasm/x.ts') });
    expect(zoneErrors(as!).map(([line, m]) => [line, m.split(':')[0]])).toEqual([
      [1, 'runtime/wasm may not import assembly/ sources'],
      [2, 'runtime/wasm may not import test/'],
    ]);
  });

  it('are the layers the README lists', async () => {
    const r = await lint('transport-imports-calls.ts.txt', 'runtime/transport/upward.ts');
    const order = r.messages[0]!.message.split('imports point down only, ')[1]!;
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8').replace(/\s+/g, ' ');
    expect(readme).toContain(`imports point down only, \`${order}\``);
  });

  it('pass on the repository as it is', { timeout: 120_000 }, async () => {
    const results = await eslint.lintFiles(['runtime']);
    expect(results.flatMap((r) => r.messages.filter((m) => m.ruleId === RULE).map((m) => `${r.filePath}:${m.line} ${m.message}`))).toEqual([]);
    expect(results.length).toBeGreaterThan(100);
  });
});
