import { AsyncLocalStorage } from "node:async_hooks";
import { ErrorCode, jobError } from "./errors.js";

/**
 * What a running job sees of itself through {@link currentJob}.
 *
 * @example
 * ```ts
 * export const crunch = background(async function crunch(rows: number[]) {
 *   const job: JobContext = currentJob();
 *   for (const [i, row] of rows.entries()) {
 *     job.throwIfCancelled(); // works inside a CPU loop
 *     heavy(row);
 *     job.progress((i + 1) / rows.length);
 *   }
 *   return { id: job.id, attempt: job.attempt };
 * });
 * ```
 */
export interface JobContext {
  /** The job's id. */
  readonly id: string;
  /** The task's name. */
  readonly task: string;
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  readonly attempt: number;
  /** Aborts when the job is cancelled or its attempt times out. */
  readonly signal: AbortSignal;
  /** Reports progress (any cloneable value, often a number from 0 to 1) to the queue's `progress` event. */
  progress(value: unknown): void;
  /**
   * Appends a line to the job's log (`queue.getLogs(jobId)`). Lines are sent
   * in batches, not one message each: call it freely. A line longer than
   * 8,192 characters is cut, with a marker saying how much. In a direct call
   * of a task (`task(...)`, not enqueued) it does nothing.
   */
  log(text: string): void;
  /**
   * The results of the jobs listed in `enqueueWith({ dependsOn })`, by job
   * id (`{}` without any). Each had completed before this job started.
   */
  dependencies(): Record<string, unknown>;
  /**
   * Throws if the job was cancelled or timed out. It reads shared memory, so it
   * works inside a CPU loop that never yields to the event loop.
   */
  throwIfCancelled(): void;
}

const storage = new AsyncLocalStorage<JobContext>();

/**
 * The job running in this async context, in a worker thread or on the main
 * thread. Outside a job it throws `ERR_NO_CURRENT_JOB`.
 *
 * @example
 * ```ts
 * export const fetchAll = background(async function fetchAll(urls: string[]) {
 *   const { signal } = currentJob(); // aborts on cancel or timeout
 *   return Promise.all(urls.map((u) => fetch(u, { signal }).then((r) => r.status)));
 * });
 * ```
 */
export function currentJob(): JobContext {
  const ctx = storage.getStore();
  if (ctx === undefined) {
    throw jobError(ErrorCode.NO_CURRENT_JOB, "currentJob() was called outside a running job");
  }
  return ctx;
}

/** Runs `fn` with `ctx` as its current job. */
export function runWithJob<T>(ctx: JobContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

/** The current job, or undefined outside one. */
export function maybeCurrentJob(): JobContext | undefined {
  return storage.getStore();
}
