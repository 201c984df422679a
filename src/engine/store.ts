import type { SerializedError } from "../errors.js";
import type { ArgsEncoding } from "../executor/protocol.js";
import type { MovedArgs } from "../executor/thread-args.js";
import type { JobCounts } from "../job-queue.js";
import type { JobResult } from "../job-result.js";
import type { JobStatus } from "../job-status.js";
import type { CleanOptions } from "../operation-options.js";
import type { TaskDefinition } from "../task-definition.js";
import type { TraceCarrier } from "../tracing.js";
import type { WorkerInfo } from "../worker-info.js";
import type { Pace } from "./pace-meter.js";
import type { ScheduleStore } from "./schedule-store.js";

/**
 * The storage contract: everything a backend keeps, and nothing it decides.
 * The engine (src/engine/engine-queue.ts and runner.ts) prepares jobs, runs
 * them, decides how each attempt ended and builds the events; a store only
 * keeps jobs and applies the changes it is handed, atomically per job.
 * `memory/` and `redis/` implement it.
 *
 * Methods the worker side calls on every job (`claim`, `settle`) may answer
 * synchronously: the in-memory store does, so a job starts in the same turn
 * it was enqueued in and no promise is made per job.
 */
export interface JobStore {
  readonly backend: "memory" | "redis";
  /** Worker threads return results as msgpack bytes (Redis) instead of live values (memory). */
  readonly encodesResults: boolean;
  /**
   * The store announces its own changes (Redis: the scripts publish the
   * records, atomically with the change, to every process, this one
   * included), so the engine emits nothing itself. Otherwise the engine
   * emits each change it made, once applied.
   */
  readonly relaysEvents: boolean;
  /**
   * `claim` and `settle` answer synchronously (memory): the runner claims
   * one job whenever a slot is free and writes each ending at once.
   */
  readonly claimsInline: boolean;
  /**
   * Other processes may run these jobs (Redis): jobs a closing runner will
   * not finish are handed back for them. Otherwise (memory) they are
   * stopped and end cancelled.
   */
  readonly shared: boolean;
  /** How long closing keeps trying to write endings the store refused to take, in ms. */
  readonly drainMs: number;
  /**
   * How long the runner may hold endings to write them in one call, in ms;
   * 0 writes each at once. A function, as it follows the pace of the jobs.
   */
  flushWaitMs(pendingEndings: number, msPerJob: number): number;
  /** Jobs to claim beyond the free slots, given the observed pace (0: claim only for free slots). */
  prefetch(capacity: number, pace: Pace): number;
  /** A problem outside any one job: the store knows which are news (a lost connection once, …). */
  problem(what: string, error: unknown): void;

  /**
   * Makes sure changes of these event kinds reach this process (Redis
   * subscribes and asks the scripts for those records); resolves once
   * they will. Besides the public event names, "idle": a signal that jobs
   * ended or went back to pending, without the jobs (for onIdle()).
   */
  listen(events: readonly string[]): Promise<void>;

  /** Encodes arguments the way this store keeps them (checked and size-limited). */
  encodeArgs(args: unknown[]): StoredArgs;

  /**
   * Stores new jobs; an id that exists is left alone. Resolves with, per
   * job, the id the caller gets: its own, or the id of the job its dedupe
   * key pointed to.
   */
  insert(jobs: NewJob[]): Promise<string[]> | string[];
  get(jobId: string): Promise<JobResult | undefined>;
  list(query: ListQuery): Promise<JobResult[]>;
  counts(): Promise<JobCounts>;
  /**
   * Cancels a pending job (now cancelled) or marks a running one (its
   * runner stops it and writes the end).
   */
  cancel(jobId: string): Promise<CancelOutcome>;

  /** The store's schedules (DESIGN.md section 7). */
  readonly schedules: ScheduleStore;

  // ---- operating jobs ----
  retry(jobId: string): Promise<boolean>;
  promote(jobId: string): Promise<boolean>;
  setPaused(paused: boolean): Promise<void>;
  isPaused(): Promise<boolean>;
  remove(jobId: string): Promise<boolean>;
  clean(query: CleanOptions): Promise<number>;
  getLogs(jobId: string): Promise<string[] | undefined>;
  /** Appends log lines of running jobs (fenced by their claim). */
  appendLogs(entries: LogEntry[]): void;
  /**
   * The processes that run this queue's jobs now (Redis: every process
   * sharing the prefix, from the records they renew; memory: this one,
   * while its runner runs).
   */
  listWorkers(): Promise<WorkerInfo[]>;

  // ---- the worker side ----
  /** Takes up to `n` runnable jobs: each is now running, with its attempt counted. */
  claim(n: number): ClaimedJob[] | Promise<ClaimedJob[]>;
  /**
   * Writes how attempts ended; resolves with, per ending, whether it was
   * applied (true), refused (false, or why: see {@link Refusal}), or not
   * written (undefined: try again).
   */
  settle(endings: readonly Ending[]): SettleReply | Promise<SettleReply>;
  /** Progress of running jobs (advisory: a lost update is not retried). */
  progress(job: ClaimedJob, value: unknown): void;
  /** Gives back claimed jobs that will not run here (close): pending again, the attempt not counted. */
  handBack(jobs: readonly ClaimedJob[]): Promise<void> | void;
  /** The runner starts: the store calls it back when there may be work, a cancel, a lost lease. */
  attach(runner: RunnerPort): void;
  /** The runner stopped. Resolves when the store's own upkeep has ended. */
  detach(): Promise<void>;
  /** Releases connections and timers (after detach). */
  close(): Promise<void>;
}

export type SettleReply = (boolean | Refusal | undefined)[];

/**
 * Why a store refused an ending or a lease renewal: another attempt holds
 * the job (`taken`, what `false` means too), the job no longer exists
 * (`gone`: removed, or Redis restarted without its data), or its record is
 * not a job's any more (`corrupt`: a Redis key of another type).
 */
export type Refusal = "taken" | "gone" | "corrupt";

/** Arguments as a store keeps them and a worker thread decodes them. */
export interface StoredArgs {
  bytes: Uint8Array | undefined;
  encoding: ArgsEncoding;
  /** Buffers moved with `move()` (memory only): they travel in the transfer list. */
  moved?: MovedArgs | undefined;
}

/** A job the engine checked and hands to the store to keep. */
export interface NewJob {
  id: string;
  task: TaskDefinition;
  args: StoredArgs;
  maxRetries: number;
  priority: number;
  delayMs: number;
  /** This job's own attempt timeout, in ms. */
  timeoutMs: number | undefined;
  dedupe: { key: string; ttlMs: number } | undefined;
  /** Jobs that must complete first (each exists; checked by the store, which refuses otherwise). */
  dependsOn: string[] | undefined;
  /** The enqueue's trace context, kept with the job (undefined when nothing traces). */
  trace?: TraceCarrier | undefined;
}

export type CancelOutcome = "none" | "cancelled" | "running";

/** One claimed attempt, as the store hands it to the runner. */
export interface ClaimedJob {
  readonly id: string;
  readonly task: string;
  /** This attempt's number (1 for the first). */
  readonly attempt: number;
  readonly maxRetries: number;
  /** This job's own timeout, overriding the task's. */
  readonly timeoutMs?: number | undefined;
  /** The jobs it depended on. */
  readonly dependsOn?: readonly string[] | undefined;
  /** Their results, by job id, as `currentJob().dependencies()` gives them (the store reads them at claim). */
  readonly dependencies?: Record<string, unknown> | undefined;
  readonly args: Uint8Array | undefined;
  readonly encoding: ArgsEncoding;
  readonly moved?: MovedArgs | undefined;
  /** The trace context its enqueue stored. */
  readonly trace?: TraceCarrier | undefined;
  /** The store's own handle of the job (memory: its record), opaque to the engine. */
  readonly ref?: unknown;
  /** The claim's fencing token (Redis: worker id and attempt). */
  readonly token: string;
}

/** How an attempt ended, as the runner decided it (src/engine/outcome.ts). */
export type Ending =
  /** `result`: the value (memory) or msgpack bytes as a latin1 string, "" for undefined (Redis). */
  | { job: ClaimedJob; kind: "completed"; result: unknown; durationMs: number }
  | { job: ClaimedJob; kind: "failed"; error: SerializedError; durationMs: number | undefined }
  | { job: ClaimedJob; kind: "retry"; error: SerializedError; delayMs: number; durationMs: number }
  | { job: ClaimedJob; kind: "cancelled"; durationMs: number | undefined }
  /** Back to pending at once, the attempt not counted: it never started. */
  | { job: ClaimedJob; kind: "requeued" };

export interface ListQuery {
  status: JobStatus | undefined;
  limit: number;
  offset: number;
  task: string | undefined;
}

export type { CleanOptions as CleanQuery } from "../operation-options.js";

export interface LogEntry {
  job: ClaimedJob;
  lines: string[];
}

/** What a store may ask of the runner that claimed from it. */
export interface RunnerPort {
  /**
   * There may be runnable jobs now. A store calls it whenever a job becomes
   * claimable (enqueued, due, retried, handed back, released by its
   * dependencies): once a claim came back short, the runner claims again
   * only when woken.
   */
  wake(): void;
  /** A running job was cancelled (here or by another process): stop it here if held. */
  cancel(jobId: string): void;
  /**
   * The claim on a job was lost (taken over by default): drop whatever its
   * attempt answers. With `token`, only if the held claim is that one: a
   * verdict on an older claim must not stop the job's next attempt.
   */
  lost(jobId: string, why?: Refusal, token?: string): void;
  /** The jobs this runner holds, for lease renewal. */
  held(): Iterable<ClaimedJob>;
  /** The queue was paused: give back the jobs claimed ahead that have not started. */
  release(): void;
  /** The tasks whose jobs this runner runs (their limits are shared with other processes). */
  tasks(): TaskDefinition[];
}
