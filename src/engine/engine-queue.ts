import { parseListArgs, taskName } from "../call-args.js";
import { ErrorCode, type JobError, jobError } from "../errors.js";
import type { ExecutorOptions } from "../executor/executor.js";
import { defaultQueueIfExists } from "../get-queue.js";
import {
  type BulkJob,
  type CleanOptions,
  type CloseOptions,
  type EnqueueOptions,
  type JobCounts,
  JobQueue,
  type ListOptions,
  type TaskRef,
  type WaitOptions,
} from "../job-queue.js";
import type { JobResult } from "../job-result.js";
import type { JobStatus } from "../job-status.js";
import { parseCleanOptions } from "../operation-options.js";
import { requireTask } from "../registry.js";
import { TimerQueue } from "../timer-queue.js";
import { tracing } from "../tracing.js";
import type { WorkerInfo } from "../worker-info.js";
import type { ChangeSink } from "./change-sink.js";
import { type Change, emitChange, isFinal } from "./changes.js";
import { IdleWatch } from "./idle-watch.js";
import { insertTraced, prepareJob, scheduledJob } from "./new-job.js";
import type { Runner, RunnerLog } from "./runner.js";
import { buildRunner } from "./runner-setup.js";
import { listSchedules, scheduleJob, unscheduleJob } from "./schedule-api.js";
import type { ScheduleSpec } from "./schedule-spec.js";
import type { ScheduleInfo } from "./schedule-store.js";
import { Scheduler } from "./scheduler.js";
import type { JobStore, NewJob } from "./store.js";

export interface EngineSettings {
  executor: ExecutorOptions;
  /** This queue runs jobs (false: enqueue and read only). */
  process: boolean;
  /** Largest encoded result a worker thread returns, in bytes. */
  maxResultBytes?: number;
  logger: RunnerLog;
}

/**
 * The queue logic, written once: checks and prepares jobs, hands them to the
 * store, runs them through the {@link Runner}, and emits the events of every
 * change the store reports. `InMemoryQueue` and `RedisQueue` are this class
 * over their store.
 */
export abstract class EngineQueue extends JobQueue {
  /** @internal The store this queue runs over. */
  protected readonly store: JobStore;
  readonly #settings: EngineSettings;
  readonly #timers = new TimerQueue();
  #runner: Runner | undefined;
  #scheduler: Scheduler | undefined;
  #closing: Promise<void> | undefined;
  readonly #idle: IdleWatch;

  constructor(
    makeStore: (sink: ChangeSink, timers: TimerQueue) => JobStore,
    settings: EngineSettings,
  ) {
    super();
    this.#settings = settings;
    this.#idle = new IdleWatch(() => this.store.counts());
    this.store = makeStore(
      {
        change: (c) => this.#changed(c),
        progress: (jobId, task, progress) => {
          if (this.listenerCount("progress") > 0) this.emit("progress", { jobId, task, progress });
        },
        paused: (paused, at) => this.emit(paused ? "paused" : "resumed", { at }),
        error: (error) => this.emit("error", { error }),
        schedulesChanged: () => this.#scheduler?.wake(),
        // eventemitter3 counts the events that have listeners in _eventsCount.
        quiet: () =>
          (this as unknown as { _eventsCount: number })._eventsCount === 0 && !this.waiting,
        ended: () => this.#idle.ended(),
      },
      this.#timers,
    );
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  protected override defaultBinding() {
    return defaultQueueIfExists();
  }

  #changed(c: Change): void {
    emitChange(this, c);
    if (isFinal(c)) this.notifyTerminal(c.jobId, c.to);
    if (isFinal(c) || c.kind === "requeued") this.#idle.ended();
  }

  // ---- enqueueing --------------------------------------------------------------

  enqueue(
    jobId: string,
    task: TaskRef,
    args: unknown[],
    options?: EnqueueOptions,
  ): Promise<string> {
    let ids: string[] | Promise<string[]>;
    try {
      if (this.#closing !== undefined) throw closedError();
      ids = this.#insert([prepareJob(this.store, jobId, task, args, options)]);
    } catch (error) {
      return Promise.reject(error);
    }
    // Stored in this turn (memory) by a queue already running: one settled
    // promise, not a chain of awaits. Every in-memory job takes this path,
    // so what it allocates counts (1.5 KB a job less, measured).
    if (Array.isArray(ids) && !this.#mustStart()) return Promise.resolve(ids[0] ?? jobId);
    return this.#enqueued(ids, jobId);
  }

  async #enqueued(ids: string[] | Promise<string[]>, jobId: string): Promise<string> {
    const [id] = await ids;
    await this.#autoStart();
    return id ?? jobId;
  }

  /** Stores many jobs. Every job is checked before any is stored, so one bad job stores none. */
  async enqueueMany(jobs: readonly BulkJob[]): Promise<string[]> {
    if (this.#closing !== undefined) throw closedError();
    if (!Array.isArray(jobs)) throw jobError(ErrorCode.INVALID_OPTION, "`jobs` must be an array");
    const prepared = jobs.map((j) => {
      if (j === null || typeof j !== "object") {
        throw jobError(ErrorCode.INVALID_OPTION, "each job must be an object");
      }
      return prepareJob(this.store, j.jobId, j.task, j.args, j.options);
    });
    const ids = await this.#insert(prepared);
    await this.#autoStart();
    return ids;
  }

  /** Stores jobs, each within its enqueue span (OpenTelemetry; with no SDK, none). */
  #insert(jobs: NewJob[]): string[] | Promise<string[]> {
    if (!tracing()) return this.store.insert(jobs);
    return insertTraced(this.store, jobs, this.backend);
  }

  /** True when the next enqueue must start the runner first. */
  #mustStart(): boolean {
    return this.#settings.process && this.#runner === undefined && this.#closing === undefined;
  }

  async #autoStart(): Promise<void> {
    if (this.#mustStart()) await this.start();
  }

  // ---- reading -------------------------------------------------------------------

  getResult<T = unknown>(jobId: string): Promise<JobResult<T> | undefined> {
    if (typeof jobId !== "string" || jobId.length === 0) return Promise.resolve(undefined);
    return this.store.get(jobId) as Promise<JobResult<T> | undefined>;
  }

  async listJobs(status?: JobStatus, options?: ListOptions): Promise<JobResult[]> {
    const q = parseListArgs(status, options);
    if (q.limit === 0) return [];
    return this.store.list(q);
  }

  countJobs(): Promise<JobCounts> {
    return this.store.counts();
  }

  listWorkers(): Promise<WorkerInfo[]> {
    return this.store.listWorkers();
  }

  override async waitFor<T = unknown>(
    jobId: string,
    options: WaitOptions = {},
  ): Promise<JobResult<T>> {
    if (this.#closing !== undefined) {
      const r = await this.getResult<T>(jobId);
      if (r?.isDone) return r;
      throw closedError();
    }
    // Subscribe before the first look, so the final change cannot slip between.
    await this.store.listen(FINAL_EVENTS);
    return super.waitFor<T>(jobId, options);
  }

  /** Resolves when no job is pending or running; with Redis, in any process. */
  override async onIdle(): Promise<void> {
    // Only that jobs ended somewhere: no per-job record (with its result) is
    // built and published for it.
    await this.store.listen(["idle"]);
    await this.#idle.wait(() => (this.#closing === undefined ? undefined : closedError()));
  }

  // ---- changing jobs -----------------------------------------------------------

  async cancel(jobId: string): Promise<boolean> {
    if (typeof jobId !== "string" || jobId.length === 0) return false;
    const outcome = await this.store.cancel(jobId);
    if (outcome === "none") return false;
    if (outcome === "running") {
      // Stop it here if this process runs it (the store tells the others),
      // and resolve once it has stopped.
      this.#runner?.cancel(jobId);
      const bound = (this.#settings.executor.cancelGraceMs ?? 1000) + 2000;
      await super.waitFor(jobId, { timeoutMs: bound }).catch(() => {});
    }
    return true;
  }

  async retry(jobId: string): Promise<boolean> {
    if (typeof jobId !== "string" || jobId.length === 0) return false;
    const moved = await this.store.retry(jobId);
    if (moved) await this.#autoStart();
    return moved;
  }

  promote(jobId: string): Promise<boolean> {
    if (typeof jobId !== "string" || jobId.length === 0) return Promise.resolve(false);
    return this.store.promote(jobId);
  }

  pause(): Promise<void> {
    return this.store.setPaused(true);
  }

  resume(): Promise<void> {
    return this.store.setPaused(false);
  }

  isPaused(): Promise<boolean> {
    return this.store.isPaused();
  }

  remove(jobId: string): Promise<boolean> {
    if (typeof jobId !== "string" || jobId.length === 0) return Promise.resolve(false);
    return this.store.remove(jobId);
  }

  async clean(options: CleanOptions): Promise<number> {
    return this.store.clean(parseCleanOptions(options));
  }

  getLogs(jobId: string): Promise<string[] | undefined> {
    if (typeof jobId !== "string" || jobId.length === 0) return Promise.resolve(undefined);
    return this.store.getLogs(jobId);
  }

  // ---- schedules -----------------------------------------------------------------

  async schedule(id: string, task: TaskRef, spec: ScheduleSpec, args: unknown[]): Promise<void> {
    await scheduleJob(this.store.schedules, id, requireTask(taskName(task)).name, spec, args);
    // A queue that runs jobs starts with its first schedule, as with its first job.
    await this.#autoStart();
    this.#scheduler?.wake();
  }

  unschedule(id: string): Promise<boolean> {
    return unscheduleJob(this.store.schedules, id);
  }

  listSchedules(): Promise<ScheduleInfo[]> {
    return listSchedules(this.store.schedules);
  }

  /** Fires the schedules while this queue runs jobs; each firing is one idempotent enqueue. */
  #startScheduler(): void {
    const schedules = this.store.schedules;
    this.#scheduler = new Scheduler(
      schedules,
      async (job) => {
        await this.store.insert([scheduledJob(this.store, job)]);
      },
      { onError: (error) => this.store.problem("firing a schedule", error) },
    );
    this.#scheduler.start();
  }

  // ---- running -------------------------------------------------------------------

  /** Starts running jobs (idempotent). */
  async start(): Promise<void> {
    if (this.#closing !== undefined) throw closedError();
    if (!this.#settings.process) {
      throw jobError(
        ErrorCode.NOT_A_WORKER,
        "this queue was built with `process: false`: it only enqueues and reads",
      );
    }
    if (this.#runner !== undefined) return;
    const runner = buildRunner(this.store, this.#settings, this.#timers, () => this.taskNames());
    this.#runner = runner;
    runner.start();
    this.#startScheduler();
  }

  /** Jobs running on this process's pool now. */
  protected get running(): number {
    return this.#runner?.active ?? 0;
  }

  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options);
    return this.#closing;
  }

  async #close(options: CloseOptions): Promise<void> {
    await this.#scheduler?.stop();
    await this.#runner?.close(options.timeoutMs);
    this.#timers.clear();
    // Whoever still waits for a job that will not end here is told so.
    await this.rejectWaiters(closedError());
    this.#idle.release();
    await this.store.close();
  }
}

const FINAL_EVENTS = ["completed", "failed", "cancelled"] as const;

function closedError(): JobError {
  return jobError(ErrorCode.QUEUE_CLOSED, "the queue is closed: it takes no new jobs");
}
