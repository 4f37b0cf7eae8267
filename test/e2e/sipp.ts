/**
 * Run SIPp (Debian package sip-tester) natively on loopback. Each run is
 * bounded in calls and time; stdout/stderr and SIPp's error log are kept for
 * the assertion message.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listening } from './ready.js';

/** Folder of the scenario XML files. */
export const SCENARIOS = join(dirname(fileURLToPath(import.meta.url)), 'scenarios');

/** True when the sipp binary is on PATH. */
export function haveSipp(): boolean {
  return spawnSync('sipp', ['-v'], { stdio: 'ignore' }).error === undefined;
}

/**
 * Whether the SIPp suite runs: always with CI=true (a missing sipp then
 * fails the suite), otherwise only when sipp is installed.
 */
export function sippSuiteEnabled(): boolean {
  return process.env.CI === 'true' || haveSipp();
}

/** Options of one SIPp run. */
export interface SippRun {
  scenario: string;
  /** UAC: the target host:port; omitted for a UAS. */
  remote?: string;
  localPort: number;
  /** Request-URI user (-s). */
  service?: string;
  /** Number of calls (-m). */
  calls?: number;
  /** Calls per second (-r). */
  rate?: number;
  /** Pause length in ms for <pause/> (-d). */
  durationMs?: number;
  /** u1 or t1. */
  transport?: 'u1' | 't1';
  /** Max simultaneous calls (-l). */
  limit?: number;
  /** Local address (default 127.0.0.1; ::1 for IPv6). */
  ip?: string;
  /** Extra arguments. */
  extra?: string[];
  /** Kill SIPp after this many ms. */
  timeoutMs: number;
  /** Run SIPp through this command prefix, e.g. `ip netns exec NAME` (the test's own namespace). */
  wrap?: (command: string, args: string[]) => [string, string[]];
}

/** Outcome of a SIPp run. */
export interface SippResult {
  code: number | null;
  successful: number;
  failed: number;
  stdout: string;
  stderr: string;
  errors: string;
}

/** A SIPp run in an assertion message: exit code, counts, the start of its error log and stderr. */
export function describeRun(r: SippResult): string {
  return `code ${r.code}, ${r.successful} ok, ${r.failed} failed\n${r.errors.slice(0, 2000)}\n${r.stderr.slice(0, 1000)}`;
}

/** A running SIPp process. */
export interface SippProcess {
  done: Promise<SippResult>;
  /**
   * Resolves once SIPp has bound its local port (a UAS can take calls: wait for it before the
   * first call is placed); rejects if SIPp exits first or after READY_TIMEOUT_MS.
   */
  ready: Promise<void>;
  kill(): void;
}

/** Start SIPp; resolves when it exits (or is killed at `timeoutMs`). */
export function startSipp(run: SippRun): SippProcess {
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-sipp-'));
  const errorFile = join(dir, 'errors.log');
  const statFile = join(dir, 'stats.csv');
  const args = [
    ...(run.remote ? [run.remote] : []),
    '-sf', join(SCENARIOS, run.scenario),
    '-i', run.ip ?? '127.0.0.1', '-p', String(run.localPort),
    '-m', String(run.calls ?? 1),
    '-r', String(run.rate ?? 10),
    '-l', String(run.limit ?? 100000),
    '-t', run.transport ?? 'u1',
    '-nostdin', '-nd', '-default_behaviors', 'all,-bye',
    '-trace_err', '-error_file', errorFile,
    '-trace_stat', '-stf', statFile, '-fd', '1',
    '-timeout', `${Math.ceil(run.timeoutMs / 1000)}s`, '-timeout_error',
    ...(run.service ? ['-s', run.service] : []),
    ...(run.durationMs !== undefined ? ['-d', String(run.durationMs)] : []),
    ...(run.extra ?? []),
  ];
  const [command, argv] = run.wrap ? run.wrap('sipp', args) : ['sipp', args];
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), run.timeoutMs + 5000);
  const done = new Promise<SippResult>((resolve) => {
    child.on('error', (err) => { stderr += String(err); });
    child.on('close', (code) => {
      clearTimeout(timer);
      const errors = existsSync(errorFile) ? readFileSync(errorFile, 'utf8') : '';
      const { successful, failed } = readStats(statFile);
      resolve({ code, successful, failed, stdout, stderr, errors });
    });
  });
  let exited = false;
  void done.then(() => { exited = true; });
  // /proc/PID/net is SIPp's own network namespace (ip netns exec execs SIPp in place: same pid)
  const ready = listening(run.localPort, run.transport === 't1' ? 'tcp' : 'udp', {
    pid: child.pid,
    failFast: () => (exited ? `SIPp exited before binding its port:\n${stderr.slice(0, 1000)}${stdout.slice(-1000)}` : undefined),
  });
  ready.catch(() => undefined); // a caller that never awaits it gets SIPp's failure from `done`
  return { done, ready, kill: () => child.kill('SIGTERM') };
}

/** Last line of SIPp's -trace_stat CSV: SuccessfulCall(C) and FailedCall(C). */
function readStats(file: string): { successful: number; failed: number } {
  if (!existsSync(file)) return { successful: 0, failed: 0 };
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  if (lines.length < 2) return { successful: 0, failed: 0 };
  const head = lines[0]!.split(';');
  const last = lines.at(-1)!.split(';');
  const col = (name: string): number => Number(last[head.indexOf(name)] ?? 0);
  return { successful: col('SuccessfulCall(C)'), failed: col('FailedCall(C)') };
}
