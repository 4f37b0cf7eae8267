/**
 * Command-line options of `npm run bench:daemon -- [options]`.
 */
import { resolve } from 'node:path';
import { DEFAULT_TARGETS, TARGET_NAMES, type TargetName } from './targets.js';

/** Everything the daemon bench can be told. */
export interface DaemonBenchOptions {
  /** Call rates of the ramp, ascending. */
  rates: number[];
  stepSeconds: number;
  callMs: number;
  targets: TargetName[];
  /** Bound of the wait for Patchbay's transactions to end (after failing steps, the last rate, the memory mode). */
  settleMs: number;
  /** Wait for the transactions after every Patchbay step, not only after failing ones and the last rate. */
  alwaysSettle: boolean;
  /** Run the ramp, the memory mode, or both. */
  ramp: boolean;
  /** `--mode twiml`: the ramp with the static route and the TwiML round trip side by side. */
  twiml: boolean;
  memory: boolean;
  memoryCalls: number;
  memoryRate: number;
  memoryCallMs: number;
  /** The Patchbay variants the memory mode runs. */
  memoryTargets: TargetName[];
  portBase: number;
  /** `--baseline DIR`: the checkout (built) the `patchbay-base` and `patchbay-twiml-base` targets run. */
  baselineRoot?: string;
}

/**
 * Rates of the TwiML mode: steps of 100 cps from 1,400 to 3,200. The target compares the two highest
 * clean rates (the TwiML round trip's and the static route's) as a ratio, so the ramp must go on until
 * the static route fails (it was clean at 2,400 on a quiet 2-vCPU machine), and a step of 200 cps at
 * 1,600 alone would move that ratio by 12 %.
 */
export const TWIML_RATES: readonly number[] = [250, 500, 1000, 1200, ...Array.from({ length: 19 }, (_, i) => 1400 + 100 * i)];

/** Help text. */
export const USAGE = `usage: node dist/bench/daemon/run.js [options]
  --rates 100,250,...     call rates of the ramp (default 100,250,500,750,1000,1250,1500,1750,2000)
  --step-seconds N        seconds of calls per rate (default 10)
  --call-ms N             call duration in the ramp (default 1000)
  --targets a,b           of patchbay (--pool off), patchbay-pool (--pool on), patchbay-twiml
                          (TwiML from a local web app for every call), kamailio
                          (default patchbay,patchbay-pool,kamailio; kamailio only when installed)
  --settle-ms N           wait up to N ms for Patchbay's transactions to end after a step with failures
                          or retransmissions,
                          the last rate and the memory mode (default 40000; 0: calls and dialogs only)
  --always-settle         the same wait after every Patchbay step
  --mode ramp|memory|all|twiml
                          what to run (default all); twiml: the ramp only, patchbay (static route)
                          and patchbay-twiml side by side at rates ${TWIML_RATES.join(',')}
                          (--rates and --targets still override), a few minutes
  --memory-calls N        concurrent calls in the memory mode (default 10000)
  --memory-rate N         calls per second while ramping up to them (default 250)
  --memory-call-ms N      call duration in the memory mode (default 60000)
  --memory-targets a,b    Patchbay variants of the memory mode (default patchbay,patchbay-pool)
  --baseline DIR          a built checkout of another commit: the targets patchbay-base and
                          patchbay-twiml-base run its dist/runtime/cli.js (same route and web app),
                          so two commits are measured side by side in one run
  --port-base N           first loopback port to use (default 20000: below Linux's ephemeral
                          range, 32768-60999, where the webhook connections' own ports come from)`;

function targetList(flag: string, value: string | undefined): TargetName[] {
  return (value ?? '').split(',').map((t) => {
    const name = TARGET_NAMES.find((n) => n === t);
    if (name === undefined) throw new Error(`${flag}: unknown target ${t} (${TARGET_NAMES.join(', ')})`);
    return name;
  });
}

function positive(flag: string, value: string | undefined, allowZero = false): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
    throw new Error(`${flag} needs a ${allowZero ? 'non-negative' : 'positive'} integer, got ${String(value)}`);
  }
  return n;
}

/**
 * Parses the arguments.
 * @param argv - arguments after the script name
 * @returns the options, defaults filled in
 */
export function parseOptions(argv: readonly string[]): DaemonBenchOptions {
  const options: DaemonBenchOptions = {
    rates: [100, 250, 500, 750, 1000, 1250, 1500, 1750, 2000], stepSeconds: 10, callMs: 1000,
    targets: [...DEFAULT_TARGETS], settleMs: 40_000, alwaysSettle: false, ramp: true, memory: true, twiml: false,
    memoryCalls: 10_000, memoryRate: 250, memoryCallMs: 60_000, memoryTargets: ['patchbay', 'patchbay-pool'], portBase: 20_000,
  };
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    given.add(flag);
    switch (flag) {
      case '--always-settle': options.alwaysSettle = true; i -= 1; break;
      case '--rates': options.rates = (value ?? '').split(',').map((r) => positive(flag, r)).sort((a, b) => a - b); break;
      case '--step-seconds': options.stepSeconds = positive(flag, value); break;
      case '--call-ms': options.callMs = positive(flag, value, true); break;
      case '--targets': options.targets = targetList(flag, value); break;
      case '--memory-targets':
        options.memoryTargets = targetList(flag, value);
        if (options.memoryTargets.includes('kamailio')) throw new Error('--memory-targets: Patchbay variants only');
        break;
      case '--settle-ms': options.settleMs = positive(flag, value, true); break;
      case '--mode':
        if (value !== 'ramp' && value !== 'memory' && value !== 'all' && value !== 'twiml') throw new Error(`--mode ramp|memory|all|twiml, got ${String(value)}`);
        options.twiml = value === 'twiml';
        options.ramp = value !== 'memory';
        options.memory = value === 'memory' || value === 'all';
        break;
      case '--memory-calls': options.memoryCalls = positive(flag, value); break;
      case '--memory-rate': options.memoryRate = positive(flag, value); break;
      case '--memory-call-ms': options.memoryCallMs = positive(flag, value); break;
      case '--port-base': options.portBase = positive(flag, value); break;
      case '--baseline':
        if (value === undefined || value === '') throw new Error('--baseline needs a directory (a built checkout)');
        options.baselineRoot = resolve(value);
        break;
      default: throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  }
  if (options.twiml) {
    if (!given.has('--rates')) options.rates = [...TWIML_RATES];
    if (!given.has('--targets')) options.targets = ['patchbay', 'patchbay-twiml'];
  }
  return options;
}
