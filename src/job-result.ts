import { isTerminal, type JobStatus } from "./job-status.js";

/** The fields a backend hands over to build a {@link JobResult}. */
export interface JobResultInit<T = unknown> {
  jobId: string;
  task: string;
  status: JobStatus;
  result?: T;
  error?: string;
  errorCode?: string;
  /** The stack of the error that failed the job (failed jobs only, bounded). */
  stack?: string;
  createdAt: Date;
  startedAt?: Date;
  completedAt?: Date;
  attempts: number;
  maxRetries: number;
  progress?: unknown;
  args?: unknown[];
  dependsOn?: string[];
  runAt?: Date;
  /**
   * The job reached its end while pending (cancelled, or failed by a
   * dependency): no attempt was running then, so it has no duration.
   */
  endedPending?: boolean;
}

/**
 * A snapshot of one job, as the seed's `JobResult` describes it. It is a copy:
 * it does not change when the job moves on; call `getResult` again for news.
 */
export class JobResult<T = unknown> {
  /** Unique job identifier. */
  readonly jobId: string;
  /** Name of the task the job runs. */
  readonly task: string;
  /** Current status. */
  readonly status: JobStatus;
  /** The task's return value, once completed. */
  readonly result?: T;
  /**
   * The last error's message, once failed (or of the last failed attempt
   * while retrying): the message alone (its name when the message is
   * empty); the name is in the first line of {@link JobResult.stack}.
   */
  readonly error?: string;
  /** The stable code of that error, when it had one (e.g. `ERR_JOB_TIMEOUT`). */
  readonly errorCode?: string;
  /**
   * On a failed job read with `getResult`: the stack of the error that
   * failed it, first line `Name: message`, cut to 50 frames and 8 KiB
   * (`STACK_LIMITS`). Absent when the error had none (a thrown string, an
   * expired lease, a failed dependency) and in `listJobs` rows.
   */
  readonly stack?: string;
  /** When the job was enqueued. */
  readonly createdAt: Date;
  /** When its latest attempt started. */
  readonly startedAt?: Date;
  /** When it reached its terminal state. */
  readonly completedAt?: Date;
  /** Number of attempts started so far. */
  readonly attempts: number;
  /** Retries allowed after the first attempt. */
  readonly maxRetries: number;
  /** The last value the job passed to `currentJob().progress()`. */
  readonly progress?: unknown;
  /** The arguments, when the backend was asked to include them. */
  readonly args?: unknown[];
  /** The jobs this one waits for (`enqueueWith({ dependsOn })`). */
  readonly dependsOn?: string[];
  /** While a delay or retry backoff holds the pending job back: when it may run. */
  readonly runAt?: Date;
  /** It ended while pending (see {@link JobResultInit.endedPending}). */
  #endedPending = false;

  constructor(init: JobResultInit<T>) {
    this.jobId = init.jobId;
    this.task = init.task;
    this.status = init.status;
    if (init.result !== undefined) this.result = init.result;
    if (init.error !== undefined) this.error = init.error;
    if (init.errorCode !== undefined) this.errorCode = init.errorCode;
    if (init.stack !== undefined) this.stack = init.stack;
    this.createdAt = init.createdAt;
    if (init.startedAt !== undefined) this.startedAt = init.startedAt;
    if (init.completedAt !== undefined) this.completedAt = init.completedAt;
    this.attempts = init.attempts;
    this.maxRetries = init.maxRetries;
    if (init.progress !== undefined) this.progress = init.progress;
    if (init.args !== undefined) this.args = init.args;
    if (init.dependsOn !== undefined) this.dependsOn = init.dependsOn;
    if (init.runAt !== undefined) this.runAt = init.runAt;
    if (init.endedPending === true) this.#endedPending = true;
  }

  /**
   * How long the attempt that ended the job ran, in seconds: from
   * `startedAt` (the start of the last attempt) to `completedAt`. So a
   * retried job's duration covers its last attempt only (`completedAt -
   * createdAt` is its whole time in the queue). `undefined` until the job
   * is done, and for a job that ended while pending: cancelled before it
   * started (or while waiting out a retry backoff), or failed because a
   * dependency did.
   */
  get duration(): number | undefined {
    if (this.completedAt === undefined || this.startedAt === undefined || this.#endedPending) {
      return undefined;
    }
    return (this.completedAt.getTime() - this.startedAt.getTime()) / 1000;
  }

  /** True once the job is completed, failed or cancelled. */
  get isDone(): boolean {
    return isTerminal(this.status);
  }
}
