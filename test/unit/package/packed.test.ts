/**
 * `import('patchbay')` from a project that installed the packed tarball, the
 * way a user embeds Patchbay: `npm pack`, `npm install <tgz>` into a scratch
 * project, then node imports `patchbay` and `patchbay/embed` by name and
 * parses a message, checks `<Sip>` targets and starts the daemon.
 * Needs `npm run build` first (the tarball carries its outputs).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installPacked, type PackedProject } from '../../support/packed.js';
import { ROOT } from '../../support/wasm.js';
import { ABI_VERSION } from '../../../runtime/wasm/abi.js';

const INVITE = [
  'INVITE sip:bob@biloxi.com SIP/2.0',
  'Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@biloxi.com>',
  'From: Alice <sip:alice@atlanta.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.atlanta.com',
  'CSeq: 314159 INVITE',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

/** Runs in the scratch project with plain node: bare specifiers only, as a user writes them. */
const USE = `
import * as patchbay from 'patchbay';
import { instantiateParser } from 'patchbay/embed';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const INVITE = ${JSON.stringify(INVITE)};
const bytes = new TextEncoder().encode(INVITE);
const parser = patchbay.createParser();
// the view reads the parser's record in place: read it before the parser is used again
const view = parser.parse(bytes);
const viewRead = { isView: view instanceof patchbay.MessageView, ok: view.ok, method: view.method, requestUri: view.requestUri, callId: view.callId, fromTag: view.fromTag, cseq: view.cseqNumber };
const good = patchbay.validateSipTarget(parser, 'sip:alice@example.com;transport=tls?x-room=7');
const bad = patchbay.validateSipTarget(parser, 'sip:alice@example.com?X-Twilio-Foo=1');
const check = patchbay.sipUriChecker(parser);

// patchbay/embed with the module the package ships (found from the package, not from this checkout)
const wasm = readFileSync(createRequire(import.meta.url).resolve('patchbay/package.json').replace(/package\\.json$/, 'build/release.wasm'));
const embedded = await instantiateParser(wasm);
const parsed = embedded.parse(bytes);

// the daemon: SIP on an ephemeral loopback UDP port, then closed
const config = patchbay.defaultConfig();
config.sip.listen = [{ transport: 'udp', host: '127.0.0.1', port: 0 }];
const lines = [];
const daemon = await patchbay.startDaemon(config, patchbay.createLogger('warn', 'scratch', (l) => lines.push(l)));
const endpoints = daemon.endpoints;
const stats = daemon.stats();
daemon.close();

console.log(JSON.stringify({
  exports: Object.keys(patchbay).sort(),
  view: viewRead,
  good, bad: { ok: bad.ok, code: bad.error?.code, twilioCode: bad.error?.twilioCode },
  checker: [check('sip:bob@example.com'), check('sip:bob@example.com?X-Twilio-Foo=1').ok],
  embed: { abiVersion: embedded.abiVersion, ok: parsed.ok, method: parsed.method, requestUri: parsed.requestUri, headers: parsed.headers.length },
  daemon: { endpoints, calls: stats.calls },
}));
`;

interface UseResult {
  exports: string[];
  view: { isView: boolean; ok: boolean; method: string; requestUri: string; callId: string; fromTag: string; cseq: number };
  good: { ok: boolean; uri: string; transport: string; effectivePort: number; headers: Array<{ name: string; value: string }> };
  bad: { ok: boolean; code: number; twilioCode: number };
  checker: [{ ok: boolean }, boolean];
  embed: { abiVersion: number; ok: boolean; method: string; requestUri: string; headers: number };
  daemon: { endpoints: Array<{ transport: string; host: string; port: number }>; calls: number };
}

describe('the packed package, installed into a scratch project', () => {
  let project: PackedProject | undefined;
  let result: UseResult | undefined;

  beforeAll(async () => {
    project = await installPacked();
    result = JSON.parse(await project.node('use.mjs', USE)) as UseResult;
  }, 240_000);

  afterAll(() => project?.cleanup());

  it('ships the compiled runtime, its type declarations and both WASM builds, and no sources or tests', () => {
    const files = project!.files;
    for (const f of ['dist/runtime/index.js', 'dist/runtime/index.d.ts', 'dist/runtime/wasm/embed.js', 'dist/runtime/wasm/embed.d.ts', 'dist/runtime/cli.js', 'dist/runtime/pool/worker.js', 'build/release.wasm', 'build/debug.wasm', 'package.json', 'README.md', 'LICENSE']) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => !/^(dist\/runtime\/|build\/[a-z]+\.wasm$|package\.json$|README\.md$|LICENSE$)/.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.map') || f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('resolves patchbay and patchbay/embed to the installed package, per its exports', () => {
    expect(project!.resolve('patchbay')).toBe(join(project!.dir, 'node_modules/patchbay/dist/runtime/index.js'));
    expect(project!.resolve('patchbay/embed')).toBe(join(project!.dir, 'node_modules/patchbay/dist/runtime/wasm/embed.js'));
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main: string; types: string };
    expect(readFileSync(join(project!.dir, 'node_modules/patchbay', pkg.types), 'utf8')).toMatch(/export \{ startDaemon/);
  });

  it('exports the parser, MessageView, the <Sip> target checks and startDaemon', () => {
    expect(result!.exports).toEqual(expect.arrayContaining([
      'createParser', 'WasmParser', 'MessageView', 'validateSipTarget', 'validateHeaderValue', 'sipUriChecker',
      'startDaemon', 'defaultConfig', 'loadConfig', 'createLogger', 'createInlineEngine', 'createPooledEngine', 'readSipUri',
    ]));
  });

  it('parses a message into a MessageView', () => {
    expect(result!.view).toEqual({
      isView: true, ok: true, method: 'INVITE', requestUri: 'sip:bob@biloxi.com',
      callId: 'a84b4c76e66710@pc33.atlanta.com', fromTag: '1928301774', cseq: 314159,
    });
  });

  it('checks <Sip> targets by Twilio\'s rules', () => {
    expect(result!.good).toMatchObject({ ok: true, uri: 'sip:alice@example.com;transport=tls', transport: 'tls', effectivePort: 5061, headers: [{ name: 'x-room', value: '7' }] });
    expect(result!.bad).toEqual({ ok: false, code: -24, twilioCode: 32113 });
    expect(result!.checker).toEqual([{ ok: true }, false]);
  });

  it('parses with patchbay/embed and the WASM module the package ships', () => {
    expect(result!.embed).toEqual({ abiVersion: ABI_VERSION, ok: true, method: 'INVITE', requestUri: 'sip:bob@biloxi.com', headers: 7 });
  });

  it('starts the daemon on a loopback port and closes it', () => {
    expect(result!.daemon.calls).toBe(0);
    expect(result!.daemon.endpoints).toHaveLength(1);
    expect(result!.daemon.endpoints[0]).toMatchObject({ transport: 'udp', host: '127.0.0.1' });
    expect(result!.daemon.endpoints[0]!.port).toBeGreaterThan(0);
  });
});
