import { EventEmitter } from "eventemitter3";
import { ErrorCode, jobError } from "./errors.js";
import type { JobQueueEvents } from "./events.js";
import type { JobResult } from "./job-result.js";
import { isTerminal, type JobStatus, parseJobStatus } from "./job-status.js";
import { allTasks } from "./registry.js";
import {
  integerOption,
  numberOption,
  objectOption,
  rejectUnknownKeys,
  validateJobId,
} from "./validate.js";

/** Per-call options of one enqueue. */
export interface EnqueueOptions {
  /** Your own id: enqueueing an id that exists returns it and stores nothing new (idempotency). */
  jobId?: string;
  /** Wait this long before the job may start, in ms. @default 0 */
  delayMs?: number;
  /** Higher runs first among ready jobs; equal priorities run in enqueue order. @default 0 */
  priority?: number;
  /** Overrides the task's `maxRetries` for this job. */
  maxRetries?: number;
}

/** Paging of {@link JobQueue.listJobs}. */
export interface ListOptions {
  /** At most this many jobs. @default no limit */
  limit?: number;
  /** Skip this many of the newest first. @default 0 */
  offset?: number;
  /** Only jobs of this task. */
  task?: string;
}

/** Options of {@link JobQueue.waitFor}. */
export interface WaitOptions {
  /** Reject with `ERR_JOB_TIMEOUT` after this long. @default no limit */
  timeoutMs?: number;
  /** Stop waiting when this aborts. */
  signal?: AbortSignal;
}

/** Options of {@link JobQueue.close}. */
export interface CloseOptions {
  /**
   * How long to let running jobs finish; after it they are stopped (and, with
   * Redis, handed back to the queue). @default no limit
   */
  timeoutMs?: number;
}

/** Number of jobs in each state. */
export type JobCounts = Record<JobStatus, number>;

/** What a queue's `enqueue` accepts as the task: its name, or the task itself. */
export type TaskRef = string | { readonly taskName: string };

/** One job of {@link JobQueue.enqueueMany}. */
export interface BulkJob {
  /** The job id; enqueueing an id that exists stores nothing new. */
  jobId: string;
  task: TaskRef;
  args: unknown[];
  options?: EnqueueOptions;
}

/** Validates per-call enqueue options once, naming the bad option. */
export function parseEnqueueOptions(value: unknown): EnqueueOptions {
  const o = objectOption("enqueue options", value);
  if (o === undefined) return {};
  rejectUnknownKeys("", o, ["jobId", "delayMs", "priority", "maxRetries"]);
  if (o.jobId !== undefined) validateJobId(o.jobId);
  if (o.delayMs !== undefined) numberOption("delayMs", o.delayMs, 0);
  if (o.priority !== undefined) integerOption("priority", o.priority, -1_000_000, 1_000_000);
  if (o.maxRetries !== undefined) integerOption("maxRetries", o.maxRetries, 0, 1000);
  return o as EnqueueOptions;
}

/** Validates the arguments of `listJobs`. */
export function parseListArgs(
  status: unknown,
  options: unknown,
): { status: JobStatus | undefined; limit: number; offset: number; task: string | undefined } {
  const o = objectOption("list options", options) ?? {};
  rejectUnknownKeys("", o, ["limit", "offset", "task"]);
  return {
    status: status === undefined || status === null ? undefined : parseJobStatus(status),
    limit: o.limit === undefined ? Number.POSITIVE_INFINITY : integerOption("limit", o.limit, 0),
    offset: o.offset === undefined ? 0 : integerOption("offset", o.offset, 0),
    task: o.task === undefined ? undefined : String(o.task),
  };
}

export function taskName(task: TaskRef): string {
  const name = typeof task === "string" ? task : task?.taskName;
  if (typeof name !== "string" || name.length === 0) {
    throw jobError(
      ErrorCode.UNKNOWN_TASK,
      "enqueue needs a task name or a task made by background()",
    );
  }
  return name;
}

/**
 * The queue contract both backends implement: a store of jobs, a state
 * machine, a scheduler that runs jobs on the worker-thread pool, and the
 * events of every transition.
 */
export abstract class JobQueue extends EventEmitter<JobQueueEvents> {
  /** `"memory"` or `"redis"`. */
  abstract readonly backend: "memory" | "redis";

  #waiters = new Map<string, Set<() => void>>();

  /** Stores a job and resolves with its id once it is stored (not once it ran). */
  abstract enqueue(
    jobId: string,
    task: TaskRef,
    args: unknown[],
    options?: EnqueueOptions,
  ): Promise<string>;
  /**
   * Stores many jobs in one go (one round trip per few hundred jobs with
   * Redis). Every job is checked before any is stored.
   */
  abstract enqueueMany(jobs: readonly BulkJob[]): Promise<string[]>;
  /** A snapshot of the job, or undefined when the queue does not know it. */
  abstract getResult<T = unknown>(jobId: string): Promise<JobResult<T> | undefined>;
  /** Cancels a pending or running job; false for an unknown or finished one. */
  abstract cancel(jobId: string): Promise<boolean>;
  /** Jobs, newest first, optionally of one status. */
  abstract listJobs(status?: JobStatus, options?: ListOptions): Promise<JobResult[]>;
  /** How many jobs are in each state. */
  abstract countJobs(): Promise<JobCounts>;
  /** Starts running jobs (idempotent). Enqueueing on a queue that runs jobs starts it. */
  abstract start(): Promise<void>;
  /** Stops taking work and lets running jobs finish or hands them back (idempotent). */
  abstract close(options?: CloseOptions): Promise<void>;
  /** True once `close()` was called. */
  abstract readonly closed: boolean;

  /** Names of the tasks whose jobs this queue runs. */
  taskNames(): string[] {
    return allTasks()
      .filter((t) => (t.queue ?? this.defaultBinding()) === this)
      .map((t) => t.name);
  }

  /** Overridden by the default queue: tasks with no `queue` option belong to it. */
  protected defaultBinding(): JobQueue | undefined {
    return undefined;
  }

  /** Resolves with the job's result once it is completed, failed or cancelled. */
  waitFor<T = unknown>(jobId: string, options: WaitOptions = {}): Promise<JobResult<T>> {
    return new Promise<JobResult<T>>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => finish(undefined, options.signal?.reason ?? new Error("aborted"));
      const check = () => {
        this.getResult<T>(jobId).then(
          (r) => {
            if (r === undefined)
              finish(undefined, jobError(ErrorCode.JOB_NOT_FOUND, `unknown job ${jobId}`));
            else if (r.isDone) finish(r);
          },
          (e) => finish(undefined, e),
        );
      };
      const set = this.#waiters.get(jobId) ?? new Set();
      this.#waiters.set(jobId, set);
      set.add(check);
      const finish = (r: JobResult<T> | undefined, error?: unknown) => {
        set.delete(check);
        if (set.size === 0 && this.#waiters.get(jobId) === set) this.#waiters.delete(jobId);
        if (timer !== undefined) clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        if (r !== undefined) resolve(r);
        else reject(error);
      };
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(
          () =>
            finish(
              undefined,
              jobError(
                ErrorCode.TIMEOUT,
                `job ${jobId} did not finish within ${options.timeoutMs} ms`,
              ),
            ),
          options.timeoutMs,
        );
      }
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener("abort", onAbort, { once: true });
      check();
    });
  }

  /** Backends call this when a job reached a terminal state, here or in another process. */
  protected notifyTerminal(jobId: string, status: JobStatus): void {
    if (this.#waiters.size === 0 || !isTerminal(status)) return;
    const set = this.#waiters.get(jobId);
    if (set !== undefined) for (const check of [...set]) check();
  }

  /** Resolves when no job is pending or running. */
  async onIdle(pollMs = 20): Promise<void> {
    for (;;) {
      const counts = await this.countJobs();
      if (counts.pending === 0 && counts.running === 0) return;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }
}
