/**
 * Two builds of the parser side by side: `node dist/bench/parse/ab-wasm.js BEFORE.wasm AFTER.wasm [ROUNDS]`.
 *
 * Each round times `copy + parse_message` on one message fixture for both
 * modules, alternating which goes first, in one process; the figure is the
 * median of the paired ratios (after / before), which a loaded machine moves
 * far less than it moves either time. It calls the raw exports, so builds of
 * different ABI versions compare (the runtime's loader would refuse one).
 */
import { readFileSync } from 'node:fs';
import { loadMessageFixtures } from '../lib/fixtures.js';

interface ParserExports {
  memory: WebAssembly.Memory;
  in_ptr(): number;
  parse_message(len: number, isStream: number): number;
}

/** Parses per timed sample. */
const REPS = 2000;
/** Untimed rounds before the timed ones (JIT and caches). */
const WARM_UP = 20;

async function load(path: string): Promise<ParserExports> {
  const imports = { env: { abort: (): never => { throw new Error(`${path}: abort`); }, seed: (): number => 1 } };
  const { instance } = await WebAssembly.instantiate(readFileSync(path), imports);
  return instance.exports as unknown as ParserExports;
}

/** @return ns per copy + parse of `message`, over REPS parses */
function sample(parser: ParserExports, message: Uint8Array): number {
  const input = new Uint8Array(parser.memory.buffer, parser.in_ptr(), message.length);
  const start = process.hrtime.bigint();
  for (let i = 0; i < REPS; i++) {
    input.set(message);
    parser.parse_message(message.length, 0);
  }
  return Number(process.hrtime.bigint() - start) / REPS;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!;

async function main(argv: string[]): Promise<number> {
  const [beforePath, afterPath, roundsArg] = argv;
  const rounds = Number(roundsArg ?? '300');
  if (beforePath === undefined || afterPath === undefined || !Number.isInteger(rounds) || rounds < 1) {
    process.stderr.write('usage: node dist/bench/parse/ab-wasm.js BEFORE.wasm AFTER.wasm [ROUNDS]\n');
    return 2;
  }
  const before = await load(beforePath);
  const after = await load(afterPath);
  console.log('| message | before (ns) | after (ns) | after ÷ before (median of paired rounds) |');
  console.log('|---|---|---|---|');
  for (const { name, bytes } of loadMessageFixtures()) {
    for (let r = 0; r < WARM_UP; r++) { sample(before, bytes); sample(after, bytes); }
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) { a.push(sample(before, bytes)); b.push(sample(after, bytes)); }
      else { b.push(sample(after, bytes)); a.push(sample(before, bytes)); }
    }
    console.log(`| ${name} | ${median(a).toFixed(0)} | ${median(b).toFixed(0)} | ${median(b.map((v, i) => v / a[i]!)).toFixed(3)} |`);
  }
  return 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
