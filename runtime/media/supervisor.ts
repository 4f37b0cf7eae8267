/**
 * Runs and supervises a private rtpengine on loopback (embedded mode):
 * userspace forwarding only (`--table=-1`, no kernel module), no config file,
 * no fork, logs on stderr (each line re-logged through our logger at the
 * matching level), NG on a free loopback UDP port and RTP in a port range
 * that avoids the ports Patchbay itself uses (SIP, HTTP). It is ready once
 * its NG port answers `ping`. If it dies it is started again after a backoff
 * that doubles on every failed or short-lived run (up to `maxBackoffMs`), and
 * `close()` (or this process exiting, even killed, through setpriv's
 * --pdeathsig) stops it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { MediaConfigError, MediaUnavailableError } from './errors.js';
import { NgClient } from './ng-client.js';

/** util-linux's setpriv, used for its --pdeathsig. */
const SETPRIV = '/usr/bin/setpriv';

/** Where Debian's rtpengine-daemon installs the binary. */
export const DEFAULT_RTPENGINE_BINARY = '/usr/bin/rtpengine';

/** Options of {@link RtpengineSupervisor}. */
export interface SupervisorOptions {
  /** The rtpengine binary (default /usr/bin/rtpengine). */
  binary?: string;
  /** Loopback address rtpengine listens on for NG and RTP (default 127.0.0.1). */
  address?: string;
  /** NG port; 0 or absent: a free one. */
  ngPort?: number;
  /** RTP port range (default 30000-39999, moved past any of `avoidPorts` inside it). */
  portMin?: number;
  portMax?: number;
  /** Ports Patchbay uses (SIP, HTTP): neither the NG port nor the RTP range may contain them. */
  avoidPorts?: readonly number[];
  /** Where rtpengine sends its DTMF log JSON (`--dtmf-log-dest`). */
  dtmfLogDest?: { host: string; port: number };
  /** rtpengine's log level, 0-7 (default 5, notice). */
  logLevel?: number;
  /** How long a start may take before it counts as failed (default 20 s). */
  readyTimeoutMs?: number;
  /** First restart delay (default 250 ms); doubles per failure up to maxBackoffMs (default 10 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  logger: Logger;
}

/**
 * The delay before restart number `failures` (1 = first): initial * 2^(failures-1), capped.
 * @param failures - consecutive failed or short-lived runs
 */
export function restartDelay(failures: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, Math.min(30, failures - 1)));
}

/**
 * An RTP port range of `min..max` that contains none of `avoid`: the range is moved up past
 * every avoided port inside it. Both bounds even/odd as rtpengine wants (min even).
 */
export function chooseRtpRange(min: number, max: number, avoid: readonly number[]): { portMin: number; portMax: number } {
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1024 || max > 65535 || max - min < 3) {
    throw new MediaConfigError(`RTP port range ${min}-${max} is not usable (1024-65535, at least 4 ports)`);
  }
  let lo = min % 2 === 0 ? min : min + 1;
  const size = max - lo;
  for (let moved = true; moved;) {
    moved = false;
    for (const p of avoid) {
      if (p >= lo && p <= lo + size) {
        lo = p + 1 + ((p + 1) % 2);
        moved = true;
      }
    }
  }
  if (lo + size > 65535) throw new MediaConfigError(`no RTP port range of ${size + 1} ports avoids ports ${avoid.join(', ')}`);
  return { portMin: lo, portMax: lo + size };
}

/** A free loopback UDP port for which `usable` holds. */
async function freeUdpPort(address: string, usable: (port: number) => boolean): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const s = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => { s.once('error', reject); s.bind(0, address, resolve); });
    const { port } = s.address();
    await new Promise<void>((resolve) => s.close(() => resolve()));
    if (usable(port)) return port;
  }
  throw new MediaUnavailableError(`no free UDP port for rtpengine's NG control on ${address}`);
}

const LEVELS: Array<[RegExp, 'error' | 'warn' | 'info' | 'debug']> = [
  [/^(EMERG|ALERT|CRIT|ERR|ERROR)\b/, 'error'],
  [/^WARNING\b/, 'warn'],
  [/^(NOTICE|INFO)\b/, 'info'],
  [/^DEBUG\b/, 'debug'],
];

/** Events: `ready` (each time it answers ping after a start), `exit` (code, signal: it died). */
export class RtpengineSupervisor extends EventEmitter {
  readonly address: string;
  private readonly binary: string;
  private readonly log: Logger;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private ngPortValue = 0;
  private range = { portMin: 0, portMax: 0 };
  private child: ChildProcess | undefined;
  private dir: string | undefined;
  private closing = false;
  /** Set once the first start succeeded: from then on a death means a restart. */
  private started = false;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private readyAt = 0;
  private readonly onProcessExit = (): void => { this.child?.kill('SIGKILL'); };

  /** @param options - binary, ports, logger. */
  constructor(private readonly options: SupervisorOptions) {
    super();
    this.address = options.address ?? '127.0.0.1';
    this.binary = options.binary ?? DEFAULT_RTPENGINE_BINARY;
    this.log = options.logger.child('rtpengine');
    this.initialBackoffMs = options.initialBackoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
  }

  /** The NG port (known once `start` resolved). */
  get ngPort(): number {
    return this.ngPortValue;
  }

  /** The RTP port range given to rtpengine. */
  get rtpRange(): { portMin: number; portMax: number } {
    return { ...this.range };
  }

  /** The running rtpengine's pid, if one runs. */
  get pid(): number | undefined {
    return this.child?.exitCode === null ? this.child.pid : undefined;
  }

  /** Starts rtpengine; resolves once it answers ping, rejects with MediaUnavailableError if it cannot. */
  async start(): Promise<void> {
    if (!existsSync(this.binary)) throw new MediaUnavailableError(`rtpengine not found at ${this.binary} (install rtpengine-daemon, or run with --media off)`);
    const avoid = this.options.avoidPorts ?? [];
    this.range = chooseRtpRange(this.options.portMin ?? 30000, this.options.portMax ?? 39999, avoid);
    const { portMin, portMax } = this.range;
    this.ngPortValue = this.options.ngPort || await freeUdpPort(this.address, (p) => !avoid.includes(p) && (p < portMin || p > portMax));
    process.on('exit', this.onProcessExit);
    try {
      await this.run();
    } catch (error) {
      process.off('exit', this.onProcessExit);
      this.cleanDir();
      throw error;
    }
    this.started = true;
  }

  /** Stops rtpengine (SIGTERM, SIGKILL after 5 s) and does not restart it. */
  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.restartTimer);
    process.off('exit', this.onProcessExit);
    const child = this.child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(kill);
    }
    this.cleanDir();
  }

  private args(dir: string): string[] {
    const a = [
      '--config-file=none', '--foreground', '--log-stderr', '--no-log-timestamps', `--log-level=${this.options.logLevel ?? 5}`,
      '--table=-1', `--pidfile=${join(dir, 'rtpengine.pid')}`, `--interface=${this.address}`,
      `--listen-ng=${this.address.includes(':') ? `[${this.address}]` : this.address}:${this.ngPortValue}`,
      `--port-min=${this.range.portMin}`, `--port-max=${this.range.portMax}`, '--delete-delay=0',
    ];
    const d = this.options.dtmfLogDest;
    if (d !== undefined) a.push(`--dtmf-log-dest=${d.host.includes(':') ? `[${d.host}]` : d.host}:${d.port}`);
    return a;
  }

  /** One run: spawn, wait for ping; on a failed start, reject (first start) or schedule a restart. */
  private async run(): Promise<void> {
    this.cleanDir();
    const dir = mkdtempSync(join(tmpdir(), 'patchbay-rtpengine-'));
    this.dir = dir;
    // util-linux setpriv (when there) asks the kernel to SIGTERM rtpengine if this process dies
    // without closing it (SIGKILL, a crash), so no rtpengine outlives Patchbay; it then execs rtpengine
    const [command, args] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'TERM', '--', this.binary, ...this.args(dir)]] : [this.binary, this.args(dir)];
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let exited: string | undefined;
    let tail = '';
    let partial = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.logLine(line);
      tail = (tail + chunk).slice(-2000);
    });
    child.once('error', (error) => { exited = error.message; });
    child.once('exit', (code, signal) => {
      exited = `exited with ${code !== null ? `code ${code}` : signal}`;
      if (partial !== '') this.logLine(partial);
      if (this.child === child) this.onExit(code, signal);
    });
    const probe = new NgClient({ host: this.address, port: this.ngPortValue, timeoutMs: 500, retransmitMs: 250 });
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 20_000);
    try {
      for (;;) {
        if (exited !== undefined) throw new MediaUnavailableError(`rtpengine ${exited} before answering ping: ${tail.trim().slice(-500)}`);
        if (Date.now() > deadline) {
          child.kill('SIGKILL');
          throw new MediaUnavailableError(`rtpengine did not answer ping on ${this.address}:${this.ngPortValue} within ${this.options.readyTimeoutMs ?? 20_000} ms`);
        }
        if (await probe.ping().then(() => true, () => false)) break;
      }
    } finally {
      probe.close();
    }
    this.readyAt = Date.now();
    this.log.info('rtpengine ready', { pid: child.pid, ng: `${this.address}:${this.ngPortValue}`, ...this.range });
    this.emit('ready');
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.closing || !this.started) return;
    // a run that lasted under a minute counts as a failure: the backoff keeps growing
    this.failures = this.readyAt > 0 && Date.now() - this.readyAt > 60_000 ? 1 : this.failures + 1;
    this.readyAt = 0;
    const delay = restartDelay(this.failures, this.initialBackoffMs, this.maxBackoffMs);
    this.log.error('rtpengine died; restarting', { code, signal, restartInMs: delay, failures: this.failures });
    this.emit('exit', code, signal);
    this.restartTimer = setTimeout(() => {
      if (this.closing) return;
      this.run().catch((error: Error) => {
        this.log.error('rtpengine restart failed', { error: error.message });
        // a child that exited already scheduled the next try through onExit; one that hung was killed
      });
    }, delay);
  }

  private logLine(line: string): void {
    const text = line.trim();
    if (text === '') return;
    const level = LEVELS.find(([re]) => re.test(text))?.[1] ?? 'info';
    this.log[level](text);
  }

  private cleanDir(): void {
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}
