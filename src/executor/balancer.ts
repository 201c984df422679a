import type { Piscina } from "piscina";

// Piscina hands a task's queue options (this symbol's property, which the
// structured clone to the thread drops) to the load balancer.
export const QUEUE_OPTIONS = Symbol.for("Piscina.queueOptions");

type LoadBalancer = NonNullable<
  NonNullable<ConstructorParameters<typeof Piscina>[0]>["loadBalancer"]
>;

/** Pool tasks (batches or single jobs) one thread may hold queued beyond those it runs. */
export const PREFETCH_TASKS = 4;

/** True when `threadId` sits in the shared table of retiring threads (see EngineWorkerData). */
export function inRetiringTable(table: Int32Array, threadId: number): boolean {
  for (let i = 0; i < table.length; i++) if (table[i] === threadId) return true;
  return false;
}

/**
 * Places a task on the least busy thread with room for it: room for one
 * more job than the thread runs at once only for a prefetched job. Else the
 * task waits in Piscina's queue for a free thread (and Piscina starts one
 * more, up to maxThreads). Piscina's own balancer would queue it behind a
 * running job whenever the other threads are not ready yet, as after a
 * thread was replaced, however long that job runs. A retiring thread gets
 * nothing new.
 */
export function balancer(
  perThread: number,
  retiringTable: Int32Array,
  retired: ReadonlySet<number>,
): LoadBalancer {
  return (task, workers) => {
    const options = (task as unknown as Record<symbol, { prefetch?: boolean } | undefined>)[
      QUEUE_OPTIONS
    ];
    const limit = options?.prefetch === true ? perThread + PREFETCH_TASKS : perThread;
    let best: (typeof workers)[number] | null = null;
    for (const worker of workers) {
      // A destroyed thread is still listed while Piscina reports its end.
      if (worker.currentUsage >= limit || worker.terminating || worker.destroyed) continue;
      if (best !== null && worker.currentUsage >= best.currentUsage) continue;
      if (inRetiringTable(retiringTable, worker.id) || retired.has(worker.id)) continue;
      best = worker;
    }
    return best;
  };
}
