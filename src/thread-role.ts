import type { EnqueueOptions } from "./job-queue.js";

/**
 * Whether this thread is one of the engine's worker threads, and if so, how
 * to reach the main thread. Inside a worker, `task.enqueue()` goes to the
 * main thread's queue (over the thread's one channel) instead of to a queue
 * the tasks module built for itself, which never runs there.
 */
export interface WorkerHost {
  enqueue(task: string, args: unknown[], options: EnqueueOptions | undefined): Promise<string>;
}

const KEY = Symbol.for("rapidai.background.workerHost");

export function setWorkerHost(host: WorkerHost): void {
  (globalThis as { [KEY]?: WorkerHost })[KEY] = host;
}

/** The main thread's host API when this is an engine worker thread, else undefined. */
export function workerHost(): WorkerHost | undefined {
  return (globalThis as { [KEY]?: WorkerHost })[KEY];
}
