/**
 * One step of the ramp: a fresh SIPp UAS, a fresh target in front of it (or none, for the direct
 * UAC→UAS baseline), and a SIPp UAC placing `rate × stepSeconds` calls at `rate` per second.
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import type { DaemonStats } from '../../runtime/daemon.js';
import { CpuWindow, PeakSampler, udpDrops } from './proc-stats.js';
import { sleep } from './processes.js';
import { startUac, startUas, type RttSample } from './sipp.js';
import { startTarget, type Target, type TargetName } from './targets.js';

/** A target, or `direct` for the baseline without anything between the UAC and the UAS. */
export type StepTarget = TargetName | 'direct';

/** Settings shared by every step of a ramp. */
export interface StepOptions {
  /** Seconds of call creation per step. */
  stepSeconds: number;
  /** How long each call stays up, in ms. */
  callMs: number;
  /**
   * After a step with failures or retransmissions, or after every step when `alwaysSettle`, wait up
   * to this long for every transaction to end (0: never); otherwise only for calls and dialogs.
   */
  settleMs: number;
  alwaysSettle: boolean;
  /** Folder for the steps' working folders. */
  workRoot: string;
  /** Hands out free loopback ports. */
  ports: () => number;
  /** Project root of the build the `-base` targets run (`--baseline`). */
  baselineRoot?: string;
}

/** What one step measured. */
export interface StepResult {
  target: StepTarget;
  rate: number;
  calls: number;
  /** Answered calls per second (200s between the 1st and 99th percentile of their arrival times). */
  achievedCps: number;
  successful: number;
  failed: number;
  retransmissions: number;
  deadCallMessages: number;
  /** Datagrams the kernel dropped on the target's socket (receive buffer full). */
  drops: number;
  /** Same, on the SIPp UAC and UAS sockets. */
  sippDrops: number;
  /** INVITE→200 as the UAC saw it (ms, SIPp's 1 ms resolution). */
  rtt: { p50: number; p99: number; mean: number };
  /** The target's CPU, % of one core, while calls were being created (undefined for direct). */
  cpuPercent?: number;
  /** SIPp UAC + UAS CPU, % of one core, same window. */
  sippCpuPercent: number;
  /** The target's helper processes (the TwiML web app), % of one core, same window; undefined when none. */
  helperCpuPercent?: number;
  /** Peak footprint of the target in MB (Patchbay VmHWM; Kamailio Σ Pss sampled). */
  peakMemoryMb?: number;
  /** Patchbay's live counts once the calls were over (after the settle wait). */
  leftover?: DaemonStats;
  /** Lines of the target's log that report problems (first few) and how many there were. */
  problems: string[];
  problemCount: number;
  /**
   * True when every call succeeded, at 95 % of the requested rate or more, with 99 % of the calls
   * answered before the first retransmission (INVITE→200 p99 below T1 = 500 ms).
   */
  clean: boolean;
  /** Why the step is not clean. */
  reason: string;
  /** Start of SIPp's error log when calls failed. */
  sippErrors: string;
}

/** T1: a p99 call setup this slow means more than 1 % of the calls needed a retransmission. */
const SETUP_P99_LIMIT_MS = 500;

/**
 * Percentile by nearest rank.
 * @param sorted - values in ascending order
 * @param p - percentile, 0–100
 * @returns the value, or NaN for no values
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/**
 * Answered calls per second between the 1st and the 99th percentile of the 200s' arrival times: a
 * target that falls behind spreads them out, while a few calls set up late by a retransmission
 * (which would stretch the first-to-last span by T1 or more) do not count.
 */
function achievedRate(times: readonly number[]): number {
  if (times.length < 2) return 0;
  const first = Math.floor(times.length * 0.01);
  const last = Math.ceil(times.length * 0.99) - 1;
  const spanS = (times[last]! - times[first]!) / 1000;
  return spanS > 0 ? (last - first) / spanS : 0;
}

function summarizeRtt(samples: readonly RttSample[]): { achievedCps: number; rtt: StepResult['rtt'] } {
  const times = samples.map((s) => s.atMs).sort((a, b) => a - b);
  const values = samples.map((s) => s.ms).sort((a, b) => a - b);
  const mean = values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length);
  return {
    achievedCps: achievedRate(times),
    rtt: { p50: percentile(values, 50), p99: percentile(values, 99), mean },
  };
}

/**
 * Waits until the daemon has no call and no dialog left, and, when `settleMs` > 0, no transaction.
 * @param target - the daemon
 * @param settleMs - upper bound of the wait for transactions (Timer J/L last 64×T1 = 32 s)
 * @returns the last counts read
 */
export async function settle(target: Target, settleMs: number): Promise<DaemonStats | undefined> {
  const deadline = Date.now() + Math.max(settleMs, 15_000);
  let stats = await target.stats();
  const busy = (s: DaemonStats): boolean => s.calls > 0 || s.dialogs > 0 || (settleMs > 0 && (s.clientTx > 0 || s.serverTx > 0));
  while (stats !== undefined && busy(stats) && Date.now() < deadline) {
    await sleep(250);
    stats = await target.stats();
  }
  return stats;
}

function judge(result: Omit<StepResult, 'clean' | 'reason'>, crashed: boolean): string {
  const reasons: string[] = [];
  if (crashed) reasons.push('target exited');
  if (result.failed > 0) reasons.push(`${result.failed} failed`);
  if (result.successful < result.calls) reasons.push(`${result.calls - result.successful} not completed`);
  if (result.achievedCps < 0.95 * result.rate) reasons.push(`${result.achievedCps.toFixed(0)} cps < 95 % of ${result.rate}`);
  if (result.rtt.p99 >= SETUP_P99_LIMIT_MS) reasons.push(`INVITE→200 p99 ${result.rtt.p99.toFixed(0)} ms ≥ T1: over 1 % of calls set up by retransmission`);
  return reasons.join(', ');
}

/**
 * Runs one step and stops everything it started.
 * @param target - system under test, or `direct`
 * @param rate - calls per second
 * @param options - ramp settings
 * @returns the measurements
 */
export async function runStep(target: StepTarget, rate: number, options: StepOptions): Promise<StepResult> {
  const dir = mkdtempSync(join(options.workRoot, `${target}-${rate}-`));
  const calls = Math.round(rate * options.stepSeconds);
  const limit = Math.min(15_000, Math.max(1000, Math.ceil(rate * (options.callMs / 1000 + 5))));
  const [uasPort, sipPort, httpPort, uacPort, appPort] = [options.ports(), options.ports(), options.ports(), options.ports(), options.ports()];
  const uas = await startUas(uasPort, dir);
  let system: Target | undefined;
  let peak: PeakSampler | undefined;
  try {
    if (target !== 'direct') system = await startTarget(target, { sipPort, httpPort, uasPort, appPort, dir, baselineRoot: options.baselineRoot });
    if (system) peak = new PeakSampler(() => system!.memoryKb(), 250);
    const uac = startUac({
      remote: `127.0.0.1:${system ? sipPort : uasPort}`, localPort: uacPort, rate, calls,
      callMs: options.callMs, limit, timeoutMs: (options.stepSeconds + options.callMs / 1000 + 30) * 1000, dir,
    });
    await Promise.race([sleep(1000), uac.child.exited]);
    const cpu = system ? new CpuWindow(system.pids()) : undefined;
    const helpers = system?.helperPids() ?? [];
    const helperCpu = helpers.length > 0 ? new CpuWindow(helpers) : undefined;
    const sippCpu = new CpuWindow([uac.child.pid, uas.pid]);
    await Promise.race([sleep(Math.max(1000, (options.stepSeconds - 1) * 1000)), uac.child.exited]);
    const cpuPercent = cpu?.percent();
    const helperCpuPercent = helperCpu?.percent();
    const sippCpuPercent = sippCpu.percent();
    const sipp = await uac.done;
    const drops = system ? udpDrops([sipPort]) : 0;
    const sippDrops = udpDrops([uasPort]) + sipp.drops;
    const dirty = sipp.failed > 0 || sipp.successful < calls || sipp.retransmissions > 0;
    const leftover = system ? await settle(system, dirty || options.alwaysSettle ? options.settleMs : 0) : undefined;
    const peakKb = system && peak ? Math.max(peak.stop(), system.hwmKb()) : undefined;
    const problems = system?.problems() ?? [];
    const crashed = system?.child.hasExited() ?? false;
    const { achievedCps, rtt } = summarizeRtt(sipp.rtt);
    const result = {
      target, rate, calls, achievedCps, rtt, cpuPercent, sippCpuPercent, helperCpuPercent, leftover,
      successful: sipp.successful, failed: sipp.failed, retransmissions: sipp.retransmissions,
      deadCallMessages: sipp.deadCallMessages, drops, sippDrops,
      peakMemoryMb: peakKb === undefined ? undefined : peakKb / 1024,
      problems: problems.slice(0, 5), problemCount: problems.length,
      sippErrors: sipp.failed > 0 || sipp.successful < calls ? sipp.errors : '',
    };
    const reason = judge(result, crashed);
    return { ...result, clean: reason === '', reason };
  } finally {
    peak?.stop();
    await system?.stop();
    await uas.stop(2000);
  }
}
