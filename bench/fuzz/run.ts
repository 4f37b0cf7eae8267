/**
 * Network fuzzer: `npm run fuzz:daemon -- [--count N | --seconds S] [options]` (options in
 * ./options.ts, `--help`). Prints progress and a verdict on stderr/stdout and exits 1 when the
 * daemon crashed, a legitimate call failed, /stats did not return to zero or RSS grew too much.
 * As root it runs inside a fresh network namespace (./netns.ts) unless told `--netns off`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { installCleanup, killAllChildren } from '../daemon/processes.js';
import { runFuzz, type FuzzVerdict } from './harness.js';
import { createNetns, netnsUnavailable } from './netns.js';
import { parseOptions, USAGE } from './options.js';

/** Set in the re-executed run inside the namespace. */
const INSIDE = 'PATCHBAY_FUZZ_NETNS';

function report(v: FuzzVerdict): string {
  const top = Object.entries(v.problems).sort((a, b) => b[1] - a[1]).slice(0, 15)
    .map(([msg, n]) => `    ${String(n).padStart(6)}  ${msg}`);
  const mutations = Object.entries(v.sent.mutations).map(([m, n]) => `${m} ${n}`).join(', ');
  return [
    `legitimate calls: ${v.calls.successful}/${v.calls.placed} succeeded, ${v.calls.failed} failed`,
    `fuzz: ${v.sent.udp} datagrams, ${v.sent.tcp} TCP messages (${v.sent.connections} connections, ${v.sent.refused} reset), ${v.sent.reactions} follow-ups, ${v.sent.hangups} hang-ups`,
    `mutations: ${mutations}`,
    `/stats after ${(v.settledMs / 1000).toFixed(1)} s: ${JSON.stringify(v.stats)}`,
    `RSS: ${v.rssMb.before.toFixed(1)} MB before, ${v.rssMb.after.toFixed(1)} MB after settling`,
    `daemon log lines at warn or above, by message:${top.length === 0 ? ' none' : `\n${top.join('\n')}`}`,
    ...(v.errorSamples.length > 0 ? ['first error lines:', ...v.errorSamples.map((l) => `    ${l.slice(0, 600)}`)] : []),
    ...(v.calls.errors ? [`SIPp errors:\n${v.calls.errors.slice(0, 1500)}`] : []),
    v.ok ? `VERDICT: PASS (seed ${v.seed})` : `VERDICT: FAIL (seed ${v.seed}; replay with --seed ${v.seed})\n${v.failures.map((f) => `  - ${f}`).join('\n')}`,
  ].join('\n');
}

/** Re-runs this script inside a fresh namespace; resolves with its exit code. */
async function inNamespace(argv: string[]): Promise<number> {
  const netns = createNetns('patchbay-fuzz');
  try {
    const [command, args] = netns.wrap(process.execPath, [fileURLToPath(import.meta.url), ...argv, '--netns', 'off']);
    const child = spawn(command, args, { stdio: 'inherit', env: { ...process.env, [INSIDE]: netns.name } });
    return await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  } finally {
    netns.remove();
  }
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const options = parseOptions(argv);
  if (options.netns && process.env[INSIDE] === undefined) {
    const why = netnsUnavailable();
    if (why !== undefined) throw new Error(`--netns on: ${why} (or run with --netns off)`);
    return inNamespace(argv);
  }
  if (process.env[INSIDE] === undefined) process.stderr.write('note: not in a network namespace; mutated Via/Contact addresses may make the daemon send to other hosts (run as root for --netns on)\n');
  installCleanup();
  const verdict = await runFuzz(options, (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`${report(verdict)}\n`);
  if (options.json) process.stdout.write(`FUZZ-VERDICT ${JSON.stringify(verdict)}\n`);
  return verdict.ok ? 0 : 1;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (error: unknown) => {
  killAllChildren();
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 2;
});
