/**
 * One network fuzz run: Patchbay (`dist/runtime/cli.js serve`, static route to a SIPp UAS, short
 * RFC 3261 timers so that abandoned transactions end within seconds) takes mutated traffic
 * (./send.ts) while a SIPp UAC places legitimate calls through it. The verdict checks what a user
 * would: the daemon is alive, every legitimate call succeeded, /stats returns to zero live calls,
 * dialogs and transactions, and RSS after settling is within the allowed growth of RSS before.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DaemonStats } from '../../runtime/daemon.js';
import { findProjectRoot } from '../lib/fixtures.js';
import { statusKb } from '../daemon/proc-stats.js';
import { sleep, startChild, waitForUdpPort, type Child } from '../daemon/processes.js';
import { BENCH_FILES, startUac } from '../daemon/sipp.js';
import type { FuzzOptions } from './options.js';
import { collectGarbage } from './gc.js';
import { sendFuzz, type SendReport } from './send.js';

/** Readiness of a child (its port bound, /stats answering) on a loaded machine: generous. */
const START_TIMEOUT_MS = 60_000;
/** RFC 3261 T1 of the daemon under fuzz: 64*T1 (Timers B, F, H, J, the 2xx retransmissions) is 6.4 s. */
const T1_MS = 100;
/** Timer D (absorbs retransmitted finals over UDP). */
const TIMER_D_MS = 2000;
/** Length of each legitimate call. */
const CALL_MS = 500;

/** The outcome of a run. */
export interface FuzzVerdict {
  ok: boolean;
  seed: number;
  failures: string[];
  sent: SendReport;
  calls: { placed: number; successful: number; failed: number; errors: string };
  rssMb: { before: number; after: number };
  /** /stats after settling (undefined when the daemon no longer answered). */
  stats: DaemonStats | undefined;
  settledMs: number;
  alive: boolean;
  /** Daemon log lines at warn or above, counted by message. */
  problems: Record<string, number>;
  /** The first few `handler failed` (and other error) lines in full. */
  errorSamples: string[];
}

const busy = (s: DaemonStats): boolean => s.calls > 0 || s.dialogs > 0 || s.clientTx > 0 || s.serverTx > 0;

async function stats(httpPort: number, daemon: Child): Promise<DaemonStats | undefined> {
  if (daemon.hasExited()) return undefined;
  try {
    const response = await fetch(`http://127.0.0.1:${httpPort}/stats`, { signal: AbortSignal.timeout(5000) });
    return (await response.json()) as DaemonStats;
  } catch {
    return undefined;
  }
}

/** Polls /stats until nothing is live or `timeoutMs` passed. */
async function settle(httpPort: number, daemon: Child, timeoutMs: number): Promise<{ stats: DaemonStats | undefined; ms: number }> {
  const start = Date.now();
  let s = await stats(httpPort, daemon);
  while (s !== undefined && busy(s) && Date.now() - start < timeoutMs) {
    await sleep(250);
    s = await stats(httpPort, daemon);
  }
  return { stats: s, ms: Date.now() - start };
}

async function startSippUas(port: number, dir: string): Promise<Child> {
  const child = startChild('sipp', [
    '-sf', join(BENCH_FILES, 'uas-answer.xml'), '-i', '127.0.0.1', '-p', String(port), '-t', 'u1',
    '-nostdin', '-default_behaviors', 'all', '-trace_err', '-error_file', join(dir, 'uas-errors.log'),
  ], { cwd: dir }, 64 * 1024);
  await waitForUdpPort(port, child, START_TIMEOUT_MS);
  return child;
}

async function startDaemon(sipPort: number, httpPort: number, uasPort: number, inspectPort: number, extra: string[]): Promise<Child> {
  const daemon = startChild(process.execPath, [`--inspect=127.0.0.1:${inspectPort}`,
    join(findProjectRoot(), 'dist', 'runtime', 'cli.js'), 'serve',
    '--listen', `udp:127.0.0.1:${sipPort},tcp:127.0.0.1:${sipPort}`, '--http', `127.0.0.1:${httpPort}`,
    '--route', `sip:callee@127.0.0.1:${uasPort}`, '--t1', String(T1_MS), '--timer-d', String(TIMER_D_MS),
    '--log-level', 'warn', ...extra,
  ], {}, 4 << 20);
  await waitForUdpPort(sipPort, daemon, START_TIMEOUT_MS);
  const deadline = Date.now() + START_TIMEOUT_MS;
  while ((await stats(httpPort, daemon)) === undefined) {
    if (daemon.hasExited() || Date.now() > deadline) throw new Error(`patchbay did not start:\n${daemon.output().slice(-2000)}`);
    await sleep(100);
  }
  return daemon;
}

/** Log lines at warn or above, counted by their `msg`; plus the first error lines in full. */
function problems(output: string): { counts: Record<string, number>; samples: string[] } {
  const counts: Record<string, number> = {};
  const samples: string[] = [];
  for (const line of output.split('\n')) {
    // the inspector's own notices (a GC request attaches and detaches) are no problem
    if (line.trim() === '' || /^(Debugger (listening|attached|ending)|For help, see)/.test(line)) continue;
    let msg = line.slice(0, 80);
    let level = '';
    try {
      const entry = JSON.parse(line) as { msg?: unknown; level?: unknown };
      msg = String(entry.msg);
      level = String(entry.level);
    } catch { /* not JSON: a crash trace or a Node warning, counted by its start */ }
    if (msg === 'REST API disabled' || msg.startsWith('REST API disabled')) continue;
    counts[msg] = (counts[msg] ?? 0) + 1;
    if ((level === 'error' || level === '') && samples.length < 10) samples.push(line.slice(0, 2000));
  }
  return { counts, samples };
}

async function placeCalls(sipPort: number, uacPort: number, dir: string, calls: number, rate: number, timeoutMs: number): Promise<{ successful: number; failed: number; errors: string }> {
  const uac = startUac({ remote: `127.0.0.1:${sipPort}`, localPort: uacPort, rate, calls, callMs: CALL_MS, limit: 10_000, timeoutMs, dir });
  const r = await uac.done;
  return { successful: r.successful, failed: r.failed, errors: r.failed > 0 || r.successful < calls ? r.errors : '' };
}

/**
 * Runs the fuzzer once and stops everything it started.
 * @param options - bounds, seed, rates
 * @param progress - where progress lines go
 * @returns the verdict
 */
export async function runFuzz(options: FuzzOptions, progress: (line: string) => void): Promise<FuzzVerdict> {
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-fuzz-'));
  const [sipPort, httpPort, uasPort, uacPort, inspectPort] = [0, 1, 2, 3, 4].map((i) => options.portBase + i) as [number, number, number, number, number];
  let uas: Child | undefined;
  let daemon: Child | undefined;
  try {
    uas = await startSippUas(uasPort, dir);
    daemon = await startDaemon(sipPort, httpPort, uasPort, inspectPort, options.daemonArgs);
    // warm up (JIT, pools, WASM memory) so that RSS "before" is the daemon at work, not at rest
    mkdirSync(join(dir, 'warmup'));
    const warm = await placeCalls(sipPort, uacPort, join(dir, 'warmup'), 20, 20, START_TIMEOUT_MS);
    if (warm.successful < 20) throw new Error(`warm-up calls failed before any fuzzing (${warm.successful}/20):\n${warm.errors}`);
    await settle(httpPort, daemon, options.settleSeconds * 1000);
    await collectGarbage(inspectPort);
    const before = statusKb(daemon.pid, 'VmRSS') / 1024;
    const durationMs = options.seconds > 0 ? options.seconds * 1000 : (options.count / options.rate) * 1000;
    const placed = Math.max(10, Math.ceil((durationMs / 1000) * options.callRate));
    progress(`seed ${options.seed}: ${options.count > 0 ? `${options.count} messages` : `${options.seconds} s`} at ${options.rate}/s (${Math.round(100 * options.tcpShare)} % TCP), ${placed} legitimate calls at ${options.callRate}/s, RSS ${before.toFixed(1)} MB`);
    mkdirSync(join(dir, 'calls'));
    const calls = placeCalls(sipPort, uacPort, join(dir, 'calls'), placed, options.callRate, durationMs + 120_000);
    const traffic = await sendFuzz({ host: '127.0.0.1', port: sipPort, seed: options.seed, count: options.count, durationMs: options.count > 0 ? 0 : durationMs, rate: options.rate, tcpShare: options.tcpShare });
    const sent = traffic.report;
    progress(`sent ${sent.udp} datagrams, ${sent.tcp} TCP messages on ${sent.connections} connections, ${sent.reactions} follow-ups, ${sent.hangups} hang-ups`);
    const legit = await calls;
    const settled = await settle(httpPort, daemon, options.settleSeconds * 1000);
    traffic.close();
    const alive = !daemon.hasExited() && settled.stats !== undefined;
    if (alive) await collectGarbage(inspectPort);
    const after = alive ? statusKb(daemon.pid, 'VmRSS') / 1024 : 0;
    const logs = problems(daemon.output());
    const failures: string[] = [];
    if (!alive) failures.push(`the daemon is not alive (exit ${String(daemon.hasExited() ? await daemon.exited : 'none')}, /stats ${settled.stats ? 'answers' : 'does not answer'})`);
    if (legit.successful !== placed || legit.failed > 0) failures.push(`${legit.successful} of ${placed} legitimate calls succeeded, ${legit.failed} failed`);
    if (settled.stats !== undefined && busy(settled.stats)) failures.push(`/stats not back to zero after ${options.settleSeconds} s: ${JSON.stringify(settled.stats)}`);
    if (alive && after > before * (1 + options.rssGrowth)) failures.push(`RSS grew from ${before.toFixed(1)} to ${after.toFixed(1)} MB (more than ${Math.round(options.rssGrowth * 100)} %)`);
    return {
      ok: failures.length === 0, seed: options.seed, failures, sent,
      calls: { placed, ...legit }, rssMb: { before, after }, stats: settled.stats, settledMs: settled.ms, alive,
      problems: logs.counts, errorSamples: logs.samples,
    };
  } finally {
    if (options.daemonLog !== undefined && daemon !== undefined) writeFileSync(options.daemonLog, daemon.output());
    await daemon?.stop(15_000);
    await uas?.stop(2000);
    rmSync(dir, { recursive: true, force: true });
  }
}
