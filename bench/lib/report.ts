/**
 * Prints suite results as text tables and writes them as JSON.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, arch, platform, release } from 'node:os';
import { dirname } from 'node:path';
import type { SuiteResult, TaskResult } from './types.js';

/** Where and how a run happened, stored beside the results. */
export interface RunInfo {
  /** ISO time the run started. */
  startedAt: string;
  /** `process.version`. */
  node: string;
  /** OS, release and architecture. */
  os: string;
  /** CPU model and logical core count. */
  cpu: string;
  /** Measured time per task, in milliseconds. */
  timeMs: number;
  /** CLI filters the suites were selected with. */
  filters: string[];
}

/**
 * Describes the current process and machine.
 * @param timeMs - measured time per task
 * @param filters - CLI filters in effect
 * @returns the run description
 */
export function describeRun(timeMs: number, filters: string[]): RunInfo {
  const cores = cpus();
  return {
    startedAt: new Date().toISOString(),
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    cpu: `${cores[0]?.model.trim() ?? 'unknown'} × ${cores.length}`,
    timeMs,
    filters,
  };
}

function formatNumber(value: number, fractionDigits: number): string {
  return value.toLocaleString('en-US', {
    minimumFractionDigits: fractionDigits,
    maximumFractionDigits: fractionDigits,
  });
}

function formatFactor(factor: number): string {
  return formatNumber(factor, factor >= 100 ? 0 : factor >= 10 ? 1 : 2);
}

function formatRatio(task: TaskResult): string {
  if (task.ratio === undefined) {
    return '';
  }
  if (task.baseline === task.name) {
    return 'baseline';
  }
  return task.ratio >= 1 ? `${formatFactor(task.ratio)}x faster` : `${formatFactor(1 / task.ratio)}x slower`;
}

function row(task: TaskResult): string[] {
  return [
    task.name,
    formatNumber(task.nsPerOp, 0),
    formatNumber(task.p99Ns, 0),
    formatNumber(task.opsPerSec, 0),
    `±${formatNumber(task.rme, 1)}%`,
    formatRatio(task),
  ];
}

const HEADINGS = ['task', 'ns/op', 'p99 ns', 'ops/s', 'rme', 'vs baseline'];

/** The first column is left-aligned, the numbers right-aligned. */
function align(cells: string[], widths: number[]): string {
  return cells
    .map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0)))
    .join('  ');
}

/**
 * Formats one suite as a text table, one block per comparison group.
 * @param suite - the measured suite
 * @returns the table, without a trailing newline
 */
export function formatSuite(suite: SuiteResult): string {
  const groups = [...new Set(suite.tasks.map((task) => task.group))];
  const rows = suite.tasks.map(row);
  const widths = HEADINGS.map((heading, column) =>
    Math.max(heading.length, ...rows.map((cells) => cells[column]?.length ?? 0)),
  );
  const lines = [
    `${suite.name}  (baseline: ${suite.baselineLabel})`,
    align(HEADINGS, widths),
  ];
  for (const group of groups) {
    if (groups.length > 1) {
      lines.push(`-- ${group}`);
    }
    suite.tasks.forEach((task, index) => {
      if (task.group === group) {
        lines.push(align(rows[index] ?? [], widths));
      }
    });
  }
  return lines.join('\n');
}

/**
 * Writes the run and its results as JSON, creating the folder if needed.
 * @param file - absolute path of the JSON file
 * @param run - run description
 * @param suites - measured suites
 */
export function writeResults(file: string, run: RunInfo, suites: SuiteResult[]): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ run, suites }, null, 2)}\n`);
}
