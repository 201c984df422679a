import { EventEmitter } from "eventemitter3";
import type { ScheduleSpec } from "./engine/schedule-spec.js";
import type { ScheduleInfo } from "./engine/schedule-store.js";
import { ErrorCode, jobError } from "./errors.js";
import type { JobQueueEvents } from "./events.js";
import type { JobResult } from "./job-result.js";
import { isTerminal, type JobStatus } from "./job-status.js";
import { allTasks } from "./registry.js";
import type { WorkerInfo } from "./worker-info.js";

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
  /** Overrides the task's `timeoutMs` for this job: each attempt may run this long, in ms. */
  timeoutMs?: number;
  /**
   * While a job with this key is pending or running, or within `ttlMs` of
   * its creation, enqueueing returns that job's id and stores nothing new.
   */
  dedupe?: DedupeOptions;
  /**
   * The job stays pending until every one of these jobs completed; if one
   * ends failed or cancelled, this job fails with `ERR_DEPENDENCY_FAILED`
   * without running. Each id must exist.
   */
  dependsOn?: string[];
}

/** See {@link EnqueueOptions.dedupe}. */
export interface DedupeOptions {
  /** 1 to 512 characters. */
  key: string;
  /** How long after the job's creation the key still holds, in ms (also once the job ended). @default 0 */
  ttlMs?: number;
}

/** Options of {@link JobQueue.clean}. */
export interface CleanOptions {
  /** Which finished jobs to delete. */
  status: "completed" | "failed" | "cancelled";
  /** Only jobs that finished at least this long ago, in ms. @default 0 */
  olderThanMs?: number;
  /** Delete at most this many. @default no limit */
  limit?: number;
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

/** A waiter of `waitFor`: looks at the job again; `reject` ends the wait. */
type Check = (() => void) & {
  reject?: (error: Error) => void;
  /** Looks once more: resolves if the job ended meanwhile, else rejects with `error`. */
  last?: (error: Error) => Promise<void>;
};

/**
 * The queue contract both backends implement: a store of jobs, a state
 * machine, a scheduler that runs jobs on the worker-thread pool, and the
 * events of every transition.
 */
export abstract class JobQueue extends EventEmitter<JobQueueEvents> {
  /** `"memory"` or `"redis"`. */
  abstract readonly backend: "memory" | "redis";

  #waiters = new Map<string, Set<Check>>();

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
  /**
   * The processes running this queue's jobs now: host, pid, threads, jobs
   * held, version, start and last heartbeat. With Redis, every process that
   * shares the prefix (a killed one drops out within its record's TTL, three
   * check intervals); in memory, this process while it runs jobs.
   */
  abstract listWorkers(): Promise<WorkerInfo[]>;
  /**
   * Sends a failed or cancelled job back to pending; true if it moved. Its
   * `attempts` keep counting and it gets a fresh budget of `maxRetries`.
   * False for an unknown job or one in another state.
   */
  abstract retry(jobId: string): Promise<boolean>;
  /** Makes a delayed pending job runnable now; true if it was delayed. */
  abstract promote(jobId: string): Promise<boolean>;
  /** No new job starts until {@link resume} (running ones finish); enqueue still works. */
  abstract pause(): Promise<void>;
  abstract resume(): Promise<void>;
  abstract isPaused(): Promise<boolean>;
  /** Deletes a job that is not running, with its log; true if deleted. */
  abstract remove(jobId: string): Promise<boolean>;
  /** Deletes finished jobs of one status; resolves with how many. */
  abstract clean(options: CleanOptions): Promise<number>;
  /** The job's log lines, oldest first (`currentJob().log()`); undefined for an unknown job. */
  abstract getLogs(jobId: string): Promise<string[] | undefined>;
  /**
   * Creates or replaces schedule `id`: every tick of `spec` (`{ cron, tz }`
   * or `{ everyMs }`) enqueues one job of `task` with `args`, however many
   * processes run the queue. `task.schedule(id, spec, ...args)` calls this.
   */
  abstract schedule(id: string, task: TaskRef, spec: ScheduleSpec, args: unknown[]): Promise<void>;
  /** Deletes a schedule; true if it existed. */
  abstract unschedule(id: string): Promise<boolean>;
  /** Every schedule, ordered by id, with its next run. */
  abstract listSchedules(): Promise<ScheduleInfo[]>;
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
      const check: Check = () => {
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
      check.reject = (error) => finish(undefined, error);
      check.last = (error) =>
        this.getResult<T>(jobId).then(
          (r) => (r?.isDone ? finish(r) : finish(undefined, error)),
          () => finish(undefined, error),
        );
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

  /** True while some `waitFor` waits. */
  protected get waiting(): boolean {
    return this.#waiters.size > 0;
  }

  /** Ends every `waitFor` still waiting (the queue closed): resolved if its job ended meanwhile, else rejected. */
  protected async rejectWaiters(error: Error): Promise<void> {
    const waiting = [...this.#waiters.values()];
    this.#waiters.clear();
    // A job may have ended just before, its news still on the way (Redis
    // relays it): each waiter reads the job once more before it gives up.
    const last: Promise<void>[] = [];
    for (const set of waiting)
      for (const check of set) if (check.last) last.push(check.last(error));
    await Promise.all(last);
  }

  /** Resolves when no job is pending or running. */
  abstract onIdle(): Promise<void>;
}
