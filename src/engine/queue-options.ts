import { ErrorCode, jobError } from "../errors.js";
import {
  EXECUTOR_OPTION_KEYS,
  type ExecutorOptions,
  parseExecutorOptions,
  type ResolvedExecutorOptions,
} from "../executor/executor-options.js";
import { integerOption, objectOption, rejectUnknownKeys } from "../validate.js";

/**
 * The limits and the parsers of the options both queues share, in one place:
 * the constructors, the HTTP routes and the CLI all check against these.
 */
export const LIMITS = Object.freeze({
  maxPayloadBytes: [1, 512 * 1024 * 1024],
  // Redis takes no argument over 512 MB (`proto-max-bulk-len`).
  maxResultBytes: [1, 512 * 1024 * 1024],
  maxLogLines: [1, 100_000],
  maxRetries: [0, 1000],
  priority: [-1_000_000, 1_000_000],
} as const);

/** Where a queue writes what an operator should see. */
export interface QueueLogger {
  warn(message: string): void;
}

/** How long finished jobs are kept, so memory stays bounded. */
export interface RetentionOptions {
  /** Drop finished jobs older than this, in ms. @default 86_400_000 (one day) */
  maxAgeMs?: number;
  /** Keep at most this many finished jobs (the oldest go first). @default 100_000 */
  maxCount?: number;
}

/** The options every queue takes, beyond its pool's. */
export interface CommonQueueOptions extends ExecutorOptions {
  /** Retention of completed, failed and cancelled jobs. */
  retention?: RetentionOptions;
  /** Largest encoded arguments accepted, in bytes. @default 16 MiB */
  maxPayloadBytes?: number;
  /**
   * Largest encoded result stored, in bytes, checked on the worker thread
   * where the result is encoded (Redis; the in-memory queue hands results
   * over as they are): a job returning more fails with
   * `ERR_RESULT_TOO_LARGE`, not retried. Keep it below the Redis server's
   * `proto-max-bulk-len` (512 MB by default); it also bounds the results one
   * write-back call carries. @default 64 MiB
   */
  maxResultBytes?: number;
  /** Log lines kept per job (`currentJob().log()`), the newest. @default 1_000 */
  maxLogLines?: number;
  /** Where warnings go (a broken task module, lost leases, Redis unreachable). @default console */
  logger?: QueueLogger;
}

export const COMMON_KEYS = [
  ...EXECUTOR_OPTION_KEYS,
  "retention",
  "maxPayloadBytes",
  "maxResultBytes",
  "maxLogLines",
  "logger",
] as const;

/** The common options, checked, with their defaults. */
export interface ParsedCommonOptions {
  executor: ExecutorOptions;
  /** Threads the pool grows to. */
  threads: number;
  retention: { maxAgeMs: number; maxCount: number };
  maxPayloadBytes: number;
  maxResultBytes: number;
  maxLogLines: number;
  logger: QueueLogger;
}

export function parseCommonOptions(o: Record<string, unknown>): ParsedCommonOptions {
  const { options: executor, resolved } = executorOptionsOf(o);
  const retention = objectOption("retention", o.retention) ?? {};
  rejectUnknownKeys("retention.", retention, ["maxAgeMs", "maxCount"]);
  const logger = o.logger === undefined ? console : (o.logger as QueueLogger);
  if (logger === null || typeof logger !== "object" || typeof logger.warn !== "function") {
    throw jobError(
      ErrorCode.INVALID_OPTION,
      "`logger` must be an object with a warn(message) method",
    );
  }
  return {
    executor,
    threads: resolved.maxThreads,
    retention: {
      maxAgeMs:
        retention.maxAgeMs === undefined
          ? 86_400_000
          : integerOption("retention.maxAgeMs", retention.maxAgeMs, 0),
      maxCount:
        retention.maxCount === undefined
          ? 100_000
          : integerOption("retention.maxCount", retention.maxCount, 0),
    },
    maxPayloadBytes:
      o.maxPayloadBytes === undefined
        ? 16 * 1024 * 1024
        : integerOption("maxPayloadBytes", o.maxPayloadBytes, ...LIMITS.maxPayloadBytes),
    maxResultBytes:
      o.maxResultBytes === undefined
        ? 64 * 1024 * 1024
        : integerOption("maxResultBytes", o.maxResultBytes, ...LIMITS.maxResultBytes),
    maxLogLines:
      o.maxLogLines === undefined
        ? 1_000
        : integerOption("maxLogLines", o.maxLogLines, ...LIMITS.maxLogLines),
    logger,
  };
}

/** Checks the pool options and returns only them (the executor applies their defaults). */
function executorOptionsOf(o: Record<string, unknown>): {
  options: ExecutorOptions;
  resolved: ResolvedExecutorOptions;
} {
  const resolved = parseExecutorOptions(o);
  const options: Record<string, unknown> = {};
  for (const key of EXECUTOR_OPTION_KEYS) if (o[key] !== undefined) options[key] = o[key];
  return { options: options as ExecutorOptions, resolved };
}
