/**
 * Memory mode: Patchbay holding many long calls at once. SIPp places `calls` calls of `callMs` at
 * `rate` per second; the daemon's RSS is read when its live call count reaches the target, then
 * every call ends and the daemon must settle back to zero calls, dialogs and transactions.
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import type { DaemonStats } from '../../runtime/daemon.js';
import { statusKb } from './proc-stats.js';
import { sleep } from './processes.js';
import { startUac, startUas } from './sipp.js';
import { settle } from './step.js';
import { startTarget, type Target, type TargetName } from './targets.js';

/** Settings of the memory mode. */
export interface MemoryOptions {
  /** Concurrent calls to reach (and total calls placed). */
  calls: number;
  /** Calls per second while ramping up. */
  rate: number;
  /** Duration of each call in ms; must outlast the ramp. */
  callMs: number;
  /** Which Patchbay (pool off or on). */
  target: TargetName;
  /** Upper bound of the final wait for transactions to end. */
  settleMs: number;
  workRoot: string;
  ports: () => number;
}

/** What the memory mode measured. */
export interface MemoryResult {
  target: TargetName;
  calls: number;
  rate: number;
  callMs: number;
  /** RSS right after start, before any call (MB). */
  idleRssMb: number;
  /** Most live calls the daemon reported. */
  peakConcurrent: number;
  /** VmRSS when the daemon first reported `peakConcurrent` calls (MB). */
  rssAtPeakMb: number;
  /** VmHWM at the end of the run (MB). */
  hwmMb: number;
  /** (RSS at peak − idle RSS) / peak concurrent calls, in kB. */
  kbPerCall: number;
  successful: number;
  failed: number;
  retransmissions: number;
  /** Live counts after every call ended and the settle wait. */
  leftover?: DaemonStats;
  problems: string[];
  problemCount: number;
  sippErrors: string;
}

/** Polls the daemon until `calls` are live at once, or the UAC is done; returns the peak seen. */
async function watchConcurrency(
  target: Target, calls: number, uacDone: () => boolean,
): Promise<{ peakConcurrent: number; rssKb: number }> {
  let peakConcurrent = 0;
  let rssKb = 0;
  let flatSince = Date.now();
  while (!uacDone()) {
    const stats = await target.stats();
    if (stats === undefined) break;
    if (stats.calls > peakConcurrent) {
      peakConcurrent = stats.calls;
      rssKb = statusKb(target.child.pid, 'VmRSS');
      flatSince = Date.now();
    }
    if (peakConcurrent >= calls || Date.now() - flatSince > 5000) break;
    await sleep(200);
  }
  return { peakConcurrent, rssKb };
}

/**
 * Runs the memory mode against Patchbay and stops everything it started.
 * @param options - how many calls, how fast, how long
 * @returns the measurements
 */
export async function runMemory(options: MemoryOptions): Promise<MemoryResult> {
  const dir = mkdtempSync(join(options.workRoot, 'memory-'));
  const limit = Math.min(15_000, options.calls + 2000);
  const [uasPort, sipPort, httpPort, uacPort, appPort] = [options.ports(), options.ports(), options.ports(), options.ports(), options.ports()];
  const uas = await startUas(uasPort, dir);
  let target: Target | undefined;
  try {
    target = await startTarget(options.target, { sipPort, httpPort, uasPort, appPort, dir });
    await sleep(1000);
    const idleKb = statusKb(target.child.pid, 'VmRSS');
    const rampS = options.calls / options.rate;
    const uac = startUac({
      remote: `127.0.0.1:${sipPort}`, localPort: uacPort, rate: options.rate, calls: options.calls,
      callMs: options.callMs, limit, timeoutMs: (rampS + options.callMs / 1000 + 60) * 1000, dir,
    });
    const { peakConcurrent, rssKb } = await watchConcurrency(target, options.calls, () => uac.child.hasExited());
    const sipp = await uac.done;
    const leftover = await settle(target, options.settleMs);
    const problems = target.problems();
    return {
      target: options.target, calls: options.calls, rate: options.rate, callMs: options.callMs,
      idleRssMb: idleKb / 1024, peakConcurrent, rssAtPeakMb: rssKb / 1024,
      hwmMb: target.hwmKb() / 1024,
      kbPerCall: peakConcurrent > 0 ? (rssKb - idleKb) / peakConcurrent : NaN,
      successful: sipp.successful, failed: sipp.failed, retransmissions: sipp.retransmissions,
      leftover, problems: problems.slice(0, 5), problemCount: problems.length,
      sippErrors: sipp.failed > 0 || sipp.successful < options.calls ? sipp.errors : '',
    };
  } finally {
    await target?.stop();
    await uas.stop(2000);
  }
}
