import type { AttemptSlots } from "./slots.js";

// Jobs of tasks that take less than this on average are batched: several go
// to a thread in one message, and each thread gets more queued behind the
// one it runs, so it starts the next job without a round trip to the main
// thread and the main thread seldom pays to wake it. Longer jobs gain
// nothing from it, and a queued job could wait behind a long one while
// another thread is free.
export const PREFETCH_BELOW_MS = 1;
// Jobs one thread may hold queued beyond those it runs, while all are short:
// two full batches, so a thread has the next batch in hand when one ends.
export const PREFETCH_DEPTH = 32;
/** The queue options of every prefetched task: one object, not one per job. */
export const PREFETCHED = Object.freeze({ prefetch: true });

/**
 * Which tasks are short: a moving average of each task's attempt times. An
 * attempt's time is how long it ran on its thread when the thread said so
 * (every attempt that answered), so a no-op task stays short however long
 * its jobs wait on a loaded machine.
 */
export class ShortTasks {
  #ms = new Map<string, number>();

  /** Known to take under PREFETCH_BELOW_MS; a task not timed yet is not. */
  isShort(task: string): boolean {
    return (this.#ms.get(task) ?? PREFETCH_BELOW_MS) < PREFETCH_BELOW_MS;
  }

  record(task: string, ms: number): void {
    const average = this.#ms.get(task);
    this.#ms.set(task, average === undefined ? ms : average * 0.9 + ms * 0.1);
  }
}

/**
 * Room for another attempt: one per concurrent job, plus PREFETCH_DEPTH
 * per thread while every job in flight is of a task known to be short and
 * has not yet run long, so a prefetched job never waits behind a long one.
 */
export function hasRoom(slots: AttemptSlots, concurrency: number): boolean {
  const active = slots.active;
  if (active < concurrency) return true;
  if (active >= slots.size) return false;
  return slots.allShort(PREFETCH_BELOW_MS);
}
