import { Deque } from "./deque.js";

/**
 * Runnable jobs by priority: one FIFO per priority in use, highest first.
 * The common case, every job at priority 0, is a single deque.
 */
export class ReadyQueue<T> {
  #buckets = new Map<number, Deque<T>>();
  /** Priorities in use, highest first. */
  #order: number[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(item: T, priority: number): void {
    let bucket = this.#buckets.get(priority);
    if (bucket === undefined) {
      bucket = new Deque();
      this.#buckets.set(priority, bucket);
      this.#order.push(priority);
      this.#order.sort((a, b) => b - a);
    }
    bucket.push(item);
    this.#size++;
  }

  shift(): T | undefined {
    for (const priority of this.#order) {
      const bucket = this.#buckets.get(priority)!;
      if (bucket.size > 0) {
        this.#size--;
        return bucket.shift();
      }
    }
    return undefined;
  }
}
