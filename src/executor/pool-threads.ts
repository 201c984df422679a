import type { Piscina } from "piscina";
import type { PoolWorker } from "./retiring.js";

/**
 * The pool's live threads, by the id each had when it started, as Piscina's
 * `workerCreate` and `workerDestroy` events report them. A thread that
 * exited before Piscina reported it reads as id -1 by then (Node's
 * `threadId` of an ended worker), so an ended thread is also known by its
 * id going stale: without that, each crashed or retired thread stayed
 * counted, its result channel open and its retiring cell taken.
 */
export class PoolThreads {
  readonly #byId = new Map<number, PoolWorker>();

  /** Follows the pool's threads; `ended` gets the start-time id of each that ends, in a microtask. */
  follow(pool: Piscina, ended: (threadId: number) => void): void {
    pool.on("workerCreate", (worker: PoolWorker) => this.#byId.set(worker.id, worker));
    pool.on("workerDestroy", (worker: PoolWorker) => {
      for (const [id, w] of this.#byId) {
        if (id !== worker.id && w.id === id) continue;
        this.#byId.delete(id);
        // After Piscina's own bookkeeping of the end: `ended` reads the
        // thread's last answers, which end attempts, which start others,
        // and the pool must not hand them to the thread it is removing.
        // Before the pool's rejections of the thread's tasks are handled
        // all the same (they wait behind this in the microtask queue).
        queueMicrotask(() => ended(id));
      }
    });
  }

  /** True while the thread runs (an ended one reads as id -1, even before Piscina reports it). */
  readonly alive = (threadId: number): boolean => this.#byId.get(threadId)?.id === threadId;

  get size(): number {
    return this.#byId.size;
  }

  get byId(): ReadonlyMap<number, PoolWorker> {
    return this.#byId;
  }

  clear(): void {
    this.#byId.clear();
  }
}
