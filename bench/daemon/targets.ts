/**
 * The systems under test, each started fresh on loopback in front of a SIPp UAS: Patchbay
 * (`dist/runtime/cli.js serve` with a static route, B2BUA; `patchbay-pool` adds `--pool on`) and
 * Kamailio (stateful proxy, bench/daemon/kamailio.cfg).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { DaemonStats } from '../../runtime/daemon.js';
import { findProjectRoot } from '../lib/fixtures.js';
import { processTree, pssKb, statusKb } from './proc-stats.js';
import { sleep, startChild, waitForUdpPort, type Child } from './processes.js';
import { BENCH_FILES } from './sipp.js';

/** Names of the systems the bench can drive. */
export type TargetName = 'patchbay' | 'patchbay-pool' | 'kamailio';

/** Every target name, in report order. */
export const TARGET_NAMES: readonly TargetName[] = ['patchbay', 'patchbay-pool', 'kamailio'];

/** A running system under test. */
export interface Target {
  readonly name: TargetName;
  readonly child: Child;
  /** Processes whose CPU time counts (Kamailio's workers included). */
  pids(): number[];
  /** Current footprint in kB: VmRSS for Patchbay, Σ Pss over its processes for Kamailio. */
  memoryKb(): number;
  /** Kernel-tracked peak RSS in kB (VmHWM) where it is meaningful, else 0. */
  hwmKb(): number;
  /** Live calls, dialogs and transactions (Patchbay's GET /stats); undefined for Kamailio. */
  stats(): Promise<DaemonStats | undefined>;
  /** Log lines that report a problem (warnings, errors, crashes). */
  problems(): string[];
  /** Stops it (SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
}

/** Where a target listens and where it sends the calls. */
export interface TargetOptions {
  sipPort: number;
  /** Patchbay's HTTP port (GET /stats). */
  httpPort: number;
  uasPort: number;
  /** Working folder (Kamailio's runtime dir). */
  dir: string;
}

/** True when `kamailio` can be run. */
export function haveKamailio(): boolean {
  const result = spawnSync('kamailio', ['-v'], { stdio: 'ignore' });
  return result.error === undefined && result.status === 0;
}

/**
 * Starts one target and waits until it takes calls.
 * @param name - which system
 * @param options - ports and folder
 * @returns the running target
 */
export function startTarget(name: TargetName, options: TargetOptions): Promise<Target> {
  return name === 'kamailio' ? startKamailio(options) : startPatchbay(name, options);
}

async function startPatchbay(name: TargetName, options: TargetOptions): Promise<Target> {
  const cli = join(findProjectRoot(), 'dist', 'runtime', 'cli.js');
  const child = startChild(process.execPath, [
    cli, 'serve',
    '--listen', `udp:127.0.0.1:${options.sipPort}`,
    '--http', `127.0.0.1:${options.httpPort}`,
    '--route', `sip:callee@127.0.0.1:${options.uasPort}`,
    '--pool', name === 'patchbay-pool' ? 'on' : 'off',
    '--t1', '500',
    '--log-level', 'warn',
  ]);
  const stats = async (): Promise<DaemonStats | undefined> => {
    if (child.hasExited()) return undefined;
    try {
      const response = await fetch(`http://127.0.0.1:${options.httpPort}/stats`, { signal: AbortSignal.timeout(5000) });
      return (await response.json()) as DaemonStats;
    } catch {
      return undefined;
    }
  };
  await waitForUdpPort(options.sipPort, child, 15_000);
  const deadline = Date.now() + 15_000;
  while ((await stats()) === undefined) {
    if (child.hasExited() || Date.now() > deadline) throw new Error(`patchbay did not start:\n${child.output().slice(-2000)}`);
    await sleep(100);
  }
  return {
    name,
    child,
    pids: () => [child.pid],
    memoryKb: () => statusKb(child.pid, 'VmRSS'),
    hwmKb: () => statusKb(child.pid, 'VmHWM'),
    stats,
    problems: () => child.output().split('\n').filter((line) => line.trim() !== ''),
    stop: async () => { await child.stop(15_000); },
  };
}

async function startKamailio(options: TargetOptions): Promise<Target> {
  const child = startChild('kamailio', [
    '-f', join(BENCH_FILES, 'kamailio.cfg'), '-DD', '-E',
    '-m', '1024', '-M', '16',
    '-l', `udp:127.0.0.1:${options.sipPort}`,
    '-A', `UAS_URI="sip:127.0.0.1:${options.uasPort}"`,
    '-Y', options.dir, '-w', options.dir,
  ]);
  await waitForUdpPort(options.sipPort, child, 15_000);
  await sleep(500);
  return {
    name: 'kamailio',
    child,
    pids: () => processTree(child.pid),
    memoryKb: () => pssKb(processTree(child.pid)),
    hwmKb: () => 0,
    stats: () => Promise.resolve(undefined),
    problems: () => child.output().split('\n').filter((line) => /\b(ERROR|CRITICAL|BUG|ALERT)\b/.test(line)),
    stop: async () => { await child.stop(10_000); },
  };
}
