import type { ChangeSink } from "../engine/change-sink.js";
import type { Change, ChangeKind } from "../engine/changes.js";
import {
  classifyDependencies,
  dependencyFailure,
  dependencyNotFound,
} from "../engine/dependencies.js";
import type { NewJob, RunnerPort } from "../engine/store.js";
import { errorMessage, type SerializedError } from "../errors.js";
import type { JobStatus } from "../job-status.js";
import { assertTransition } from "../state-machine.js";
import type { DelayedJobs } from "./delayed-jobs.js";
import type { DependencyGraph } from "./dependency-graph.js";
import type { JobTable } from "./job-table.js";
import type { MemoryJob } from "./memory-job.js";
import type { ReadyQueue } from "./ready-queue.js";
import type { TaskLimits } from "./task-limits.js";

/** A change with no facts beyond the fixed ones. */
export const NO_FACTS: Partial<Change> = Object.freeze({});

/** What a job's moves touch: the in-memory store's tables. */
export interface LifecycleParts {
  table: JobTable;
  ready: ReadyQueue<MemoryJob>;
  delayed: DelayedJobs;
  limits: TaskLimits;
  graph: DependencyGraph;
  sink: ChangeSink;
  /** The runner to wake when a job becomes runnable (none while detached). */
  runner: () => RunnerPort | undefined;
}

/**
 * How an in-memory job moves between statuses: every status write goes
 * through {@link JobLifecycle.move} (checked against the state machine,
 * counted, reported), so the store's operations only decide which move.
 */
export class JobLifecycle {
  readonly #p: LifecycleParts;

  constructor(parts: LifecycleParts) {
    this.#p = parts;
  }

  /**
   * A new job, once in the table: reported, then runnable now or after its
   * delay, waiting on its dependencies, or failed with one that did not complete.
   */
  enter(job: MemoryJob, delayMs: number): void {
    this.report("enqueued", job, null, { delayMs });
    const deps =
      job.dependsOn === undefined
        ? ({ kind: "ready" } as const)
        : classifyDependencies(job.dependsOn, (id) => this.#p.table.get(id)?.status);
    if (deps.kind === "failed") {
      this.fail(job, dependencyFailure(deps.dependency, deps.status));
    } else if (deps.kind === "waiting") {
      if (delayMs > 0) job.notBefore = Date.now() + delayMs;
      this.#p.graph.add(job.id, deps.unfinished);
    } else {
      this.release(job, delayMs > 0 ? Date.now() + delayMs : 0);
    }
  }

  /** Every dependency must exist (here or earlier in the same batch), or nothing is stored. */
  checkDependencies(jobs: NewJob[]): void {
    if (!jobs.some((n) => n.dependsOn !== undefined)) return;
    const batch = new Set<string>();
    for (const n of jobs) {
      for (const d of n.dependsOn ?? []) {
        if (!batch.has(d) && this.#p.table.get(d) === undefined) throw dependencyNotFound(n.id, d);
      }
      batch.add(n.id);
    }
  }

  /** A job may run from `at` (ms since the epoch; 0: now). */
  release(job: MemoryJob, at: number): void {
    if (at > Date.now()) this.#p.delayed.hold(job, at);
    else this.ready(job);
  }

  /** The job goes to the back of its priority's line and the runner hears of it. */
  ready(job: MemoryJob): void {
    this.#p.ready.push(job, job.priority);
    this.#p.runner()?.wake();
  }

  /**
   * A claim that never ran goes back, its attempt not counted, and the
   * runner hears of it: it may have found nothing to claim since, and
   * would not look again before the next wake.
   */
  requeue(job: MemoryJob): void {
    job.attempts--;
    this.move(job, "pending", "requeued", NO_FACTS);
    this.ready(job);
  }

  /** The one place a job's status changes: checked against the state machine, counted, reported. */
  // (A job that stops running gives its task's concurrency slot back here.)
  move(
    job: MemoryJob,
    to: JobStatus,
    kind: ChangeKind,
    facts: Partial<Change>,
    from: JobStatus = job.status,
  ): void {
    assertTransition(job.id, from, to);
    job.status = to;
    if (from === "running") this.#p.limits.ended(job.def);
    this.#p.table.moved(from, to);
    this.report(kind, job, from, facts);
  }

  finish(
    job: MemoryJob,
    to: "completed" | "failed" | "cancelled",
    kind: ChangeKind,
    facts: Partial<Change>,
  ): void {
    job.completedAt = this.#p.table.clock();
    job.endedPending = job.status === "pending";
    this.move(job, to, kind, facts);
    this.#p.table.finished(job);
    if (this.#p.graph.size > 0) this.#dependentsOf(job.id, to);
  }

  /** The job failed with `error` as its value. */
  fail(job: MemoryJob, error: SerializedError, durationMs?: number): void {
    job.value = error;
    this.finish(job, "failed", "failed", errorFacts(error, durationMs));
  }

  /** A job ended: its dependents run now, or fail if it did not complete. */
  #dependentsOf(jobId: string, status: JobStatus): void {
    const { table } = this.#p;
    const { ready, failed, causes } = this.#p.graph.onFinished(jobId, status);
    for (const id of ready) {
      const job = table.get(id);
      if (job?.status === "pending") this.release(job, job.notBefore);
    }
    for (const id of failed) {
      const job = table.get(id);
      if (job?.status !== "pending") continue;
      const cause = causes.get(id) ?? jobId;
      this.fail(job, dependencyFailure(cause, table.get(cause)?.status ?? status));
    }
  }

  report(kind: ChangeKind, job: MemoryJob, from: JobStatus | null, facts: Partial<Change>): void {
    const sink = this.#p.sink;
    // Nobody listens or waits: no change object to build (most no-op jobs).
    if (sink.quiet()) {
      if (kind !== "enqueued" && kind !== "started" && kind !== "retrying" && kind !== "retried")
        sink.ended();
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
    sink.change(facts === NO_FACTS ? change : Object.assign(change, facts));
  }
}

export function errorFacts(error: SerializedError, durationMs?: number): Partial<Change> {
  return {
    error: errorMessage(error),
    ...(error.code === undefined ? {} : { code: error.code }),
    ...(durationMs === undefined ? {} : { durationMs }),
  };
}
