/**
 * What a benchmark suite declares. `bench/main.ts` runs every workload with benchmark.js
 * (`defer: true`, each iteration awaited) and prints the benchmark lines.
 */

/** One contestant of a workload: a project backend or a peer (naive loop, scipy, tfjs, PyTorch). */
export interface Contestant {
  /** Printed in brackets: `cpu`, `naive-js`, `scipy`. */
  readonly backend: string;
  /** True for the project's own implementations (only these can win the `summary:` line). */
  readonly project: boolean;
  /** Runs before timing (allocate inputs, warm caches). */
  readonly setup?: () => Promise<void> | void;
  /** One iteration, timed by benchmark.js; must await its result. */
  readonly fn?: () => Promise<void> | void;
  /**
   * For peers that time themselves (e.g. a Python process): returns milliseconds per iteration.
   * Used instead of `fn`.
   */
  readonly selfTimed?: () => Promise<number>;
  /** Releases what `setup` made. */
  readonly teardown?: () => Promise<void> | void;
  /**
   * Lines printed under the contestant's result line (e.g. kernels per step), gathered during
   * `setup`, the timed iterations and `teardown`.
   */
  readonly notes?: () => readonly string[];
  /** When set, the contestant is not run and this reason is printed. */
  readonly skip?: string;
}

/** A named workload with its contestants. */
export interface Workload {
  /** e.g. `matmul 512x512x512`, `edt 256x256`. */
  readonly name: string;
  /** Floating-point operations per iteration, when meaningful (GFLOP/s is printed then). */
  readonly flops?: number;
  /** Headline workloads end the run with a `summary:` line naming the fastest project contestant. */
  readonly headline?: boolean;
  readonly contestants: readonly Contestant[];
  /** Extra ratio lines to print: [numerator backend, denominator backend]. */
  readonly ratios?: ReadonlyArray<readonly [string, string]>;
}
