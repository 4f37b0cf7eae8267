/**
 * Every fenced block of README.md is run by a test as written, or listed
 * here with the test that runs it: a new block without a test fails the
 * inventory below. This file runs the library snippets (TypeScript, plain
 * JavaScript: node with the package's own exports, `import … from
 * 'patchbay'`), `npm start -- --help`, the flags of the daemon examples and
 * the shape of the `patchbay parse` output; test/browser runs the embedding
 * page, test/e2e/readme.e2e.test.ts the TwiML, transfer and REST examples
 * with SIPp and the daemon.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readmeBlocks, readmeBlock, type ReadmeBlock } from '../../support/readme.js';
import { ROOT } from '../../support/wasm.js';
import { loadConfig } from '../../../runtime/config.js';

/** Where each block is run: [heading, a marker in its text, the test that runs it]. */
const INVENTORY: Array<[string, string, string]> = [
  ['Set-up on a fresh machine', 'apt-get install', 'not run by a test: system set-up, what .ci/run does on a clean clone'],
  ['Set-up on a fresh machine', 'npm test', 'npm start: test/e2e/npm-start.e2e.test.ts; npm test: the suite itself'],
  ['The daemon', 'npm start -- --help', 'here'],
  ['TwiML in five lines', 'createServer', 'test/e2e/readme.e2e.test.ts'],
  ['TwiML in five lines', 'node app.mjs', 'test/e2e/readme.e2e.test.ts'],
  ['Blind transfer: inbound SIP REFER', 'ReferTransferTarget', 'test/e2e/readme.e2e.test.ts'],
  ['Blind transfer: inbound SIP REFER', 'node refer-app.mjs', 'test/e2e/readme.e2e.test.ts'],
  ['The HTTP side: Calls API, events, metrics, CDR', "from 'twilio'", 'test/e2e/readme.e2e.test.ts (against the TwiML example\'s daemon)'],
  ['The HTTP side: Calls API, events, metrics, CDR', 'curl -u', 'test/e2e/readme.e2e.test.ts (against the TwiML example\'s daemon)'],
  ['The CLI', 'check-uri URI', 'here'],
  ['The CLI', '"valid": true', 'here'],
  ['From TypeScript', 'createParser', 'here'],
  ['From TypeScript', 'createPooledEngine', 'here'],
  ['Embedding (browsers, Deno, Workers)', 'instantiateParser', 'test/browser/embed.browser.test.ts'],
];

const BIN = join(ROOT, 'dist', 'runtime', 'cli.js');
const TMP = join(ROOT, 'test', '.tmp', 'readme');

/** An OPTIONS request: the `datagram` the TypeScript snippets parse. */
const OPTIONS_TEXT = 'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:c@d>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n';

/**
 * Run a library snippet in node as an ES module inside the repository (so
 * `'patchbay'` resolves to this package's exports). The only addition is a
 * preamble that defines the snippet's inputs, `datagram` and `datagrams`.
 */
function runSnippet(block: ReadmeBlock): { status: number | null; stdout: string; stderr: string } {
  mkdirSync(TMP, { recursive: true });
  const file = join(TMP, `readme-line-${block.line}.mjs`);
  const preamble = `const datagram = new TextEncoder().encode(${JSON.stringify(OPTIONS_TEXT)});\nconst datagrams = Array.from({ length: 64 }, () => datagram);\n`;
  writeFileSync(file, `${preamble}${block.text}`);
  return spawnSync(process.execPath, [file], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
}

describe('README.md snippets', () => {
  it('every fenced block is in the inventory of what runs it (and every entry still has its block)', () => {
    const blocks = readmeBlocks();
    const unlisted = blocks.filter((b) => !INVENTORY.some(([h, m]) => b.heading === h && b.text.includes(m)));
    expect(unlisted.map((b) => `README.md:${b.line} (${b.heading})`)).toEqual([]);
    for (const [heading, marker] of INVENTORY) expect(() => readmeBlock(heading, marker)).not.toThrow();
  });

  it('From TypeScript: the inline parser snippet runs as written against the package export', () => {
    const r = runSnippet(readmeBlock('From TypeScript', 'createParser'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('From TypeScript: the pool snippet runs as written, prints each method and exits', () => {
    const r = runSnippet(readmeBlock('From TypeScript', 'createPooledEngine'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('OPTIONS\n'.repeat(64));
  });

  it("import 'patchbay' and 'patchbay/embed' resolve through package.json exports", () => {
    mkdirSync(TMP, { recursive: true });
    const file = join(TMP, 'exports.mjs');
    writeFileSync(file, "import * as p from 'patchbay';\nimport * as e from 'patchbay/embed';\nconsole.log(Object.keys(p).sort().join(','), typeof e.instantiateParser);\n");
    const r = spawnSync(process.execPath, [file], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/\bcreateInlineEngine\b.*\bcreateParser\b.*\bcreatePooledEngine\b.*\bvalidateSipTarget\b.* function\n$/);
  });

  it('The daemon: npm start -- --help prints the options; the example flags are valid', () => {
    const block = readmeBlock('The daemon', 'npm start -- --help');
    const commands = block.text.split('\n').map((l) => l.replace(/#.*$/, '').trim()).filter(Boolean);
    expect(commands[0]).toBe('npm start');
    const help = spawnSync('npm', ['start', '--silent', '--', '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--route VALUE');
    expect(help.stdout).toContain('PATCHBAY_LISTEN');
    // binding 0.0.0.0:5060 is not for a test: the line's flags are checked as the daemon reads them
    const serve = commands.find((c) => c.includes('--route'))!;
    const c = loadConfig(serve.replace(/^npm start -- /, '').split(/\s+/), {});
    expect(c.route).toBe('sip:alice@192.0.2.10:5060');
    expect(c.sip.listen).toEqual([{ transport: 'udp', host: '0.0.0.0', port: 5060 }, { transport: 'tcp', host: '0.0.0.0', port: 5060 }]);
  });

  it('The CLI: the two synopsis lines are commands the binary names in its usage', () => {
    const usage = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8', timeout: 20_000 }).stdout;
    for (const line of readmeBlock('The CLI', 'check-uri URI').text.split('\n').filter(Boolean)) {
      expect(usage).toContain(line.replace(/#.*$/, '').trim());
    }
  });

  it('The CLI: the documented patchbay parse output has the keys the binary prints', () => {
    const documented = JSON.parse(readmeBlock('The CLI', '"valid": true').text) as Record<string, unknown>;
    const refer = OPTIONS_TEXT.replace(/OPTIONS/g, 'REFER').replace('Content-Length', 'Refer-To: <sip:b@example.com>\r\nContent-Length');
    const r = spawnSync(process.execPath, [BIN, 'parse', '-'], { input: refer, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(0);
    const actual = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(documented).filter((k) => !(k in actual))).toEqual([]);
    expect(Object.keys(documented.referTo as object).filter((k) => !(k in (actual.referTo as object)))).toEqual([]);
  });
});
