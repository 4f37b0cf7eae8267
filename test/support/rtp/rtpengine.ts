/**
 * A private rtpengine for tests: userspace only (`--table=-1`), NG on a free
 * loopback port, RTP ports in a random block, ready once its NG port answers
 * `ping` (never a sleep). The media tests skip when the binary is missing,
 * except with CI=true, where a missing rtpengine is a failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { NgClient } from '../../../runtime/media/ng-client.js';
import { waitUntil } from '../wait.js';

/** Where Debian's rtpengine-daemon installs the binary. */
export const RTPENGINE_BIN = '/usr/bin/rtpengine';

/** True when rtpengine is installed. */
export const rtpengineInstalled = existsSync(RTPENGINE_BIN);

/**
 * `describe` for tests that need a real rtpengine: skipped without the binary, except
 * with CI=true, where the missing binary fails the suite instead of skipping it.
 */
export function describeMedia(name: string, body: () => void): void {
  if (!rtpengineInstalled && process.env.CI === 'true') {
    describe(name, () => {
      it('needs rtpengine (CI=true: media tests must run, not skip)', () => {
        throw new Error(`${RTPENGINE_BIN} is missing: install rtpengine-daemon`);
      });
    });
    return;
  }
  describe.skipIf(!rtpengineInstalled)(name, body);
}

/** A free UDP port on loopback (bound, read, released). */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A running test rtpengine. */
export interface TestRtpengine {
  ngPort: number;
  portMin: number;
  portMax: number;
  process: ChildProcess;
  /** Everything it wrote on stderr. */
  stderr(): string;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<void>;
}

/** Options of {@link startRtpengine}. */
export interface TestRtpengineOptions {
  /** Where rtpengine sends its DTMF log JSON (`--dtmf-log-dest`), if anywhere. */
  dtmfLogPort?: number;
}

/** Starts rtpengine and resolves once its NG port answers `ping`. */
export async function startRtpengine(options: TestRtpengineOptions = {}): Promise<TestRtpengine> {
  const ngPort = await freeUdpPort();
  // an even base in 30000-39798, 200 ports: RTP + RTCP of plenty of streams
  const portMin = 30000 + 2 * Math.floor(Math.random() * 4900);
  const portMax = portMin + 199;
  const dir = mkdtempSync(join(tmpdir(), 'pb-rtpengine-'));
  const args = [
    '--config-file=none', '--foreground', '--log-stderr', '--no-log-timestamps', '--log-level=5', '--table=-1',
    `--pidfile=${join(dir, 'rtpengine.pid')}`, '--interface=127.0.0.1', `--listen-ng=127.0.0.1:${ngPort}`,
    `--port-min=${portMin}`, `--port-max=${portMax}`, '--delete-delay=0',
  ];
  if (options.dtmfLogPort !== undefined) args.push(`--dtmf-log-dest=127.0.0.1:${options.dtmfLogPort}`);
  const child = spawn(RTPENGINE_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let exited: string | undefined;
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
  const exitedPromise = new Promise<void>((resolve) => child.once('exit', (code, signal) => { exited = `exited (${code ?? signal})`; resolve(); }));
  child.once('error', (error) => { exited = error.message; });
  const probe = new NgClient({ host: '127.0.0.1', port: ngPort, timeoutMs: 500, retransmitMs: 250 });
  try {
    await waitUntil('rtpengine answers ping', () => probe.ping().then(() => true, () => false), {
      failFast: () => (exited === undefined ? undefined : `${exited}: ${stderr.slice(-2000)}`),
    });
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  } finally {
    probe.close();
  }
  return {
    ngPort, portMin, portMax, process: child,
    stderr: () => stderr,
    async stop() {
      if (exited === undefined) child.kill('SIGTERM');
      await exitedPromise;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
