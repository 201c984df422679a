import type { ListQuery } from "../engine/store.js";
import { errorMessage } from "../errors.js";
import type { JobCounts } from "../job-queue.js";
import { JobResult } from "../job-result.js";
import { isTerminal, type JobStatus } from "../job-status.js";
import { Deque } from "./deque.js";
import type { MemoryJob } from "./memory-job.js";

/** What the table asks of the store about a job. */
export interface JobTableHooks {
  /** A job left the table (retention, clean, remove). */
  dropped(job: MemoryJob): void;
  /** When a pending job may run, if something holds it back. */
  runAt(job: MemoryJob): number | undefined;
  /** Its arguments, decoded. */
  args(job: MemoryJob): unknown[];
}

/**
 * Every job the in-memory store knows: by id, in creation order for
 * newest-first listing, counted by status, and the finished ones in the
 * order they finished, dropped beyond the retention.
 */
export class JobTable {
  // Times are offsets from this epoch so they stay small integers (see MemoryJob).
  readonly #epoch = Date.now();
  readonly #maxAgeMs: number;
  readonly #maxCount: number;
  readonly #dropped: (job: MemoryJob) => void;
  #jobs = new Map<string, MemoryJob>();
  /** Every job in creation order; entries of deleted jobs are skipped and compacted lazily. */
  #order: MemoryJob[] = [];
  #finished = new Deque<MemoryJob>();
  #counts: JobCounts = { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };

  readonly #hooks: JobTableHooks;

  constructor(maxAgeMs: number, maxCount: number, hooks: JobTableHooks) {
    this.#maxAgeMs = maxAgeMs;
    this.#maxCount = maxCount;
    this.#dropped = hooks.dropped;
    this.#hooks = hooks;
  }

  /**
   * Milliseconds since the epoch, as a small integer while it fits
   * (24 days): V8 then stores it in the job record itself instead of boxing
   * a double, 16 bytes a field. `at`: that time instead of now.
   */
  clock(at = Date.now()): number {
    const ms = at - this.#epoch;
    return ms <= 0x3fffffff ? ms | 0 : ms;
  }

  get(id: string): MemoryJob | undefined {
    return this.#jobs.get(id);
  }

  add(job: MemoryJob): void {
    this.#jobs.set(job.id, job);
    this.#order.push(job);
    this.#counts[job.status]++;
  }

  moved(from: JobStatus, to: JobStatus): void {
    this.#counts[from]--;
    this.#counts[to]++;
  }

  counts(): JobCounts {
    return { ...this.#counts };
  }

  /** The job reached a terminal state: it now counts against the retention. */
  finished(job: MemoryJob): void {
    this.#finished.push(job);
    this.#prune();
  }

  /** The job left its terminal state (retry): its place in the retention order is skipped. */
  unfinish(_job: MemoryJob): void {
    // Nothing to remove: #prune skips jobs that are no longer finished.
  }

  delete(job: MemoryJob): void {
    if (this.#jobs.get(job.id) !== job) return;
    this.#jobs.delete(job.id);
    this.#counts[job.status]--;
    this.#dropped(job);
  }

  /** Deletes finished jobs of one status that finished at least `olderThanMs` ago. */
  clean(status: JobStatus, olderThanMs: number, limit: number): number {
    const before = this.clock() - olderThanMs;
    let n = 0;
    for (const job of this.#jobs.values()) {
      if (n >= limit) break;
      if (job.status === status && job.completedAt <= before) {
        this.delete(job);
        n++;
      }
    }
    this.#compact();
    return n;
  }

  list(q: ListQuery): JobResult[] {
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
      out.push(this.snapshot(job, false));
    }
    return out;
  }

  /** Drops finished jobs beyond the retention count or age. */
  #prune(): void {
    const oldest = this.clock() - this.#maxAgeMs;
    for (;;) {
      const job = this.#finished.peek();
      if (job === undefined) break;
      const current = this.#jobs.get(job.id) === job && isTerminal(job.status);
      if (current && this.#finished.size <= this.#maxCount && job.completedAt >= oldest) break;
      this.#finished.shift();
      if (current) this.delete(job);
    }
    this.#compact();
  }

  /** Listing walks #order; compact it once it is mostly dropped jobs. */
  #compact(): void {
    if (this.#order.length > 1024 && this.#order.length > 2 * this.#jobs.size) {
      this.#order = this.#order.filter((j) => this.#jobs.get(j.id) === j);
    }
  }

  /** A copy for the caller; arguments are decoded only for `getResult`, not for each listed job. */
  snapshot(job: MemoryJob, withArgs: boolean): JobResult {
    const error = job.error;
    const at = (offset: number) => new Date(this.#epoch + offset);
    const runAt = job.status === "pending" ? this.#hooks.runAt(job) : undefined;
    return new JobResult({
      jobId: job.id,
      task: job.def.name,
      status: job.status,
      ...(job.status === "completed" ? { result: job.value } : {}),
      ...(error === undefined ? {} : { error: errorMessage(error) }),
      ...(error?.code === undefined ? {} : { errorCode: error.code }),
      // The stack, like the arguments, only for getResult: listings stay light.
      ...(withArgs && job.status === "failed" && error?.stack !== undefined
        ? { stack: error.stack }
        : {}),
      ...(job.endedPending ? { endedPending: true } : {}),
      createdAt: at(job.createdAt),
      ...(job.startedAt < 0 ? {} : { startedAt: at(job.startedAt) }),
      ...(job.completedAt < 0 ? {} : { completedAt: at(job.completedAt) }),
      attempts: job.attempts,
      maxRetries: job.maxRetries,
      ...(job.progress === undefined ? {} : { progress: job.progress }),
      ...(job.dependsOn === undefined ? {} : { dependsOn: [...job.dependsOn] }),
      ...(runAt === undefined ? {} : { runAt: new Date(runAt) }),
      ...(withArgs ? { args: this.#hooks.args(job) } : {}),
    });
  }
}
