/**
 * pool/batch-size: what a message costs the inline engine and the pooled
 * engine at batch sizes 1, 16, 64 and 256, on a typical
 * INVITE (test/fixtures/messages/invite-sdp.sip).
 *
 * Runner contract beyond BenchTask/BenchSuite:
 * - every task parses `opsPerCall` messages per call: the runner divides
 *   its times by `opsPerCall`, so the table reads ns per message;
 * - pool tasks return a promise: the runner awaits every call, in
 *   calibration too, one at a time (a second overlapping call throws);
 * - `teardown()` closes the engines (pool threads are unref'd, so a runner
 *   that skips it still exits).
 *
 * Each batch size is a group whose baseline is the inline engine at that
 * size; pool overhead per message is pool ns minus inline ns (target: at
 * most 1 µs at batch 64).
 *
 * - `inline parse_message`: WasmParser.parse on one message (the floor).
 * - `inline batch N`: the inline engine, one `parse_batch` call for N messages.
 * - `pool batch N`: the pooled engine (1 thread), one batch in flight:
 *   pack, post, parse in the worker, reply, read every status, release.
 * - `pool batch N ×2`: 2 threads, two batches in flight.
 */
import { loadMessageFixtures } from '../lib/fixtures.js';
import type { BenchSuite, BenchTask } from '../lib/types.js';
import { createParser } from '../../runtime/wasm/load.js';
import { createInlineEngine, type BatchResult, type InlineParseEngine } from '../../runtime/wasm/engine.js';
import { createPooledEngine, type PooledEngine } from '../../runtime/pool/pool.js';

/** Batch sizes to compare. */
export const BATCH_SIZES = [1, 16, 64, 256] as const;

/** A task that parses `opsPerCall` messages per call and may return a promise. */
export interface BatchBenchTask extends BenchTask {
  /** Messages parsed by one call of `fn`: divide ns/op by it. */
  opsPerCall: number;
  fn: () => unknown;
}

/** The suite, with a teardown that stops the pools (their threads are unref'd, so a runner may skip it). */
export interface BatchBenchSuite extends BenchSuite {
  tasks: BatchBenchTask[];
  /** Close the engines built by `setup()`. */
  teardown(): Promise<void>;
}

/** Read every status, as a consumer would, then hand the buffers back. */
function consume(result: BatchResult): number {
  let sum = 0;
  for (let i = 0; i < result.count; i++) sum += result.status(i);
  result.release();
  return sum;
}

function inviteBytes(): Uint8Array {
  const fixture = loadMessageFixtures().find((f) => f.name === 'invite-sdp');
  if (fixture === undefined) throw new Error('test/fixtures/messages/invite-sdp.sip is missing');
  return fixture.bytes;
}

/** Batches of distinct copies, so that no two entries share a buffer. */
function batchOf(bytes: Uint8Array, n: number): Uint8Array[] {
  return Array.from({ length: n }, () => bytes.slice());
}

/**
 * One call at a time: a runner that does not await promise-returning tasks
 * would flood the pool and time nothing, so a second overlapping call throws.
 */
function oneAtATime(run: () => Promise<number>): () => Promise<number> {
  let pending = false;
  const done = (value: number): number => {
    pending = false;
    return value;
  };
  return () => {
    if (pending) throw new Error('pool/batch-size: the runner must await each call of a pool task before the next');
    pending = true;
    return run().then(done, (error: unknown) => {
      pending = false;
      throw error;
    });
  };
}

async function warm(pool: PooledEngine, batch: readonly Uint8Array[]): Promise<void> {
  for (let i = 0; i < 200; i++) consume(await pool.parseBatch(batch));
}

function buildTasks(bytes: Uint8Array, inline: InlineParseEngine, one: PooledEngine, two: PooledEngine): BatchBenchTask[] {
  const parser = createParser({ flavour: 'release' });
  if (!parser.parse(bytes).ok) throw new Error('invite-sdp.sip does not parse');
  const tasks: BatchBenchTask[] = [
    { name: 'inline parse_message', group: 'single', opsPerCall: 1, reference: true, fn: () => parser.parse(bytes).status },
  ];
  for (const n of BATCH_SIZES) {
    const batch = batchOf(bytes, n);
    const group = `batch ${n}`;
    tasks.push(
      { name: `inline batch ${n}`, group, opsPerCall: n, reference: true, fn: () => consume(inline.parseBatchSync(batch)) },
      { name: `pool batch ${n}`, group, opsPerCall: n, fn: oneAtATime(async () => consume(await one.parseBatch(batch))) },
      {
        name: `pool batch ${n} ×2`,
        group,
        opsPerCall: 2 * n,
        fn: oneAtATime(async () => {
          const [a, b] = await Promise.all([two.parseBatch(batch), two.parseBatch(batch)]);
          return consume(a) + consume(b);
        }),
      },
    );
  }
  return tasks;
}

/**
 * Registers the `pool/batch-size` suite.
 * @returns the suite
 */
export function register(): BatchBenchSuite[] {
  let engines: { inline: InlineParseEngine; one: PooledEngine; two: PooledEngine } | undefined;
  const suite: BatchBenchSuite = {
    name: 'pool/batch-size',
    baselineLabel: 'inline engine at the same batch size (ns per message)',
    tasks: [],
    async setup(): Promise<void> {
      const bytes = inviteBytes();
      engines = {
        inline: createInlineEngine({ flavour: 'release' }),
        one: createPooledEngine({ flavour: 'release', threads: 1 }),
        two: createPooledEngine({ flavour: 'release', threads: 2 }),
      };
      await warm(engines.one, batchOf(bytes, 64));
      await warm(engines.two, batchOf(bytes, 64));
      suite.tasks = buildTasks(bytes, engines.inline, engines.one, engines.two);
    },
    async teardown(): Promise<void> {
      if (engines === undefined) return;
      await Promise.all([engines.inline.close(), engines.one.close(), engines.two.close()]);
      engines = undefined;
    },
  };
  return [suite];
}
