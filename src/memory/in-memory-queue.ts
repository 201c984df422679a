import {
  assertPayloadSize,
  decodeThreadArgs,
  decodeV8,
  type MovedArgs,
  prepareThreadArgs,
} from "../codec.js";
import { ErrorCode, errorMessage, jobError, type SerializedError } from "../errors.js";
import type { Attempt, AttemptOutcome } from "../executor/attempt.js";
import { Executor, type ExecutorOptions } from "../executor/executor.js";
import { ArgsEncoding, CancelFlag } from "../executor/protocol.js";
import { defaultQueueIfExists } from "../get-queue.js";
import {
  type BulkJob,
  type CloseOptions,
  type EnqueueOptions,
  type JobCounts,
  JobQueue,
  type ListOptions,
  parseEnqueueOptions,
  parseListArgs,
  type TaskRef,
  taskName,
} from "../job-queue.js";
import { JobResult } from "../job-result.js";
import { isTerminal, type JobStatus } from "../job-status.js";
import { requireTask } from "../registry.js";
import { decide } from "../retry-policy.js";
import { assertTransition } from "../state-machine.js";
import { type TimerEntry, TimerQueue } from "../timer-queue.js";
import {
  integerOption,
  numberOption,
  objectOption,
  rejectUnknownKeys,
  validateJobId,
} from "../validate.js";
import { mainThreadHost } from "../worker-host.js";
import { DelayHeap } from "./delay-heap.js";
import { Deque } from "./deque.js";
import { DELAYED, MemoryJob } from "./memory-job.js";
import { ReadyQueue } from "./ready-queue.js";

/** How long finished jobs are kept, so memory stays bounded. */
export interface RetentionOptions {
  /** Drop finished jobs older than this, in ms. @default 86_400_000 (one day) */
  maxAgeMs?: number;
  /** Keep at most this many finished jobs. @default 100_000 */
  maxCount?: number;
}

/** Options of {@link InMemoryQueue}. */
export interface InMemoryQueueOptions extends ExecutorOptions {
  /** Retention of completed, failed and cancelled jobs. */
  retention?: RetentionOptions;
  /** Largest encoded arguments accepted, in bytes. @default 16 MiB */
  maxPayloadBytes?: number;
}

const OPTION_KEYS = [
  "threads",
  "concurrencyPerThread",
  "cancelGraceMs",
  "resourceLimits",
  "retention",
  "maxPayloadBytes",
] as const;

/** Checks the pool options shared by both backends. */
export function validateExecutorOptions(o: Record<string, unknown>): void {
  if (o.threads !== undefined) integerOption("threads", o.threads, 1, 1024);
  if (o.concurrencyPerThread !== undefined)
    integerOption("concurrencyPerThread", o.concurrencyPerThread, 1, 1000);
  if (o.cancelGraceMs !== undefined) integerOption("cancelGraceMs", o.cancelGraceMs, 0);
  const limits = objectOption("resourceLimits", o.resourceLimits);
  if (limits !== undefined) {
    // Worker threads only check these when the pool starts: check them here.
    const keys = [
      "maxYoungGenerationSizeMb",
      "maxOldGenerationSizeMb",
      "codeRangeSizeMb",
      "stackSizeMb",
    ];
    rejectUnknownKeys("resourceLimits.", limits, keys);
    for (const key of keys) {
      if (limits[key] !== undefined) numberOption(`resourceLimits.${key}`, limits[key], 0);
    }
  }
}

/**
 * The embedded queue: jobs live in this process's memory and run on its
 * worker-thread pool. Fast, no dependency; jobs are lost when the process ends.
 */
export class InMemoryQueue extends JobQueue {
  readonly backend = "memory" as const;
  readonly #options: InMemoryQueueOptions;
  readonly #maxAgeMs: number;
  readonly #maxCount: number;
  readonly #maxPayloadBytes: number;
  // Times are offsets from this epoch so they stay small integers (see MemoryJob).
  readonly #epoch = Date.now();
  #jobs = new Map<string, MemoryJob>();
  /** Every job in creation order, for newest-first listing; pruned lazily. */
  #order: MemoryJob[] = [];
  #ready = new ReadyQueue<MemoryJob>();
  #finished = new Deque<MemoryJob>();
  #counts: JobCounts = { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
  #timers = new TimerQueue();
  #delayed = new DelayHeap<MemoryJob>();
  #delayEntry: TimerEntry | undefined;
  #executor: Executor | undefined;
  #started = false;
  #closing: Promise<void> | undefined;
  #idle = new Set<() => void>();

  constructor(options: InMemoryQueueOptions = {}) {
    super();
    const o = objectOption("options", options) ?? {};
    rejectUnknownKeys("", o, OPTION_KEYS);
    validateExecutorOptions(o);
    const retention = objectOption("retention", o.retention) ?? {};
    rejectUnknownKeys("retention.", retention, ["maxAgeMs", "maxCount"]);
    this.#maxAgeMs =
      retention.maxAgeMs === undefined
        ? 86_400_000
        : integerOption("retention.maxAgeMs", retention.maxAgeMs, 0);
    this.#maxCount =
      retention.maxCount === undefined
        ? 100_000
        : integerOption("retention.maxCount", retention.maxCount, 0);
    this.#maxPayloadBytes =
      o.maxPayloadBytes === undefined
        ? 16 * 1024 * 1024
        : integerOption("maxPayloadBytes", o.maxPayloadBytes, 1);
    this.#options = options;
  }

  /**
   * Milliseconds since the queue's epoch, as a small integer while it fits
   * (24 days): V8 then stores it in the job record itself instead of boxing
   * a double, 16 bytes a field.
   */
  #clock(): number {
    const ms = Date.now() - this.#epoch;
    return ms <= 0x3fffffff ? ms | 0 : ms;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Worker threads in the pool (whether or not it started yet). */
  get threads(): number {
    return this.#pool().threads;
  }

  protected override defaultBinding() {
    return defaultQueueIfExists();
  }

  async start(): Promise<void> {
    if (this.#closing !== undefined) throw this.#closedError();
    if (this.#started) return;
    this.#started = true;
    this.#pool().start();
    this.#pump();
  }

  async enqueue(
    jobId: string,
    task: TaskRef,
    args: unknown[],
    options?: EnqueueOptions,
  ): Promise<string> {
    if (this.#closing !== undefined) throw this.#closedError();
    const prepared = this.#prepare(jobId, task, args, options);
    if (prepared !== undefined) this.#insert(prepared);
    if (!this.#started) await this.start();
    else this.#pump();
    return jobId;
  }

  /**
   * Enqueues many jobs at once. Every job is checked before any is stored, so
   * one bad job stores none of them.
   */
  async enqueueMany(jobs: readonly BulkJob[]): Promise<string[]> {
    if (this.#closing !== undefined) throw this.#closedError();
    if (!Array.isArray(jobs)) throw jobError(ErrorCode.INVALID_OPTION, "`jobs` must be an array");
    const prepared = jobs.map((j) => {
      if (j === null || typeof j !== "object") {
        throw jobError(ErrorCode.INVALID_OPTION, "each job must be an object");
      }
      return this.#prepare(j.jobId, j.task, j.args, j.options);
    });
    const seen = new Set<string>();
    for (const p of prepared) {
      if (p === undefined || seen.has(p.job.id)) continue;
      seen.add(p.job.id);
      this.#insert(p);
    }
    if (!this.#started) await this.start();
    else this.#pump();
    return jobs.map((j) => j.jobId);
  }

  /** Checks and encodes one job; undefined when its id exists already (idempotent enqueue). */
  #prepare(
    jobId: string,
    task: TaskRef,
    args: unknown[],
    options: EnqueueOptions | undefined,
  ): { job: MemoryJob; delayMs: number } | undefined {
    const def = requireTask(taskName(task));
    const opts = options === undefined ? undefined : parseEnqueueOptions(options);
    validateJobId(jobId);
    if (!Array.isArray(args)) throw jobError(ErrorCode.INVALID_OPTION, "`args` must be an array");
    if (this.#jobs.has(jobId)) return undefined;
    let bytes: Uint8Array | undefined;
    let moved: MovedArgs | undefined;
    if (args.length > 0) {
      ({ bytes, moved } = prepareThreadArgs(args));
      assertPayloadSize(bytes!.byteLength, this.#maxPayloadBytes);
    }
    const job = new MemoryJob(
      jobId,
      def,
      bytes,
      opts?.maxRetries ?? def.maxRetries,
      opts?.priority ?? 0,
      this.#clock(),
    );
    if (moved !== undefined) this.#moved.set(job, moved);
    return { job, delayMs: opts?.delayMs ?? 0 };
  }

  /** Buffers moved with a job's arguments (move(), SharedArrayBuffer), kept until the job goes. */
  #moved = new WeakMap<MemoryJob, MovedArgs>();

  #insert({ job, delayMs }: { job: MemoryJob; delayMs: number }): void {
    const jobId = job.id;
    const task = job.def.name;
    this.#jobs.set(jobId, job);
    this.#order.push(job);
    this.#counts.pending++;
    if (this.listenerCount("status") > 0) {
      this.emit("status", { jobId, task, from: null, to: "pending", attempts: 0, at: Date.now() });
    }
    if (this.listenerCount("enqueued") > 0) this.emit("enqueued", { jobId, task, delayMs });
    if (delayMs > 0) this.#delay(job, delayMs);
    else this.#ready.push(job, job.priority);
  }

  async getResult<T = unknown>(jobId: string): Promise<JobResult<T> | undefined> {
    const job = this.#jobs.get(jobId);
    return job === undefined ? undefined : (this.#snapshot(job, true) as JobResult<T>);
  }

  async cancel(jobId: string): Promise<boolean> {
    const job = this.#jobs.get(jobId);
    if (job === undefined || isTerminal(job.status)) return false;
    if (job.status === "pending") {
      job.ref = undefined;
      this.#finish(job, "cancelled");
      return true;
    }
    // Running: ask it to stop, and resolve once it has, so a caller that
    // reads the job next sees it cancelled.
    const attempt = job.ref as Attempt;
    const stopped = new Promise<void>((resolve) => this.#onSettled(job, resolve));
    this.#pool().stop(attempt, CancelFlag.CANCELLED);
    await stopped;
    return true;
  }

  async listJobs(status?: JobStatus, options?: ListOptions): Promise<JobResult[]> {
    const q = parseListArgs(status, options);
    this.#prune();
    const out: JobResult[] = [];
    let skip = q.offset;
    for (let i = this.#order.length - 1; i >= 0 && out.length < q.limit; i--) {
      const job = this.#order[i]!;
      if (this.#jobs.get(job.id) !== job) continue;
      if (q.status !== undefined && job.status !== q.status) continue;
      if (q.task !== undefined && job.def.name !== q.task) continue;
      if (skip > 0) {
        skip--;
        continue;
      }
      out.push(this.#snapshot(job, false));
    }
    return out;
  }

  async countJobs(): Promise<JobCounts> {
    return { ...this.#counts };
  }

  override async onIdle(): Promise<void> {
    if (this.#counts.pending === 0 && this.#counts.running === 0) return;
    await new Promise<void>((resolve) => this.#idle.add(resolve));
  }

  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options);
    return this.#closing;
  }

  async #close(options: CloseOptions): Promise<void> {
    const executor = this.#executor;
    if (executor !== undefined && executor.active > 0) {
      const drained = new Promise<void>((resolve) => {
        this.#drained = resolve;
      });
      if (options.timeoutMs === undefined) await drained;
      else {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<"timeout">((r) => {
          timer = setTimeout(() => r("timeout"), options.timeoutMs);
        });
        const first = await Promise.race([drained, timedOut]);
        clearTimeout(timer);
        if (first === "timeout") {
          executor.terminateAll();
          await drained;
        }
      }
    }
    this.#timers.clear();
    await executor?.close();
  }

  #drained: (() => void) | undefined;

  #closedError() {
    return jobError(ErrorCode.QUEUE_CLOSED, "the queue is closed: it takes no new jobs");
  }

  #pool(): Executor {
    this.#executor ??= new Executor(this.#options, {
      host: mainThreadHost,
      timers: this.#timers,
      progress: (jobId, value) => {
        const job = this.#jobs.get(jobId);
        if (job === undefined || job.status !== "running") return;
        job.progress = value;
        if (this.listenerCount("progress") > 0)
          this.emit("progress", { jobId, task: job.def.name, progress: value });
      },
      error: (error) => {
        console.error(`rapidai: ${error.message}`);
        this.emit("error", { error });
      },
    });
    return this.#executor;
  }

  /** Holds a job back until `delayMs` from now; one timer entry serves every delayed job. */
  #delay(job: MemoryJob, delayMs: number): void {
    const at = Date.now() + delayMs;
    job.ref = DELAYED;
    this.#delayed.push(job, at);
    if (this.#delayEntry === undefined || at < this.#delayEntry.at) {
      this.#timers.remove(this.#delayEntry);
      this.#delayEntry = this.#timers.add(at, this.#promote);
    }
  }

  /** Moves jobs whose time has come to the ready queue. */
  #promote = (): void => {
    this.#delayEntry = undefined;
    const now = Date.now();
    while (this.#delayed.nextAt <= now) {
      const job = this.#delayed.pop()!;
      // Cancelled while it waited: skip it.
      if (job.ref !== DELAYED || job.status !== "pending") continue;
      job.ref = undefined;
      this.#ready.push(job, job.priority);
    }
    if (this.#delayed.size > 0)
      this.#delayEntry = this.#timers.add(this.#delayed.nextAt, this.#promote);
    this.#pump();
  };

  /** Starts ready jobs while the pool has room. */
  #pump(): void {
    if (!this.#started || this.#closing !== undefined) return;
    const executor = this.#executor!;
    while (executor.hasCapacity && this.#ready.size > 0) {
      const job = this.#ready.shift()!;
      if (job.status !== "pending" || job.ref !== undefined) continue;
      const broken = executor.brokenModule(job.def.moduleUrl);
      if (broken !== undefined) {
        job.value = broken;
        this.#finish(job, "failed");
        continue;
      }
      this.#run(executor, job);
    }
  }

  #run(executor: Executor, job: MemoryJob): void {
    job.attempts++;
    this.#move(job, "running");
    job.startedAt = this.#clock();
    const attempt = executor.run(
      {
        jobId: job.id,
        task: job.def,
        args: job.args,
        encoding:
          job.args === undefined
            ? ArgsEncoding.NONE
            : this.#moved.has(job)
              ? ArgsEncoding.V8_MOVED
              : ArgsEncoding.V8,
        moved: this.#moved.get(job),
        attempt: job.attempts,
        encodeResult: false,
      },
      (outcome, a) => this.#settled(job, outcome, a),
    );
    job.ref = attempt;
    const timeoutMs = job.def.timeoutMs;
    if (timeoutMs !== undefined) executor.watchTimeout(attempt, timeoutMs);
    if (this.listenerCount("started") > 0) {
      this.emit("started", { jobId: job.id, task: job.def.name, attempt: job.attempts });
    }
  }

  #settled(job: MemoryJob, outcome: AttemptOutcome, attempt: Attempt): void {
    job.ref = undefined;
    const decision = decide(
      outcome,
      job.attempts,
      job.maxRetries,
      job.def.backoff,
      job.def.timeoutMs,
    );
    const task = job.def.name;
    switch (decision.to) {
      case "completed":
        job.value = decision.result;
        this.#finish(job, "completed");
        if (this.listenerCount("completed") > 0) {
          this.emit("completed", {
            jobId: job.id,
            task,
            attempt: job.attempts,
            result: decision.result,
            durationMs: attempt.elapsedMs(),
          });
        }
        break;
      case "failed":
        job.value = decision.error;
        this.#finish(job, "failed");
        break;
      case "cancelled":
        this.#finish(job, "cancelled");
        break;
      case "requeued":
        job.attempts--;
        this.#move(job, "pending");
        this.#ready.push(job, job.priority);
        break;
      case "pending":
        job.value = decision.error;
        this.#move(job, "pending");
        if (this.listenerCount("retrying") > 0) {
          this.emit("retrying", {
            jobId: job.id,
            task,
            attempt: job.attempts,
            error: errorMessage(decision.error),
            ...(decision.error.code === undefined ? {} : { code: decision.error.code }),
            delayMs: decision.delayMs,
          });
        }
        if (decision.delayMs > 0) this.#delay(job, decision.delayMs);
        else this.#ready.push(job, job.priority);
        break;
    }
    this.#settledHooks.get(job)?.();
    if (this.#executor!.active === 0) this.#drained?.();
    this.#pump();
    this.#checkIdle();
  }

  #settledHooks = new Map<MemoryJob, () => void>();

  #onSettled(job: MemoryJob, fn: () => void): void {
    const prev = this.#settledHooks.get(job);
    this.#settledHooks.set(job, () => {
      this.#settledHooks.delete(job);
      prev?.();
      fn();
    });
  }

  /** The one place a job's status changes: checked against the state machine, counted, announced. */
  #move(job: MemoryJob, to: JobStatus): void {
    const from = job.status;
    assertTransition(job.id, from, to);
    job.status = to;
    this.#counts[from]--;
    this.#counts[to]++;
    if (this.listenerCount("status") > 0) {
      this.emit("status", {
        jobId: job.id,
        task: job.def.name,
        from,
        to,
        attempts: job.attempts,
        at: Date.now(),
      });
    }
  }

  #finish(job: MemoryJob, to: "completed" | "failed" | "cancelled"): void {
    this.#move(job, to);
    job.completedAt = this.#clock();
    const task = job.def.name;
    if (to === "failed" && this.listenerCount("failed") > 0) {
      const error = job.value as SerializedError;
      this.emit("failed", {
        jobId: job.id,
        task,
        attempt: job.attempts,
        error: errorMessage(error),
        ...(error.code === undefined ? {} : { code: error.code }),
      });
    }
    if (to === "cancelled" && this.listenerCount("cancelled") > 0) {
      this.emit("cancelled", { jobId: job.id, task, attempts: job.attempts });
    }
    this.#finished.push(job);
    this.#prune();
    this.notifyTerminal(job.id, to);
    this.#checkIdle();
  }

  #checkIdle(): void {
    if (this.#idle.size === 0 || this.#counts.pending > 0 || this.#counts.running > 0) return;
    const waiting = [...this.#idle];
    this.#idle.clear();
    for (const resolve of waiting) resolve();
  }

  /** Drops finished jobs beyond the retention count or age. */
  #prune(): void {
    const oldest = Date.now() - this.#epoch - this.#maxAgeMs;
    for (;;) {
      const job = this.#finished.peek();
      if (job === undefined) break;
      if (this.#finished.size <= this.#maxCount && job.completedAt >= oldest) break;
      this.#finished.shift();
      if (this.#jobs.get(job.id) === job) {
        this.#jobs.delete(job.id);
        this.#counts[job.status]--;
      }
    }
    // Listing walks #order; compact it once it is mostly dropped jobs.
    if (this.#order.length > 1024 && this.#order.length > 2 * this.#jobs.size) {
      this.#order = this.#order.filter((j) => this.#jobs.get(j.id) === j);
    }
  }

  /** A copy for the caller; arguments are decoded only for `getResult`, not for each listed job. */
  #snapshot(job: MemoryJob, withArgs: boolean): JobResult {
    const error = job.error;
    const at = (offset: number) => (offset < 0 ? undefined : new Date(this.#epoch + offset));
    return new JobResult({
      jobId: job.id,
      task: job.def.name,
      status: job.status,
      ...(job.status === "completed" ? { result: job.value } : {}),
      ...(error === undefined ? {} : { error: errorMessage(error) }),
      ...(error?.code === undefined ? {} : { errorCode: error.code }),
      createdAt: at(job.createdAt)!,
      ...(job.startedAt < 0 ? {} : { startedAt: at(job.startedAt)! }),
      ...(job.completedAt < 0 ? {} : { completedAt: at(job.completedAt)! }),
      attempts: job.attempts,
      maxRetries: job.maxRetries,
      ...(job.progress === undefined ? {} : { progress: job.progress }),
      ...(withArgs
        ? {
            args:
              job.args === undefined
                ? []
                : this.#moved.has(job)
                  ? decodeThreadArgs({
                      bytes: job.args,
                      encoding: ArgsEncoding.V8_MOVED,
                      moved: this.#moved.get(job)!,
                    })
                  : (decodeV8(job.args) as unknown[]),
          }
        : {}),
    });
  }
}
