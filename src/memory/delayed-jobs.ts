import type { TimerEntry, TimerQueue } from "../timer-queue.js";
import { DelayHeap } from "./delay-heap.js";
import type { MemoryJob } from "./memory-job.js";

/**
 * Jobs held back by a delay or a retry backoff, in one heap with one timer
 * entry for the earliest. Times are ms offsets from this module's epoch, so
 * a job's own `delayAt` stays a small integer. A job released early
 * (promoted, cancelled, deleted) keeps its heap entry, which is skipped when
 * its time comes because it no longer matches the job's `delayAt`.
 */
export class DelayedJobs {
  readonly #epoch = Date.now();
  readonly #heap = new DelayHeap<MemoryJob>();
  readonly #timers: TimerQueue;
  readonly #due: (job: MemoryJob) => void;
  #entry: TimerEntry | undefined;

  constructor(timers: TimerQueue, due: (job: MemoryJob) => void) {
    this.#timers = timers;
    this.#due = due;
  }

  /** Holds the job until `at` (ms since the epoch). */
  hold(job: MemoryJob, at: number): void {
    const offset = Math.max(0, Math.ceil(at - this.#epoch));
    job.delayAt = offset;
    this.#heap.push(job, offset);
    this.#arm();
  }

  /** Lets the job go now; false if it was not held. */
  release(job: MemoryJob): boolean {
    if (job.delayAt < 0) return false;
    job.delayAt = -1;
    return true;
  }

  clear(): void {
    this.#timers.remove(this.#entry);
    this.#entry = undefined;
  }

  #arm(): void {
    const at = this.#epoch + this.#heap.nextAt;
    if (this.#entry !== undefined && this.#entry.at <= at) return;
    this.#timers.remove(this.#entry);
    this.#entry = this.#timers.add(at, this.#fire);
  }

  readonly #fire = (): void => {
    this.#entry = undefined;
    const now = Date.now() - this.#epoch;
    while (this.#heap.nextAt <= now) {
      const at = this.#heap.nextAt;
      const job = this.#heap.pop()!;
      if (job.delayAt !== at || job.status !== "pending") continue;
      job.delayAt = -1;
      this.#due(job);
    }
    if (this.#heap.size > 0) this.#arm();
  };
}
