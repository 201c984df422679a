import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { decodeThreadArgs } from "../codec.js";
import type { ChangeSink } from "../engine/change-sink.js";
import type { QueueLogger } from "../engine/queue-options.js";
import type {
  CancelOutcome,
  ClaimedJob,
  CleanQuery,
  Ending,
  JobStore,
  ListQuery,
  LogEntry,
  NewJob,
  RunnerPort,
  SettleReply,
  StoredArgs,
} from "../engine/store.js";
import type { JobCounts } from "../job-queue.js";
import type { JobResult } from "../job-result.js";
import type { TimerQueue } from "../timer-queue.js";
import type { TraceCarrier } from "../tracing.js";
import { thisProcess, type WorkerInfo } from "../worker-info.js";
import { DelayedJobs } from "./delayed-jobs.js";
import { DependencyGraph } from "./dependency-graph.js";
import { JobArgs } from "./job-args.js";
import { JobLifecycle, NO_FACTS } from "./job-lifecycle.js";
import { JobLogs } from "./job-logs.js";
import { JobTable } from "./job-table.js";
import { MemoryClaims } from "./memory-claims.js";
import { MemoryJob } from "./memory-job.js";
import { ReadyQueue } from "./ready-queue.js";
import { ScheduleTable } from "./schedule-table.js";
import { TaskLimits } from "./task-limits.js";

export interface MemoryStoreOptions {
  maxAgeMs: number;
  maxCount: number;
  maxPayloadBytes: number;
  /** Log lines kept per job (the newest). */
  maxLogLines: number;
  logger: QueueLogger;
  /** Worker threads the pool grows to, for listWorkers(). @default 0 */
  threads?: number;
}

/**
 * The in-memory store: jobs in this process's memory, claimed and settled
 * synchronously. It applies the changes the engine decides and reports each
 * one to the queue, which emits its events.
 */
export class MemoryStore implements JobStore {
  readonly backend = "memory" as const;
  readonly encodesResults = false;
  readonly shared = false;
  readonly relaysEvents = false;
  readonly claimsInline = true;
  readonly drainMs = 0;
  readonly #o: MemoryStoreOptions;
  readonly #sink: ChangeSink;
  readonly #table: JobTable;
  readonly #ready = new ReadyQueue<MemoryJob>();
  readonly #delayed: DelayedJobs;
  readonly #logs: JobLogs;
  readonly #dedupe = new Map<string, { job: MemoryJob; until: number }>();
  readonly #graph = new DependencyGraph();
  readonly #args: JobArgs;
  readonly #life: JobLifecycle;
  readonly #claims: MemoryClaims;
  /** The trace contexts of the jobs enqueued while tracing (kept off the job record too). */
  readonly #traces = new WeakMap<MemoryJob, TraceCarrier>();
  readonly #limits: TaskLimits;
  readonly schedules = new ScheduleTable();
  #runner: RunnerPort | undefined;
  #paused = false;
  readonly #workerId = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  #startedAt = 0;

  constructor(options: MemoryStoreOptions, sink: ChangeSink, timers: TimerQueue) {
    this.#o = options;
    this.#sink = sink;
    this.#logs = new JobLogs(options.maxLogLines);
    this.#args = new JobArgs(options.maxPayloadBytes);
    this.#table = new JobTable(options.maxAgeMs, options.maxCount, {
      dropped: (job) => {
        this.#logs.forget(job.id);
        this.#graph.forget(job.id);
      },
      runAt: (job) => this.#delayed.runAt(job) ?? (job.notBefore > 0 ? job.notBefore : undefined),
      args: (job) => decodeThreadArgs({ bytes: job.args, ...this.#args.of(job) }),
    });
    this.#limits = new TaskLimits(timers, (jobs) => {
      for (const job of jobs) this.#ready.push(job, job.priority);
      this.#runner?.wake();
    });
    this.#delayed = new DelayedJobs(timers, (job) => this.#life.ready(job));
    this.#life = new JobLifecycle({
      table: this.#table,
      ready: this.#ready,
      delayed: this.#delayed,
      limits: this.#limits,
      graph: this.#graph,
      sink,
      runner: () => this.#runner,
    });
    this.#claims = new MemoryClaims({
      table: this.#table,
      ready: this.#ready,
      delayed: this.#delayed,
      limits: this.#limits,
      life: this.#life,
      args: this.#args,
      traces: this.#traces,
      sink,
      paused: () => this.#paused,
    });
  }

  flushWaitMs(): number {
    return 0;
  }

  prefetch(): number {
    return 0;
  }

  problem(what: string, error: unknown): void {
    const e = error instanceof Error ? error : new Error(String(error));
    this.#o.logger.warn(`rapidai: ${what}: ${e.message}`, { code: "QUEUE_PROBLEM" });
    this.#sink.error(e);
  }

  async listen(): Promise<void> {}

  encodeArgs(args: unknown[]): StoredArgs {
    return this.#args.encode(args);
  }

  insert(jobs: NewJob[]): string[] {
    this.#life.checkDependencies(jobs);
    const now = Date.now();
    return jobs.map((n) => {
      const existing = this.#table.get(n.id);
      if (existing !== undefined) return n.id;
      if (n.dedupe !== undefined) {
        const held = this.#dedupe.get(n.dedupe.key);
        if (held !== undefined && this.#table.get(held.job.id) === held.job) {
          const live = held.job.status === "pending" || held.job.status === "running";
          if (live || now < held.until) return held.job.id;
        }
      }
      const job = new MemoryJob(
        n.id,
        n.task,
        n.args.bytes,
        n.maxRetries,
        n.priority,
        this.#table.clock(),
      );
      if (n.timeoutMs !== undefined) job.timeoutMs = n.timeoutMs;
      this.#args.keep(job, n.args.moved);
      if (n.trace !== undefined) this.#traces.set(job, n.trace);
      if (n.dependsOn !== undefined) job.dependsOn = n.dependsOn;
      if (n.dedupe !== undefined)
        this.#dedupe.set(n.dedupe.key, { job, until: now + n.dedupe.ttlMs });
      this.#table.add(job);
      this.#life.enter(job, n.delayMs);
      return n.id;
    });
  }

  async get(jobId: string): Promise<JobResult | undefined> {
    const job = this.#table.get(jobId);
    return job === undefined ? undefined : this.#table.snapshot(job, true);
  }

  async list(q: ListQuery): Promise<JobResult[]> {
    return this.#table.list(q);
  }

  async counts(): Promise<JobCounts> {
    return this.#table.counts();
  }

  async cancel(jobId: string): Promise<CancelOutcome> {
    const job = this.#table.get(jobId);
    if (job === undefined) return "none";
    if (job.status === "running") return "running";
    if (job.status !== "pending") return "none";
    this.#delayed.release(job);
    this.#graph.forget(job.id);
    this.#life.finish(job, "cancelled", "cancelled", NO_FACTS);
    return "cancelled";
  }

  // ---- operating jobs ----

  async retry(jobId: string): Promise<boolean> {
    const job = this.#table.get(jobId);
    if (job === undefined || (job.status !== "failed" && job.status !== "cancelled")) return false;
    const from = job.status;
    this.#table.unfinish(job);
    // A fresh budget: the attempts made so far no longer count against maxRetries.
    job.retryBase = job.attempts;
    job.value = undefined;
    job.completedAt = -1;
    job.endedPending = false;
    this.#life.move(job, "pending", "retried", NO_FACTS, from);
    this.#life.ready(job);
    return true;
  }

  async promote(jobId: string): Promise<boolean> {
    const job = this.#table.get(jobId);
    if (job === undefined || job.status !== "pending" || !this.#delayed.release(job)) return false;
    this.#life.ready(job);
    return true;
  }

  async setPaused(paused: boolean): Promise<void> {
    if (this.#paused === paused) return;
    this.#paused = paused;
    this.#sink.paused(paused, Date.now());
    if (!paused) this.#runner?.wake();
  }

  async isPaused(): Promise<boolean> {
    return this.#paused;
  }

  async remove(jobId: string): Promise<boolean> {
    const job = this.#table.get(jobId);
    if (job === undefined || job.status === "running") return false;
    this.#delayed.release(job);
    this.#graph.forget(job.id);
    this.#table.delete(job);
    job.removed = true;
    return true;
  }

  async clean(q: CleanQuery): Promise<number> {
    return this.#table.clean(q.status, q.olderThanMs, q.limit);
  }

  async getLogs(jobId: string): Promise<string[] | undefined> {
    if (this.#table.get(jobId) === undefined) return undefined;
    return this.#logs.of(jobId);
  }

  appendLogs(entries: LogEntry[]): void {
    for (const { job: claimed, lines } of entries) {
      const job = this.#claims.current(claimed);
      if (job !== undefined) this.#logs.append(job, lines);
    }
  }

  // ---- the worker side ----

  attach(runner: RunnerPort): void {
    this.#runner = runner;
    this.#startedAt = Date.now();
  }

  /** Only this process runs an in-memory queue's jobs: itself while its runner runs. */
  async listWorkers(): Promise<WorkerInfo[]> {
    const runner = this.#runner;
    if (runner === undefined) return [];
    const queue = { backend: "memory" as const, prefix: undefined, threads: this.#o.threads ?? 0 };
    return [thisProcess(this.#workerId, queue, this.#startedAt, [...runner.held()].length)];
  }

  async detach(): Promise<void> {
    this.#runner = undefined;
  }

  async close(): Promise<void> {
    this.#delayed.clear();
    this.#limits.clear();
  }

  claim(n: number): ClaimedJob[] {
    return this.#claims.claim(n);
  }

  settle(endings: readonly Ending[]): SettleReply {
    return this.#claims.settle(endings);
  }

  progress(claimed: ClaimedJob, value: unknown): void {
    this.#claims.progress(claimed, value);
  }

  handBack(jobs: readonly ClaimedJob[]): void {
    this.#claims.handBack(jobs);
  }
}
