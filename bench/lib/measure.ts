/**
 * Measures one suite with tinybench. Sub-microsecond operations are batched so that the timer's own
 * cost (about 50 ns per `performance.now()` sample here) does not swamp them.
 */
import { Bench } from 'tinybench';
import type { BenchSuite, BenchTask, SuiteResult, TaskResult } from './types.js';

/** How long to measure each task, and the sample size batching aims for. */
export interface MeasureOptions {
  /** Measured time per task, in milliseconds (tinybench `time`). */
  timeMs: number;
  /** Warmup time per task, in milliseconds (tinybench `warmupTime`). */
  warmupMs: number;
  /** A timed sample runs the operation back to back until it lasts at least this long. */
  minSampleNs: number;
}

/** Calibration stops once this many milliseconds of calls have been timed. */
const CALIBRATION_MS = 20;

/** Holds the last result of every measured call so that no call can be optimised away. */
let blackhole: unknown;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * Estimates how many calls of `fn` make one sample of at least `minSampleNs`, awaiting each call
 * when `fn` returns a promise.
 * @param fn - the measured operation
 * @param minSampleNs - target sample length
 * @returns the batch size, at least 1, and whether `fn` is asynchronous
 */
export async function calibrateBatch(fn: () => unknown, minSampleNs: number): Promise<{ batch: number; isAsync: boolean }> {
  const first = fn();
  const isAsync = isThenable(first);
  blackhole = isAsync ? await first : first;
  let calls = 1;
  for (;;) {
    const start = performance.now();
    for (let i = 0; i < calls; i++) {
      blackhole = isAsync ? await fn() : fn();
    }
    const elapsedMs = performance.now() - start;
    if (elapsedMs >= CALIBRATION_MS) {
      const nsPerCall = (elapsedMs * 1e6) / calls;
      return { batch: Math.max(1, Math.ceil(minSampleNs / nsPerCall)), isAsync };
    }
    calls *= 2;
  }
}

function batched(fn: () => unknown, batch: number, isAsync: boolean): () => unknown {
  if (isAsync) {
    return async () => {
      for (let i = 0; i < batch; i++) {
        blackhole = await fn();
      }
    };
  }
  if (batch === 1) {
    return () => (blackhole = fn());
  }
  return () => {
    for (let i = 0; i < batch; i++) {
      blackhole = fn();
    }
  };
}

/**
 * Picks each group's baseline: the fastest task marked `reference`.
 * @returns the baseline result of each group that has a reference task
 */
function baselines(tasks: readonly TaskResult[], references: ReadonlySet<string>): Map<string, TaskResult> {
  const byGroup = new Map<string, TaskResult>();
  for (const task of tasks) {
    const best = byGroup.get(task.group);
    if (references.has(task.name) && (best === undefined || task.nsPerOp < best.nsPerOp)) {
      byGroup.set(task.group, task);
    }
  }
  return byGroup;
}

/**
 * Runs `setup()`, then measures every task: calibrate a batch size, warm up, run.
 * tinybench 6 has no `Bench.warmup()`: with `warmup: true`, `run()` calls each task's `warmup()`
 * before measuring it.
 * @param suite - the suite to measure
 * @param options - timing options
 * @returns one result per task, ratios filled in
 */
export async function measureSuite(suite: BenchSuite, options: MeasureOptions): Promise<SuiteResult> {
  await suite.setup();
  const tasks: readonly BenchTask[] = suite.tasks;
  const bench = new Bench({
    name: suite.name,
    time: options.timeMs,
    warmup: true,
    warmupTime: options.warmupMs,
    throws: true,
  });
  const batches = new Map<string, number>();
  for (const task of tasks) {
    const { batch, isAsync } = await calibrateBatch(task.fn, options.minSampleNs);
    batches.set(task.name, batch * (task.opsPerCall ?? 1));
    bench.add(task.name, batched(task.fn, batch, isAsync));
  }
  await bench.run();
  await suite.teardown?.();
  const results = tasks.map((task): TaskResult => {
    const result = bench.getTask(task.name)?.result;
    if (result?.state !== 'completed') {
      throw new Error(`${suite.name} › ${task.name}: ${result?.state ?? 'missing'}`);
    }
    const batch = batches.get(task.name) ?? 1;
    const nsPerOp = (result.latency.mean * 1e6) / batch;
    return {
      name: task.name,
      group: task.group ?? suite.name,
      nsPerOp,
      p99Ns: (result.latency.p99 * 1e6) / batch,
      opsPerSec: 1e9 / nsPerOp,
      rme: result.latency.rme,
      batch,
      samples: result.latency.samplesCount,
      ratio: undefined,
      baseline: undefined,
    };
  });
  const references = new Set(tasks.filter((task) => task.reference === true).map((task) => task.name));
  const baselineByGroup = baselines(results, references);
  for (const result of results) {
    const baseline = baselineByGroup.get(result.group);
    if (baseline !== undefined) {
      result.ratio = baseline.nsPerOp / result.nsPerOp;
      result.baseline = baseline.name;
    }
  }
  return { name: suite.name, baselineLabel: suite.baselineLabel, tasks: results };
}

/**
 * Returns the value the last measured call produced. Exists so that the sink is observably read.
 * @returns the last result stored by a measured call
 */
export function lastResult(): unknown {
  return blackhole;
}
