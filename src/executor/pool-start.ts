import { createRequire } from "node:module";
import type { Piscina } from "piscina";
import { balancer, PREFETCH_TASKS } from "./balancer.js";
import type { ResolvedExecutorOptions } from "./executor-options.js";
import type { EngineWorkerData } from "./protocol.js";
import type { RetiringThreads } from "./retiring.js";
import type { ExecutorHooks } from "./run-spec.js";
import type { AttemptSlots } from "./slots.js";
import { threadPreloads } from "./thread-loader.js";

// Piscina loads when a pool starts, not at import: worker threads import this
// package through the task modules they run and never start a pool.
const require = createRequire(import.meta.url);

const workerUrl = new URL("../../workers/job-worker.js", import.meta.url);

/** The Piscina pool of an executor, its threads handed the shared tables. */
export function startPool(
  o: ResolvedExecutorOptions,
  slots: AttemptSlots,
  retiring: RetiringThreads,
  hooks: ExecutorHooks,
): Piscina {
  const workerData: EngineWorkerData = {
    rapidai: true,
    flags: slots.flagsBuffer,
    owners: slots.ownersBuffer,
    ran: slots.ranBuffer,
    retiring: retiring.buffer,
    perThread: o.concurrencyPerThread,
    preload: threadPreloads(),
    importTimeoutMs: o.importTimeoutMs,
    maxJobsPerThread: o.maxJobsPerThread,
    maxThreadHeapMb: o.maxThreadHeapMb,
    maxResultBytes: hooks.maxResultBytes ?? 0,
  };
  const { Piscina: Pool } = require("piscina") as typeof import("piscina");
  return new Pool({
    filename: workerUrl.href,
    minThreads: o.minThreads,
    maxThreads: o.maxThreads,
    // Beyond what the thread runs at once: room for the prefetched jobs.
    concurrentTasksPerWorker: o.concurrencyPerThread + PREFETCH_TASKS,
    loadBalancer: balancer(o.concurrencyPerThread, retiring.table, retiring.said),
    idleTimeout: o.idleTimeoutMs,
    // Never refuse a task: jobs in flight are bounded by the slots (hasCapacity),
    // and batches or single jobs beyond what the threads hold wait in its queue.
    maxQueue: Number.POSITIVE_INFINITY,
    // An idle thread waits with Atomics.waitAsync, not in a blocking wait:
    // its event loop keeps running, so it takes the channel's messages (the
    // task modules to import ahead of their first job here, see
    // ThreadChannels.warm) while it has no task.
    atomics: "async",
    // Piscina's wait and run time histograms cost the main thread a record
    // per task and a clock read per answer; the engine keeps its own times.
    recordTiming: false,
    workerData,
    ...(o.resourceLimits ? { resourceLimits: o.resourceLimits } : {}),
  });
}
