/**
 * Child processes of the daemon bench: every one is registered so that the runner can kill all of
 * them at the end, on error and on Ctrl-C, and never leaves a SIPp, Patchbay or Kamailio behind.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';

const live = new Set<ChildProcess>();

/** A started child with its exit as a promise and its output kept in memory (bounded). */
export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Whether the process has exited. */
  hasExited(): boolean;
  /** Everything written on stdout and stderr, truncated to the last `keepBytes`. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves on exit. */
  stop(graceMs?: number): Promise<number | null>;
}

/**
 * Starts a process and registers it for cleanup.
 * @param command - executable
 * @param args - arguments
 * @param options - spawn options (stdio is always piped)
 * @param keepBytes - how much output to keep
 * @returns the child, already running
 */
export function startChild(command: string, args: string[], options: SpawnOptions = {}, keepBytes = 1 << 20): Child {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`cannot start ${command}`);
  live.add(child);
  let text = '';
  let done = false;
  const keep = (data: Buffer): void => {
    text += data.toString();
    if (text.length > keepBytes) text = text.slice(text.length - keepBytes);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', (error) => { text += `\n${String(error)}`; });
    child.on('close', (code) => {
      done = true;
      live.delete(child);
      resolve(code);
    });
  });
  return {
    process: child,
    pid: child.pid,
    exited,
    hasExited: () => done,
    output: () => text,
    async stop(graceMs = 5000): Promise<number | null> {
      if (done) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Kills every registered child that is still running (SIGKILL: used on errors and at exit). */
export function killAllChildren(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/** Kills the registered children when the runner exits, fails or is interrupted. */
export function installCleanup(): void {
  process.on('exit', killAllChildren);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      killAllChildren();
      process.exit(130);
    });
  }
}

/**
 * Resolves after `ms` milliseconds.
 * @param ms - delay
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function udpPortBound(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    try {
      const lines = readFileSync(file, 'utf8').split('\n');
      if (lines.some((line) => line.trim().split(/\s+/)[1]?.endsWith(`:${hex}`))) return true;
    } catch {
      continue;
    }
  }
  return false;
}

/**
 * Waits until some process has bound a UDP port (read from `/proc/net/udp`).
 * @param port - local port to wait for
 * @param child - the process expected to bind it; failing fast if it exits
 * @param timeoutMs - how long to wait
 */
export async function waitForUdpPort(port: number, child: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!udpPortBound(port)) {
    if (child.hasExited()) throw new Error(`process exited before binding udp ${port}:\n${child.output().slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`nothing bound udp ${port} within ${timeoutMs} ms:\n${child.output().slice(-2000)}`);
    await sleep(50);
  }
}
