/**
 * Daemon bench: `npm run bench:daemon [-- options]` (options in ./options.ts, `--help`).
 *
 * Drives Patchbay (and Kamailio as a stateful proxy, when installed) with SIPp on loopback in a
 * rising ramp of call rates, each rate measured against a direct SIPp UAC→UAS baseline so that the
 * latency a target adds can be told apart from SIPp's own. A target leaves the ramp at its first
 * rate that is not clean: failed calls, below 95 % of the requested rate, or INVITE→200 p99 at T1
 * (500 ms) or more, i.e. calls set up only by retransmission. Then the memory mode holds many long
 * calls in Patchbay and reads its RSS. `--mode twiml` instead ramps the static route and the TwiML
 * round trip (every call fetches `<Dial><Sip>` from a local web app) side by side and compares their
 * clean calls per second. Prints Markdown tables on stdout (progress on stderr) and writes
 * bench/results/daemon-latest.json (daemon-twiml-latest.json in the TwiML mode).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { findProjectRoot } from '../lib/fixtures.js';
import { runMemory, type MemoryResult } from './memory.js';
import { parseOptions, USAGE, type DaemonBenchOptions } from './options.js';
import { installCleanup, killAllChildren } from './processes.js';
import {
  added, compareTwiml, formatBaseline, formatMemory, formatProblems, formatSideBySide, formatTarget, formatTwimlSideBySide, highestClean,
} from './report.js';
import { runStep, type StepOptions, type StepResult } from './step.js';
import { haveKamailio, type TargetName } from './targets.js';

/** First non-empty line `command args` prints (`sipp -v` exits 99), or "not installed". */
function version(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.error !== undefined) return 'not installed';
  return `${result.stdout}\n${result.stderr}`.split('\n').map((line) => line.trim()).find((line) => line !== '') ?? command;
}

function progress(step: StepResult, baseline: StepResult | undefined): void {
  const extra = added(step, baseline);
  const latency = step.target === 'direct'
    ? `rtt p50 ${step.rtt.p50} p99 ${step.rtt.p99} ms`
    : `added p50 ${extra.p50} p99 ${extra.p99} mean ${extra.mean.toFixed(2)} ms, cpu ${step.cpuPercent?.toFixed(0)} %${step.helperCpuPercent === undefined ? '' : ` (+ web app ${step.helperCpuPercent.toFixed(0)} %)`}, peak ${step.peakMemoryMb?.toFixed(0)} MB`;
  const left = step.leftover ? `, left ${JSON.stringify(step.leftover)}` : '';
  process.stderr.write(`  ${step.target} @ ${step.rate}: ${step.achievedCps.toFixed(0)} cps, ${step.successful} ok, ${step.failed} failed, ${step.retransmissions} retrans, ${step.drops}+${step.sippDrops} drops, ${latency}${left}${step.problemCount > 0 ? `, ${step.problemCount} log lines` : ''} → ${step.clean ? 'clean' : step.reason}\n`);
}

interface RampResult {
  baselines: StepResult[];
  byTarget: Map<TargetName, StepResult[]>;
  notes: string[];
}

async function runRamp(options: DaemonBenchOptions, targets: TargetName[], stepOptions: StepOptions): Promise<RampResult> {
  const baselines: StepResult[] = [];
  const byTarget = new Map<TargetName, StepResult[]>(targets.map((t) => [t, []]));
  const active = new Set(targets);
  const notes: string[] = [];
  for (const rate of options.rates) {
    if (active.size === 0) break;
    process.stderr.write(`rate ${rate} cps\n`);
    const baseline = await runStep('direct', rate, { ...stepOptions, settleMs: 0 });
    baselines.push(baseline);
    progress(baseline, undefined);
    if (!baseline.clean) {
      notes.push(`SIPp alone (UAC→UAS, no proxy) is not clean at ${rate} cps (${baseline.reason}): the ramp stops there, the load generator is the limit.`);
      break;
    }
    const last = rate === options.rates.at(-1);
    for (const target of targets.filter((t) => active.has(t))) {
      const settleMs = target === 'kamailio' ? 0 : stepOptions.settleMs;
      const step = await runStep(target, rate, { ...stepOptions, settleMs, alwaysSettle: stepOptions.alwaysSettle || last });
      byTarget.get(target)!.push(step);
      progress(step, baseline);
      if (!step.clean) active.delete(target);
    }
  }
  return { baselines, byTarget, notes };
}

function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} vCPU ${cpu}, Linux ${release()}, Node ${process.version}, ${version('sipp', ['-v']).replace(/^.*?(SIPp v[\w.-]+).*$/, '$1')}, ${version('kamailio', ['-v']).replace(/^version:\s*/, '')}`;
}

const TITLES: Record<TargetName, string> = {
  'patchbay': 'Patchbay, --pool off (B2BUA, static route)',
  'patchbay-pool': 'Patchbay, --pool on (B2BUA, static route, parser pool)',
  'patchbay-twiml': 'Patchbay, --pool off, TwiML round trip (voice URL on a local web app → <Dial answerOnBridge><Sip>)',
  'patchbay-base': 'Patchbay at the --baseline checkout, --pool off (B2BUA, static route)',
  'patchbay-twiml-base': 'Patchbay at the --baseline checkout, --pool off, TwiML round trip',
  'kamailio': 'Kamailio (stateful proxy: tm, record_route, children=2)',
};

function printReport(options: DaemonBenchOptions, ramp: RampResult | undefined, memory: MemoryResult[]): void {
  const out: string[] = [];
  out.push(`${new Date().toISOString()} · ${machine()}`);
  if (ramp) {
    out.push(`ramp: ${options.stepSeconds} s of calls per rate, ${options.callMs} ms calls; Patchbay --t1 500 --log-level warn`);
    out.push('\n### Direct baseline (SIPp UAC → SIPp UAS)\n', formatBaseline(ramp.baselines));
    for (const [name, steps] of ramp.byTarget) out.push(`\n### ${TITLES[name]}\n`, formatTarget(steps, ramp.baselines));
    if (ramp.byTarget.size > 1) out.push('\n### Side by side\n', formatSideBySide(ramp.byTarget, ramp.baselines));
    const twiml = compareTwiml(ramp.byTarget);
    if (twiml) out.push('\n### Static route vs TwiML round trip\n', formatTwimlSideBySide(ramp.byTarget, ramp.baselines));
    out.push('');
    for (const [name, steps] of ramp.byTarget) out.push(`Highest clean rate (zero failures, ≥ 95 % of the rate, p99 setup < 500 ms), ${name}: **${highestClean(steps)} cps**`);
    if (twiml) {
      const verdict = twiml.met ? 'met' : twiml.bounded ? 'not met' : 'not determined: the static route was still clean at the top of the ramp, so its limit and the cost are only bounds (raise --rates)';
      out.push(`TwiML round trip: ${twiml.twimlClean} / ${twiml.staticClean}${twiml.bounded ? '' : '+'} clean cps = ${(100 * twiml.ratio).toFixed(0)} % of the static route, a cost of ${(100 * twiml.cost).toFixed(0)} %${twiml.bounded ? '' : ' or more'} (target: under 20 %): **${verdict}**`);
      const achieved = twiml.staticAchieved > 0 ? twiml.twimlAchieved / twiml.staticAchieved : NaN;
      out.push(`Achieved at those steps: ${twiml.twimlAchieved.toFixed(0)} / ${twiml.staticAchieved.toFixed(0)} cps = ${(100 * achieved).toFixed(1)} % (the verdict uses the steps' rates)`);
    }
    out.push(...ramp.notes);
    const problems = [...ramp.byTarget.values()].flat()
      .map((s) => formatProblems(`${s.target} @ ${s.rate} cps`, s.problems, s.problemCount, s.sippErrors))
      .filter((text) => text !== '');
    if (problems.length > 0) out.push('\n### Problems seen\n', ...problems);
  }
  if (memory.length > 0) {
    out.push('\n### Memory: Patchbay holding long calls\n', formatMemory(memory));
    for (const m of memory) {
      const problems = formatProblems(`memory mode, ${m.target}`, m.problems, m.problemCount, m.sippErrors);
      if (problems !== '') out.push('', problems);
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const options = parseOptions(argv);
  if (version('sipp', ['-v']) === 'not installed') throw new Error('sipp is not installed (apt-get install -y sip-tester)');
  const targets = options.targets.filter((t) => t !== 'kamailio' || haveKamailio());
  if (targets.length < options.targets.length) process.stderr.write('kamailio is not installed: Patchbay only\n');
  installCleanup();
  const workRoot = mkdtempSync(join(tmpdir(), 'patchbay-bench-daemon-'));
  let nextPort = options.portBase;
  const ports = (): number => nextPort++;
  const stepOptions: StepOptions = {
    stepSeconds: options.stepSeconds, callMs: options.callMs, settleMs: options.settleMs, alwaysSettle: options.alwaysSettle, workRoot, ports,
    baselineRoot: options.baselineRoot,
  };
  try {
    const ramp = options.ramp ? await runRamp(options, targets, stepOptions) : undefined;
    const memory: MemoryResult[] = [];
    for (const target of options.memory ? options.memoryTargets : []) {
      process.stderr.write(`memory mode, ${target}: ${options.memoryCalls} calls of ${options.memoryCallMs} ms at ${options.memoryRate} cps\n`);
      const m = await runMemory({
        target, calls: options.memoryCalls, rate: options.memoryRate, callMs: options.memoryCallMs,
        settleMs: options.settleMs, workRoot, ports,
      });
      process.stderr.write(`  peak ${m.peakConcurrent} calls, RSS ${m.rssAtPeakMb.toFixed(0)} MB (VmHWM ${m.hwmMb.toFixed(0)} MB), ${m.failed} failed, left ${JSON.stringify(m.leftover)}\n`);
      memory.push(m);
    }
    printReport(options, ramp, memory);
    const results = join(findProjectRoot(), 'bench', 'results');
    mkdirSync(results, { recursive: true });
    const twiml = ramp && compareTwiml(ramp.byTarget);
    const json = { date: new Date().toISOString(), machine: machine(), options, ramp: ramp && { ...ramp, byTarget: Object.fromEntries(ramp.byTarget) }, twiml, memory };
    writeFileSync(join(results, options.twiml ? 'daemon-twiml-latest.json' : 'daemon-latest.json'), `${JSON.stringify(json, null, 2)}\n`);
  } finally {
    killAllChildren();
    rmSync(workRoot, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  killAllChildren();
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
