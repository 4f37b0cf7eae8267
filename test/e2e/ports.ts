/**
 * The port ranges of the e2e files: one table, each file's range laid after
 * the one before it, so no two files share a port and a new file gets its
 * range by adding a row here, never by picking a base by hand. A file asks
 * for its own range with `e2ePorts(import.meta.url)`; a file that is not in
 * the table gets an error naming this one.
 *
 * The ranges stay below Linux's ephemeral range (32768-60999): a port there
 * can be taken at any moment by an outgoing connection (a webhook, SIPp over
 * TCP) and make a daemon's bind fail. PATCHBAY_TEST_PORT_SHIFT moves them
 * all, so two checkouts can run their e2e suites side by side.
 */
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the first range starts (before the shift). */
export const FIRST_PORT = 11_000;

/** First port of the ephemeral range (net.ipv4.ip_local_port_range): every range ends below it. */
export const EPHEMERAL_START = 32_768;

/**
 * Each e2e file and how many ports it uses (its highest offset + 1, rounded up), in layout order.
 * Append new files at the end; growing a row moves the ranges after it, which is fine.
 */
export const E2E_PORT_TABLE: ReadonlyArray<readonly [file: string, size: number]> = [
  ['calls.e2e.test.ts', 100], // ten cases, 10 ports each: daemon (+5 HTTP), UAS, UAC, lossy relay
  ['tls.e2e.test.ts', 20],
  ['api.e2e.test.ts', 10],
  ['drain.e2e.test.ts', 20],
  ['twiml.e2e.test.ts', 60],
  ['twiml-more.e2e.test.ts', 100], // +99 is a port nothing listens on
  ['transfer.e2e.test.ts', 20],
  ['transfer-stress.e2e.test.ts', 20],
  ['call-log.e2e.test.ts', 30],
  ['npm-start.e2e.test.ts', 20],
  ['readme.e2e.test.ts', 30],
  ['crash.e2e.test.ts', 10],
  ['fuzz.e2e.test.ts', 20], // the fuzzer's own 5 (--port-base) and a daemon at +10
  ['control-chars.e2e.test.ts', 10],
  ['faults.e2e.test.ts', 10],
  ['tcp-limits.e2e.test.ts', 10],
];

/** e2e files that bind no port of the host: each runs in a network namespace of its own. */
export const OWN_NAMESPACE: readonly string[] = ['loss.e2e.test.ts'];

/** One file's ports: `base` to `base + size - 1`. */
export interface PortRange {
  readonly file: string;
  readonly base: number;
  readonly size: number;
  /** `base + offset`; a RangeError outside the range. */
  port(offset: number): number;
}

/** PATCHBAY_TEST_PORT_SHIFT, checked: a whole number that keeps every range in 1024-32767. */
export function portShift(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.PATCHBAY_TEST_PORT_SHIFT ?? '0';
  const shift = Number(raw);
  const total = E2E_PORT_TABLE.reduce((sum, [, size]) => sum + size, 0);
  if (!Number.isInteger(shift) || FIRST_PORT + shift < 1024 || FIRST_PORT + shift + total > EPHEMERAL_START) {
    throw new RangeError(`PATCHBAY_TEST_PORT_SHIFT=${raw}: must be a whole number that keeps ports ${FIRST_PORT}+shift to ${FIRST_PORT + total - 1}+shift within 1024-${EPHEMERAL_START - 1}`);
  }
  return shift;
}

/** Every file's range, in table order. */
export function portRanges(shift = portShift()): PortRange[] {
  let next = FIRST_PORT + shift;
  return E2E_PORT_TABLE.map(([file, size]) => {
    const base = next;
    next += size;
    return {
      file, base, size,
      port(offset: number): number {
        if (!Number.isInteger(offset) || offset < 0 || offset >= size) throw new RangeError(`${file}: port offset ${offset} is outside its ${size} ports (test/e2e/ports.ts)`);
        return base + offset;
      },
    };
  });
}

/**
 * The range of the calling e2e file.
 * @param fileUrl - the file's `import.meta.url` (or its path)
 */
export function e2ePorts(fileUrl: string): PortRange {
  const file = basename(fileUrl.startsWith('file:') ? fileURLToPath(fileUrl) : fileUrl);
  const range = portRanges().find((r) => r.file === file);
  if (!range) throw new Error(`${file} has no port range: add a row for it to E2E_PORT_TABLE in test/e2e/ports.ts`);
  return range;
}
