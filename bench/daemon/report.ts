/**
 * Markdown tables of the daemon bench: the direct baseline, one table per target with the latency
 * it adds over the baseline at the same rate, a side-by-side summary and the memory mode.
 */
import type { DaemonStats } from '../../runtime/daemon.js';
import type { MemoryResult } from './memory.js';
import type { StepResult } from './step.js';
import type { TargetName } from './targets.js';

const DISPLAY: Record<TargetName, string> = { 'patchbay': 'Patchbay', 'patchbay-pool': 'Patchbay pool', 'patchbay-twiml': 'Patchbay TwiML', 'patchbay-base': 'Patchbay (baseline)', 'patchbay-twiml-base': 'Patchbay TwiML (baseline)', 'kamailio': 'Kamailio' };

function num(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function signed(value: number, digits: number): string {
  if (!Number.isFinite(value)) return '–';
  const text = num(value, digits);
  return value > 0 ? `+${text}` : text;
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function table(head: string[], rows: string[][]): string {
  return [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');
}

/** Latency a target adds over the direct baseline at the same rate (ms). */
export function added(step: StepResult, baseline: StepResult | undefined): { p50: number; p99: number; mean: number } {
  if (baseline === undefined) return { p50: NaN, p99: NaN, mean: NaN };
  return {
    p50: step.rtt.p50 - baseline.rtt.p50,
    p99: step.rtt.p99 - baseline.rtt.p99,
    mean: step.rtt.mean - baseline.rtt.mean,
  };
}

function verdict(step: StepResult): string {
  return step.clean ? 'clean' : `**${step.reason}**`;
}

function leftoverText(stats: DaemonStats | undefined): string {
  if (stats === undefined) return '–';
  return `${stats.calls}/${stats.dialogs}/${stats.clientTx}/${stats.serverTx}`;
}

/**
 * Table of the direct UAC→UAS runs.
 * @param baselines - one step per rate
 * @returns Markdown
 */
export function formatBaseline(baselines: readonly StepResult[]): string {
  return table(
    ['rate (cps)', 'achieved cps', 'ok / failed', 'retrans', 'SIPp drops', 'INVITE→200 p50 / p99 / mean (ms)', 'SIPp CPU %', 'verdict'],
    baselines.map((b) => [
      num(b.rate), num(b.achievedCps), `${num(b.successful)} / ${num(b.failed)}`, num(b.retransmissions), num(b.sippDrops),
      `${num(b.rtt.p50)} / ${num(b.rtt.p99)} / ${num(b.rtt.mean, 2)}`, num(b.sippCpuPercent), verdict(b),
    ]),
  );
}

/**
 * Table of one target's ramp.
 * @param steps - the target's steps, in rate order
 * @param baselines - direct runs, matched by rate
 * @returns Markdown
 */
export function formatTarget(steps: readonly StepResult[], baselines: readonly StepResult[]): string {
  const patchbay = steps[0]?.target !== 'kamailio';
  const app = steps.some((s) => s.helperCpuPercent !== undefined);
  const head = ['rate (cps)', 'achieved cps', 'ok / failed', 'retrans', 'drops', 'added p50 / p99 / mean (ms)', 'CPU %', `peak ${patchbay ? 'RSS' : 'Σ PSS'} (MB)`, 'SIPp CPU %'];
  if (app) head.push('web app CPU %');
  if (patchbay) head.push('left c/d/ctx/stx', 'log lines');
  head.push('verdict');
  return table(head, steps.map((s) => {
    const extra = added(s, baselines.find((b) => b.rate === s.rate));
    const cells = [
      num(s.rate), num(s.achievedCps), `${num(s.successful)} / ${num(s.failed)}`, num(s.retransmissions), num(s.drops),
      `${signed(extra.p50, 0)} / ${signed(extra.p99, 0)} / ${signed(extra.mean, 2)}`,
      num(s.cpuPercent), num(s.peakMemoryMb), num(s.sippCpuPercent),
    ];
    if (app) cells.push(num(s.helperCpuPercent));
    if (patchbay) cells.push(leftoverText(s.leftover), num(s.problemCount));
    cells.push(verdict(s));
    return cells;
  }));
}

/**
 * Patchbay and Kamailio side by side, one row per rate; ✗ marks a step that is not clean.
 * @param byTarget - steps per target
 * @param baselines - direct runs
 * @returns Markdown
 */
export function formatSideBySide(byTarget: ReadonlyMap<TargetName, readonly StepResult[]>, baselines: readonly StepResult[]): string {
  const names = [...byTarget.keys()];
  const head = ['rate (cps)'];
  for (const name of names) head.push(`${DISPLAY[name]} cps / failed`, 'retrans', 'added p99 / mean (ms)', 'CPU %', 'MB');
  const rates = [...new Set(names.flatMap((n) => byTarget.get(n)!.map((s) => s.rate)))].sort((a, b) => a - b);
  return table(head, rates.map((rate) => {
    const cells = [num(rate)];
    for (const name of names) {
      const s = byTarget.get(name)!.find((x) => x.rate === rate);
      if (s === undefined) {
        cells.push('–', '–', '–', '–', '–');
        continue;
      }
      const extra = added(s, baselines.find((b) => b.rate === rate));
      cells.push(`${num(s.achievedCps)} / ${num(s.failed)}${s.clean ? '' : ' ✗'}`, num(s.retransmissions), `${signed(extra.p99, 0)} / ${signed(extra.mean, 2)}`, num(s.cpuPercent), num(s.peakMemoryMb));
    }
    return cells;
  }));
}

/**
 * The highest rate a target passed with zero failures.
 * @param steps - the target's steps
 * @returns the rate, or 0 when none was clean
 */
export function highestClean(steps: readonly StepResult[]): number {
  return Math.max(0, ...steps.filter((s) => s.clean).map((s) => s.rate));
}

/**
 * Calls per second SIPp achieved at the highest clean step (a step is clean down to 95 % of its rate).
 * @param steps - the target's steps
 * @returns the achieved rate, or 0 when no step was clean
 */
export function achievedAtHighestClean(steps: readonly StepResult[]): number {
  const rate = highestClean(steps);
  return steps.find((s) => s.clean && s.rate === rate)?.achievedCps ?? 0;
}

/** Daemon CPU time per call in ms (CPU % of one core over the window ÷ calls per second). */
export function cpuMsPerCall(step: StepResult): number {
  return step.cpuPercent === undefined || step.achievedCps <= 0 ? NaN : (10 * step.cpuPercent) / step.achievedCps;
}

/** The TwiML round trip against the static route: highest clean rates, their ratio, and the target. */
export interface TwimlComparison {
  staticClean: number;
  twimlClean: number;
  /** Calls per second achieved at those two steps (a clean step may fall short of its rate by 5 %). */
  staticAchieved: number;
  twimlAchieved: number;
  /** twimlClean / staticClean. */
  ratio: number;
  /** 1 − ratio: the share of clean calls per second the round trip costs. */
  cost: number;
  /**
   * Whether the static route failed a step: when it was still clean at the top of the ramp its
   * limit is unknown, `staticClean` is only a lower bound and so is `cost`.
   */
  bounded: boolean;
  /** The target: the round trip costs under 20 % (only ever true when `bounded`). */
  met: boolean;
}

/**
 * Compares the static route (`patchbay`) with the TwiML round trip (`patchbay-twiml`).
 * @param byTarget - steps per target
 * @returns undefined unless both ran
 */
export function compareTwiml(byTarget: ReadonlyMap<TargetName, readonly StepResult[]>): TwimlComparison | undefined {
  const fixed = byTarget.get('patchbay');
  const twiml = byTarget.get('patchbay-twiml');
  if (fixed === undefined || twiml === undefined) return undefined;
  const staticClean = highestClean(fixed);
  const twimlClean = highestClean(twiml);
  const ratio = staticClean > 0 ? twimlClean / staticClean : NaN;
  const bounded = fixed.some((s) => !s.clean);
  return { staticClean, twimlClean, staticAchieved: achievedAtHighestClean(fixed), twimlAchieved: achievedAtHighestClean(twiml), ratio, cost: 1 - ratio, bounded, met: bounded && Number.isFinite(ratio) && 1 - ratio < 0.2 };
}

/**
 * The static route and the TwiML round trip side by side, one row per rate, with the daemon's CPU
 * time per call and what the TwiML mode adds to it; ✗ marks a step that is not clean.
 * @param byTarget - steps per target (patchbay and patchbay-twiml)
 * @param baselines - direct runs
 * @returns Markdown, empty unless both ran
 */
export function formatTwimlSideBySide(byTarget: ReadonlyMap<TargetName, readonly StepResult[]>, baselines: readonly StepResult[]): string {
  const fixed = byTarget.get('patchbay');
  const twiml = byTarget.get('patchbay-twiml');
  if (fixed === undefined || twiml === undefined) return '';
  const rates = [...new Set([...fixed, ...twiml].map((s) => s.rate))].sort((a, b) => a - b);
  const cell = (s: StepResult | undefined, rate: number): string[] => {
    if (s === undefined) return ['–', '–', '–', '–'];
    const extra = added(s, baselines.find((b) => b.rate === rate));
    return [`${num(s.achievedCps)} / ${num(s.failed)}${s.clean ? '' : ' ✗'}`, `${signed(extra.p99, 0)} / ${signed(extra.mean, 2)}`, num(s.cpuPercent), num(cpuMsPerCall(s), 3)];
  };
  return table(
    ['rate (cps)', 'static cps / failed', 'added p99 / mean (ms)', 'CPU %', 'CPU ms / call', 'TwiML cps / failed', 'added p99 / mean (ms)', 'CPU %', 'CPU ms / call', 'web app CPU %', 'TwiML CPU / static'],
    rates.map((rate) => {
      const a = fixed.find((s) => s.rate === rate);
      const b = twiml.find((s) => s.rate === rate);
      const ratio = a && b ? cpuMsPerCall(b) / cpuMsPerCall(a) : NaN;
      return [num(rate), ...cell(a, rate), ...cell(b, rate), num(b?.helperCpuPercent), Number.isFinite(ratio) ? `×${num(ratio, 2)}` : '–'];
    }),
  );
}

/**
 * Summary of the memory mode.
 * @param results - one per Patchbay variant
 * @returns Markdown
 */
export function formatMemory(results: readonly MemoryResult[]): string {
  return table(
    ['target', 'calls × duration @ rate', 'peak concurrent', 'idle RSS (MB)', 'RSS at peak (MB)', 'VmHWM (MB)', 'per call (kB)', 'ok / failed', 'retrans', 'left c/d/ctx/stx', 'log lines'],
    results.map((m) => [
      DISPLAY[m.target], `${num(m.calls)} × ${num(m.callMs / 1000)} s @ ${num(m.rate)} cps`, num(m.peakConcurrent), num(m.idleRssMb), num(m.rssAtPeakMb),
      num(m.hwmMb), num(m.kbPerCall, 1), `${num(m.successful)} / ${num(m.failed)}`, num(m.retransmissions),
      leftoverText(m.leftover), num(m.problemCount),
    ]),
  );
}

/**
 * The problems a step or the memory mode reported, for the notes below the tables.
 * @param label - what ran
 * @param lines - first log lines
 * @param count - how many there were
 * @param sippErrors - start of SIPp's error log
 * @returns Markdown, empty when there was nothing
 */
export function formatProblems(label: string, lines: readonly string[], count: number, sippErrors: string): string {
  const parts: string[] = [];
  if (count > 0) parts.push(`${label}: ${count} log line(s) at warn/error, first:\n\n\`\`\`\n${lines.map((l) => l.slice(0, 400)).join('\n')}\n\`\`\``);
  if (sippErrors.trim() !== '') parts.push(`${label}: SIPp errors, first:\n\n\`\`\`\n${sippErrors.slice(0, 1200).trim()}\n\`\`\``);
  return parts.join('\n\n');
}
