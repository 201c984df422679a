import { ErrorCode, jobError } from "./errors.js";
import type { JobStatus } from "./job-status.js";
import {
  enumOption,
  integerOption,
  objectOption,
  rejectUnknownKeys,
  stringOption,
} from "./validate.js";

/**
 * Parsers of the options of the operating calls (retry, clean, logs,
 * dedupe, per-job timeout) and of the per-task limits, shared by both
 * backends. Each throws `ERR_INVALID_OPTION` naming the option, before
 * anything is stored.
 */

/** A plain object; undefined is refused like any other non-object. */
function requiredObject(name: string, value: unknown): Record<string, unknown> {
  return objectOption(name, value === undefined ? null : value) as Record<string, unknown>;
}

/** The statuses `clean()` deletes: those that never change by themselves. */
export const CLEANABLE_STATUSES = ["completed", "failed", "cancelled"] as const;
export type CleanableStatus = (typeof CLEANABLE_STATUSES)[number] & JobStatus;

/** The ranges the parsers accept. */
export const OPERATION_LIMITS = Object.freeze({
  /** A per-job timeout: Node's timers fire at once beyond 2^31 - 1 ms. */
  maxTimeoutMs: 2_147_483_647,
  /** A dedupe key, in characters. */
  maxDedupeKeyLength: 512,
  /** A dedupe window: 30 days. */
  maxDedupeTtlMs: 30 * 86_400_000,
  /** Lines kept per job log. */
  maxLogLines: 100_000,
  /** Jobs of one task running at once, across processes. */
  maxConcurrency: 1_000_000,
  /** Starts per rate-limit window. */
  maxRateMax: 1_000_000,
  /** A rate-limit window: one day. */
  maxRateIntervalMs: 86_400_000,
});

/** What `clean()` deletes, checked. */
export interface CleanOptions {
  status: CleanableStatus;
  /** Only jobs that finished at least this long ago. @default 0 (every finished job) */
  olderThanMs: number;
  /** At most this many (0: none, a no-op). @default Infinity */
  limit: number;
}

/** Parses `clean({ status, olderThanMs?, limit? })`. */
export function parseCleanOptions(value: unknown): CleanOptions {
  const o = requiredObject("clean options", value);
  rejectUnknownKeys("", o, ["status", "olderThanMs", "limit"]);
  return {
    status: enumOption("status", o.status, CLEANABLE_STATUSES),
    olderThanMs: o.olderThanMs === undefined ? 0 : integerOption("olderThanMs", o.olderThanMs, 0),
    limit:
      o.limit === undefined || o.limit === Number.POSITIVE_INFINITY
        ? Number.POSITIVE_INFINITY
        : integerOption("limit", o.limit, 0),
  };
}

/** `enqueueWith({ timeoutMs })`: an integer from 1 to 2^31 - 1, or undefined (the task's). */
export function parseJobTimeout(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  return integerOption("timeoutMs", value, 1, OPERATION_LIMITS.maxTimeoutMs);
}

/** `enqueueWith({ dedupe: { key, ttlMs } })`, checked. */
export interface DedupeOptions {
  /** 1 to 512 characters. */
  key: string;
  /** The window after the job's creation in which the key still holds. @default 0 (only while pending or running) */
  ttlMs: number;
}

/** Parses `dedupe: { key, ttlMs? }`, or undefined. */
export function parseDedupe(value: unknown): DedupeOptions | undefined {
  if (value === undefined) return undefined;
  const o = requiredObject("dedupe", value);
  rejectUnknownKeys("dedupe.", o, ["key", "ttlMs"]);
  const key = stringOption("dedupe.key", o.key);
  if (key.length > OPERATION_LIMITS.maxDedupeKeyLength) {
    throw jobError(
      ErrorCode.INVALID_OPTION,
      `\`dedupe.key\` must be 1 to ${OPERATION_LIMITS.maxDedupeKeyLength} characters (got ${key.length})`,
    );
  }
  return {
    key,
    ttlMs:
      o.ttlMs === undefined
        ? 0
        : integerOption("dedupe.ttlMs", o.ttlMs, 0, OPERATION_LIMITS.maxDedupeTtlMs),
  };
}

/** How many log lines each job keeps. */
export function parseMaxLogLines(value: unknown): number {
  return integerOption("maxLogLines", value, 1, OPERATION_LIMITS.maxLogLines);
}

/** `background({ rateLimit })`: at most `max` starts per `intervalMs`. */
export interface RateLimit {
  max: number;
  intervalMs: number;
}

/** The limits of one task, as `setTaskLimits` stores them. */
export interface TaskLimits {
  task: string;
  /** At most this many running at once, across processes. */
  concurrency?: number | undefined;
  rateLimit?: RateLimit | undefined;
}

/** `background({ concurrency })`: an integer from 1, or undefined (no limit). */
export function parseConcurrency(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  return integerOption("concurrency", value, 1, OPERATION_LIMITS.maxConcurrency);
}

/** `background({ rateLimit: { max, intervalMs } })`, or undefined (no limit). */
export function parseRateLimit(value: unknown): RateLimit | undefined {
  if (value === undefined) return undefined;
  const o = requiredObject("rateLimit", value);
  rejectUnknownKeys("rateLimit.", o, ["max", "intervalMs"]);
  return {
    max: integerOption("rateLimit.max", o.max, 1, OPERATION_LIMITS.maxRateMax),
    intervalMs: integerOption(
      "rateLimit.intervalMs",
      o.intervalMs,
      1,
      OPERATION_LIMITS.maxRateIntervalMs,
    ),
  };
}

/** Parses one task's limits (the task name must be a non-empty string). */
export function parseTaskLimits(value: unknown): TaskLimits {
  const o = requiredObject("limits", value);
  rejectUnknownKeys("", o, ["task", "concurrency", "rateLimit"]);
  const task = stringOption("task", o.task);
  const concurrency = parseConcurrency(o.concurrency);
  const rateLimit = parseRateLimit(o.rateLimit);
  return {
    task,
    ...(concurrency === undefined ? {} : { concurrency }),
    ...(rateLimit === undefined ? {} : { rateLimit }),
  };
}
