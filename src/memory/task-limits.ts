import type { TaskDefinition } from "../task-definition.js";
import type { TimerEntry, TimerQueue } from "../timer-queue.js";
import type { MemoryJob } from "./memory-job.js";

/**
 * The per-task limits of the in-memory store (`background({ concurrency,
 * rateLimit })`): how many of a task run now, when its last starts were, and
 * the ready jobs held back by either. A held-back job waits here, not in the
 * ready queue, so claims never spin on it: it goes back when a job of its
 * task ends (concurrency) or when the rate window opens (one timer entry).
 */
export class TaskLimits {
  readonly #timers: TimerQueue;
  readonly #release: (jobs: MemoryJob[]) => void;
  readonly #running = new Map<string, number>();
  /** Start times of the last `max` starts, oldest first, per rate-limited task. */
  readonly #starts = new Map<string, number[]>();
  readonly #parked = new Map<string, MemoryJob[]>();
  readonly #windows = new Map<string, TimerEntry>();

  constructor(timers: TimerQueue, release: (jobs: MemoryJob[]) => void) {
    this.#timers = timers;
    this.#release = release;
  }

  /** True when a job of this task may start now; else the job is parked until it may. */
  admit(job: MemoryJob, now: number): boolean {
    const def = job.def;
    if (def.concurrency === undefined && def.rateLimit === undefined) return true;
    if (def.concurrency !== undefined && (this.#running.get(def.name) ?? 0) >= def.concurrency) {
      this.#park(job);
      return false;
    }
    const rate = def.rateLimit;
    if (rate !== undefined) {
      const starts = this.#starts.get(def.name) ?? [];
      if (starts.length >= rate.max && starts[0]! > now - rate.intervalMs) {
        this.#park(job);
        this.#openAt(def, starts[0]! + rate.intervalMs);
        return false;
      }
    }
    return true;
  }

  /** A job of this task started (after `admit` said it may). */
  started(def: TaskDefinition, now: number): void {
    if (def.concurrency !== undefined)
      this.#running.set(def.name, (this.#running.get(def.name) ?? 0) + 1);
    const rate = def.rateLimit;
    if (rate !== undefined) {
      let starts = this.#starts.get(def.name);
      if (starts === undefined) this.#starts.set(def.name, (starts = []));
      starts.push(now);
      if (starts.length > rate.max) starts.shift();
    }
  }

  /** A running job of this task stopped running: its slot is free for a parked one. */
  ended(def: TaskDefinition): void {
    if (def.concurrency === undefined) return;
    this.#running.set(def.name, Math.max(0, (this.#running.get(def.name) ?? 0) - 1));
    this.#unpark(def.name);
  }

  #park(job: MemoryJob): void {
    let list = this.#parked.get(job.def.name);
    if (list === undefined) this.#parked.set(job.def.name, (list = []));
    list.push(job);
  }

  #unpark(task: string): void {
    const list = this.#parked.get(task);
    if (list === undefined || list.length === 0) return;
    this.#parked.delete(task);
    this.#release(list.filter((j) => j.status === "pending"));
  }

  #openAt(def: TaskDefinition, at: number): void {
    if (this.#windows.has(def.name)) return;
    this.#windows.set(
      def.name,
      this.#timers.add(at, () => {
        this.#windows.delete(def.name);
        this.#unpark(def.name);
      }),
    );
  }

  clear(): void {
    for (const entry of this.#windows.values()) this.#timers.remove(entry);
    this.#windows.clear();
  }
}
