import type { ChangeSink } from "../engine/change-sink.js";
import type { ClaimedJob, Ending, SettleReply } from "../engine/store.js";
import type { TraceCarrier } from "../tracing.js";
import type { DelayedJobs } from "./delayed-jobs.js";
import type { JobArgs } from "./job-args.js";
import { errorFacts, type JobLifecycle, NO_FACTS } from "./job-lifecycle.js";
import type { JobTable } from "./job-table.js";
import type { MemoryJob } from "./memory-job.js";
import type { ReadyQueue } from "./ready-queue.js";
import type { TaskLimits } from "./task-limits.js";

const NONE: ClaimedJob[] = [];

/** What claiming and settling in-memory jobs reads and changes. */
export interface ClaimParts {
  table: JobTable;
  ready: ReadyQueue<MemoryJob>;
  delayed: DelayedJobs;
  limits: TaskLimits;
  life: JobLifecycle;
  args: JobArgs;
  traces: WeakMap<MemoryJob, TraceCarrier>;
  sink: ChangeSink;
  paused: () => boolean;
}

/**
 * The worker side of the in-memory store: jobs claimed in priority order
 * within their tasks' limits, and the runner's endings applied to the
 * claims that still hold their jobs.
 */
export class MemoryClaims {
  readonly #p: ClaimParts;

  constructor(parts: ClaimParts) {
    this.#p = parts;
  }

  claim(n: number): ClaimedJob[] {
    if (this.#p.paused() || this.#p.ready.size === 0) return NONE;
    const out: ClaimedJob[] = [];
    const now = Date.now();
    while (out.length < n && this.#p.ready.size > 0) {
      const job = this.#p.ready.shift()!;
      // Stale entries: a job that ran, waits again, or was removed meanwhile.
      if (job.status !== "pending" || job.delayed || job.removed) continue;
      if (!this.#p.limits.admit(job, now)) continue;
      this.#p.limits.started(job.def, now);
      job.attempts++;
      // The time the limits counted (a start stamped later could seem to
      // break a rate window by the time the loop or a preemption took).
      job.startedAt = this.#p.table.clock(now);
      this.#p.life.move(job, "running", "started", NO_FACTS);
      out.push({
        id: job.id,
        task: job.def.name,
        attempt: job.attempts,
        maxRetries: job.maxRetries + job.retryBase,
        timeoutMs: job.timeoutMs,
        dependsOn: job.dependsOn,
        trace: this.#p.traces.get(job),
        ...(job.dependsOn === undefined ? {} : { dependencies: this.#resultsOf(job.dependsOn) }),
        args: job.args,
        ...this.#p.args.of(job),
        token: "",
        ref: job,
      });
    }
    return out;
  }

  settle(endings: readonly Ending[]): SettleReply {
    return endings.map((e) => {
      const job = this.current(e.job);
      // A running job is never deleted here: a claim that no longer holds it was taken over.
      if (job === undefined) return "taken";
      switch (e.kind) {
        case "completed":
          job.value = e.result;
          this.#p.life.finish(job, "completed", "completed", {
            result: e.result,
            durationMs: e.durationMs,
          });
          break;
        case "failed":
          this.#p.life.fail(job, e.error, e.durationMs);
          break;
        case "cancelled":
          this.#p.life.finish(job, "cancelled", "cancelled", NO_FACTS);
          break;
        case "retry":
          job.value = e.error;
          this.#p.life.move(job, "pending", "retrying", {
            ...errorFacts(e.error),
            delayMs: e.delayMs,
          });
          // No backoff: runnable at once, and the runner must hear of it.
          if (e.delayMs > 0) this.#p.delayed.hold(job, Date.now() + e.delayMs);
          else this.#p.life.ready(job);
          break;
        case "requeued":
          this.#p.life.requeue(job);
          break;
      }
      return true;
    });
  }

  progress(claimed: ClaimedJob, value: unknown): void {
    const job = this.current(claimed);
    if (job === undefined) return;
    job.progress = value;
    this.#p.sink.progress(job.id, job.def.name, value);
  }

  handBack(jobs: readonly ClaimedJob[]): void {
    for (const claimed of jobs) {
      const job = this.current(claimed);
      if (job !== undefined) this.#p.life.requeue(job);
    }
  }

  /** The results of completed jobs, by id (undefined for one the retention dropped). */
  #resultsOf(ids: readonly string[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const id of ids) {
      const dep = this.#p.table.get(id);
      out[id] = dep?.status === "completed" ? dep.value : undefined;
    }
    return out;
  }

  /** The job of this claim, while the claim still holds (running, same attempt). */
  current(claimed: ClaimedJob): MemoryJob | undefined {
    // The claim holds its job (a running job is never deleted): no lookup by id.
    const job = claimed.ref as MemoryJob | undefined;
    return job !== undefined && job.status === "running" && job.attempts === claimed.attempt
      ? job
      : undefined;
  }
}
