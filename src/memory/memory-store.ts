import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { assertPayloadSize, decodeThreadArgs, prepareThreadArgs } from "../codec.js";
import type { Change, ChangeKind } from "../engine/changes.js";
import {
  classifyDependencies,
  dependencyFailure,
  dependencyNotFound,
} from "../engine/dependencies.js";
import type { ChangeSink } from "../engine/engine-queue.js";
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
import { errorMessage, type SerializedError } from "../errors.js";
import { ArgsEncoding } from "../executor/protocol.js";
import type { MovedArgs } from "../executor/thread-args.js";
import type { JobCounts } from "../job-queue.js";
import type { JobResult } from "../job-result.js";
import type { JobStatus } from "../job-status.js";
import { assertTransition } from "../state-machine.js";
import type { TimerQueue } from "../timer-queue.js";
import type { TraceCarrier } from "../tracing.js";
import { thisProcess, type WorkerInfo } from "../worker-info.js";
import { DelayedJobs } from "./delayed-jobs.js";
import { DependencyGraph } from "./dependency-graph.js";
import { JobTable } from "./job-table.js";
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

const NONE: ClaimedJob[] = [];
/** A change with no facts beyond the fixed ones. */
const NO_FACTS: Partial<Change> = Object.freeze({});

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
  readonly #logs = new Map<string, string[]>();
  readonly #dedupe = new Map<string, { job: MemoryJob; until: number }>();
  readonly #graph = new DependencyGraph();
  /** The moved buffers of the jobs that have some (few do: kept off the job record). */
  readonly #moved = new WeakMap<MemoryJob, MovedArgs>();
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
    this.#table = new JobTable(options.maxAgeMs, options.maxCount, {
      dropped: (job) => {
        this.#logs.delete(job.id);
        this.#graph.forget(job.id);
      },
      runAt: (job) => this.#delayed.runAt(job) ?? (job.notBefore > 0 ? job.notBefore : undefined),
      args: (job) => decodeThreadArgs({ bytes: job.args, ...this.#argsOf(job) }),
    });
    this.#limits = new TaskLimits(timers, (jobs) => {
      for (const job of jobs) this.#ready.push(job, job.priority);
      this.#runner?.wake();
    });
    this.#delayed = new DelayedJobs(timers, (job) => {
      this.#ready.push(job, job.priority);
      this.#runner?.wake();
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
    if (args.length === 0) return { bytes: undefined, encoding: ArgsEncoding.NONE };
    // Moved buffers are detached from the caller here and kept as they are
    // (not serialized), to travel to the thread in its transfer list.
    const prepared = prepareThreadArgs(args);
    const size = (prepared.bytes?.byteLength ?? 0) + movedBytes(prepared.moved);
    assertPayloadSize(size, this.#o.maxPayloadBytes);
    return prepared;
  }

  insert(jobs: NewJob[]): string[] {
    this.#checkDependencies(jobs);
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
      if (n.args.moved !== undefined) this.#moved.set(job, n.args.moved);
      if (n.trace !== undefined) this.#traces.set(job, n.trace);
      if (n.dependsOn !== undefined) job.dependsOn = n.dependsOn;
      if (n.dedupe !== undefined)
        this.#dedupe.set(n.dedupe.key, { job, until: now + n.dedupe.ttlMs });
      this.#table.add(job);
      this.#report("enqueued", job, null, { delayMs: n.delayMs });
      const deps =
        n.dependsOn === undefined
          ? ({ kind: "ready" } as const)
          : classifyDependencies(n.dependsOn, (id) => this.#table.get(id)?.status);
      if (deps.kind === "failed") {
        job.value = dependencyFailure(deps.dependency, deps.status);
        this.#finish(job, "failed", "failed", errorFacts(job.value as SerializedError));
      } else if (deps.kind === "waiting") {
        if (n.delayMs > 0) job.notBefore = Date.now() + n.delayMs;
        this.#graph.add(job.id, deps.unfinished);
      } else {
        this.#release(job, n.delayMs > 0 ? Date.now() + n.delayMs : 0);
      }
      return n.id;
    });
  }

  /** Every dependency must exist (here or earlier in the same batch), or nothing is stored. */
  #checkDependencies(jobs: NewJob[]): void {
    if (!jobs.some((n) => n.dependsOn !== undefined)) return;
    const batch = new Set<string>();
    for (const n of jobs) {
      for (const d of n.dependsOn ?? []) {
        if (!batch.has(d) && this.#table.get(d) === undefined) throw dependencyNotFound(n.id, d);
      }
      batch.add(n.id);
    }
  }

  /** A job may run from `at` (ms since the epoch; 0: now). */
  #release(job: MemoryJob, at: number): void {
    if (at > Date.now()) this.#delayed.hold(job, at);
    else {
      this.#ready.push(job, job.priority);
      this.#runner?.wake();
    }
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
    this.#finish(job, "cancelled", "cancelled", NO_FACTS);
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
    this.#move(job, "pending", "retried", NO_FACTS, from);
    this.#ready.push(job, job.priority);
    this.#runner?.wake();
    return true;
  }

  async promote(jobId: string): Promise<boolean> {
    const job = this.#table.get(jobId);
    if (job === undefined || job.status !== "pending" || !this.#delayed.release(job)) return false;
    this.#ready.push(job, job.priority);
    this.#runner?.wake();
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
    return [...(this.#logs.get(jobId) ?? [])];
  }

  appendLogs(entries: LogEntry[]): void {
    const max = this.#o.maxLogLines;
    for (const { job: claimed, lines } of entries) {
      const job = this.#current(claimed);
      if (job === undefined) continue;
      let log = this.#logs.get(job.id);
      if (log === undefined) this.#logs.set(job.id, (log = []));
      log.push(...lines);
      if (log.length > max) log.splice(0, log.length - max);
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
    if (this.#paused || this.#ready.size === 0) return NONE;
    const out: ClaimedJob[] = [];
    const now = Date.now();
    while (out.length < n && this.#ready.size > 0) {
      const job = this.#ready.shift()!;
      // Stale entries: a job that ran, waits again, or was removed meanwhile.
      if (job.status !== "pending" || job.delayed || job.removed) continue;
      if (!this.#limits.admit(job, now)) continue;
      this.#limits.started(job.def, now);
      job.attempts++;
      job.startedAt = this.#table.clock();
      this.#move(job, "running", "started", NO_FACTS);
      out.push({
        id: job.id,
        task: job.def.name,
        attempt: job.attempts,
        maxRetries: job.maxRetries + job.retryBase,
        timeoutMs: job.timeoutMs,
        dependsOn: job.dependsOn,
        trace: this.#traces.get(job),
        ...(job.dependsOn === undefined ? {} : { dependencies: this.#resultsOf(job.dependsOn) }),
        args: job.args,
        ...this.#argsOf(job),
        token: "",
        ref: job,
      });
    }
    return out;
  }

  settle(endings: readonly Ending[]): SettleReply {
    return endings.map((e) => {
      const job = this.#current(e.job);
      // A running job is never deleted here: a claim that no longer holds it was taken over.
      if (job === undefined) return "taken";
      switch (e.kind) {
        case "completed":
          job.value = e.result;
          this.#finish(job, "completed", "completed", {
            result: e.result,
            durationMs: e.durationMs,
          });
          break;
        case "failed":
          job.value = e.error;
          this.#finish(job, "failed", "failed", errorFacts(e.error, e.durationMs));
          break;
        case "cancelled":
          this.#finish(job, "cancelled", "cancelled", NO_FACTS);
          break;
        case "retry":
          job.value = e.error;
          this.#move(job, "pending", "retrying", { ...errorFacts(e.error), delayMs: e.delayMs });
          if (e.delayMs > 0) this.#delayed.hold(job, Date.now() + e.delayMs);
          else this.#ready.push(job, job.priority);
          break;
        case "requeued":
          this.#requeue(job);
          break;
      }
      return true;
    });
  }

  progress(claimed: ClaimedJob, value: unknown): void {
    const job = this.#current(claimed);
    if (job === undefined) return;
    job.progress = value;
    this.#sink.progress(job.id, job.def.name, value);
  }

  handBack(jobs: readonly ClaimedJob[]): void {
    for (const claimed of jobs) {
      const job = this.#current(claimed);
      if (job !== undefined) this.#requeue(job);
    }
  }

  /** The results of completed jobs, by id (undefined for one the retention dropped). */
  #resultsOf(ids: readonly string[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const id of ids) {
      const dep = this.#table.get(id);
      out[id] = dep?.status === "completed" ? dep.value : undefined;
    }
    return out;
  }

  #argsOf(job: MemoryJob): { encoding: ArgsEncoding; moved?: MovedArgs } {
    if (job.args === undefined) return { encoding: ArgsEncoding.NONE };
    const moved = this.#moved.get(job);
    return moved === undefined
      ? { encoding: ArgsEncoding.V8 }
      : { encoding: ArgsEncoding.V8_MOVED, moved };
  }

  /** The job of this claim, while the claim still holds (running, same attempt). */
  #current(claimed: ClaimedJob): MemoryJob | undefined {
    // The claim holds its job (a running job is never deleted): no lookup by id.
    const job = claimed.ref as MemoryJob | undefined;
    return job !== undefined && job.status === "running" && job.attempts === claimed.attempt
      ? job
      : undefined;
  }

  #requeue(job: MemoryJob): void {
    job.attempts--;
    this.#move(job, "pending", "requeued", NO_FACTS);
    this.#ready.push(job, job.priority);
  }

  /** The one place a job's status changes: checked against the state machine, counted, reported. */
  // (A job that stops running gives its task's concurrency slot back here.)
  #move(
    job: MemoryJob,
    to: JobStatus,
    kind: ChangeKind,
    facts: Partial<Change>,
    from: JobStatus = job.status,
  ): void {
    assertTransition(job.id, from, to);
    job.status = to;
    if (from === "running") this.#limits.ended(job.def);
    this.#table.moved(from, to);
    this.#report(kind, job, from, facts);
  }

  #finish(
    job: MemoryJob,
    to: "completed" | "failed" | "cancelled",
    kind: ChangeKind,
    facts: Partial<Change>,
  ): void {
    job.completedAt = this.#table.clock();
    job.endedPending = job.status === "pending";
    this.#move(job, to, kind, facts);
    this.#table.finished(job);
    if (this.#graph.size > 0) this.#dependentsOf(job.id, to);
  }

  /** A job ended: its dependents run now, or fail if it did not complete. */
  #dependentsOf(jobId: string, status: JobStatus): void {
    const { ready, failed, causes } = this.#graph.onFinished(jobId, status);
    for (const id of ready) {
      const job = this.#table.get(id);
      if (job?.status === "pending") this.#release(job, job.notBefore);
    }
    for (const id of failed) {
      const job = this.#table.get(id);
      if (job?.status !== "pending") continue;
      const cause = causes.get(id) ?? jobId;
      job.value = dependencyFailure(cause, this.#table.get(cause)?.status ?? status);
      this.#finish(job, "failed", "failed", errorFacts(job.value as SerializedError));
    }
  }

  #report(kind: ChangeKind, job: MemoryJob, from: JobStatus | null, facts: Partial<Change>): void {
    // Nobody listens or waits: no change object to build (most no-op jobs).
    if (this.#sink.quiet()) {
      if (kind !== "enqueued" && kind !== "started" && kind !== "retrying" && kind !== "retried")
        this.#sink.ended();
      return;
    }
    // One shape for every change, the optional facts added after: an
    // object spread first makes V8 build each change property by property
    // (a quarter of the main thread's time per no-op job, measured).
    const change: Change = {
      kind,
      jobId: job.id,
      task: job.def.name,
      from,
      to: job.status,
      attempts: job.attempts,
      at: Date.now(),
    };
    this.#sink.change(facts === NO_FACTS ? change : Object.assign(change, facts));
  }
}

function errorFacts(error: SerializedError, durationMs?: number): Partial<Change> {
  return {
    error: errorMessage(error),
    ...(error.code === undefined ? {} : { code: error.code }),
    ...(durationMs === undefined ? {} : { durationMs }),
  };
}

function movedBytes(moved: MovedArgs | undefined): number {
  if (moved === undefined) return 0;
  let n = 0;
  for (const b of moved.buffers) n += b.byteLength;
  return n;
}
