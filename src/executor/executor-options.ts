import { availableParallelism } from "node:os";
import type { ResourceLimits } from "node:worker_threads";
import { ErrorCode, jobError } from "../errors.js";
import { integerOption, numberOption, objectOption, rejectUnknownKeys } from "../validate.js";

/** Options of the worker-thread pool behind a queue (the same on both backends). */
export interface ExecutorOptions {
  /** Worker threads: shorthand for `minThreads = maxThreads = threads`. @default os.availableParallelism() */
  threads?: number;
  /**
   * Threads kept when idle. @default 1 when only `maxThreads` is given, else
   * os.availableParallelism()
   */
  minThreads?: number;
  /** Threads the pool grows to under load. @default max(minThreads, os.availableParallelism()) */
  maxThreads?: number;
  /** How long a thread beyond `minThreads` may stay idle before it ends, in ms. @default 60_000 */
  idleTimeoutMs?: number;
  /** Jobs one thread runs at once (raise it for jobs that mostly await I/O). @default 1 */
  concurrencyPerThread?: number;
  /** How long a cancelled or timed-out job may take to stop before its thread is terminated. @default 1000 */
  cancelGraceMs?: number;
  /** V8 limits for each worker thread; a job over them fails and its thread is replaced. */
  resourceLimits?: ResourceLimits;
  /**
   * A thread that has run this many jobs is replaced, between jobs (none is
   * cut short). @default unlimited
   */
  maxJobsPerThread?: number;
  /**
   * A thread whose V8 heap is above this many MiB after a job is replaced,
   * between jobs (none is cut short). @default unlimited
   */
  maxThreadHeapMb?: number;
  /**
   * Longest the import of a task's module may take on a thread, in ms: past
   * it, the job fails with `ERR_TASK_MODULE_IMPORT` (not retried), the module
   * counts as broken and the thread is replaced. @default 30_000
   */
  importTimeoutMs?: number;
}

/** The pool options with every default applied. */
export interface ResolvedExecutorOptions {
  minThreads: number;
  maxThreads: number;
  idleTimeoutMs: number;
  concurrencyPerThread: number;
  cancelGraceMs: number;
  resourceLimits: ResourceLimits | undefined;
  /** 0: no limit. */
  maxJobsPerThread: number;
  /** 0: no limit. */
  maxThreadHeapMb: number;
  importTimeoutMs: number;
}

/** Bounds of the pool options, for the constructors and the HTTP routes alike. */
export const EXECUTOR_LIMITS = {
  threads: { min: 1, max: 1024 },
  minThreads: { min: 0, max: 1024 },
  maxThreads: { min: 1, max: 1024 },
  concurrencyPerThread: { min: 1, max: 1000 },
  cancelGraceMs: { min: 0, max: 2_147_483_647 },
  idleTimeoutMs: { min: 0, max: 2_147_483_647 },
  maxJobsPerThread: { min: 1, max: Number.MAX_SAFE_INTEGER },
  maxThreadHeapMb: { min: 1, max: 1_048_576 },
  importTimeoutMs: { min: 1, max: 2_147_483_647 },
} as const;

/** The option names of {@link ExecutorOptions}, for a queue's list of known keys. */
export const EXECUTOR_OPTION_KEYS = [
  "threads",
  "minThreads",
  "maxThreads",
  "idleTimeoutMs",
  "concurrencyPerThread",
  "cancelGraceMs",
  "resourceLimits",
  "maxJobsPerThread",
  "maxThreadHeapMb",
  "importTimeoutMs",
] as const;

const RESOURCE_LIMIT_KEYS = [
  "maxYoungGenerationSizeMb",
  "maxOldGenerationSizeMb",
  "codeRangeSizeMb",
  "stackSizeMb",
];

function intIn(o: Record<string, unknown>, key: keyof typeof EXECUTOR_LIMITS): number | undefined {
  const { min, max } = EXECUTOR_LIMITS[key];
  return o[key] === undefined ? undefined : integerOption(key, o[key], min, max);
}

/**
 * Checks the pool options among a queue's options (other keys are left to
 * the queue) and applies the defaults. Throws `ERR_INVALID_OPTION` naming
 * the option.
 */
export function parseExecutorOptions(o: Record<string, unknown>): ResolvedExecutorOptions {
  const threads = intIn(o, "threads");
  let minThreads = intIn(o, "minThreads");
  let maxThreads = intIn(o, "maxThreads");
  if (threads !== undefined && (minThreads !== undefined || maxThreads !== undefined)) {
    throw jobError(
      ErrorCode.INVALID_OPTION,
      "`threads` is shorthand for `minThreads` and `maxThreads`: give either `threads` or those two",
    );
  }
  if (minThreads !== undefined && maxThreads !== undefined && minThreads > maxThreads) {
    throw jobError(
      ErrorCode.INVALID_OPTION,
      `\`minThreads\` (${minThreads}) must not be above \`maxThreads\` (${maxThreads})`,
    );
  }
  const cores = availableParallelism();
  if (threads !== undefined) {
    minThreads = threads;
    maxThreads = threads;
  } else if (maxThreads !== undefined) {
    minThreads ??= Math.min(1, maxThreads);
  } else if (minThreads !== undefined) {
    maxThreads = Math.max(1, minThreads, cores);
  } else {
    minThreads = cores;
    maxThreads = cores;
  }
  const limits = objectOption("resourceLimits", o.resourceLimits);
  if (limits !== undefined) {
    // Worker threads only check these when the pool starts: check them here.
    rejectUnknownKeys("resourceLimits.", limits, RESOURCE_LIMIT_KEYS);
    for (const key of RESOURCE_LIMIT_KEYS) {
      if (limits[key] !== undefined) numberOption(`resourceLimits.${key}`, limits[key], 0);
    }
  }
  const heap = EXECUTOR_LIMITS.maxThreadHeapMb;
  return {
    minThreads: minThreads as number,
    maxThreads: maxThreads as number,
    idleTimeoutMs: intIn(o, "idleTimeoutMs") ?? 60_000,
    concurrencyPerThread: intIn(o, "concurrencyPerThread") ?? 1,
    cancelGraceMs: intIn(o, "cancelGraceMs") ?? 1000,
    resourceLimits: limits as ResourceLimits | undefined,
    maxJobsPerThread: intIn(o, "maxJobsPerThread") ?? 0,
    maxThreadHeapMb:
      o.maxThreadHeapMb === undefined
        ? 0
        : numberOption("maxThreadHeapMb", o.maxThreadHeapMb, heap.min, heap.max),
    importTimeoutMs: intIn(o, "importTimeoutMs") ?? 30_000,
  };
}
