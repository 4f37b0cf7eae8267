/**
 * CPU and memory of a process tree, read from Linux `/proc`: `stat` for utime + stime, `status` for
 * VmRSS / VmHWM, `smaps_rollup` for Pss (shared memory counted once across Kamailio's processes).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of utime/stime (`getconf CLK_TCK`, 100 on Linux). */
export const CLK_TCK = readClockTicks();

function readClockTicks(): number {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Fields of `/proc/<pid>/stat` after the command name, which may itself hold spaces and parentheses. */
function statFields(pid: number): string[] | undefined {
  const text = readText(`/proc/${pid}/stat`);
  if (text === undefined) return undefined;
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/**
 * The process and all of its descendants (Kamailio forks its workers; Node's threads are already
 * counted in the process's own figures).
 * @param root - pid of the top process
 * @returns `root` first, then every live descendant
 */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields === undefined) continue;
    const parent = Number(fields[1]);
    const list = children.get(parent) ?? [];
    list.push(Number(entry));
    children.set(parent, list);
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/**
 * Total CPU time (user + system) the processes have used so far, in clock ticks.
 * @param pids - processes to add up; vanished ones count as zero
 * @returns utime + stime summed over `pids`
 */
export function cpuTicks(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    const fields = statFields(pid);
    if (fields === undefined) continue;
    total += Number(fields[11]) + Number(fields[12]);
  }
  return total;
}

/**
 * One `kB` line of `/proc/<pid>/status` (VmRSS, VmHWM, Threads are all "Name: value").
 * @param pid - process to read
 * @param field - line name, for example `VmHWM`
 * @returns the value in kB (0 when the process is gone)
 */
export function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const text = readText(`/proc/${pid}/status`) ?? '';
  const match = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

/**
 * Proportional set size of the processes, summed: pages shared by several of them are split between
 * them, so the sum is the tree's real footprint.
 * @param pids - processes to add up
 * @returns Σ Pss in kB
 */
export function pssKb(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    const match = /^Pss:\s+(\d+)/m.exec(readText(`/proc/${pid}/smaps_rollup`) ?? '');
    total += match ? Number(match[1]) : 0;
  }
  return total;
}

/** CPU use of a process tree over a window, as a percentage of one core (200 % = two cores busy). */
export class CpuWindow {
  private readonly startTicks: number;
  private readonly startMs = performance.now();

  /** @param pids - the processes to watch, fixed for the window */
  constructor(private readonly pids: readonly number[]) {
    this.startTicks = cpuTicks(pids);
  }

  /** @returns CPU % of one core since the window opened */
  percent(): number {
    const seconds = (performance.now() - this.startMs) / 1000;
    const used = (cpuTicks(this.pids) - this.startTicks) / CLK_TCK;
    return seconds > 0 ? (100 * used) / seconds : 0;
  }
}

/** Samples a memory figure every `intervalMs` and keeps the largest. */
export class PeakSampler {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  /**
   * @param read - returns the current footprint in kB
   * @param intervalMs - sampling period
   */
  constructor(private readonly read: () => number, intervalMs: number) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Takes one sample now. */
  sample(): void {
    this.peak = Math.max(this.peak, this.read());
  }

  /** @returns the largest sample so far, in kB, after one last sample; stops sampling */
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

/**
 * Datagrams the kernel dropped on bound UDP sockets because their receive buffer was full (the
 * `drops` column of `/proc/net/udp`), summed over the given local ports.
 * @param ports - local ports of the sockets
 * @returns total drops so far (0 for ports with no socket)
 */
export function udpDrops(ports: readonly number[]): number {
  const wanted = new Set(ports);
  let total = 0;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    for (const line of (readText(file) ?? '').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const port = parseInt(fields[1]?.split(':')[1] ?? '', 16);
      if (wanted.has(port)) total += Number(fields.at(-1)) || 0;
    }
  }
  return total;
}
