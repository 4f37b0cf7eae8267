/**
 * The README's shell examples, run as written: "TwiML in five lines", the
 * blind transfer, and the HTTP side's twilio-client and curl snippets. The application is the README's own JavaScript block,
 * written to a temporary folder; each command line of the README's shell
 * block is run through `sh -c` in the repository folder, in order, the
 * long-running ones (the app, `npm start`, SIPp agents) started first and
 * waited for (port bound, "ready" logged). Two documented substitutions, so
 * that the test can run beside a daemon on the default ports:
 *   - every port of the README (3000, 3001, 5060, 5070, 5071, 5080) is moved
 *     to a port of this test (the same text, another number), and
 *     `npm start --` gets `--http 127.0.0.1:<port> --listen udp:…,tcp:…` with
 *     ports of this test (the README leaves the defaults, 8080 and 5060);
 *   - `node app.mjs` / `node refer-app.mjs` run the file in the temporary folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { haveSipp, sippSuiteEnabled } from './sipp.js';
import { e2ePorts } from './ports.js';
import { readmeBlock } from '../support/readme.js';
import { portBound } from './ready.js';
import { ROOT } from '../support/wasm.js';
import { waitUntil } from '../support/wait.js';

const enabled = sippSuiteEnabled();
const BASE = e2ePorts(import.meta.url).base;

/** A command line of the README, started. */
interface Started {
  line: string;
  child: ChildProcess;
  output: () => string;
  stdout: () => string;
  exited: Promise<number | null>;
}

function start(line: string): Started {
  const child = spawn('sh', ['-c', `exec ${line}`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { line, child, output: () => out, stdout: () => stdout, exited };
}


const tcpAnswers = (port: number): Promise<boolean> => new Promise((resolve) => {
  const s = connect(port, '127.0.0.1');
  s.once('connect', () => { s.destroy(); resolve(true); });
  s.once('error', () => resolve(false));
});

/** The README's command lines with the ports moved and the comments cut. */
function commands(text: string, ports: Record<number, number>, http: number, files: Record<string, string>): string[] {
  return text.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter(Boolean).map((l) => {
    let line = l.replace(/\b(3000|3001|5060|5070|5071|5080)\b/g, (p) => String(ports[Number(p)] ?? p));
    const sip = ports[5060]!;
    if (line.startsWith('npm start --')) line = line.replace('npm start --', `npm start -- --http 127.0.0.1:${http} --listen udp:127.0.0.1:${sip},tcp:127.0.0.1:${sip}`);
    for (const [name, path] of Object.entries(files)) line = line.replace(`node ${name}`, `node ${path}`);
    return line;
  });
}

describe.skipIf(!enabled)('the README examples, run as written', () => {
  const running: Started[] = [];

  afterEach(async () => {
    for (const r of running.reverse()) {
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
      const gone = await Promise.race([r.exited.then(() => true), new Promise<boolean>((res) => setTimeout(() => res(false), 15_000))]);
      if (!gone) r.child.kill('SIGKILL');
    }
    running.length = 0;
  });

  /**
   * Run one example: write the app, start the app and Patchbay, then the SIPp agents (UAS lines, no remote),
   * then the caller; every SIPp must exit 0.
   */
  async function runExample(appBlock: string, appName: string, shBlock: string, base: number, ports: number[]): Promise<{ patchbay: Started; map: Record<number, number>; http: number }> {
    if (!haveSipp()) throw new Error('sipp is not installed: apt-get install -y sip-tester');
    const readmePorts = [3000, 3001, 5060, 5070, 5071, 5080];
    const map = Object.fromEntries(readmePorts.map((p, i) => [p, base + i]));
    const dir = mkdtempSync(join(tmpdir(), 'patchbay-readme-'));
    const appFile = join(dir, appName);
    writeFileSync(appFile, appBlock.replace(/\b(3000|3001|5070|5071)\b/g, (p) => String(map[Number(p)])));
    const http = base + 9;
    const lines = commands(shBlock, map, http, { [appName]: appFile });
    const [appLine, patchbayLine, ...sippLines] = lines;
    expect(appLine).toContain(appFile);
    expect(patchbayLine).toMatch(/^npm start -- /);
    const app = start(appLine!);
    running.push(app);
    await waitUntil(`the app on ${map[ports[0]!]}\n${app.output()}`, () => tcpAnswers(map[ports[0]!]!), { timeoutMs: 60_000, pollMs: 50 });
    const patchbay = start(patchbayLine!);
    running.push(patchbay);
    await waitUntil(`Patchbay ready\n${patchbay.output()}`, () => patchbay.output().includes('"msg":"ready"'), { timeoutMs: 60_000, pollMs: 50 });
    const sipps: Started[] = [];
    for (const line of sippLines) {
      const isCaller = /^sipp \d/.test(line);
      const s = start(line);
      running.push(s);
      sipps.push(s);
      if (!isCaller) {
        const port = Number(/-p (\d+)/.exec(line)![1]);
        await waitUntil(`SIPp on ${port}\n${s.output()}`, () => portBound(port, 'udp'), { timeoutMs: 60_000, pollMs: 50 });
      }
    }
    for (const s of sipps) {
      const code = await Promise.race([s.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 60_000))]);
      expect(code, `${s.line}\n${s.output().slice(-3000)}\n--- patchbay:\n${patchbay.output().slice(-3000)}`).toBe(0);
    }
    return { patchbay, map, http };
  }

  it('TwiML in five lines: app.mjs and the four commands, both SIPp instances exit 0; then the HTTP side\'s twilio client and curl snippets against that daemon', async () => {
    const heading = 'TwiML in five lines';
    const { patchbay, map, http } = await runExample(readmeBlock(heading, 'createServer').text, 'app.mjs', readmeBlock(heading, 'node app.mjs').text, BASE, [3000]);
    expect(patchbay.output()).toContain('"msg":"call ended"');

    // the HTTP side's snippets against this daemon (--auth-token my-secret): the official client places
    // and ends a call, curl lists it; 8080 is this daemon's HTTP port, 3000 and 5070 as above
    const move = (text: string): string => text.replace(/\b(8080|3000|5070)\b/g, (p) => String(p === '8080' ? http : map[Number(p)]));
    const rest = 'The HTTP side: Calls API, events, metrics, CDR';
    mkdirSync(join(ROOT, 'test', '.tmp'), { recursive: true });
    const file = join(ROOT, 'test', '.tmp', 'readme-rest.mjs');
    writeFileSync(file, `${move(readmeBlock(rest, "from 'twilio'").text)}console.log(call.sid);\n`);
    const client = start(`node ${file}`);
    running.push(client);
    expect(await client.exited, client.output()).toBe(0);
    const sid = client.stdout().trim();
    expect(sid).toMatch(/^CA[0-9a-f]{32}$/);
    const curl = start(move(readmeBlock(rest, 'curl -u').text.trim()));
    running.push(curl);
    expect(await curl.exited, curl.output()).toBe(0);
    expect((JSON.parse(curl.stdout()) as { calls: Array<{ sid: string }> }).calls.map((c) => c.sid)).toContain(sid);
  });

  it('Blind transfer: refer-app.mjs and the five commands; agent A REFERs the caller to agent B, every SIPp exits 0', async () => {
    const heading = 'Blind transfer: inbound SIP REFER';
    const { patchbay } = await runExample(readmeBlock(heading, 'ReferTransferTarget').text, 'refer-app.mjs', readmeBlock(heading, 'node refer-app.mjs').text, BASE + 20, [3001]);
    expect(patchbay.output()).toMatch(/"msg":"call ended".*"direction":"outbound-dial".*"to":"sip:agentb@/);
  });
});
