/**
 * The systems under test, each started fresh on loopback in front of a SIPp UAS: Patchbay
 * (`dist/runtime/cli.js serve` with a static route, B2BUA; `patchbay-pool` adds `--pool on`;
 * `patchbay-twiml` fetches TwiML for every call from a local web app, ./twiml-app.ts, whose
 * `<Dial answerOnBridge="true"><Sip>` reaches the same UAS) and Kamailio (stateful proxy,
 * bench/daemon/kamailio.cfg).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { DaemonStats } from '../../runtime/daemon.js';
import { findProjectRoot } from '../lib/fixtures.js';
import { processTree, pssKb, statusKb } from './proc-stats.js';
import { sleep, startChild, waitForUdpPort, type Child } from './processes.js';
import { BENCH_FILES } from './sipp.js';

/** Names of the systems the bench can drive. */
export type TargetName = 'patchbay' | 'patchbay-pool' | 'patchbay-twiml' | 'patchbay-base' | 'patchbay-twiml-base' | 'kamailio';

/** Every target name, in report order. */
export const TARGET_NAMES: readonly TargetName[] = ['patchbay', 'patchbay-pool', 'patchbay-twiml', 'patchbay-base', 'patchbay-twiml-base', 'kamailio'];

/**
 * The `-base` targets run another checkout's build (`--baseline DIR`, DIR holding a built
 * `dist/runtime/cli.js`): the same static route or TwiML round trip, so a change is measured against the
 * previous commit side by side in one run.
 */
export function isBaseline(name: TargetName): boolean {
  return name.endsWith('-base');
}

/** What a plain `npm run bench:daemon` ramps (the TwiML mode, `--mode twiml`, adds patchbay-twiml). */
export const DEFAULT_TARGETS: readonly TargetName[] = ['patchbay', 'patchbay-pool', 'kamailio'];

/** Account of the TwiML target (any AC + 32 hex, any token: the bench app does not check signatures). */
const BENCH_ACCOUNT = 'AC0000000000000000000000000000be7c';
const BENCH_TOKEN = 'bench-auth-token';

/** A running system under test. */
export interface Target {
  readonly name: TargetName;
  readonly child: Child;
  /** Processes whose CPU time counts (Kamailio's workers included). */
  pids(): number[];
  /** Helper processes measured apart (the TwiML web app), empty for the others. */
  helperPids(): number[];
  /** Current footprint in kB: VmRSS for Patchbay, Σ Pss over its processes for Kamailio. */
  memoryKb(): number;
  /** Kernel-tracked peak RSS in kB (VmHWM) where it is meaningful, else 0. */
  hwmKb(): number;
  /** Live calls, dialogs and transactions (Patchbay's GET /stats); undefined for Kamailio. */
  stats(): Promise<DaemonStats | undefined>;
  /** Log lines that report a problem (warnings, errors, crashes). */
  problems(): string[];
  /** Stops it (SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
}

/** Where a target listens and where it sends the calls. */
export interface TargetOptions {
  sipPort: number;
  /** Patchbay's HTTP port (GET /stats). */
  httpPort: number;
  uasPort: number;
  /** The TwiML web app's HTTP port (patchbay-twiml). */
  appPort: number;
  /** Working folder (Kamailio's runtime dir). */
  dir: string;
  /** Project root of the build the `-base` targets run (`--baseline`). */
  baselineRoot?: string;
}

/** True when `kamailio` can be run. */
export function haveKamailio(): boolean {
  const result = spawnSync('kamailio', ['-v'], { stdio: 'ignore' });
  return result.error === undefined && result.status === 0;
}

/**
 * Starts one target and waits until it takes calls.
 * @param name - which system
 * @param options - ports and folder
 * @returns the running target
 */
export function startTarget(name: TargetName, options: TargetOptions): Promise<Target> {
  return name === 'kamailio' ? startKamailio(options) : startPatchbay(name, options);
}

/** Starts the bench's TwiML web app and waits until it answers. */
async function startTwimlApp(options: TargetOptions): Promise<Child> {
  const app = startChild(process.execPath, [join(findProjectRoot(), 'dist', 'bench', 'daemon', 'twiml-app.js'), String(options.appPort), String(options.uasPort)]);
  const deadline = Date.now() + 10_000;
  while (!app.output().includes('listening')) {
    if (app.hasExited() || Date.now() > deadline) throw new Error(`the TwiML app did not start:\n${app.output().slice(-2000)}`);
    await sleep(50);
  }
  return app;
}

async function startPatchbay(name: TargetName, options: TargetOptions): Promise<Target> {
  if (isBaseline(name) && options.baselineRoot === undefined) throw new Error(`${name} needs --baseline DIR`);
  const root = isBaseline(name) ? options.baselineRoot! : findProjectRoot();
  const cli = join(root, 'dist', 'runtime', 'cli.js');
  const twiml = name === 'patchbay-twiml' || name === 'patchbay-twiml-base';
  const app = twiml ? await startTwimlApp(options) : undefined;
  const calls = app
    ? ['--voice-url', `http://127.0.0.1:${options.appPort}/voice`, '--account-sid', BENCH_ACCOUNT, '--auth-token', BENCH_TOKEN]
    : ['--route', `sip:callee@127.0.0.1:${options.uasPort}`];
  const child = startChild(process.execPath, [
    cli, 'serve',
    '--listen', `udp:127.0.0.1:${options.sipPort}`,
    '--http', `127.0.0.1:${options.httpPort}`,
    ...calls,
    '--pool', name === 'patchbay-pool' ? 'on' : 'off',
    '--t1', '500',
    '--log-level', 'warn',
  ]);
  const stats = async (): Promise<DaemonStats | undefined> => {
    if (child.hasExited()) return undefined;
    try {
      const response = await fetch(`http://127.0.0.1:${options.httpPort}/stats`, { signal: AbortSignal.timeout(5000) });
      return (await response.json()) as DaemonStats;
    } catch {
      return undefined;
    }
  };
  await waitForUdpPort(options.sipPort, child, 15_000);
  const deadline = Date.now() + 15_000;
  while ((await stats()) === undefined) {
    if (child.hasExited() || Date.now() > deadline) throw new Error(`patchbay did not start:\n${child.output().slice(-2000)}`);
    await sleep(100);
  }
  return {
    name,
    child,
    pids: () => [child.pid],
    helperPids: () => (app ? [app.pid] : []),
    memoryKb: () => statusKb(child.pid, 'VmRSS'),
    hwmKb: () => statusKb(child.pid, 'VmHWM'),
    stats,
    // every line at warn or above, except the start-up notice that the REST API is off (no --auth-token)
    problems: () => child.output().split('\n').filter((line) => line.trim() !== '' && !line.includes('"msg":"REST API disabled')),
    stop: async () => {
      await child.stop(15_000);
      await app?.stop(5000);
    },
  };
}

async function startKamailio(options: TargetOptions): Promise<Target> {
  const child = startChild('kamailio', [
    '-f', join(BENCH_FILES, 'kamailio.cfg'), '-DD', '-E',
    '-m', '1024', '-M', '16',
    '-l', `udp:127.0.0.1:${options.sipPort}`,
    '-A', `UAS_URI="sip:127.0.0.1:${options.uasPort}"`,
    '-Y', options.dir, '-w', options.dir,
  ]);
  await waitForUdpPort(options.sipPort, child, 15_000);
  await sleep(500);
  return {
    name: 'kamailio',
    child,
    pids: () => processTree(child.pid),
    helperPids: () => [],
    memoryKb: () => pssKb(processTree(child.pid)),
    hwmKb: () => 0,
    stats: () => Promise.resolve(undefined),
    problems: () => child.output().split('\n').filter((line) => /\b(ERROR|CRITICAL|BUG|ALERT)\b/.test(line)),
    stop: async () => { await child.stop(10_000); },
  };
}
