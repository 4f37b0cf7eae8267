/**
 * Headless-browser embedding test: a real Chromium imports the compiled,
 * dependency-free wrapper `dist/runtime/wasm/embed.js`, fetches
 * `build/release.wasm` (served as application/wasm) and parses SIP messages;
 * then, as a user would, `patchbay/embed` by name (an import map) from a
 * scratch project that installed the `npm pack` tarball (test/support/packed.ts).
 *
 * Needs `npm run build` first (npm ci runs it via `prepare`) and Chromium at
 * /usr/bin/chromium (`apt-get install -y chromium`). Skipped when Chromium is
 * missing, unless CI=true: in CI a missing browser is a failure.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeBlock } from '../support/readme.js';
import { installPacked, type PackedProject } from '../support/packed.js';
import { ABI_VERSION } from '../../runtime/wasm/abi.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const EMBED_TS = join(ROOT, 'runtime/wasm/embed.ts');
const EMBED_JS = join(ROOT, 'dist/runtime/wasm/embed.js');
const WASM = join(ROOT, 'build/release.wasm');

const hasChromium = existsSync(CHROMIUM);
const skip = !hasChromium && process.env.CI !== 'true';

const SDP = 'v=0\r\no=alice 2890844526 2890844526 IN IP4 pc33.atlanta.com\r\ns=-\r\n' +
  'c=IN IP4 192.0.2.101\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
const INVITE = [
  'INVITE sip:bob@biloxi.com SIP/2.0',
  'Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@biloxi.com>',
  'From: Alice <sip:alice@atlanta.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.atlanta.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@pc33.atlanta.com>',
  'Content-Type: application/sdp',
  `Content-Length: ${SDP.length}`,
  '',
  SDP,
].join('\r\n');
const RESPONSE = [
  'SIP/2.0 180 Ringing',
  'Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds;received=192.0.2.1',
  'To: Bob <sip:bob@biloxi.com>;tag=a6c85cf',
  'From: Alice <sip:alice@atlanta.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.atlanta.com',
  'CSeq: 314159 INVITE',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');
/** A header line without a colon: E_HEADER_SYNTAX (-7) at that line. */
const BAD_LINE = 'This line has no colon';
const BAD_HEADER = INVITE.replace('Max-Forwards: 70', `Max-Forwards: 70\r\n${BAD_LINE}`);
/** A BEL escaped by a quoted-pair in the To display name: valid (RFC 3261 §25.1), flagged. */
const ESCAPED_BEL = INVITE.replace('To: Bob <', 'To: "Bob \\\x07" <');
/** SIP/3.0: E_VERSION (-3). */
const BAD_VERSION = INVITE.replace('INVITE sip:bob@biloxi.com SIP/2.0', 'INVITE sip:bob@biloxi.com SIP/3.0');

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>patchbay embed test</title>
<link rel="icon" href="data:,">
<script type="module">
const messages = ${JSON.stringify({ INVITE, RESPONSE, BAD_HEADER, BAD_VERSION, ESCAPED_BEL })};
const result = {};
try {
  // Infra check, independent of the wrapper: instantiateStreaming only
  // accepts a response served as application/wasm.
  const raw = await WebAssembly.instantiateStreaming(fetch('/build/release.wasm'), { env: { abort() {} } });
  result.infra = { abiVersion: raw.instance.exports.abi_version(), exports: Object.keys(raw.instance.exports) };
  const { instantiateParser } = await import('/dist/runtime/wasm/embed.js');
  const parser = await instantiateParser(await fetch('/build/release.wasm'));
  const enc = new TextEncoder();
  result.abiVersion = parser.abiVersion;
  result.fromPromise = (await instantiateParser(fetch('/build/release.wasm'))).abiVersion;
  result.parsed = {};
  for (const [name, text] of Object.entries(messages)) result.parsed[name] = parser.parse(enc.encode(text));
} catch (e) {
  result.error = String(e && e.stack || e);
}
window.__result = result;
</script>
`;

const ROUTES: Record<string, { file?: string; body?: string; type: string }> = {
  '/': { body: PAGE, type: 'text/html; charset=utf-8' },
  '/dist/runtime/wasm/embed.js': { file: EMBED_JS, type: 'text/javascript; charset=utf-8' },
  '/build/release.wasm': { file: WASM, type: 'application/wasm' },
};

interface Parsed {
  ok: boolean;
  status: number;
  errorOffset: number;
  kind?: string;
  method?: string;
  requestUri?: string;
  statusCode?: number;
  reason?: string;
  headers: Array<{ name: string; value: string }>;
  bodyLength: number;
  escapedControlOffset: number;
}
interface PageResult {
  infra?: { abiVersion: number; exports: string[] };
  abiVersion?: number;
  fromPromise?: number;
  parsed?: Record<string, Parsed>;
  error?: string;
}

/** Fails early when the build outputs are missing; warns when they are older than their sources. */
function checkBuilt(): void {
  const newest = (dir: string): number => Math.max(0, ...readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => statSync(join(dir, f)).mtimeMs));
  for (const [out, srcTime] of [[EMBED_JS, statSync(EMBED_TS).mtimeMs], [WASM, newest(join(ROOT, 'assembly'))]] as const) {
    if (!existsSync(out)) throw new Error(`${out} is missing: run \`npm run build\``);
    if (statSync(out).mtimeMs < srcTime) console.warn(`${out} is older than its sources: run \`npm run build\``);
  }
}

describe.skipIf(skip)('embedding in a headless browser (Chromium)', () => {
  let server: Server | undefined;
  let browser: Browser | undefined;
  let result: PageResult = {};
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!hasChromium) throw new Error(`CI=true but ${CHROMIUM} is missing: apt-get install -y chromium`);
    checkBuilt();
    server = createServer((req, res) => {
      const route = ROUTES[new URL(req.url ?? '/', 'http://x').pathname];
      if (!route) return void res.writeHead(404).end();
      const body = route.body ?? readFileSync(route.file ?? '');
      res.writeHead(200, { 'content-type': route.type, 'cache-control': 'no-store' }).end(body);
    });
    await new Promise<void>((ok, fail) => server?.once('error', fail).listen(0, '127.0.0.1', ok));
    const { port } = server.address() as AddressInfo;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => '__result' in window, undefined, { timeout: 30_000 });
    result = await page.evaluate(() => (window as unknown as { __result: PageResult }).__result);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((done) => (server ? server.close(done) : done(undefined)));
  });

  it('serves the wasm as application/wasm and runs it in the page', () => {
    expect(pageErrors, pageErrors.join('\n')).toEqual([]);
    expect(result.infra?.abiVersion).toBe(ABI_VERSION);
    expect(result.infra?.exports).toContain('memory');
  });

  it('imports embed.js in the browser and instantiates the parser', () => {
    expect(result.error).toBeUndefined();
    expect(result.abiVersion).toBe(ABI_VERSION);
  });

  it('instantiates from the promise fetch() returns, as WebAssembly.instantiateStreaming does', () => {
    expect(result.error).toBeUndefined();
    expect(result.fromPromise).toBe(result.abiVersion);
    expect(result.fromPromise).toBe(ABI_VERSION);
  });

  it('parses an INVITE', () => {
    const invite = result.parsed?.INVITE;
    expect(invite).toMatchObject({ ok: true, status: 0, kind: 'request', method: 'INVITE' });
    expect(invite?.requestUri).toBe('sip:bob@biloxi.com');
    const header = (name: string): string | undefined => invite?.headers.find((h) => h.name === name)?.value;
    expect(header('Call-ID')).toBe('a84b4c76e66710@pc33.atlanta.com');
    expect(header('From')).toBe('Alice <sip:alice@atlanta.com>;tag=1928301774');
    expect(header('CSeq')).toBe('314159 INVITE');
    expect(invite?.headers.map((h) => h.name)).toEqual([
      'Via', 'Max-Forwards', 'To', 'From', 'Call-ID', 'CSeq', 'Contact', 'Content-Type', 'Content-Length',
    ]);
    expect(invite?.bodyLength).toBe(SDP.length);
    expect(invite?.escapedControlOffset).toBe(-1);
  });

  it('parses a control character escaped by a quoted-pair, and says where it is', () => {
    const escaped = result.parsed?.ESCAPED_BEL;
    expect(escaped).toMatchObject({ ok: true, status: 0, kind: 'request', escapedControlOffset: ESCAPED_BEL.indexOf('\x07') });
    expect(escaped?.headers.find((h) => h.name === 'To')?.value).toBe('"Bob \\\x07" <sip:bob@biloxi.com>');
  });

  it('parses a response', () => {
    expect(result.parsed?.RESPONSE).toMatchObject({
      ok: true, status: 0, kind: 'response', statusCode: 180, reason: 'Ringing', bodyLength: 0,
    });
  });

  it('reports the error status and offset of bad messages', () => {
    const badHeader = result.parsed?.BAD_HEADER;
    expect(badHeader).toMatchObject({ ok: false, status: -7, kind: undefined, headers: [] });
    const lineStart = BAD_HEADER.indexOf(BAD_LINE);
    expect(badHeader?.errorOffset).toBeGreaterThanOrEqual(lineStart);
    expect(badHeader?.errorOffset).toBeLessThanOrEqual(lineStart + BAD_LINE.length + 2);
    expect(result.parsed?.BAD_VERSION).toMatchObject({ ok: false, status: -3, kind: undefined });
  });
});

describe('dist/runtime/wasm/embed.js is browser-safe', () => {
  it('imports only relative .js modules and uses no Node-only globals', () => {
    const code = readFileSync(EMBED_JS, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    const specifiers = [...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]);
    expect(specifiers.filter((s) => !/^\.\.?\/.+\.js$/.test(s ?? ''))).toEqual([]);
    expect(code).not.toMatch(/\brequire\s*\(|\b(?:Buffer|process|__dirname|__filename)\b/);
  });
});

describe.skipIf(skip)('the README embedding snippet, as written, in headless Chromium', () => {
  it('instantiates the parser next to embed.js and release.wasm and logs the parsed OPTIONS', async () => {
    if (!hasChromium) throw new Error(`CI=true but ${CHROMIUM} is missing: apt-get install -y chromium`);
    checkBuilt();
    // the page is the README's html block; the files sit next to it, as the snippet expects
    const page = readmeBlock('Embedding (browsers, Deno, Workers)', 'instantiateParser').text;
    const routes: Record<string, { file?: string; body?: string; type: string }> = {
      '/': { body: `<!doctype html>\n<meta charset="utf-8">\n<link rel="icon" href="data:,">\n${page}`, type: 'text/html; charset=utf-8' },
      '/embed.js': { file: EMBED_JS, type: 'text/javascript; charset=utf-8' },
      '/release.wasm': { file: WASM, type: 'application/wasm' },
    };
    const server = createServer((req, res) => {
      const route = routes[new URL(req.url ?? '/', 'http://x').pathname];
      if (!route) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': route.type, 'cache-control': 'no-store' }).end(route.body ?? readFileSync(route.file ?? ''));
    });
    await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    try {
      const tab = await browser.newPage();
      const errors: string[] = [];
      tab.on('pageerror', (e) => errors.push(String(e)));
      const logged = new Promise<string>((resolve) => tab.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
        else if (m.type() === 'log') resolve(m.text());
      }));
      await tab.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      const line = await Promise.race([logged, tab.waitForEvent('pageerror', { timeout: 30_000 }).then((e) => `page error: ${String(e)}`)]);
      expect(errors).toEqual([]);
      expect(line).toBe('true OPTIONS sip:a@b 6 0 -1');
    } finally {
      await browser.close();
      await new Promise((done) => server.close(done));
    }
  });
});

describe.skipIf(skip)('patchbay/embed from the installed package, by name through an import map, in headless Chromium', () => {
  let project: PackedProject | undefined;

  beforeAll(async () => {
    if (!hasChromium) throw new Error(`CI=true but ${CHROMIUM} is missing: apt-get install -y chromium`);
    project = await installPacked();
  }, 240_000);

  afterAll(() => project?.cleanup());

  it('imports patchbay/embed, instantiates the package\'s release.wasm and parses an INVITE', async () => {
    const dir = project!.dir;
    // where the package's exports send 'patchbay/embed', as a URL path of the scratch project
    const embedPath = `/${relative(dir, project!.resolve('patchbay/embed')).split(sep).join('/')}`;
    expect(embedPath).toBe('/node_modules/patchbay/dist/runtime/wasm/embed.js');
    const page = `<!doctype html>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<script type="importmap">${JSON.stringify({ imports: { 'patchbay/embed': embedPath } })}</script>
<script type="module">
import { instantiateParser } from 'patchbay/embed';
const result = {};
try {
  const parser = await instantiateParser(fetch('/node_modules/patchbay/build/release.wasm'));
  const parsed = parser.parse(new TextEncoder().encode(${JSON.stringify(INVITE)}));
  Object.assign(result, { abiVersion: parser.abiVersion, ok: parsed.ok, method: parsed.method, requestUri: parsed.requestUri, bodyLength: parsed.bodyLength });
} catch (e) {
  result.error = String(e && e.stack || e);
}
window.__result = result;
</script>
`;
    const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm', '.json': 'application/json' };
    const served: string[] = [];
    const server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      if (path === '/') return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
      // only the installed package's files, nothing outside the scratch project's node_modules
      const file = resolve(dir, `.${path}`);
      const type = TYPES[extname(file)];
      if (!file.startsWith(join(dir, 'node_modules') + sep) || !type || !existsSync(file)) return void res.writeHead(404).end();
      served.push(path);
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(readFileSync(file));
    });
    await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    try {
      const tab = await browser.newPage();
      const errors: string[] = [];
      tab.on('pageerror', (e) => errors.push(String(e)));
      tab.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await tab.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      await tab.waitForFunction(() => '__result' in window, undefined, { timeout: 30_000 });
      const result = await tab.evaluate(() => (window as unknown as { __result: Record<string, unknown> }).__result);
      expect(errors).toEqual([]);
      expect(result).toEqual({ abiVersion: ABI_VERSION, ok: true, method: 'INVITE', requestUri: 'sip:bob@biloxi.com', bodyLength: SDP.length });
      expect(served).toEqual(expect.arrayContaining([embedPath, '/node_modules/patchbay/build/release.wasm']));
    } finally {
      await browser.close();
      await new Promise((done) => server.close(done));
    }
  });
});
