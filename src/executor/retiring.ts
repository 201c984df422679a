import type { Piscina } from "piscina";

/** A pool thread as Piscina's load balancer and events show it. */
export interface PoolWorker {
  readonly id: number;
  readonly currentUsage: number;
}

/**
 * Threads that retire (replaced between jobs, never under one): the table
 * in shared memory where a thread writes its id so the load balancer gives
 * it nothing new, and the threads that said they retire, terminated once
 * Piscina counts no task on them.
 */
export class RetiringThreads {
  readonly buffer: SharedArrayBuffer;
  readonly table: Int32Array;
  /** Threads that said they retire, to terminate once their last task is answered. */
  readonly said = new Set<number>();

  constructor(maxThreads: number) {
    // One cell per live thread, twice over: a thread's cell is freed when it ends.
    const cells = 2 * maxThreads + 2;
    this.buffer = new SharedArrayBuffer(cells * Int32Array.BYTES_PER_ELEMENT);
    this.table = new Int32Array(this.buffer);
  }

  /**
   * Terminates the retired threads that hold no task any more (Piscina
   * counts a task until its answer is in), so none is cut short. Piscina
   * starts a new thread as needed (at least minThreads).
   */
  reap(pool: Piscina | undefined, workers: ReadonlyMap<number, PoolWorker>): void {
    if (this.said.size === 0 || pool === undefined) return;
    for (const threadId of this.said) {
      const worker = workers.get(threadId);
      if (worker === undefined) {
        this.said.delete(threadId);
        continue;
      }
      if (worker.currentUsage !== 0) continue;
      this.said.delete(threadId);
      for (const thread of pool.threads) {
        if (thread.threadId === threadId) void thread.terminate();
      }
    }
  }

  /** A thread ended: its cell in the table is free again. */
  forget(threadId: number): void {
    this.said.delete(threadId);
    for (let i = 0; i < this.table.length; i++) {
      Atomics.compareExchange(this.table, i, threadId, 0);
    }
  }
}
