/**
 * Contracts between the bench runner (`bench/run.ts`) and the suite files it discovers
 * (`bench/<area>/<function>.bench.ts`).
 */

/** One measured function of a suite. */
export interface BenchTask {
  /** Row label, unique within its suite. */
  name: string;
  /**
   * The measured operation. It must not build pools, modules or fixtures: `setup()` does that.
   * When it returns a promise, the runner awaits every call, one call at a time.
   */
  fn: () => unknown;
  /** Operations one call performs (e.g. messages per batch): times are divided by it. Defaults to 1. */
  opsPerCall?: number;
  /**
   * Tasks of one group are compared with each other in the ratio column. Defaults to the suite
   * name, so a suite without groups compares every task with one baseline.
   */
  group?: string;
  /** Marks the task as a reference: the fastest reference task of a group is that group's baseline. */
  reference?: boolean;
}

/** A set of tasks measured together and printed as one table. */
export interface BenchSuite {
  /** Matched against the CLI filters (substring, case-insensitive). */
  name: string;
  /** Describes the baseline in the table header, e.g. "fastest JS peer". */
  baselineLabel: string;
  /** Builds everything the tasks need (fixtures, pools, WASM modules); awaited before `tasks` is read. */
  setup(): Promise<void>;
  /** Read only after `setup()` has resolved. */
  tasks: BenchTask[];
  /** Releases what `setup()` built (worker pools); awaited once the suite is measured. */
  teardown?(): Promise<void>;
}

/** What a `*.bench.ts` module exports; the runner imports the compiled `.js` and calls `register()`. */
export interface BenchModule {
  /** Returns the suites of this file. Nothing heavy happens here: `BenchSuite.setup()` does the work. */
  register(): BenchSuite[] | Promise<BenchSuite[]>;
}

/** The measurement of one task, as printed and written to `bench/results/latest.json`. */
export interface TaskResult {
  /** Task name. */
  name: string;
  /** Comparison group of the task. */
  group: string;
  /** Mean wall time of one operation, in nanoseconds. */
  nsPerOp: number;
  /** 99th percentile of the per-sample mean (a sample runs `batch` operations), in nanoseconds. */
  p99Ns: number;
  /** Operations per second derived from `nsPerOp`. */
  opsPerSec: number;
  /** Relative margin of error of the sample mean, in percent. */
  rme: number;
  /** Operations run back to back inside one timed sample. */
  batch: number;
  /** Number of timed samples. */
  samples: number;
  /** Baseline time divided by this task's time: above 1 means faster than the baseline. */
  ratio: number | undefined;
  /** Name of the baseline task of the group, if any. */
  baseline: string | undefined;
}

/** The measurement of one suite. */
export interface SuiteResult {
  /** Suite name. */
  name: string;
  /** Baseline description, copied from the suite. */
  baselineLabel: string;
  /** One entry per task, in declaration order. */
  tasks: TaskResult[];
}
