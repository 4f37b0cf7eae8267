/**
 * Readiness waits shared by the e2e tests: a port that is bound (read from /proc, so also for a
 * process in another network namespace), a condition that becomes true. Each waits for the signal
 * itself, polling, with a deadline that only bounds a hang (READY_TIMEOUT_MS, far above any start
 * time on a loaded 2-core machine), never the pass/fail timing of a test.
 */
import { readFileSync } from 'node:fs';
import { WAIT_TIMEOUT_MS, waitUntil, type WaitOptions } from '../support/wait.js';

export { waitUntil, type WaitOptions };

/** Deadline of a readiness wait: long enough for a loaded machine, short of the e2e test timeout (180 s). */
export const READY_TIMEOUT_MS = WAIT_TIMEOUT_MS;

/**
 * Whether a local port is bound (UDP) or in LISTEN (TCP), in /proc/net (IPv4 and IPv6).
 * @param port - local port
 * @param proto - udp or tcp
 * @param pid - read the network namespace of this process (/proc/PID/net) instead of ours
 */
export function portBound(port: number, proto: 'udp' | 'tcp', pid?: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const root = pid === undefined ? '/proc/net' : `/proc/${pid}/net`;
  for (const file of [`${root}/${proto}`, `${root}/${proto}6`]) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const rows = text.split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    if (rows.some((r) => r[1]?.endsWith(hex) && (proto === 'udp' || r[3] === '0A'))) return true;
  }
  return false;
}

/**
 * Waits until something listens on a local port.
 * @param port - local port
 * @param proto - udp or tcp
 * @param options - deadline, fail-fast reason, and `pid` for a process in another network namespace
 */
export function listening(port: number, proto: 'udp' | 'tcp', options: WaitOptions & { pid?: number } = {}): Promise<void> {
  return waitUntil(`nothing listens on ${proto} ${port}`, () => portBound(port, proto, options.pid), options);
}
