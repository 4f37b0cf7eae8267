/**
 * `npm start` as a user runs it: npm starts a shell that starts node, and
 * SIGTERM (kill) or SIGINT (Ctrl-C) goes to npm, the process the user
 * started. The daemon must stop with it and free its ports, not stay behind
 * as an orphan that makes the next start fail with EADDRINUSE. Non-default
 * ports through `npm start -- --listen … --http …`, so tests do not collide.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/wasm.js';
import { e2ePorts } from './ports.js';

const BASE = e2ePorts(import.meta.url).base;

/** True when nothing holds `port` on 127.0.0.1 for UDP and TCP. */
async function portFree(port: number, kind: 'udp' | 'tcp'): Promise<boolean> {
  return new Promise((resolve) => {
    if (kind === 'udp') {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
    } else {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    }
  });
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** Poll `check` until it holds or `timeoutMs` passes. */
async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

async function startAndSignal(signal: 'SIGTERM' | 'SIGINT', sip: number, http: number): Promise<void> {
  const npm = spawn('npm', ['start', '--', '--listen', `udp:127.0.0.1:${sip},tcp:127.0.0.1:${sip}`, '--http', `127.0.0.1:${http}`], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const npmExited = new Promise<void>((resolve) => npm.on('exit', () => resolve()));
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line in 60 s:\n${output}`)), 60_000);
    const onData = (d: Buffer): void => {
      output += d.toString();
      const line = output.split('\n').find((l) => l.includes('"msg":"ready"'));
      if (line) { clearTimeout(timer); resolve(JSON.parse(line) as Record<string, unknown>); }
    };
    npm.stdout.on('data', onData);
    npm.stderr.on('data', onData);
    void npmExited.then(() => { clearTimeout(timer); reject(new Error(`npm exited before ready:\n${output}`)); });
  });
  let daemonPid: number | undefined;
  try {
    const line = await ready;
    daemonPid = Number(line.pid);
    expect(daemonPid).not.toBe(npm.pid);
    expect(await portFree(sip, 'udp')).toBe(false);
    npm.kill(signal);
    const npmGone = await Promise.race([npmExited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 30_000))]);
    expect(npmGone, `npm still running 30 s after ${signal}:\n${output}`).toBe(true);
    expect(await eventually(() => !alive(daemonPid!), 20_000), `daemon ${daemonPid} still running after ${signal} to npm:\n${output}`).toBe(true);
    expect(output).toContain(`"signal":"${signal}"`);
    expect(await portFree(sip, 'udp'), 'SIP UDP port freed').toBe(true);
    expect(await portFree(sip, 'tcp'), 'SIP TCP port freed').toBe(true);
    expect(await portFree(http, 'tcp'), 'HTTP port freed').toBe(true);
  } finally {
    if (npm.exitCode === null) npm.kill('SIGKILL');
    if (daemonPid !== undefined && alive(daemonPid)) process.kill(daemonPid, 'SIGKILL');
  }
}

describe('npm start and signals', () => {
  it('SIGTERM to the npm start process stops the daemon and frees its SIP and HTTP ports', () => startAndSignal('SIGTERM', BASE, BASE + 5), 120_000);

  it('SIGINT to the npm start process (Ctrl-C) stops the daemon and frees its ports', () => startAndSignal('SIGINT', BASE + 10, BASE + 15), 120_000);
});
