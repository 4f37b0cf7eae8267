/**
 * SIPp (Debian sip-tester) as the load generator: a UAS that answers every call and a UAC that
 * places a bounded number of calls at a fixed rate, with its statistics (`-trace_stat`) and every
 * INVITE→200 response time (`-trace_rtt`, millisecond resolution) read back from its files.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findProjectRoot } from '../lib/fixtures.js';
import { udpDrops } from './proc-stats.js';
import { startChild, waitForUdpPort, type Child } from './processes.js';

/** Folder of the bench scenarios (`uac-call.xml`, `uas-answer.xml`) and `kamailio.cfg`. */
export const BENCH_FILES = join(findProjectRoot(), 'bench', 'daemon');

/** Request-URI user of every call. */
const SERVICE = 'callee';

/**
 * The UAS keeps each call 4 s after its BYE (to answer retransmissions), so it holds up to
 * rate × (call + 4 s) calls; with one UDP socket (-t u1) the limit costs no file descriptors.
 */
const UAS_LIMIT = 100_000;

/**
 * SIPp's socket buffers (-buff_size; SIPp's default of 64 kB drops datagrams from about 1,500 cps
 * on a 2-vCPU machine, before the system under test does). The kernel caps it at net.core.rmem_max.
 */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/** One INVITE→200 response time as SIPp logged it. */
export interface RttSample {
  /** When the 200 arrived, in ms since SIPp started. */
  atMs: number;
  /** INVITE sent → 200 received, in whole milliseconds. */
  ms: number;
}

/** What one UAC run did. */
export interface UacResult {
  /** Exit code of SIPp (null when killed). */
  code: number | null;
  /** Calls SIPp created, whether or not they completed. */
  created: number;
  successful: number;
  failed: number;
  /** Requests and responses SIPp had to retransmit (a sign of overload: T1 is 500 ms). */
  retransmissions: number;
  /** Messages that arrived for calls SIPp had already ended. */
  deadCallMessages: number;
  /** Datagrams the kernel dropped on the UAC's socket (sampled every 200 ms while it ran). */
  drops: number;
  rtt: RttSample[];
  /** Start of SIPp's error log, for the report. */
  errors: string;
}

/** Options of one UAC run. */
export interface UacRun {
  /** host:port the calls go to (a proxy or, for the baseline, the UAS itself). */
  remote: string;
  localPort: number;
  /** Calls per second. */
  rate: number;
  /** Number of calls to place. */
  calls: number;
  /** How long each call stays up after the ACK, in ms. */
  callMs: number;
  /** Most simultaneous calls (-l). */
  limit: number;
  /** SIPp's global timeout; calls still running then are failed. */
  timeoutMs: number;
  /** Working folder for SIPp's files. */
  dir: string;
}

/** A UAC run in progress. */
export interface RunningUac {
  readonly child: Child;
  readonly done: Promise<UacResult>;
}

function commonArgs(localPort: number, limit: number, dir: string, name: string): string[] {
  return [
    '-i', '127.0.0.1', '-p', String(localPort), '-t', 'u1',
    '-l', String(limit), '-max_socket', '1000', '-buff_size', String(SOCKET_BUFFER_BYTES),
    '-nostdin', '-default_behaviors', 'all',
    '-trace_err', '-error_file', join(dir, `${name}-errors.log`),
  ];
}

/**
 * Starts a SIPp UAS answering every call (bench/daemon/uas-answer.xml); it runs until stopped.
 * @param port - UDP port to answer on
 * @param dir - working folder for its error log
 * @returns the running UAS, once its port is bound
 */
export async function startUas(port: number, dir: string): Promise<Child> {
  const args = ['-sf', join(BENCH_FILES, 'uas-answer.xml'), ...commonArgs(port, UAS_LIMIT, dir, 'uas')];
  const child = startChild('sipp', args, { cwd: dir }, 64 * 1024);
  await waitForUdpPort(port, child, 5000);
  return child;
}

/**
 * Starts a SIPp UAC placing `calls` calls at `rate` per second (bench/daemon/uac-call.xml).
 * @param run - what to place, where
 * @returns the running UAC and its result once it exits
 */
export function startUac(run: UacRun): RunningUac {
  const args = [
    run.remote, '-sf', join(BENCH_FILES, 'uac-call.xml'), ...commonArgs(run.localPort, run.limit, run.dir, 'uac'),
    '-s', SERVICE, '-m', String(run.calls), '-r', String(run.rate), '-rp', '1000', '-d', String(run.callMs),
    '-trace_stat', '-stf', join(run.dir, 'stats.csv'), '-fd', '1',
    '-trace_rtt', '-rtt_freq', String(rttFlushEvery(run.calls)),
    '-timeout', `${Math.ceil(run.timeoutMs / 1000)}s`, '-timeout_error',
  ];
  const child = startChild('sipp', args, { cwd: run.dir }, 64 * 1024);
  const killer = setTimeout(() => child.process.kill('SIGKILL'), run.timeoutMs + 10_000);
  let drops = 0;
  const dropWatch = setInterval(() => { drops = Math.max(drops, udpDrops([run.localPort])); }, 200);
  const done = child.exited.then((code): UacResult => {
    clearTimeout(killer);
    clearInterval(dropWatch);
    const stats = readLastStats(join(run.dir, 'stats.csv'));
    const errorFile = join(run.dir, 'uac-errors.log');
    return {
      code,
      created: stats('OutgoingCall(C)'),
      successful: stats('SuccessfulCall(C)'),
      failed: stats('FailedCall(C)'),
      retransmissions: stats('Retransmissions(C)'),
      deadCallMessages: stats('DeadCallMsgs(C)'),
      drops,
      rtt: readRtt(run.dir),
      errors: existsSync(errorFile) ? readFileSync(errorFile, 'utf8').slice(0, 2000) : child.output().slice(-2000),
    };
  });
  return { child, done };
}

/**
 * SIPp writes its response times every `-rtt_freq` calls and drops the remainder at exit, so the
 * period must divide the number of calls: the largest divisor up to 1000.
 */
function rttFlushEvery(calls: number): number {
  for (let d = Math.min(1000, calls); d > 1; d--) if (calls % d === 0) return d;
  return 1;
}

/** Reads the last line of SIPp's `-trace_stat` CSV; unknown columns read as 0. */
function readLastStats(file: string): (column: string) => number {
  const lines = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
  const head = lines[0]?.split(';') ?? [];
  const last = lines.length > 1 ? lines.at(-1)!.split(';') : [];
  return (column) => {
    const index = head.indexOf(column);
    const value = index >= 0 ? Number(last[index]) : 0;
    return Number.isFinite(value) ? value : 0;
  };
}

/** Reads every `*_rtt.csv` row SIPp wrote in `dir` (columns: Date_ms;response_time_ms;rtd_no). */
function readRtt(dir: string): RttSample[] {
  const file = readdirSync(dir).find((name) => name.endsWith('_rtt.csv'));
  if (file === undefined) return [];
  const samples: RttSample[] = [];
  for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
    const [at, ms] = line.split(';');
    const atMs = Number(at);
    const value = Number(ms);
    if (at === undefined || at === '' || !Number.isFinite(atMs) || !Number.isFinite(value)) continue;
    samples.push({ atMs, ms: value });
  }
  return samples;
}
